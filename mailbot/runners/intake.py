"""Intake: fetch, understand, record and apply, move. A mail that breaks a step is quarantined.

Each step is a small function (reading in intake_read, recording in intake_record); `Intake` is
the thin handler that runs them for one mailbox.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError

from mailbot.mailbox import Mailbox, RawMessage
from mailbot.runners.base import Runtime
from mailbot.runners.intake_read import (
    ReadAhead,
    Understand,
    UnderstandMany,
    Understood,
    Unreadable,
    pooled,
    quarantine_reason,
    read_ahead,
    start_reader,
    understand,
    understand_each,
)
from mailbot.runners.intake_record import (
    RAW_KEEP,
    after_conflict,
    already_applied,
    apply_and_answer,
    apply_run,
    find_known,
    find_known_many,
    log_taken_in,
    people_of,
    prime_batch,
    quarantine,
    record_and_apply,
)
from mailbot.runners.locks import exclusive
from mailbot.types import EventInfo, Outcome

# The steps, importable from here as before the split.
__all__ = ["RAW_KEEP", "Intake", "ReadAhead", "Understand", "UnderstandMany", "Understood", "Unreadable",
           "already_applied", "apply_and_answer", "find_known", "pooled", "quarantine",
           "quarantine_reason", "read_ahead", "start_reader", "take_in", "take_in_batch", "understand",
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
    log_taken_in(raw, mail, intent, outcome)
    return outcome


# -- a batch: the steps for many mails in one transaction, a savepoint per run (see runs) ---
_GROUP = 50  # mails of a batch whose lookups (claims, reply counts) are made at once
# A batch fetched from a mailbox ends with the mail that brings it to this size: 200 mails
# with a flyer attached each would otherwise be held in memory at once, twice over.
BATCH_BYTES = 32 * 1024 * 1024


def _key(raw: RawMessage) -> tuple[str, int, str]:
    return raw.mailbox, raw.uidvalidity, raw.uid


@dataclass
class Started:
    """A batch whose reading has begun (in worker processes, when there are any)."""

    raws: list[RawMessage]
    events: list[EventInfo]
    outcomes: dict[tuple[str, int, str], Outcome]  # of the mails taken in before
    todo: list[RawMessage]
    understood: Iterator[Understood] | None  # None: read one by one while applying


def start_batch(rt: Runtime, raws: Sequence[RawMessage], events: list[EventInfo] | None = None,
                read_many: UnderstandMany | None = None) -> Started:
    """The first step of a batch: which of its mails were taken in before, and the reading
    of the others handed to `read_many` (which may work on it while the caller does other
    things, e.g. sends the replies of the batch before)."""
    with rt.db.reading() as s:
        outcomes = find_known_many(s, raws) if raws else {}
        if events is None:
            events = rt.events(s)
    todo = [raw for raw in raws if _key(raw) not in outcomes]
    understood = (iter(read_many([raw.data for raw in todo], events))
                  if read_many is not None and todo else None)
    return Started(list(raws), events, outcomes, todo, understood)


def runs(group: list[tuple[RawMessage, Understood]]
         ) -> Iterator[list[tuple[RawMessage, Understood]]]:
    """The group in order, cut into runs that may be written together: registrations of
    people no other mail of the run touches; any other mail is a run of its own."""
    run: list[tuple[RawMessage, Understood]] = []
    seen: set[str] = set()
    for item in group:
        people = people_of(item[1])
        if run and (people is None or not seen.isdisjoint(people)):
            yield run
            run, seen = [], set()
        run.append(item)
        if people is None:
            yield run
            run = []
        else:
            seen |= people
    if run:
        yield run


def finish_batch(rt: Runtime, started: Started, read: Understand) -> list[Outcome]:
    """Record, apply and answer the batch in ONE transaction with a savepoint per run (`runs`:
    registrations of different people together, any other mail alone); the outcome of each,
    in order, says where it is to be moved (after this returns: after the commit). Should the
    transaction fail as a whole, the mails are taken in one by one, each in its own
    transaction."""
    raws, events, outcomes, todo = started.raws, started.events, started.outcomes, started.todo
    understood = started.understood or (
        got for raw in todo for got in understand_each(read, [raw.data], events))
    try:
        with rt.db.session() as s:
            # in groups: each group's lookups at once, while later ones may still be read
            for start in range(0, len(todo), _GROUP):
                group = [(raw, next(understood)) for raw in todo[start:start + _GROUP]]
                prime_batch(s, rt, group)
                for run in runs(group):
                    for (raw, _got), outcome in zip(run, apply_run(s, rt, run), strict=True):
                        outcomes[_key(raw)] = outcome
    except Exception as exc:
        if len(raws) == 1:
            return [take_in(rt, raws[0], events, read)]
        log.warning("a batch of %d mails failed as a whole (%s: %s); one by one instead",
                    len(raws), type(exc).__name__, str(exc).splitlines()[0][:300]
                    if str(exc) else "")
        return [take_in(rt, raw, events, read) for raw in raws]
    return [outcomes[_key(raw)] for raw in raws]


def take_in_batch(rt: Runtime, raws: Sequence[RawMessage], read: Understand,
                  events: list[EventInfo] | None = None,
                  read_many: UnderstandMany | None = None) -> list[Outcome]:
    """Record, apply and answer a batch of mails (raw bytes, from any intake: IMAP, Maildir,
    LMTP) in ONE transaction with a savepoint per run (see `runs`); the outcome of each, in
    order, says where it is to be moved (after this returns: after the commit). A mail recorded
    before (a crash after the commit, before the move) is not applied again: only its outcome
    is returned."""
    if not raws:
        return []
    return finish_batch(rt, start_batch(rt, raws, events, read_many), read)


@dataclass
class Intake:
    """The thin handler: fetch a batch from one mailbox, take it in, then move it."""

    rt: Runtime
    mailbox: Mailbox | None
    read: Understand
    on_mail: Callable[[Outcome], None] | None = None  # e.g. the start-up progress bar
    should_stop: Callable[[], bool] = lambda: False
    read_many: UnderstandMany | None = None  # e.g. a process pool for large batches
    # e.g. send the replies so far: called before the next batch is fetched, it may start
    # (claim, render in the pool ahead of that batch's reading); what it returns finishes
    between_batches: Callable[[], Callable[[], object]] | None = None

    def handle_one_mail(self, raw: RawMessage, events: list[EventInfo] | None = None
                        ) -> Outcome:
        """Take one mail in (one transaction); then move it, after the commit."""
        return self.handle_batch([raw], events)[0]

    def handle_batch(self, raws: Sequence[RawMessage], events: list[EventInfo] | None = None
                     ) -> list[Outcome]:
        """Take a batch in (one transaction); then move it, after the commit, in one command
        per target folder."""
        return self._finish(self._start(raws, events))

    def _start(self, raws: Sequence[RawMessage], events: list[EventInfo] | None) -> Started:
        return start_batch(self.rt, raws, events, self.read_many)

    def _finish(self, started: Started) -> list[Outcome]:
        raws = started.raws
        outcomes = finish_batch(self.rt, started, self.read) if raws else []
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

    def _fetch(self, mailbox: Mailbox, batch: int, skip: Collection[str] = ()) -> Started:
        # One batch in memory at a time (two while the next is read), however long the backlog
        # and however large its mails. The events: read by start_batch, in the transaction
        # that looks for the mails taken in before.
        return self._start(list(mailbox.fetch_new(limit=batch, max_bytes=BATCH_BYTES,
                                                  skip=skip)), None)

    def _until_empty(self, mailbox: Mailbox, batch: int) -> int:
        """Batch after batch, overlapped: the next batch is fetched, and its reading handed to
        the worker processes, before this one is applied and moved, so that they read while
        this process writes; the replies of a batch are sent while the two after it are read."""
        total = 0
        started = self._fetch(mailbox, batch)
        send: Callable[[], object] | None = None  # the replies of the batch before
        try:
            while True:
                n = len(started.raws)
                full = n >= batch or sum(len(raw.data) for raw in started.raws) >= BATCH_BYTES
                ahead = (self._fetch(mailbox, batch, {raw.uid for raw in started.raws})
                         if full and not self.should_stop() else None)
                before, send = send, None
                self._between(before)  # the replies of the batch before: sent
                self._finish(started)  # committed, then moved
                total += n
                if ahead is None or self.should_stop():  # SIGTERM: stop between two batches
                    return total
                send = self._between(self.between_batches)  # claimed, rendering
                started = self._fresh(ahead)
        finally:
            self._between(send)

    def _fresh(self, ahead: Started) -> Started:
        """A batch read ahead, read again if the batch before changed the events meanwhile
        (e.g. a coordinator's mail): the events decide which event a mail is for."""
        with self.rt.db.reading() as s:
            events = self.rt.events(s)
        return ahead if events == ahead.events else self._start(ahead.raws, events)

    @staticmethod
    def _between(step: Callable[[], object] | None) -> Callable[[], object] | None:
        """A step between two batches; its failure is logged (the delivery pass after the
        intake tries again) and ends the steps between these two batches."""
        if step is None:
            return None
        try:
            after = step()
        except Exception as exc:
            log.warning("between two batches: %s: %s", type(exc).__name__, exc)
            return None
        return after if callable(after) else None
