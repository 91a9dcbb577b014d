"""Intake: fetch, understand, record and apply, move. A mail that breaks a step is quarantined.

Each step is a small function; `Intake` is the thin handler that runs them for one mailbox.
"""

from __future__ import annotations

import logging
import re
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields, replace
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mailbot.apply.chain import apply, chain
from mailbot.apply.inbound import Inbound
from mailbot.mailbox import Mailbox, RawMessage
from mailbot.models import InboundRecord
from mailbot.runners.base import Runtime, domain
from mailbot.runners.locks import exclusive
from mailbot.runners.office import Office
from mailbot.runners.pool import CorePool
from mailbot.types import EventInfo, InboundMail, Intent, Outcome

log = logging.getLogger("mailbot")

RAW_KEEP = {Outcome.REVIEW, Outcome.QUARANTINE}  # raw bytes kept only while a human must look

Understand = Callable[[bytes, list[EventInfo]], tuple[InboundMail, Intent]]
Understood = tuple[InboundMail, Intent] | Exception  # what reading one mail gave
# A batch of mails read at once (e.g. in worker processes); an error is returned, not raised.
UnderstandMany = Callable[[list[bytes], list[EventInfo]], list[Understood]]


# -- understand: bytes -> mail and intent, no I/O -----------------------------------------------
def understand(data: bytes, events: list[EventInfo], rules: Any, now: datetime
               ) -> tuple[InboundMail, Intent]:
    from mailbot.classify import classify
    from mailbot.parse import parse

    mail = _without_surrogates(parse(data))
    return mail, classify(mail, events, rules, now=now)


def _fix(value: Any) -> Any:
    if isinstance(value, str):
        # raw 8-bit header bytes come through the stdlib parser as lone surrogates, which
        # neither the database nor an outgoing header can encode: turn them back into text
        return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    if isinstance(value, tuple):
        return tuple(_fix(v) for v in value)
    if isinstance(value, dict):
        return {_fix(k): _fix(v) for k, v in value.items()}
    return value


def _without_surrogates(mail: InboundMail) -> InboundMail:
    changes = {f.name: _fix(getattr(mail, f.name)) for f in fields(mail)
               if isinstance(getattr(mail, f.name), str | tuple | dict)}
    return replace(mail, **changes)


# -- record and apply: the record, its effects and its replies in one transaction -------------
def find_known(s: Session, raw: RawMessage) -> InboundRecord | None:
    """The record of this very mail (mailbox, UIDVALIDITY, UID) if it was taken in before."""
    return s.scalars(select(InboundRecord).where(
        InboundRecord.mailbox == raw.mailbox, InboundRecord.uidvalidity == raw.uidvalidity,
        InboundRecord.uid == raw.uid)).first()


def new_record(raw: RawMessage, mail: InboundMail, intent: Intent, now: datetime
               ) -> InboundRecord:
    return InboundRecord(
        mailbox=raw.mailbox, uidvalidity=raw.uidvalidity, uid=raw.uid,
        message_id=mail.message_id, sender=mail.sender_email, subject=mail.subject[:500],
        intent=intent.kind.value, event_slug=intent.event,
        confidence=intent.confidence, outcome=Outcome.DONE,
        excerpt=(intent.question or mail.text)[:500], created_at=now)


def already_applied(s: Session, rec: InboundRecord) -> bool:
    """Add `rec` and claim its Message-ID for it; True (and why, in rec.reason) when a mail
    with that Message-ID was applied before, e.g. delivered twice: its effects stand and this
    one is not applied again. The claim is a unique column, so of two copies taken in at the
    same time only one is applied; a quarantined record never claims (it had no effects)."""
    s.add(rec)
    s.flush()
    try:
        with s.begin_nested():  # a lost claim undoes only itself (and expires rec)
            rec.applied_message_id = rec.message_id
            s.flush()
        return False
    except IntegrityError:
        pass
    first = s.scalar(select(InboundRecord.id).where(
        InboundRecord.applied_message_id == rec.message_id))
    rec.reason = f"same Message-ID as mail #{first}: not applied twice"
    return True


