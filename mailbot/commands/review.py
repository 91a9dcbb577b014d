"""`mailbot review [assign|register|dismiss]` and `mailbot reprocess`: mails that need a human."""

from __future__ import annotations

import argparse
import email.parser
import email.policy
import logging
import sys
from dataclasses import replace
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailbot.apply.chain import apply, chain
from mailbot.apply.inbound import Inbound, closed_reason
from mailbot.apply.register import Register
from mailbot.commands.common import settings, worker
from mailbot.errors import MailboxError, UserError
from mailbot.models import InboundRecord, Registration
from mailbot.registrations.identity import find_person
from mailbot.registrations.seats import lock_event
from mailbot.reports.export import find_event
from mailbot.runners.worker import Worker
from mailbot.types import EventInfo, InboundMail, Intent, IntentKind, Outcome

log = logging.getLogger("mailbot.review")

OPEN = (Outcome.REVIEW, Outcome.QUARANTINE)


def _one_line(text: str, width: int) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _header_fields(raw: bytes | None) -> dict[str, str]:
    """Sender, name, subject and Message-ID straight from the stored bytes, for mails that
    could not be parsed (quarantine) or when the parser is not installed."""
    if not raw:
        return {}
    try:
        msg = email.parser.BytesHeaderParser(policy=email.policy.default).parsebytes(raw)
        out = {"subject": " ".join(str(msg.get("Subject") or "").split()),
               "message_id": str(msg.get("Message-ID") or "").strip().strip("<>").strip()}
        sender = msg.get("From")
        addresses = getattr(sender, "addresses", ()) if sender is not None else ()
        if addresses:
            out["email"] = str(addresses[0].addr_spec).lower()
            out["name"] = str(addresses[0].display_name or "")
        return out
    except Exception:  # a mail broken enough to be quarantined may break the header parser
        return {}


def server_message_id(rec: InboundRecord) -> str:
    """The Message-ID the mail has on the server (a quarantine record may only have a stand-in)."""
    if rec.message_id and not rec.message_id.startswith("quarantine-"):
        return rec.message_id
    return _header_fields(rec.raw).get("message_id", "")


def open_record(s: Session, rec_id: int) -> InboundRecord:
    rec = s.get(InboundRecord, rec_id, populate_existing=True)
    if rec is None:
        raise UserError(f"there is no mail #{rec_id}; `mailbot review` lists the open ones")
    if rec.resolved_at is not None:
        raise UserError(f"mail #{rec_id} was already resolved ({rec.resolved_at:%Y-%m-%d %H:%M} UTC)")
    if rec.outcome not in OPEN:
        raise UserError(f"mail #{rec_id} was handled automatically; it does not need a human")
    return rec


def understand(w: Worker, rec: InboundRecord, events: list[EventInfo]
               ) -> tuple[InboundMail, Intent | None]:
    """Parse and classify the stored bytes again; when that is impossible, a mail with what
    the record and the headers tell (the sender is enough to register someone)."""
    if rec.raw:
        try:
            return w.understand(rec.raw, events)
        except Exception as exc:  # unreadable or parser missing: fall back to the headers
            log.info("mail #%s cannot be parsed again (%s); using its headers", rec.id,
                     type(exc).__name__)
    head = _header_fields(rec.raw)
    sender = rec.sender or head.get("email", "")
    if not sender:
        raise UserError(f"mail #{rec.id} has no sender address; dismiss it "
                        f"(mailbot review dismiss {rec.id})")
    text = rec.excerpt or ""
    mail = InboundMail(
        message_id=server_message_id(rec) or rec.message_id, sender_email=sender.lower(),
        sender_name=head.get("name", ""), reply_to="", to=(), subject=rec.subject or
        head.get("subject", ""), date=None, in_reply_to=(), text=text, signature="", quoted="",
        full_text=text, language="de", headers={})
    return mail, None


def resolve(rec: InboundRecord, now: datetime, what: str) -> None:
    """Filed: no longer in review, and the raw bytes (personal data) are gone."""
    rec.resolved_at = now
    rec.raw = None
    rec.reason = f"{rec.reason}; {what}" if rec.reason else what


