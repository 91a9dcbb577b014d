"""Build InboundMail / Intent values and a ready database for domain tests, without parsing."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from mailbot.apply.chain import apply, chain
from mailbot.apply.inbound import Inbound
from mailbot.database import Database
from mailbot.models import InboundRecord
from mailbot.registrations.event_changes import import_events
from mailbot.registrations.messages import Mailer
from mailbot.types import Attendee, EventInfo, InboundMail, Intent, IntentKind, Outcome

CET = timezone(timedelta(hours=1))
NOW = datetime(2027, 1, 10, 9, 0, tzinfo=UTC)
_ids = itertools.count(1)


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
    return replace(base, **kw)


def intent(kind: IntentKind = IntentKind.REGISTER, event: str | None = "werkstatt",
           attendees: tuple[Attendee, ...] | None = None, party_size: int = 1,
           **kw: Any) -> Intent:
    return Intent(kind=kind, event=event, attendees=attendees or (), party_size=party_size,
                  confidence=0.95, **kw)


class World:
    """A database with events and a clock; `send()` applies one mail like intake does."""

    def __init__(self, url: str, events: list[EventInfo], now: datetime = NOW) -> None:
        self.db = Database(url)
        self.now = now
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
            outcome = apply(s, self.mailer(s), Inbound(rec, m, i), chain(0.6))
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