def apply_and_answer(s: Session, rt: Runtime, rec: InboundRecord, mail: InboundMail,
                     intent: Intent) -> Outcome:
    """Run the apply chain; a reply held back by the daily limit is noted on the record."""
    m = rt.mailer(s)
    office = Office(rt.settings.tz, lambda: rt.rules, rt.clock)  # coordinator commands
    outcome = apply(s, m, Inbound(rec, mail, intent),
                    chain(rt.settings.min_confidence, rt.settings.trust, office))
    if m.limited:
        rec.reason = f"reply limit reached for {len(set(m.limited))} address(es)"
    return outcome


def record_and_apply(rt: Runtime, raw: RawMessage, mail: InboundMail, intent: Intent
                     ) -> Outcome:
    with rt.db.session() as s:
        rec = new_record(raw, mail, intent, rt.clock())
        outcome = (Outcome.DONE if already_applied(s, rec)
                   else apply_and_answer(s, rt, rec, mail, intent))
        rec.outcome = outcome
        if outcome in RAW_KEEP:
            rec.raw = raw.data
    return outcome


def after_conflict(rt: Runtime, raw: RawMessage) -> Outcome:
    """An IntegrityError while recording: another worker recorded the same mail first, and
    its outcome stands."""
    with rt.db.session() as s:
        known = find_known(s, raw)
    if known is not None:
        return known.outcome
    return quarantine(rt, raw, RuntimeError("integrity error while recording"))


# -- quarantine: the mail, its error and its bytes, for a human -------------------------------
def quarantine_reason(exc: BaseException) -> str:
    """The error and where it was raised (file and line), short enough for a record."""
    if isinstance(exc, Unreadable):
        return exc.reason
    where = traceback.extract_tb(exc.__traceback__)[-1:] if exc.__traceback__ else []
    at = f" at {where[0].filename.rsplit('/', 1)[-1]}:{where[0].lineno}" if where else ""
    return f"{type(exc).__name__}: {exc}{at}"[:1000]


def quarantine(rt: Runtime, raw: RawMessage, exc: BaseException) -> Outcome:
    reason = quarantine_reason(exc)
    log.warning("mail %s:%s quarantined: %s", raw.uidvalidity, raw.uid, reason)
    with rt.db.session() as s:
        if find_known(s, raw) is None:
            s.add(InboundRecord(mailbox=raw.mailbox, uidvalidity=raw.uidvalidity,
                                uid=raw.uid,
                                message_id=_raw_message_id(raw.data) or f"quarantine-{raw.uid}",
                                outcome=Outcome.QUARANTINE, reason=reason, raw=raw.data,
                                created_at=rt.clock()))
    return Outcome.QUARANTINE


_MESSAGE_ID = re.compile(rb"^message-id:[ \t]*<?([^\s<>]{1,400})>?", re.I | re.M)


def _raw_message_id(data: bytes) -> str | None:
    """The Message-ID of a mail we could not parse, read from its header block only."""
    head = data[:65536].split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    m = _MESSAGE_ID.search(head)
    return m.group(1).decode("ascii", "replace") if m else None


# -- one mail: the steps in order ---------------------------------------------------------------
def take_in(rt: Runtime, raw: RawMessage, events: list[EventInfo] | None,
            read: Understand) -> Outcome:
    """Record, apply and answer one inbound mail; its outcome says where it is to be moved."""
    with rt.db.session() as s:
        known = find_known(s, raw)
        if known is not None:  # a crash after the commit, before the move: only move it
            return known.outcome
        if events is None:
            events = rt.events(s)
    try:
        mail, intent = read(raw.data, events)
    except Exception as exc:  # a bug or a mail we cannot read: quarantine, go on
        return quarantine(rt, raw, exc)
    try:
        outcome = record_and_apply(rt, raw, mail, intent)
    except IntegrityError:
        return after_conflict(rt, raw)
    except Exception as exc:
        return quarantine(rt, raw, exc)
    log.info("mail %s:%s from @%s: %s, event %s -> %s", raw.uidvalidity, raw.uid,
             domain(mail.sender_email), intent.kind.value, intent.event or "-", outcome.value)
    return outcome


