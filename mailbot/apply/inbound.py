"""The inbound mail being applied, and the helpers every action uses to look things up and answer."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from mailbot.models import Event, InboundRecord, OutboxRow
from mailbot.registrations.messages import Mailer, event_context
from mailbot.registrations.seats import lock_event
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


_BY_SLUG = "mailbot.events_by_slug"  # Session.info: events looked up in this transaction
LOCKED_EVENTS = "mailbot.locked_events"  # Session.info: events locked in this transaction


def event_by_slug(s: Session, slug: str | None) -> Event | None:
    """The event with this slug; asked once per transaction (a batch of mails asks often)."""
    if not slug:
        return None
    known: dict[str, Event] = s.info.setdefault(_BY_SLUG, {})
    event = known.get(slug)
    if event is not None and event in s and not inspect(event).deleted \
            and event.slug == slug:
        return event
    event = s.scalars(select(Event).where(Event.slug == slug)).first()
    if event is not None:
        known[slug] = event
    return event


def prime_events(s: Session, slugs: list[str]) -> None:
    """The events these slugs name, read and locked (`lock_event`) in one query, for
    `event_by_slug` and `locked_event` to find in this transaction. Called at the start of
    a batch, while none of its rows waits to be written: each of those lookups, made later
    with a mail's rows unwritten, first writes them (autoflush), and a flush costs about as
    much for 2 rows as for 50 (an LMTP batch of a few mails paid one flush per event)."""
    known: dict[str, Event] = s.info.setdefault(_BY_SLUG, {})
    todo = sorted({slug for slug in slugs if slug and slug not in known})
    if not todo:
        return
    locked: dict[int, Event] = s.info.setdefault(LOCKED_EVENTS, {})
    for event in s.scalars(select(Event).where(Event.slug.in_(todo)).order_by(Event.id)
                           .with_for_update().execution_options(populate_existing=True)):
        known[event.slug] = locked[event.id] = event


def locked_event(s: Session, event_id: int) -> Event:
    """`lock_event` once per transaction: a row lock (PostgreSQL) holds until the commit, and
    SQLite holds the write lock from BEGIN on. A mail whose savepoint is rolled back loses the
    locks taken in it: the intake then forgets them (LOCKED_EVENTS) and they are taken again."""
    locked: dict[int, Event] = s.info.setdefault(LOCKED_EVENTS, {})
    event = locked.get(event_id)
    if event is not None and event in s:
        return event
    event = locked[event_id] = lock_event(s, event_id)
    return event


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
