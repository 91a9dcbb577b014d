"""Test data for the coordinator tests: an event with registrations, a waiting list and trouble."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy.orm import Session

from mailbot.apply.inbound import Inbound
from mailbot.apply.register import register_person
from mailbot.config import Settings
from mailbot.database import Database
from mailbot.models import Event, InboundRecord, OutboxRow, OutboxStatus, Registration
from mailbot.registrations.cancellation import cancel_registration
from mailbot.registrations.identity import get_or_create_person
from mailbot.registrations.messages import Mailer
from mailbot.registrations.seats import fill_free_seats, lock_event
from mailbot.runners.worker import Worker
from mailbot.types import InboundMail, Intent, IntentKind, Outcome

_uids = itertools.count(1)


def settings(db_url: str, **kw: object) -> Settings:
    return Settings(database_url=db_url, from_addr="MitGeN Anmeldung <anmeldung@mitgen.example>",
                    rules_dir=Path("rules"), **kw)  # type: ignore[arg-type]


class Clock:
    """A settable clock for Worker.clock."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def make_worker(db_url: str, clock: Callable[[], datetime], **kw: object) -> Worker:
    return Worker(settings=settings(db_url, **kw), db=Database(db_url), clock=clock)


def make_event(s: Session, slug: str = "werkstatt-2027", *, capacity: int = 3,
               language: str = "de", coordinators: tuple[str, ...] = ("koordination@mitgen.example",),
               title: str = "Werkstattgespräch „Vernetzt in Niedersachsen 2027“",
               starts: datetime = datetime(2027, 2, 25, 13, 0, tzinfo=UTC)) -> Event:
    ev = Event(slug=slug, title=title, starts=starts, ends=starts + timedelta(hours=3),
               tz_offset_minutes=60, city="Hannover", venue="", capacity=capacity,
               aliases=[], language=language, coordinators=list(coordinators))
    s.add(ev)
    s.flush()
    return ev


def mail(sender: str, name: str, subject: str = "Anmeldung", text: str = "Ich melde mich an.",
         ) -> InboundMail:
    n = next(_uids)
    return InboundMail(
        message_id=f"m{n}@test.example", sender_email=sender, sender_name=name, reply_to="",
        to=("anmeldung@mitgen.example",), subject=subject, date=None, in_reply_to=(), text=text,
        signature="", quoted="", full_text=text, language="de", headers={})


def record(s: Session, m: InboundMail, now: datetime, *, intent: str = "register",
           outcome: Outcome = Outcome.DONE, slug: str | None = None, reason: str = "",
           raw: bytes | None = None, bounced: list[str] | None = None) -> InboundRecord:
    rec = InboundRecord(mailbox="test", uidvalidity=1, uid=str(next(_uids)),
                        message_id=m.message_id, sender=m.sender_email, subject=m.subject,
                        intent=intent, event_slug=slug, confidence=0.9, outcome=outcome,
                        reason=reason, excerpt=m.text[:500], raw=raw, bounced=bounced or [],
                        created_at=now)
    s.add(rec)
    s.flush()
    return rec


def register(s: Session, now: datetime, ev: Event, email: str, name: str, *, seats: int = 1,
             organization: str | None = None, names: list[str] | None = None,
             question: str = "") -> Registration:
    """Register like the apply chain does: record, person, register_person (queues the answer)."""
    m = mail(email, name)
    rec = record(s, m, now, slug=ev.slug)
    intent = Intent(IntentKind.REGISTER, event=ev.slug, organization=organization,
                    party_size=seats, has_question=bool(question), question=question,
                    confidence=0.95)
    mailer = Mailer(s, now, "mitgen.example")
    person = get_or_create_person(s, email, name, organization)
    return register_person(s, mailer, Inbound(rec, m, intent), lock_event(s, ev.id), person,
                           seats, names if names is not None else [name])


def cancel(s: Session, now: datetime, reg: Registration) -> None:
    mailer = Mailer(s, now, "mitgen.example")
    cancel_registration(s, mailer, reg)
    fill_free_seats(s, mailer, lock_event(s, reg.event_id))


@dataclass
class Scenario:
    event_id: int
    quarantine_id: int
    review_id: int


T0 = datetime(2027, 1, 10, 9, 0, tzinfo=UTC)


def busy_event(s: Session, now: datetime = T0, *, language: str = "de") -> Scenario:
    """Three seats; Maria (2 seats, a question), Jörg, Ayşe waiting, then Jörg cancels so Ayşe
    moves up; a quarantined and a review mail; a bounce for Maria and a reply-limit sender."""
    ev = make_event(s, language=language)
    register(s, now, ev, "maria@verein.example", "Maria Muster", seats=2,
             organization="Frauenberatung Celle e.V.", names=["Maria Muster", "Schmidt, Anna"],
             question="Gibt es vegetarisches Essen?")
    joerg = register(s, now + timedelta(minutes=5), ev, "joerg@stadt.example", "Jörg Bäcker",
                     organization="Stadt Hannover")
    register(s, now + timedelta(minutes=10), ev, "ayse@migration.example", "Ayşe Yılmaz",
             organization="Migrationsberatung")
    cancel(s, now + timedelta(hours=1), joerg)
    q = record(s, mail("", "", "Anmeldung ???", ""), now + timedelta(hours=2),
               outcome=Outcome.QUARANTINE, reason="ValueError: broken MIME at parse.py:12",
               raw=b"From: Kaputt <kaputt@example.org>\r\nSubject: Anmeldung ???\r\n"
                   b"Message-ID: <broken@example.org>\r\n\r\n\xff\xfe")
    r = record(s, mail("unsure@example.org", "Uli Unsicher", "Frage zum Werkstattgespraech",
                       "Kann meine Kollegin vielleicht auch kommen?"),
               now + timedelta(hours=3), intent="other", outcome=Outcome.REVIEW,
               reason="unsure (other, confidence 0.30)", raw=b"x")
    record(s, mail("mailer-daemon@verein.example", "", "Undelivered Mail Returned to Sender", ""),
           now + timedelta(hours=4), intent="bounce", bounced=["maria@verein.example"])
    record(s, mail("robot@auto.example", "", "Re: Re: Re: Ihre Anmeldung", "blah"),
           now + timedelta(hours=5), intent="other",
           reason="reply limit reached for 1 address(es)")
    s.add(OutboxRow(template="confirmation", to_addr="nobody@nowhere.example", context={},
                    message_id=f"failed{next(_uids)}@mitgen.example", event_id=ev.id,
                    status=OutboxStatus.FAILED, last_error="550 5.1.1 Mailbox unavailable",
                    created_at=now, next_attempt_at=now))
    s.flush()
    return Scenario(ev.id, q.id, r.id)
