"""Delivery: claim due outbox rows, render them, send them, record each result.

Each step is a small function; `Delivery` is the thin handler that runs them with a transport.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Connection, and_, bindparam, or_, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from mailbot.config import Settings
from mailbot.database import LockBusy, begin_now
from mailbot.models import OutboxRow, OutboxStatus
from mailbot.runners.base import Runtime, domain
from mailbot.runners.pool import CorePool
from mailbot.runners.sent_journal import SentJournal
from mailbot.types import OutgoingMail, SendStatus

if TYPE_CHECKING:
    from mailbot.outbox.wire import Written

log = logging.getLogger("mailbot")

# How long a claimed outbox row is reserved for its worker; a crashed worker's rows are sent
# again after it (one duplicate possible if the crash came between acceptance and the update).
LEASE = timedelta(minutes=5)


def backoff(attempt: int, base_seconds: float = 60.0) -> timedelta:
    """base, 2×, 4× … capped at 2 h: a mail server's bad hour does not flood it."""
    return timedelta(seconds=min(7200.0, base_seconds * 2 ** max(0, attempt - 1)))


# -- claim ------------------------------------------------------------------------------------
def claim_due(rt: Runtime, limit: int = 50) -> list[int]:
    """Lease due outbox rows; a lease that runs out (crash) frees the row for a retry. What
    the sent journal holds is folded first, in the same transaction (a sender killed before
    it folded its journal: those rows are sent, not due)."""
    now = rt.clock()
    journal = SentJournal.beside(rt.db)
    if journal is None or not journal.unfolded:
        with rt.db.reading() as s:
            # a round ends by asking once more and finds nothing (a sender woken per LMTP
            # batch asks twice per batch): asked without SQLite's write lock, which the intake
            # holds while it applies a batch, so that nothing waits for it to learn that.
            # Another sender's journal is folded by the claim that finds its rows due again.
            if s.scalar(select(OutboxRow.id).where(_due(now)).limit(1)) is None:
                return []
    with rt.db.session() as s:
        folded = _fold(s.connection(), journal, everything=True)
        ids = s.scalars(select(OutboxRow.id).where(_due(now)).order_by(OutboxRow.id)
                        .limit(limit)).all()
        won = lease(s, ids, now) if ids else []
    if journal is not None and folded:
        journal.forget(folded)
    return won


def _due(now: datetime) -> ColumnElement[bool]:
    free = or_(OutboxRow.lease_until.is_(None), OutboxRow.lease_until < now)
    return and_(OutboxRow.status == OutboxStatus.QUEUED, OutboxRow.next_attempt_at <= now, free)


def lease(s: Session, ids: Sequence[int], now: datetime) -> list[int]:
    """The rows of `ids` this worker wins: one UPDATE that checks again, row by row, that each
    is still due. On PostgreSQL another worker may have claimed, sent and written down a row
    between our SELECT and this UPDATE (its lease is then cleared): the UPDATE re-reads such a
    row, and only the whole condition (queued, due, free) keeps it from being sent twice."""
    return sorted(s.scalars(update(OutboxRow).where(OutboxRow.id.in_(ids), _due(now))
                            .values(lease_until=now + LEASE).returning(OutboxRow.id)).all())


# -- render -----------------------------------------------------------------------------------
def outgoing(row: OutboxRow) -> OutgoingMail:
    return OutgoingMail(
        template=row.template, language=row.language, to=row.to_addr, context=row.context,
        message_id=row.message_id, in_reply_to=row.in_reply_to,
        references=tuple(row.references or ()), reply_to=row.reply_to,
        auto_submitted=row.auto_submitted, ics=row.ics,
        attachments=tuple((a["filename"], a["mime"], base64.b64decode(a["b64"]))
                          for a in row.attachments or ()))


def compose(row: OutboxRow, settings: Settings) -> EmailMessage:
    from mailbot.outbox.compose import make_message

    return make_message(outgoing(row), settings.from_addr, settings.tz)


def rendered(row: OutboxRow, settings: Settings) -> EmailMessage:
    """The message to send for a row: written straight to bytes (outbox.wire) where it can
    be, else composed as an EmailMessage (non-ASCII addresses, unusual attachments)."""
    from mailbot.outbox.wire import fast_message

    fast = fast_message(outgoing(row), settings.from_addr, settings.tz)
    return fast if fast is not None else compose(row, settings)


def _render_chunk(mails: list[OutgoingMail], from_addr: str, tz: ZoneInfo
                  ) -> list[Written | bytes | str]:
    """In a worker process: each mail written (outbox.wire) or else composed and flattened
    (bytes), or why it cannot be."""
    from mailbot.outbox.compose import make_message
    from mailbot.outbox.wire import written

    out: list[Written | bytes | str] = []
    for mail in mails:
        try:
            got = written(mail, from_addr, tz)
            if got is None:
                msg = make_message(mail, from_addr, tz)
                out.append(msg.as_bytes(policy=msg.policy))
            else:
                out.append(got)
        except Exception as exc:  # a template bug must not block the queue
            out.append(str(exc) or type(exc).__name__)
    return out


