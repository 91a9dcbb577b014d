"""Helpers for the classify() tests: rules, two event lists, and mails from fixtures or text."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from mailbot.classify import classify, load_default_rules
from mailbot.parse import parse
from mailbot.parse.machine import text_markers
from mailbot.rulebook import Rules
from mailbot.types import EventInfo, Intent

FIXTURES = Path(__file__).parent / "fixtures" / "mail"
RULES = load_default_rules()
TZ = ZoneInfo("Europe/Berlin")

# Three events in three cities, for the first hand-written fixtures (city_intent).
CITY_EVENTS = (
    EventInfo(slug="vernetzungstag-2028", title="Vernetzungstag „Gemeinsam stark in Bremen“",
              starts=datetime(2028, 3, 9, 10, tzinfo=TZ), ends=datetime(2028, 3, 9, 16, tzinfo=TZ),
              city="Bremen", aliases=("Vernetzungstag", "Gemeinsam stark")),
    EventInfo(slug="fachforum-2028", title="Fachforum Gewaltschutz",
              starts=datetime(2028, 6, 15, 10, tzinfo=TZ),
              ends=datetime(2028, 6, 15, 16, tzinfo=TZ), city="Oldenburg",
              venue="Kulturetage, Bahnhofstraße 11, 26122 Oldenburg",
              aliases=("Fachforum", "Gewaltschutz")),
    EventInfo(slug="sommerakademie-2028", title="Sommerakademie Teilhabe",
              starts=datetime(2028, 8, 24, 10, tzinfo=TZ),
              ends=datetime(2028, 8, 25, 15, tzinfo=TZ), city="Hannover",
              aliases=("Sommerakademie",)),
)
JANUARY = datetime(2028, 1, 10, 9, tzinfo=TZ)


def _event(slug: str, title: str, day: datetime, city: str, *aliases: str) -> EventInfo:
    return EventInfo(slug=slug, title=title, starts=day, ends=day.replace(hour=16), city=city,
                     aliases=aliases)


# Four events, two of them in Hannover, so only a month or season can tell those apart (intent).
EVENTS = (
    _event("werkraum-2028", "Werkraum Vielfalt", datetime(2028, 3, 2, 10, tzinfo=TZ),
           "Hannover", "Werkraum"),
    _event("fachtag-2028", "Fachtag Teilhabe", datetime(2028, 10, 12, 10, tzinfo=TZ),
           "Hannover", "Fachtag"),
    _event("treffen-2028", "Netzwerktreffen Nord", datetime(2028, 5, 4, 10, tzinfo=TZ),
           "Lüneburg", "Netzwerktreffen"),
    _event("forum-2028", "Forum Arbeit", datetime(2028, 7, 6, 10, tzinfo=TZ),
           "Göttingen", "Forum Arbeit"),
)
NOW = datetime(2028, 1, 10, 9, tzinfo=TZ)


def intent(name: str) -> Intent:
    """The intent of fixture mail `name` among the four EVENTS, in January 2028."""
    return classify(parse((FIXTURES / name).read_bytes(), RULES), EVENTS, RULES, NOW)


def city_intent(name: str, now: datetime | None = JANUARY,
                events: tuple[EventInfo, ...] = CITY_EVENTS) -> Intent:
    """The intent of fixture mail `name` among the three CITY_EVENTS (at `now`)."""
    return classify(parse((FIXTURES / name).read_bytes(), RULES), events, RULES, now)


def from_text(body: str, subject: str = "Forum") -> Intent:
    """The intent of a plain-text mail from Ada Lim with this body, among the four EVENTS."""
    raw = ("From: Ada Lim <ada.lim@verein.example>\nTo: anmeldung@netzwerk-nord.example\n"
           f"Subject: {subject}\nMessage-ID: <x@verein.example>\nMIME-Version: 1.0\n"
           "Content-Type: text/plain; charset=utf-8\n\n" + body)
    return classify(parse(raw.encode("utf-8"), RULES), EVENTS, RULES, NOW)


def auto(text: str, rules: Rules = RULES) -> bool:
    """Whether this text alone marks a mail as automatic."""
    return bool(text_markers("", text, rules, False))


def names(i: Intent) -> list[str]:
    return [a.name for a in i.attendees]


def emails(i: Intent) -> list[str | None]:
    return [a.email for a in i.attendees]
