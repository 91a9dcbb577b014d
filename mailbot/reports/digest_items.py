"""What needs a coordinator: questions, mails in review or quarantine, bounces, reply limits."""

from __future__ import annotations

import email.parser
import email.policy
from datetime import datetime
from typing import Any
from urllib.parse import quote

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from mailbot.models import Event, InboundRecord, OutboxRow, OutboxStatus, Person, Registration
from mailbot.registrations.identity import email_key
from mailbot.reports.digest_model import Item
from mailbot.types import Outcome

# Names of our own mails, for "which mail could not be delivered".
MAIL_NAMES = {
    "de": {"confirmation": "Anmeldebestätigung", "waitlisted": "Wartelistenbestätigung",
           "partly_waitlisted": "Bestätigung mit Warteliste", "moved_up": "Nachrücken",
           "offer": "Platzangebot", "reminder": "Erinnerung", "cancelled": "Absagebestätigung",
           "venue_notice": "Ortsangabe", "seats_changed": "geänderte Plätze",
           "question_ack": "Eingangsbestätigung einer Frage", "digest": "Tagesübersicht"},
    "en": {"confirmation": "confirmation", "waitlisted": "waiting list confirmation",
           "partly_waitlisted": "confirmation with waiting list", "moved_up": "moved up",
           "offer": "seat offer", "reminder": "reminder", "cancelled": "cancellation",
           "venue_notice": "venue notice", "seats_changed": "changed seats",
           "question_ack": "question acknowledgement", "digest": "daily digest"},
}


def mailto(address: str, subject: str) -> str:
    subject = " ".join(subject.split())
    if subject and not subject.lower().startswith(("re:", "aw:")):
        subject = "Re: " + subject
    return f"mailto:{quote(address, safe='@')}?subject={quote(subject)}"


def _short(text: str, n: int = 300) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= n else text[: n - 1].rstrip() + "…"


def _since(column: Any, since: datetime | None) -> Any:
    return column >= since if since is not None else column.is_not(None)


def _headers(raw: bytes | None) -> tuple[str, str]:
    """Sender and subject from stored raw bytes (a quarantined mail has no parsed fields)."""
    if not raw:
        return "", ""
    try:
        msg = email.parser.BytesHeaderParser(policy=email.policy.default).parsebytes(raw)
        sender = msg.get("From")
        addr = sender.addresses[0].addr_spec if sender and sender.addresses else ""
        return str(addr).lower(), " ".join(str(msg.get("Subject") or "").split())
    except Exception:  # broken headers are why it may be quarantined: show what we have
        return "", ""


def needs_you(s: Session, events: list[Event], since: datetime | None, lang: str) -> list[Item]:
    slugs = {e.slug: e.title for e in events}
    ids = {e.id: e.title for e in events}
    known = set(s.scalars(select(Event.slug)))

    def _mine(slug: str | None, slugs: dict[str, str] = slugs) -> bool:
        # A mail about another coordinator's event is theirs; one that names no (known)
        # event is everybody's, so that somebody looks at it.
        return not slug or slug in slugs or slug not in known

    items: list[Item] = []

    # questions in registrations, and mails that only asked something
    for reg in s.scalars(select(Registration).where(
            Registration.event_id.in_(ids), Registration.has_question.is_(True),
            _since(Registration.created_at, since)).order_by(Registration.created_at)):
        items.append(Item("question", reg.person.email, name=reg.person.name,
                          text=_short(reg.question), event=ids[reg.event_id],
                          mailto=mailto(reg.person.email, ids[reg.event_id]),
                          at=reg.created_at.isoformat()))
    for rec in s.scalars(select(InboundRecord).where(
            InboundRecord.intent == "question", InboundRecord.outcome == Outcome.DONE,
            _since(InboundRecord.created_at, since)).order_by(InboundRecord.created_at)):
        if rec.sender and _mine(rec.event_slug, slugs):
            items.append(Item("question", rec.sender, subject=rec.subject,
                              text=_short(rec.excerpt), event=slugs.get(rec.event_slug or "", ""),
                              mailto=mailto(rec.sender, rec.subject), at=rec.created_at.isoformat(),
                              id=rec.id))

    # mails a human must decide on: all still open, however old
    for rec in s.scalars(select(InboundRecord).where(
            InboundRecord.outcome.in_([Outcome.REVIEW, Outcome.QUARANTINE]),
            InboundRecord.resolved_at.is_(None)).order_by(InboundRecord.created_at)):
        if not _mine(rec.event_slug, slugs):
            continue
        sender, subject = rec.sender, rec.subject
        if not sender or not subject:
            raw_sender, raw_subject = _headers(rec.raw)
            sender, subject = sender or raw_sender, subject or raw_subject
        items.append(Item(rec.outcome.value, sender, subject=subject, text=_short(rec.excerpt),
                          reason=_short(rec.reason, 200), event=slugs.get(rec.event_slug or "", ""),
                          mailto=mailto(sender, subject) if sender else "",
                          at=rec.created_at.isoformat(), id=rec.id))

    items += _bounces(s, ids, since, lang)

    # senders who hit the reply limit: a loop with a robot, or someone upset
    seen: set[str] = set()
    for rec in s.scalars(select(InboundRecord).where(
            InboundRecord.reason.like("%reply limit%"), _since(InboundRecord.created_at, since))
            .order_by(InboundRecord.created_at)):
        if rec.sender and rec.sender not in seen and _mine(rec.event_slug, slugs):
            seen.add(rec.sender)
            items.append(Item("reply_limit", rec.sender, subject=rec.subject,
                              reason=_short(rec.reason, 200), at=rec.created_at.isoformat(),
                              event=slugs.get(rec.event_slug or "", ""), id=rec.id))
    return items


def _bounces(s: Session, ids: dict[int, str], since: datetime | None, lang: str) -> list[Item]:
    """Addresses our mail did not reach: bounce reports, and mails the server refused for good."""
    failed: dict[str, tuple[str, datetime]] = {}  # address -> (why, when)
    for rec in s.scalars(select(InboundRecord).where(_since(InboundRecord.created_at, since))
                         .order_by(InboundRecord.created_at)):
        for addr in rec.bounced or ():
            failed.setdefault(str(addr).strip().lower(), ("", rec.created_at))
    for row in s.scalars(select(OutboxRow).where(
            OutboxRow.status == OutboxStatus.FAILED, OutboxRow.template != "digest",
            or_(_since(OutboxRow.next_attempt_at, since), _since(OutboxRow.created_at, since)))):
        failed.setdefault(row.to_addr, (_short(row.last_error, 200), row.created_at))
    items = []
    for addr, (why, at) in failed.items():
        regs = list(s.scalars(select(Registration).join(Registration.person).where(
            Person.email_key == email_key(addr))))
        rows = list(s.scalars(select(OutboxRow).where(OutboxRow.to_addr == addr)
                              .order_by(OutboxRow.created_at.desc())))
        events = {r.event_id for r in regs} | {r.event_id for r in rows if r.event_id}
        if events and not events & ids.keys():
            continue  # someone else's participant
        name = regs[0].person.name if regs else ""
        last = rows[0].template if rows else ""
        what = MAIL_NAMES[lang].get(last, last)
        items.append(Item("bounce", addr, name=name, text=what, reason=why,
                          event=", ".join(ids[e] for e in sorted(events & ids.keys())),
                          at=at.isoformat()))
    return items