def move_to_done(w: Worker, rec_id: int, outcome: Outcome, message_id: str,
                 to: Outcome = Outcome.DONE) -> None:
    """Move the mail on the server too (after the commit: the database is what counts)."""
    if not w.settings.mailbox_url or not message_id or outcome == to:
        return
    if w.mailbox is None:
        from mailbot.commands.common import worker as make_worker

        w.mailbox = make_worker(w.settings, mailbox=True).mailbox
    assert w.mailbox is not None
    try:
        found = w.mailbox.move_from(outcome, message_id, to)
    except MailboxError as exc:
        print(f"mailbot: mail #{rec_id} is resolved, but it could not be moved on the server: "
              f"{exc}", file=sys.stderr)
        return
    if found:
        with w.db.session() as s:
            rec = s.get(InboundRecord, rec_id)
            if rec is not None:
                rec.moved_at = w.clock()


def _close(w: Worker) -> None:
    if w.mailbox is not None:
        w.mailbox.close()
    w.db.dispose()


# ---------------------------------------------------------------- commands


def cmd_list(args: argparse.Namespace) -> int:
    w = worker(settings(args))
    with w.db.session() as s:
        recs = list(s.scalars(select(InboundRecord).where(
            InboundRecord.outcome.in_(OPEN), InboundRecord.resolved_at.is_(None))
            .order_by(InboundRecord.created_at, InboundRecord.id)))
    if not recs:
        print("nothing needs a human")
        return 0
    tz = w.settings.tz
    for rec in recs:
        head = _header_fields(rec.raw) if not (rec.sender and rec.subject) else {}
        sender = rec.sender or head.get("email", "") or "(unknown sender)"
        print(f"#{rec.id:<5} {rec.outcome.value:<10} {rec.created_at.astimezone(tz):%Y-%m-%d %H:%M}"
              f"  {sender}")
        print(f"       subject: {_one_line(rec.subject or head.get('subject', ''), 70)}")
        if rec.event_slug:
            print(f"       event:   {rec.event_slug}")
        print(f"       why:     {_one_line(rec.reason, 70)}")
        if rec.excerpt:
            print(f"       text:    {_one_line(rec.excerpt, 70)}")
    print(f"\n{len(recs)} mail(s). Resolve with: mailbot review assign ID SLUG | review register ID"
          " | review dismiss ID; after a rules fix: mailbot reprocess [ID...]")
    return 0


def _register(args: argparse.Namespace, slug: str | None) -> int:
    w = worker(settings(args))
    try:
        with w.db.session() as s:
            rec = open_record(s, args.id)
            if slug is not None:
                find_event(s, slug)  # an unknown slug fails before anything is parsed
            events = w.events(s)
        mail, intent = understand(w, rec, events)
        slug = slug or rec.event_slug or (intent.event if intent else None)
        if not slug:
            raise UserError(f"mail #{args.id} names no event; choose one: "
                            f"mailbot review assign {args.id} SLUG")
        with w.db.session() as s:
            rec = open_record(s, args.id)  # again: someone may have resolved it meanwhile
            mid, outcome = server_message_id(rec), rec.outcome
            m = w.mailer(s)
            event = lock_event(s, find_event(s, slug).id)
            why = closed_reason(event, m)
            if why:
                raise UserError(f"registration for {slug} is closed ({why}); nothing was done")
            base = intent or Intent(IntentKind.REGISTER)
            wanted = replace(base, kind=IntentKind.REGISTER, event=slug, confidence=1.0,
                             candidate_events=())
            Register()(s, m, Inbound(rec, mail, wanted))
            resolve(rec, m.now, f"registered for {slug} by a coordinator")
            person = find_person(s, mail.sender_email)
            reg = s.scalars(select(Registration).where(
                Registration.event_id == event.id, Registration.person_id == person.id)
            ).first() if person else None
            state = reg.state.value if reg else "registered"
            limited = bool(m.limited)
        print(f"mail #{args.id}: {mail.sender_email} {state} for {slug}; " +
              ("no answer sent (reply limit)" if limited else "the answer is queued"))
        move_to_done(w, args.id, outcome, mid)
    finally:
        _close(w)
    return 0


def cmd_assign(args: argparse.Namespace) -> int:
    return _register(args, args.slug)


def cmd_register(args: argparse.Namespace) -> int:
    return _register(args, None)


