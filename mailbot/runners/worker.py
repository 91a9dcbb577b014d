"""The jobs: intake, delivery, offers, reminders, retention. Each `handle_one_…` does one unit."""

from __future__ import annotations

import base64
import logging
import re
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mailbot.apply.chain import apply, chain
from mailbot.apply.inbound import Inbound
from mailbot.config import Settings
from mailbot.database import Database, affected
from mailbot.mailbox import Mailbox, RawMessage
from mailbot.models import Event, InboundRecord, OutboxRow, OutboxStatus, utcnow
from mailbot.registrations.lifecycle import forget_old_mails, purge_one_event, send_one_reminder
from mailbot.registrations.messages import Mailer
from mailbot.registrations.offers import expire_one_offer
from mailbot.runners.locks import exclusive
from mailbot.types import EventInfo, InboundMail, Intent, Outcome, OutgoingMail, SendStatus

log = logging.getLogger("mailbot")

RAW_KEEP = {Outcome.REVIEW, Outcome.QUARANTINE}  # raw bytes kept only while a human must look
# How long a claimed outbox row is reserved for its worker; a crashed worker's rows are sent
# again after it (one duplicate possible if the crash came between acceptance and the update).
LEASE = timedelta(minutes=5)


def _domain(address: str) -> str:
    """For logs: the domain only, never the person."""
    return address.rpartition("@")[2] or "?"


