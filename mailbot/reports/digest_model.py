"""What a digest holds: the changes per event and the items that need a human."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any


@dataclass
class Change:
    """A registration that was made, cancelled or moved up since the last digest."""

    name: str
    email: str
    organization: str
    seats: int
    waiting: bool
    cancelled: bool
    at: str  # ISO 8601


@dataclass
class Item:
    """Something a coordinator has to look at; `id` is the mail for `mailbot review`."""

    kind: str  # question | review | quarantine | bounce | reply_limit
    who: str
    name: str = ""
    subject: str = ""
    text: str = ""
    reason: str = ""
    mailto: str = ""
    event: str = ""  # event title, "" when the mail named none
    at: str = ""
    id: int | None = None


@dataclass
class EventSummary:
    slug: str
    title: str
    starts: str
    ends: str
    city: str
    venue: str
    capacity: int
    taken: int
    free: int
    waiting_seats: int
    waiting_people: int
    taken_pct: int
    bar: str
    new: list[Change] = field(default_factory=list)
    cancelled: list[Change] = field(default_factory=list)
    moved_up: list[Change] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.new or self.cancelled or self.moved_up)


@dataclass
class Digest:
    coordinator: str
    day: str  # local date, YYYY-MM-DD
    language: str
    since: datetime | None  # the previous digest; None: everything so far
    events: list[EventSummary]
    needs_you: list[Item]

    @property
    def is_empty(self) -> bool:
        """Nothing changed and nothing waits for a human: no mail unless digest_when_empty."""
        return not self.needs_you and not any(e.changed for e in self.events)

    def of_kind(self, *kinds: str) -> list[Item]:
        return [i for i in self.needs_you if i.kind in kinds]

    def context(self) -> dict[str, Any]:
        """The template context: JSON only, since it is stored with the outbox row."""
        return {
            "name": "", "coordinator": self.coordinator, "day": self.day,
            "since": self.since.isoformat() if self.since else "",
            "events": [{**asdict(e), "changed": e.changed} for e in self.events],
            "questions": [asdict(i) for i in self.of_kind("question")],
            "review": [asdict(i) for i in self.of_kind("review", "quarantine")],
            "bounces": [asdict(i) for i in self.of_kind("bounce")],
            "reply_limit": [asdict(i) for i in self.of_kind("reply_limit")],
            "new_count": sum(len(e.new) for e in self.events),
            "cancelled_count": sum(len(e.cancelled) for e in self.events),
            "moved_count": sum(len(e.moved_up) for e in self.events),
            "needs_count": len(self.needs_you),
            "empty": self.is_empty,
        }