def _cannot_render(rt: Runtime, why: dict[int, str]) -> None:
    """Rows that cannot be rendered fail for good (a template bug must not block the queue)."""
    if not why:
        return
    with rt.db.session() as s:
        for row in s.scalars(select(OutboxRow).where(OutboxRow.id.in_(why))):
            row.status, row.last_error = OutboxStatus.FAILED, f"render: {why[row.id]}"[:1000]
            log.error("outbox %s (%s) cannot be rendered: %s", row.id, row.template,
                      why[row.id])


def render(rt: Runtime, ids: list[int], pool: CorePool | None = None
           ) -> list[tuple[int, EmailMessage]]:
    """The claimed rows as messages; a row that cannot be rendered fails for good. With a pool
    and enough rows, they are composed and flattened on every core; the main process reads
    back only the headers, and the transport sends the bytes as they are."""
    return start_render(rt, ids, pool)()


Rendering = Callable[[], list[tuple[int, EmailMessage]]]  # waits for the messages, in id order


def start_render(rt: Runtime, ids: list[int], pool: CorePool | None = None) -> Rendering:
    """`render`, begun: with a pool, the rows are handed to the worker processes now (ahead of
    whatever is handed to them next, e.g. the reading of the next batch of a backlog) and the
    step returned collects them; else they are rendered here, now."""
    batch: list[tuple[int, EmailMessage]] = []
    failed: dict[int, str] = {}  # written down after the reading (which takes no lock)
    here = (pool is None or not pool.worth_it(len(ids))
            or not rt.settings.from_addr.isascii())
    mails: list[tuple[int, OutgoingMail]] = []
    with rt.db.reading() as s:
        for row in s.scalars(select(OutboxRow).where(OutboxRow.id.in_(ids))
                             .order_by(OutboxRow.id)):
            try:
                if here:
                    batch.append((row.id, rendered(row, rt.settings)))
                elif row.to_addr.isascii():
                    mails.append((row.id, outgoing(row)))
                else:  # SMTPUTF8: flattened by the transport with a UTF-8 policy
                    batch.append((row.id, compose(row, rt.settings)))
            except Exception as exc:  # a template bug must not block the queue
                failed[row.id] = str(exc) or type(exc).__name__
    _cannot_render(rt, failed)
    if here or pool is None:
        return lambda: batch
    chunks = pool.imap_chunks(_render_chunk, [m for _, m in mails], rt.settings.from_addr,
                              rt.settings.tz, size=pool.chunk_size(len(mails)))

    def collect() -> list[tuple[int, EmailMessage]]:
        from mailbot.outbox.compose import flat_message
        from mailbot.outbox.wire import as_flat

        in_pool: dict[int, str] = {}  # rendering failed in a worker process
        flats = itertools.chain.from_iterable(chunks)
        for (row_id, _), flat in zip(mails, flats, strict=True):
            if isinstance(flat, str):
                in_pool[row_id] = flat
            else:
                batch.append((row_id, flat_message(flat) if isinstance(flat, bytes)
                              else as_flat(flat)))
        _cannot_render(rt, in_pool)
        return sorted(batch, key=lambda got: got[0])

    return collect


# -- result -----------------------------------------------------------------------------------
def record_result(rt: Runtime, row_id: int, result: Any, conn: Connection | None = None
                  ) -> None:
    """Right after the server's answer, in its own short transaction: a crash repeats at most
    the mails whose acceptance was not yet written down. Sent (the common case) is one
    UPDATE, without loading the row, on `conn` when given (one connection for a batch: no
    pool checkout per mail)."""
    if result.status == SendStatus.SENT:
        mark_sent(rt, [row_id], conn)
        return
    with rt.db.session() as s:
        row = s.get(OutboxRow, row_id)
        if row is None:
            return
        row.lease_until = None
        _not_sent(row, result.detail, result.status, rt.clock(), rt.settings)


def mark_sent(rt: Runtime, row_ids: list[int], conn: Connection | None = None,
              wait: bool = True) -> None:
    """Rows the server accepted, written down in one transaction (one UPDATE for all), with
    what the sent journal holds. Without `wait`, on SQLite with the write lock taken, they go
    to the journal instead (mailbot/runners/sent_journal.py), to be folded in later."""
    if conn is None:
        with rt.db.engine.connect() as own:
            mark_sent(rt, row_ids, own, wait)
        return
    now = rt.clock()
    journal = SentJournal.beside(rt.db)
    try:
        with conn.begin() if wait or journal is None else begin_now(conn):
            folded = _fold(conn, journal)
            if row_ids:
                _write_sent(conn, {now: row_ids})
    except LockBusy:
        assert journal is not None
        journal.add(row_ids, now)
        return
    except OperationalError:
        # waited in vain (a transaction held the lock for BUSY_SECONDS): the mails went out
        # all the same, so they are written down where they will not be sent again
        if journal is not None and row_ids:
            journal.add(row_ids, now)
        raise
    if journal is not None and folded:
        journal.forget(folded)