def cmd_dismiss(args: argparse.Namespace) -> int:
    w = worker(settings(args))
    try:
        with w.db.session() as s:
            rec = open_record(s, args.id)
            mid, outcome = server_message_id(rec), rec.outcome
            resolve(rec, w.clock(), "dismissed by a coordinator")
        print(f"mail #{args.id}: dismissed")
        move_to_done(w, args.id, outcome, mid)
    finally:
        _close(w)
    return 0


def cmd_reprocess(args: argparse.Namespace) -> int:
    w = worker(settings(args))
    try:
        with w.db.session() as s:
            if args.ids:
                for rid in args.ids:
                    if open_record(s, rid).outcome != Outcome.QUARANTINE:
                        raise UserError(f"mail #{rid} is in review, not in quarantine; use "
                                        "mailbot review assign/register/dismiss")
                ids = list(args.ids)
            else:
                ids = list(s.scalars(select(InboundRecord.id).where(
                    InboundRecord.outcome == Outcome.QUARANTINE,
                    InboundRecord.resolved_at.is_(None)).order_by(InboundRecord.id)))
            events = w.events(s)
        if not ids:
            print("nothing in quarantine")
            return 0
        counts: dict[str, int] = {}
        for rid in ids:
            result = reprocess_one(w, rid, events)
            counts[result] = counts.get(result, 0) + 1
            print(f"mail #{rid}: {result}")
        print(", ".join(f"{n} {what}" for what, n in counts.items()))
    finally:
        _close(w)
    return 0


def reprocess_one(w: Worker, rec_id: int, events: list[EventInfo]) -> str:
    """Apply one quarantined mail again, updating its record in place. The record is re-read
    and must still be in quarantine inside the applying transaction, and a mail whose
    Message-ID was applied since (delivered again) is not applied twice."""
    with w.db.session() as s:
        rec = s.get(InboundRecord, rec_id)
        raw = rec.raw if rec is not None else None
    if not raw:
        return "skipped (its stored copy is gone)"
    try:
        mail, intent = w.understand(raw, events)
    except ImportError as exc:
        raise UserError(f"cannot reprocess: {exc} (is mailbot installed completely?)") from None
    except Exception as exc:
        return _still_failing(w, rec_id, exc)
    try:
        with w.db.session() as s:
            rec = s.scalars(select(InboundRecord).where(InboundRecord.id == rec_id)
                            .with_for_update().execution_options(populate_existing=True)).first()
            if rec is None or rec.outcome != Outcome.QUARANTINE or rec.resolved_at is not None:
                return "skipped (handled meanwhile)"
            old_mid = server_message_id(rec)
            rec.message_id, rec.sender = mail.message_id, mail.sender_email
            rec.subject, rec.excerpt = mail.subject[:500], mail.text[:500]
            rec.intent, rec.event_slug = intent.kind.value, intent.event
            rec.confidence = intent.confidence
            dup = s.scalars(select(InboundRecord.id).where(
                InboundRecord.message_id == mail.message_id, InboundRecord.id != rec.id,
                InboundRecord.outcome != Outcome.QUARANTINE)).first()
            if dup is not None:
                outcome = Outcome.DONE
                rec.reason = f"same Message-ID as mail #{dup}: not applied twice"
            else:
                rec.reason = ""
                m = w.mailer(s)
                outcome = apply(s, m, Inbound(rec, mail, intent), chain(w.settings.min_confidence))
                if m.limited:
                    rec.reason = f"reply limit reached for {len(set(m.limited))} address(es)"
            rec.outcome = outcome
            if outcome == Outcome.DONE:
                rec.raw, rec.resolved_at = None, w.clock()
    except Exception as exc:  # still broken: it stays in quarantine with the new reason
        return _still_failing(w, rec_id, exc)
    move_to_done(w, rec_id, Outcome.QUARANTINE, old_mid or mail.message_id, to=outcome)
    return f"{outcome.value} ({intent.kind.value}{', ' + intent.event if intent.event else ''})"


def _still_failing(w: Worker, rec_id: int, exc: BaseException) -> str:
    reason = f"{type(exc).__name__}: {exc}"[:1000]
    with w.db.session() as s:
        rec = s.get(InboundRecord, rec_id)
        if rec is not None:
            rec.reason = reason
    return f"still fails: {_one_line(reason, 120)}"