@dataclass
class Worker:
    """Everything the jobs share: settings, database, rules; mailbox and transport when needed."""

    settings: Settings
    db: Database
    mailbox: Mailbox | None = None
    transport: Any = None  # mailbot.outbox.transport.base.Transport
    clock: Callable[[], datetime] = utcnow
    _rules: Any = None
    stats: dict[str, int] = field(default_factory=dict)
    on_mail: Callable[[Outcome], None] | None = None  # e.g. the start-up progress bar
    should_stop: Callable[[], bool] = lambda: False

    # -- shared helpers ---------------------------------------------------------------------
    @property
    def rules(self) -> Any:
        if self._rules is None:
            from mailbot.classify import load_rules

            assert self.settings.rules_dir is not None
            self._rules = load_rules(self.settings.rules_dir)
        return self._rules

    def mailer(self, s: Session, now: datetime | None = None) -> Mailer:
        return Mailer(s, now or self.clock(), self.settings.own_domain,
                      self.settings.reply_limit_per_day)

    def events(self, s: Session) -> list[EventInfo]:
        return [e.info() for e in s.scalars(select(Event).where(Event.purged_at.is_(None)))]

    def count(self, key: str, n: int = 1) -> None:
        self.stats[key] = self.stats.get(key, 0) + n

    # -- intake -------------------------------------------------------------------------------
    def understand(self, data: bytes, events: list[EventInfo]) -> tuple[InboundMail, Intent]:
        from mailbot.classify import classify
        from mailbot.parse import parse

        mail = _without_surrogates(parse(data))
        return mail, classify(mail, events, self.rules, now=self.clock())

    def handle_one_mail(self, raw: RawMessage, events: list[EventInfo] | None = None) -> Outcome:
        """Record, apply and answer one inbound mail in one transaction; then move it."""
        outcome = self._record(raw, events)
        if self.mailbox is not None:
            self.mailbox.move(raw, outcome)
        self.count(outcome.value)
        if self.on_mail is not None:
            self.on_mail(outcome)
        return outcome

    def _record(self, raw: RawMessage, events: list[EventInfo] | None) -> Outcome:
        with self.db.session() as s:
            known = s.scalars(select(InboundRecord).where(
                InboundRecord.mailbox == raw.mailbox, InboundRecord.uidvalidity == raw.uidvalidity,
                InboundRecord.uid == raw.uid)).first()
            if known is not None:  # a crash after the commit, before the move: only move it
                return known.outcome
            if events is None:
                events = self.events(s)
        try:
            mail, intent = self.understand(raw.data, events)
        except Exception as exc:  # a bug or a mail we cannot read: quarantine, go on
            return self._quarantine(raw, exc)
        try:
            with self.db.session() as s:
                dup = s.scalars(select(InboundRecord).where(
                    InboundRecord.message_id == mail.message_id)).first()
                rec = InboundRecord(
                    mailbox=raw.mailbox, uidvalidity=raw.uidvalidity, uid=raw.uid,
                    message_id=mail.message_id, sender=mail.sender_email, subject=mail.subject[:500],
                    intent=intent.kind.value, event_slug=intent.event,
                    confidence=intent.confidence, outcome=Outcome.DONE,
                    excerpt=(intent.question or mail.text)[:500], created_at=self.clock())
                s.add(rec)
                s.flush()
                if dup is not None and dup.outcome != Outcome.QUARANTINE:
                    rec.reason = f"same Message-ID as mail #{dup.id}: not applied twice"
                    outcome = Outcome.DONE
                else:
                    m = self.mailer(s)
                    outcome = apply(s, m, Inbound(rec, mail, intent),
                                    chain(self.settings.min_confidence))
                    if m.limited:
                        rec.reason = f"reply limit reached for {len(set(m.limited))} address(es)"
                rec.outcome = outcome
                if outcome in RAW_KEEP:
                    rec.raw = raw.data
            log.info("mail %s:%s from @%s: %s, event %s -> %s", raw.uidvalidity, raw.uid,
                     _domain(mail.sender_email), intent.kind.value, intent.event or "-",
                     outcome.value)
            return outcome
        except IntegrityError:
            # another worker recorded the same mail first; its outcome stands
            with self.db.session() as s:
                known = s.scalars(select(InboundRecord).where(
                    InboundRecord.mailbox == raw.mailbox,
                    InboundRecord.uidvalidity == raw.uidvalidity,
                    InboundRecord.uid == raw.uid)).first()
            if known is not None:
                return known.outcome
            return self._quarantine(raw, RuntimeError("integrity error while recording"))
        except Exception as exc:
            return self._quarantine(raw, exc)

    def _quarantine(self, raw: RawMessage, exc: BaseException) -> Outcome:
        where = traceback.extract_tb(exc.__traceback__)[-1:] if exc.__traceback__ else []
        at = f" at {where[0].filename.rsplit('/', 1)[-1]}:{where[0].lineno}" if where else ""
        reason = f"{type(exc).__name__}: {exc}{at}"[:1000]
        log.warning("mail %s:%s quarantined: %s", raw.uidvalidity, raw.uid, reason)
        with self.db.session() as s:
            known = s.scalars(select(InboundRecord).where(
                InboundRecord.mailbox == raw.mailbox, InboundRecord.uidvalidity == raw.uidvalidity,
                InboundRecord.uid == raw.uid)).first()
            if known is None:
                s.add(InboundRecord(mailbox=raw.mailbox, uidvalidity=raw.uidvalidity,
                                    uid=raw.uid,
                                    message_id=_raw_message_id(raw.data) or f"quarantine-{raw.uid}",
                                    outcome=Outcome.QUARANTINE, reason=reason, raw=raw.data,
                                    created_at=self.clock()))
        return Outcome.QUARANTINE

    def intake_pass(self, batch: int = 100) -> int | None:
        """Handle everything in the inbox now; returns how many mails were handled, or None
        when another worker is taking in this mailbox right now (it will handle them)."""
        assert self.mailbox is not None
        with exclusive(self.db.engine, f"intake:{self.mailbox.name}") as mine:
            return self._intake(batch) if mine else None

    def _intake(self, batch: int) -> int:
        assert self.mailbox is not None
        total = 0
        while True:
            with self.db.session() as s:
                events = self.events(s)
            n = 0
            for raw in self.mailbox.fetch_new(limit=batch):
                self.handle_one_mail(raw, events)
                n += 1
                if self.should_stop():  # SIGTERM mid-backlog: stop between two mails
                    return total + n
            total += n
            if n < batch:
                return total

    # -- delivery -------------------------------------------------------------------------------
    def claim_due(self, limit: int = 50) -> list[int]:
        """Lease due outbox rows; a lease that runs out (crash) frees the row for a retry."""
        now = self.clock()
        claimed = []
        with self.db.session() as s:
            ids = s.scalars(select(OutboxRow.id).where(
                OutboxRow.status == OutboxStatus.QUEUED, OutboxRow.next_attempt_at <= now,
                or_(OutboxRow.lease_until.is_(None), OutboxRow.lease_until < now))
                .order_by(OutboxRow.id).limit(limit)).all()
            for i in ids:
                won = affected(s, update(OutboxRow).where(
                    OutboxRow.id == i, or_(OutboxRow.lease_until.is_(None),
                                           OutboxRow.lease_until < now))
                    .values(lease_until=now + LEASE))
                if won:
                    claimed.append(i)
        return claimed

    def compose(self, row: OutboxRow) -> EmailMessage:
        from mailbot.outbox.compose import make_message

        mail = OutgoingMail(
            template=row.template, language=row.language, to=row.to_addr, context=row.context,
            message_id=row.message_id, in_reply_to=row.in_reply_to,
            references=tuple(row.references or ()), reply_to=row.reply_to,
            auto_submitted=row.auto_submitted, ics=row.ics,
            attachments=tuple((a["filename"], a["mime"], base64.b64decode(a["b64"]))
                              for a in row.attachments or ()))
        return make_message(mail, self.settings.from_addr, self.settings.tz)

    def delivery_pass(self, limit: int = 50) -> int:
        """Send what is due; returns how many mails the server accepted."""
        assert self.transport is not None
        sent = 0
        while ids := self.claim_due(limit):
            batch: list[tuple[int, EmailMessage]] = []
            with self.db.session() as s:
                for row in s.scalars(select(OutboxRow).where(OutboxRow.id.in_(ids))
                                     .order_by(OutboxRow.id)):
                    try:
                        batch.append((row.id, self.compose(row)))
                    except Exception as exc:  # a template bug must not block the queue
                        row.status, row.last_error = OutboxStatus.FAILED, f"render: {exc}"[:1000]
                        log.error("outbox %s (%s) cannot be rendered: %s", row.id, row.template,
                                  exc)
            results: list[SendStatus] = []

            def on_result(key: int, result: Any, results: list[SendStatus] = results) -> None:
                self._record_result(key, result)
                results.append(result.status)

            self.transport.deliver(batch, on_result)
            sent += results.count(SendStatus.SENT)
            if SendStatus.RETRY in results and SendStatus.SENT not in results:
                break  # the server is unwell: back off, the rows carry their next attempt
        return sent

    def _record_result(self, row_id: int, result: Any) -> None:
        now = self.clock()
        with self.db.session() as s:
            row = s.get(OutboxRow, row_id)
            if row is None:
                return
            row.lease_until = None
            if result.status == SendStatus.SENT:
                row.status, row.sent_at, row.last_error = OutboxStatus.SENT, now, ""
                if row.template == "erased":  # the confirmation itself must not keep the address
                    row.to_addr, row.context = "erased", {}
                return
            row.attempts += 1
            row.last_error = (result.detail or "")[:1000]
            if result.status == SendStatus.FAILED or row.attempts >= self.settings.send_retries:
                row.status = OutboxStatus.FAILED
                log.warning("outbox %s to @%s failed for good: %s", row.id, _domain(row.to_addr),
                            row.last_error)
            else:
                wait = backoff(row.attempts, self.settings.retry_seconds)
                row.next_attempt_at = now + wait
                log.info("outbox %s to @%s retry %s in %s: %s", row.id, _domain(row.to_addr),
                         row.attempts, wait, row.last_error)

    # -- scheduled units ------------------------------------------------------------------------
    def handle_one(self, unit: Callable[[Session, Mailer], bool]) -> bool:
        with self.db.session() as s:
            return unit(s, self.mailer(s))

    def handle_one_expired_offer(self) -> bool:
        return self.handle_one(expire_one_offer)

    def handle_one_reminder(self) -> bool:
        return self.handle_one(send_one_reminder)

    def handle_one_purge(self) -> bool:
        return self.handle_one(purge_one_event)

    def handle_one_forget(self) -> bool:
        return self.handle_one(forget_old_mails)

    def retention(self) -> int:
        """Purge events past their retention time, then let old handled mails forget senders."""
        return self.drain(self.handle_one_purge) + self.drain(self.handle_one_forget)

    def drain(self, unit: Callable[[], bool], limit: int = 10_000) -> int:
        """Run a handle_one_… job until it finds no more work."""
        n = 0
        while n < limit and unit():
            n += 1
        return n

    def housekeeping(self) -> dict[str, int]:
        return {"offers expired": self.drain(self.handle_one_expired_offer),
                "reminders": self.drain(self.handle_one_reminder),
                "events purged and mails forgotten": self.retention()}


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


_MESSAGE_ID = re.compile(rb"^message-id:[ \t]*<?([^\s<>]{1,400})>?", re.I | re.M)


def _raw_message_id(data: bytes) -> str | None:
    """The Message-ID of a mail we could not parse, read from its header block only."""
    head = data[:65536].split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    m = _MESSAGE_ID.search(head)
    return m.group(1).decode("ascii", "replace") if m else None


def backoff(attempt: int, base_seconds: float = 60.0) -> timedelta:
    """base, 2×, 4× … capped at 2 h: a mail server's bad hour does not flood it."""
    return timedelta(seconds=min(7200.0, base_seconds * 2 ** max(0, attempt - 1)))

