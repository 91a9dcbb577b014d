"""Intake: fetch, understand, record and apply, move. A mail that breaks a step is quarantined.

Each step is a small function; `Intake` is the thin handler that runs them for one mailbox.
"""

from __future__ import annotations

import logging
import re
import traceback
from collections.abc import Callable
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
from mailbot.types import EventInfo, InboundMail, Intent, Outcome

log = logging.getLogger("mailbot")

RAW_KEEP = {Outcome.REVIEW, Outcome.QUARANTINE}  # raw bytes kept only while a human must look

Understand = Callable[[bytes, list[EventInfo]], tuple[InboundMail, Intent]]


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


def _already_applied(s: Session, rec: InboundRecord) -> bool:
    """Add `rec`; True (and why, in rec.reason) when a mail with its Message-ID was applied
    before, e.g. delivered twice: its effects stand and this one is not applied again. The
    lookup runs before the new row exists; a quarantined earlier record had no effects."""
    dup = s.scalars(select(InboundRecord).where(
        InboundRecord.message_id == rec.message_id)).first()
    s.add(rec)
    s.flush()
    if dup is None or dup.outcome == Outcome.QUARANTINE:
        return False
    rec.reason = f"same Message-ID as mail #{dup.id}: not applied twice"
    return True


def apply_and_answer(s: Session, rt: Runtime, rec: InboundRecord, mail: InboundMail,
                     intent: Intent) -> Outcome:
    """Run the apply chain; a reply held back by the daily limit is noted on the record."""
    m = rt.mailer(s)
    outcome = apply(s, m, Inbound(rec, mail, intent), chain(rt.settings.min_confidence))
    if m.limited:
        rec.reason = f"reply limit reached for {len(set(m.limited))} address(es)"
    return outcome


def record_and_apply(rt: Runtime, raw: RawMessage, mail: InboundMail, intent: Intent
                     ) -> Outcome:
    with rt.db.session() as s:
        rec = new_record(raw, mail, intent, rt.clock())
        outcome = (Outcome.DONE if _already_applied(s, rec)
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


@dataclass
class Intake:
    """The thin handler: fetch from one mailbox, take each mail in, then move it."""

    rt: Runtime
    mailbox: Mailbox | None
    read: Understand
    on_mail: Callable[[Outcome], None] | None = None  # e.g. the start-up progress bar
    should_stop: Callable[[], bool] = lambda: False

    def handle_one_mail(self, raw: RawMessage, events: list[EventInfo] | None = None
                        ) -> Outcome:
        """Take one mail in (one transaction); then move it, after the commit."""
        outcome = take_in(self.rt, raw, events, self.read)
        if self.mailbox is not None:
            self.mailbox.move(raw, outcome)
        self.rt.count(outcome.value)
        if self.on_mail is not None:
            self.on_mail(outcome)
        return outcome

    def run(self, batch: int = 100) -> int | None:
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
            n = 0
            for raw in mailbox.fetch_new(limit=batch):
                self.handle_one_mail(raw, events)
                n += 1
                if self.should_stop():  # SIGTERM mid-backlog: stop between two mails
                    return total + n
            total += n
            if n < batch:
                return total