def _fold(conn: Connection, journal: SentJournal | None, everything: bool = False
          ) -> dict[datetime, list[int]]:
    """In a write transaction on `conn`: the rows the journal holds, marked sent; the caller
    has the journal forget them once the transaction is committed."""
    folded = journal.pending(everything) if journal is not None else {}
    if folded:
        _write_sent(conn, folded, from_journal=True)
    return folded


def _write_sent(conn: Connection, groups: dict[datetime, list[int]],
                from_journal: bool = False) -> None:
    for at, ids in groups.items():
        # from the journal: only rows still leased (by the sender that sent them); a row
        # number freed by an erasure meanwhile and taken by a new, unclaimed mail is left alone
        done = conn.execute(_FOLD_SENT if from_journal else _MARK_SENT,
                            {"ids": ids, "now": at}).all()
        erased = [row_id for row_id, template in done if template == "erased"]
        if erased:  # the confirmation itself must not keep the address
            conn.execute(update(OutboxRow).where(OutboxRow.id.in_(erased))
                         .values(to_addr="erased", context={}))


# built once: a statement built per call cost more than its execution
_MARK_SENT = (update(OutboxRow).where(OutboxRow.id.in_(bindparam("ids", expanding=True)))
              .values(status=OutboxStatus.SENT, sent_at=bindparam("now"), last_error="",
                      lease_until=None)
              .returning(OutboxRow.id, OutboxRow.template))
_FOLD_SENT = _MARK_SENT.where(OutboxRow.lease_until.is_not(None))


def _not_sent(row: OutboxRow, detail: str | None, status: SendStatus, now: datetime,
              settings: Settings) -> None:
    """Count the attempt; fail for good, or try again after a growing pause."""
    row.attempts += 1
    row.last_error = (detail or "")[:1000]
    if status == SendStatus.FAILED or row.attempts >= settings.send_retries:
        row.status = OutboxStatus.FAILED
        log.warning("outbox %s to @%s failed for good: %s", row.id, domain(row.to_addr),
                    row.last_error)
    else:
        wait = backoff(row.attempts, settings.retry_seconds)
        row.next_attempt_at = now + wait
        log.info("outbox %s to @%s retry %s in %s: %s", row.id, domain(row.to_addr),
                 row.attempts, wait, row.last_error)


# -- send: the handler --------------------------------------------------------------------------
@dataclass
class Delivery:
    """The thin handler: claim, render, hand the batch to the transport, record results."""

    rt: Runtime
    transport: Any  # mailbot.outbox.transport.base.Transport
    pool: CorePool | None = None  # large batches rendered on every core

    def run(self, limit: int = 200) -> int:
        """Send what is due; returns how many mails the server accepted."""
        sent = 0
        while (round_ := self.begin(limit)) is not None:
            accepted, go_on = round_()
            sent += accepted
            if not go_on:
                break
        return sent

    def begin(self, limit: int = 200) -> Callable[[], tuple[int, bool]] | None:
        """One round: claim what is due and start rendering it (in the pool, when there is
        one: the caller may hand it other work meanwhile, which queues behind); None when
        nothing is due. The step returned sends the round: (mails accepted, whether to go on;
        not when the server only said "later": back off, the rows carry their next attempt)."""
        assert self.transport is not None
        ids = claim_due(self.rt, limit)
        if not ids:
            return None
        rendering = start_render(self.rt, ids, self.pool)

        def send_round() -> tuple[int, bool]:
            results = self.send(rendering())
            accepted = results.count(SendStatus.SENT)
            return accepted, accepted > 0 or SendStatus.RETRY not in results

        return send_round

    def send(self, batch: list[tuple[int, EmailMessage]]) -> list[SendStatus]:
        """Hand the batch to the transport and write each answer down as it comes. The mails
        accepted at about the same time (over the transport's several connections) are
        written in one transaction, before the transport waits for the server again: a
        crash between acceptance and the write repeats at most one mail per connection.
        While the intake holds SQLite's write lock they are written to the sent journal
        instead, and folded in when the lock is free (at the latest at the round's end)."""
        results: list[SendStatus] = []
        accepted: list[int] = []  # accepted by the server, not yet written down
        journal = SentJournal.beside(self.rt.db)
        with self.rt.db.engine.connect() as conn:

            def write_accepted(wait: bool = False) -> None:
                # while the intake holds SQLite's lock, to the sent journal: sending goes on;
                # at the round's end (`wait`), the journal is folded in as well
                if accepted or (wait and journal is not None and journal.unfolded):
                    mark_sent(self.rt, list(accepted), conn, wait)
                    accepted.clear()

            def on_result(key: int, result: Any) -> None:
                results.append(result.status)
                if result.status != SendStatus.SENT:
                    record_result(self.rt, key, result, conn)
                    return
                accepted.append(key)
                if len(accepted) == 1:
                    _soon(write_accepted)

            try:
                self.transport.deliver(batch, on_result)
            finally:
                write_accepted(wait=True)  # the round's end: everything folded in
        return results


def _soon(step: Callable[[], None]) -> None:
    """`step` once the answers that came in together are all handed over (the transport's
    event loop runs it before it waits again); right now for a transport without a loop."""
    try:
        asyncio.get_running_loop().call_soon(step)
    except RuntimeError:
        step()
