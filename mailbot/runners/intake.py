"""Intake: fetch, understand, record and apply, move. A mail that breaks a step is quarantined.

Each step is a small function (reading in intake_read, recording in intake_record); `Intake` is
the thin handler that runs them for one mailbox.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError

from mailbot.mailbox import Mailbox, RawMessage
from mailbot.runners.base import Runtime, domain
from mailbot.runners.intake_read import (
    Understand,
    UnderstandMany,
    Understood,
    Unreadable,
    pooled,
    quarantine_reason,
    start_reader,
    understand,
    understand_each,
)
from mailbot.runners.intake_record import (
    RAW_KEEP,
    after_conflict,
    already_applied,
    apply_and_answer,
    apply_in,
    find_known,
    find_known_many,
    prime_batch,
    quarantine,
    record_and_apply,
)
from mailbot.runners.locks import exclusive
from mailbot.types import EventInfo, Outcome

# The steps, importable from here as before the split.
__all__ = ["RAW_KEEP", "Intake", "Understand", "UnderstandMany", "Understood", "Unreadable",
           "already_applied", "apply_and_answer", "find_known", "pooled", "quarantine",
           "quarantine_reason", "start_reader", "take_in", "take_in_batch", "understand",
           "understand_each"]

log = logging.getLogger("mailbot")

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
def _key(raw: RawMessage) -> tuple[str, int, str]:
    return raw.mailbox, raw.uidvalidity, raw.uid


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
            batch = list(zip(todo, understood, strict=True))
            prime_batch(s, rt, batch)
            for raw, got in batch:
                outcomes[_key(raw)] = apply_in(s, rt, raw, got)
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
