"""Build InboundMail / Intent values and a ready database for domain tests, without parsing."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from sqlalchemy.orm import Session

from mailbot.apply.chain import apply, chain
from mailbot.apply.inbound import Inbound
from mailbot.database import Database
from mailbot.models import InboundRecord
from mailbot.registrations.event_changes import import_events
from mailbot.registrations.messages import Mailer
from mailbot.types import (
    Attendee,
    EventInfo,
    InboundMail,
    Intent,
    IntentKind,
    Outcome,
    TrustPolicy,
)

CET = timezone(timedelta(hours=1))
NOW = datetime(2027, 1, 10, 9, 0, tzinfo=UTC)
_ids = itertools.count(1)
# Our mail server's authserv-id: World trusts it, and mail() carries its aligned DKIM pass, so
# the domain tests act at once (tests/test_trust_*.py look at unverified senders).
AUTHSERV = "mx.mitgen.example"
OUR_SERVER = TrustPolicy((AUTHSERV,))


def vouched(sender: str) -> tuple[str, ...]:
    """The Authentication-Results our mail server writes for a genuine mail from `sender`."""
    return (f"{AUTHSERV}; dkim=pass header.d={sender.rpartition('@')[2]}",)


def event(slug: str = "werkstatt", capacity: int = 3, **kw: Any) -> EventInfo:
    base = EventInfo(slug=slug, title=f"Werkstattgespräch {slug}",
                     starts=datetime(2027, 2, 25, 14, 0, tzinfo=CET),
                     ends=datetime(2027, 2, 25, 17, 0, tzinfo=CET), city="Hannover", venue="",
                     capacity=capacity, aliases=("Werkstatt",), language="de",
                     coordinators=("koordination@mitgen.example",))
    return replace(base, **kw)


def mail(sender: str = "maria@verein.example", name: str = "Maria Muster", text: str = "",
         **kw: Any) -> InboundMail:
    n = next(_ids)
    base = InboundMail(message_id=f"m{n}@verein.example", sender_email=sender, sender_name=name,
                       reply_to="", to=("anmeldung@mitgen.example",), subject="Anmeldung",
                       date=NOW, in_reply_to=(), text=text or "Hiermit melde ich mich an.",
                       signature="", quoted="", full_text=text, language="de", headers={})
    got = replace(base, **kw)
    if "authentication_results" in kw:
        return got
    return replace(got, authentication_results=vouched(got.sender_email))


def intent(kind: IntentKind = IntentKind.REGISTER, event: str | None = "werkstatt",
           attendees: tuple[Attendee, ...] | None = None, party_size: int = 1,
           **kw: Any) -> Intent:
    return Intent(kind=kind, event=event, attendees=attendees or (), party_size=party_size,
                  confidence=0.95, **kw)


class World:
    """A database with events and a clock; `send()` applies one mail like intake does."""

    def __init__(self, url: str, events: list[EventInfo], now: datetime = NOW,
                 trust: TrustPolicy = OUR_SERVER) -> None:
        self.db = Database(url)
        self.now = now
        self.trust = trust
        self.office: Any = None  # apply.coordinator.Office for coordinator commands
        with self.db.session() as s:
            import_events(s, self.mailer(s), events)

    def mailer(self, s: Any) -> Mailer:
        return Mailer(s, self.now, "mitgen.example", 10)

    def send(self, m: InboundMail, i: Intent) -> Outcome:
        with self.db.session() as s:
            rec = InboundRecord(mailbox="test", uidvalidity=1, uid=m.message_id,
                                message_id=m.message_id, sender=m.sender_email,
                                event_slug=i.event,
                                outcome=Outcome.DONE, created_at=self.now)
            s.add(rec)
            s.flush()
            outcome = apply(s, self.mailer(s), Inbound(rec, m, i), chain(0.6, self.trust, self.office))
            rec.outcome = outcome
            return outcome

    def register(self, sender: str, name: str = "", seats: int = 1, slug: str = "werkstatt",
                 **kw: Any) -> Outcome:
        who = (Attendee(name or sender.split("@")[0].title(), sender),)
        return self.send(mail(sender, name), intent(event=slug, attendees=who, party_size=seats,
                                                    **kw))

    def cancel(self, sender: str, slug: str | None = "werkstatt", **kw: Any) -> Outcome:
        return self.send(mail(sender, text="Ich muss leider absagen."),
                         intent(IntentKind.CANCEL, event=slug, **kw))


def while_another_worker_holds(db: Database, change: Callable[[Session], object],
                               action: Callable[[], object]) -> object:
    """The race of two workers on PostgreSQL, with real locks: another worker's transaction
    makes `change` (written, its locks held) and commits a second after `action` started in a
    thread of this one (time for it to reach the point where the race is; what comes before,
    classify say, belongs before the call). What `action` returned, or what it raised."""
    got: list[object] = []

    def run() -> None:
        try:
            got.append(action())
        except Exception as exc:  # the test decides whether an error is the bug
            got.append(exc)

    with Session(db.engine) as other:
        change(other)
        other.flush()
        acting = threading.Thread(target=run)
        acting.start()
        acting.join(1.0)
        other.commit()
    acting.join(10)
    assert not acting.is_alive() and got, "the action did not end after the other commit"
    return got[0]