# -- a batch: the steps for many mails, one transaction with a savepoint per mail ------------
def understand_each(read: Understand, datas: list[bytes], events: list[EventInfo]
                    ) -> list[Understood]:
    """Read the mails one after the other; a mail that cannot be read gives its error."""
    out: list[Understood] = []
    for data in datas:
        try:
            out.append(read(data, events))
        except Exception as exc:  # a bug or a mail we cannot read: quarantined later
            out.append(exc)
    return out


class Unreadable(Exception):
    """A mail a worker process could not read: the reason (error and place) comes back as text,
    since a traceback does not cross the process boundary."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


_read_here: Understand | None = None  # the reader of this worker process (inherited by fork)


def _read_chunk(datas: list[bytes], events: list[EventInfo]) -> list[Understood]:
    assert _read_here is not None
    return [got if not isinstance(got, Exception) else Unreadable(quarantine_reason(got))
            for got in understand_each(_read_here, datas, events)]


def start_reader(read: Understand) -> None:
    """The initializer of a CorePool that reads mails: the reader of each worker process."""
    global _read_here
    _read_here = read


def pooled(read: Understand, pool: CorePool) -> UnderstandMany:
    """Read a batch on every core (a small one right here)."""

    def read_many(datas: list[bytes], events: list[EventInfo]) -> list[Understood]:
        if not pool.worth_it(len(datas)):
            return understand_each(read, datas, events)
        first: list[Understood] = []
        if not pool.started:
            # the first mail is read here: whatever `read` loads on first use (rules, models)
            # is then loaded once, before the fork, not once in every process
            first, datas = understand_each(read, datas[:1], events), datas[1:]
        return first + pool.map_chunks(_read_chunk, datas, events)

    return read_many


def _key(raw: RawMessage) -> tuple[str, int, str]:
    return raw.mailbox, raw.uidvalidity, raw.uid


def find_known_many(s: Session, raws: Sequence[RawMessage]
                    ) -> dict[tuple[str, int, str], Outcome]:
    """The outcomes of those of `raws` that were taken in before, in one query per mailbox
    and UIDVALIDITY (a batch comes from one mailbox)."""
    groups: dict[tuple[str, int], list[str]] = {}
    for raw in raws:
        groups.setdefault((raw.mailbox, raw.uidvalidity), []).append(raw.uid)
    known: dict[tuple[str, int, str], Outcome] = {}
    for (box, validity), uids in groups.items():
        for uid, outcome in s.execute(select(InboundRecord.uid, InboundRecord.outcome).where(
                InboundRecord.mailbox == box, InboundRecord.uidvalidity == validity,
                InboundRecord.uid.in_(uids))):
            known[(box, validity, uid)] = outcome
    return known


def _quarantine_in(s: Session, rt: Runtime, raw: RawMessage, exc: BaseException) -> Outcome:
    """`quarantine` inside the batch's transaction (its own savepoint)."""
    reason = quarantine_reason(exc)
    log.warning("mail %s:%s quarantined: %s", raw.uidvalidity, raw.uid, reason)
    with s.begin_nested():
        if find_known(s, raw) is None:
            s.add(InboundRecord(mailbox=raw.mailbox, uidvalidity=raw.uidvalidity,
                                uid=raw.uid,
                                message_id=_raw_message_id(raw.data) or f"quarantine-{raw.uid}",
                                outcome=Outcome.QUARANTINE, reason=reason, raw=raw.data,
                                created_at=rt.clock()))
            s.flush()
    return Outcome.QUARANTINE


def _apply_in(s: Session, rt: Runtime, raw: RawMessage, got: Understood) -> Outcome:
    """One mail of a batch in its own savepoint: when it fails, only its effects are undone
    and it is quarantined; the others of the batch commit."""
    if isinstance(got, Exception):
        return _quarantine_in(s, rt, raw, got)
    mail, intent = got
    try:
        with s.begin_nested():
            rec = new_record(raw, mail, intent, rt.clock())
            outcome = (Outcome.DONE if already_applied(s, rec)
                       else apply_and_answer(s, rt, rec, mail, intent))
            rec.outcome = outcome
            if outcome in RAW_KEEP:
                rec.raw = raw.data
            s.flush()
    except IntegrityError:
        # another worker recorded the same mail first, and its outcome stands
        known = find_known(s, raw)
        if known is not None:
            return known.outcome
        return _quarantine_in(s, rt, raw, RuntimeError("integrity error while recording"))
    except Exception as exc:
        return _quarantine_in(s, rt, raw, exc)
    log.info("mail %s:%s from @%s: %s, event %s -> %s", raw.uidvalidity, raw.uid,
             domain(mail.sender_email), intent.kind.value, intent.event or "-", outcome.value)
    return outcome


