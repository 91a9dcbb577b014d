"""Queue outgoing mails as outbox rows, inside the caller's transaction; the reply limit lives here."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from mailbot.models import Event, InboundRecord, OutboxRow, Registration
from mailbot.types import own_message_id


def replies_of_the_day(now: datetime) -> tuple[ColumnElement[bool], ...]:
    """The outbox rows the daily reply limit counts: our automatic replies of the last day."""
    return (OutboxRow.auto_submitted == "auto-replied",
            OutboxRow.created_at >= now - timedelta(days=1))


@dataclass
class Mailer:
    """What every action needs to queue mail: our domain, the clock, the reply limit."""

    session: Session
    now: datetime
    own_domain: str
    reply_limit: int = 10
    limited: list[str] = field(default_factory=list)  # addresses silenced by the limit

    def replies_today(self, to: str) -> int:
        q = select(func.count()).select_from(OutboxRow).where(
            OutboxRow.to_addr == to.lower(), *replies_of_the_day(self.now))
        return int(self.session.scalar(q) or 0)

    def queue(self, template: str, to: str, context: dict[str, Any], *, language: str = "de",
              event: Event | None = None, inbound: InboundRecord | None = None,
              in_reply_to: str | None = None, references: tuple[str, ...] = (),
              reply_to: str | None = None, ics: dict[str, Any] | None = None,
              auto_submitted: str = "auto-replied", dedupe_key: str | None = None,
              attachments: list[dict[str, str]] | None = None) -> OutboxRow | None:
        """Add one outbox row. Replies (auto-replied) beyond the daily limit per recipient are
        dropped and remembered in `limited`, so two robots can never talk forever."""
        to = to.strip().lower()
        if auto_submitted == "auto-replied" and self.replies_today(to) >= self.reply_limit:
            self.limited.append(to)
            return None
        if dedupe_key is not None and self.session.scalar(
                select(OutboxRow.id).where(OutboxRow.dedupe_key == dedupe_key)) is not None:
            return None
        row = OutboxRow(
            template=template, language=language, to_addr=to, context=context, ics=ics,
            message_id=own_message_id(event.slug if event else None, self.own_domain),
            in_reply_to=in_reply_to, references=list(references), reply_to=reply_to,
            auto_submitted=auto_submitted, dedupe_key=dedupe_key,
            event_id=event.id if event else None, inbound_id=inbound.id if inbound else None,
            attachments=attachments or [], created_at=self.now, next_attempt_at=self.now,
        )
        if inbound is not None and inbound.id is None:
            row.inbound = inbound  # its record is written first, in the same flush
        # written with the mail's other changes at the next flush (any query flushes first)
        self.session.add(row)
        return row


def event_context(event: Event) -> dict[str, Any]:
    info = event.info()
    return {"slug": info.slug, "title": info.title, "starts": info.starts.isoformat(),
            "ends": info.ends.isoformat(), "city": info.city, "venue": info.venue,
            "language": info.language}


def registration_context(reg: Registration, **extra: Any) -> dict[str, Any]:
    ctx: dict[str, Any] = {
        "name": reg.person.name, "event": event_context(reg.event), "seats": reg.seats,
        "waiting_seats": reg.waiting_seats, "position": None,
        "attendees": list(reg.attendees),
        "organization": reg.organization or reg.person.organization, "original_subject": "",
    }
    ctx.update(extra)
    return ctx


def ics_for(reg: Registration, *, cancel: bool = False) -> dict[str, Any]:
    ev = reg.event
    info = ev.info()
    location = info.venue
    if location and info.city and info.city.lower() not in location.lower():
        location = f"{location}, {info.city}"
    # an empty location lets compose say "Hannover (Ort wird noch bekannt gegeben)"
    return {"uid": reg.uid, "sequence": ev.sequence + (1 if cancel else 0),
            "method": "CANCEL" if cancel else "REQUEST", "summary": info.title,
            "starts": info.starts.isoformat(), "ends": info.ends.isoformat(),
            "location": location, "city": info.city, "description": info.title}
