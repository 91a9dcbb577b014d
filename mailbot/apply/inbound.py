"""The inbound mail being applied, and the helpers every action uses to look things up and answer."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailbot.models import Event, InboundRecord, OutboxRow
from mailbot.registrations.messages import Mailer, event_context
from mailbot.types import InboundMail, Intent, Outcome, Trust, TrustPolicy


@dataclass
class Inbound:
    record: InboundRecord
    mail: InboundMail
    intent: Intent
    trust: Trust = Trust.UNVERIFIED  # set by the chain's first step (apply.confirm.SenderTrust)
    policy: TrustPolicy = field(default_factory=TrustPolicy)

    @property
    def language(self) -> str:
        return self.intent.language or self.mail.language or "de"


class Action(Protocol):
    """One step of the apply chain: returns an Outcome when it handled the mail, else None."""

    name: str
    description: str

    def __call__(self, s: Session, m: Mailer, inb: Inbound) -> Outcome | None: ...


def reply(m: Mailer, inb: Inbound, template: str, context: dict[str, Any],
          event: Event | None = None, to: str | None = None,
          ics: dict[str, Any] | None = None,
          attachments: list[dict[str, str]] | None = None) -> OutboxRow | None:
    """Answer the inbound mail (threaded, in the sender's language); `attachments` as
    Mailer.queue takes them ({filename, mime, b64})."""
    mail = inb.mail
    if "@" not in (to or mail.answer_to):
        return None  # nobody to answer (a mail without a usable From)
    ctx = {"name": mail.sender_name, "original_subject": mail.subject, "seats": 0,
           "waiting_seats": 0, "position": None, "attendees": [], "organization": None}
    if event is not None:
        ctx["event"] = event_context(event)
    ctx.update(context)
    refs = tuple(dict.fromkeys([*mail.in_reply_to, mail.message_id]))
    return m.queue(template, to or mail.answer_to, ctx, language=inb.language, event=event,
                   inbound=inb.record, in_reply_to=mail.message_id, references=refs[-10:],
                   ics=ics, attachments=attachments)


def event_by_slug(s: Session, slug: str | None) -> Event | None:
    if not slug:
        return None
    return s.scalars(select(Event).where(Event.slug == slug)).first()


def open_events(s: Session, m: Mailer) -> list[Event]:
    evs = s.scalars(select(Event).where(Event.starts > m.now, Event.purged_at.is_(None))
                    .order_by(Event.starts)).all()
    return [e for e in evs if e.info().is_open_at(m.now)]


def closed_reason(event: Event, m: Mailer) -> str | None:
    """Why registration for `event` is closed now, or None when it is open."""
    if m.now >= event.ends:
        return "past"
    if m.now >= event.starts:
        return "started"
    if event.registration_deadline and m.now >= event.registration_deadline:
        return "deadline"
    return None


def ask_which_event(s: Session, m: Mailer, inb: Inbound, events: list[Event]) -> Outcome:
    """Several events fit: ask instead of guessing."""
    reply(m, inb, "which_event", {"events": [event_context(e) for e in events]})
    return Outcome.DONE