def take_in_batch(rt: Runtime, raws: Sequence[RawMessage], read: Understand,
                  events: list[EventInfo] | None = None,
                  read_many: UnderstandMany | None = None) -> list[Outcome]:
    """Record, apply and answer a batch of mails (raw bytes, from any intake: IMAP, Maildir,
    LMTP) in ONE transaction with a savepoint per mail; the outcome of each, in order, says
    where it is to be moved (after this returns: after the commit). A mail recorded before
    (a crash after the commit, before the move) is not applied again: only its outcome is
    returned. Should the batch's transaction fail as a whole, its mails are taken in one by
    one, each in its own transaction."""
    if not raws:
        return []
    with rt.db.session() as s:
        outcomes = find_known_many(s, raws)
        if events is None:
            events = rt.events(s)
    todo = [raw for raw in raws if _key(raw) not in outcomes]
    datas = [raw.data for raw in todo]
    understood = (read_many(datas, events) if read_many is not None
                  else understand_each(read, datas, events))
    try:
        with rt.db.session() as s:
            for raw, got in zip(todo, understood, strict=True):
                outcomes[_key(raw)] = _apply_in(s, rt, raw, got)
    except Exception as exc:
        if len(raws) == 1:
            return [take_in(rt, raws[0], events, read)]
        log.warning("a batch of %d mails failed as a whole (%s: %s); one by one instead",
                    len(raws), type(exc).__name__, str(exc).splitlines()[0][:300]
                    if str(exc) else "")
        return [take_in(rt, raw, events, read) for raw in raws]
    return [outcomes[_key(raw)] for raw in raws]


@dataclass
class Intake:
    """The thin handler: fetch a batch from one mailbox, take it in, then move it."""

    rt: Runtime
    mailbox: Mailbox | None
    read: Understand
    on_mail: Callable[[Outcome], None] | None = None  # e.g. the start-up progress bar
    should_stop: Callable[[], bool] = lambda: False
    read_many: UnderstandMany | None = None  # e.g. a process pool for large batches

    def handle_one_mail(self, raw: RawMessage, events: list[EventInfo] | None = None
                        ) -> Outcome:
        """Take one mail in (one transaction); then move it, after the commit."""
        return self.handle_batch([raw], events)[0]

    def handle_batch(self, raws: Sequence[RawMessage], events: list[EventInfo] | None = None
                     ) -> list[Outcome]:
        """Take a batch in (one transaction); then move it, after the commit, in one command
        per target folder."""
        outcomes = take_in_batch(self.rt, raws, self.read, events,
                                 self.read_many if len(raws) > 1 else None)
        if self.mailbox is not None:
            by_outcome: dict[Outcome, list[RawMessage]] = {}
            for raw, outcome in zip(raws, outcomes, strict=True):
                by_outcome.setdefault(outcome, []).append(raw)
            for outcome, msgs in by_outcome.items():
                self.mailbox.move_many(msgs, outcome)
        for outcome in outcomes:
            self.rt.count(outcome.value)
            if self.on_mail is not None:
                self.on_mail(outcome)
        return outcomes

    def run(self, batch: int = 200) -> int | None:
        """Handle everything in the inbox now; returns how many mails were handled, or None
        when another worker is taking in this mailbox right now (it will handle them)."""
        assert self.mailbox is not None
        with exclusive(self.rt.db.engine, f"intake:{self.mailbox.name}") as mine:
            return self._until_empty(self.mailbox, batch) if mine else None

    def _until_empty(self, mailbox: Mailbox, batch: int) -> int:
        total = 0
        while True:
            with self.rt.db.session() as s:
                events = self.rt.events(s)
            # One batch in memory at a time, however long the backlog.
            raws = list(mailbox.fetch_new(limit=batch))
            self.handle_batch(raws, events)
            total += len(raws)
            if len(raws) < batch or self.should_stop():
                # SIGTERM mid-backlog: stop between two batches
                return total
