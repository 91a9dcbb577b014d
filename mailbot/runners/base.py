"""What every runner shares: settings, the database, the clock and the rules (loaded once)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailbot.config import Settings
from mailbot.database import Database
from mailbot.models import Event, utcnow
from mailbot.registrations.messages import Mailer
from mailbot.types import EventInfo


@dataclass
class Runtime:
    """The bundle each step is handed; no stage-specific state lives here."""

    settings: Settings
    db: Database
    clock: Callable[[], datetime] = utcnow
    _rules: Any = None
    stats: dict[str, int] = field(default_factory=dict)

    @property
    def rules(self) -> Any:
        if self._rules is None:
            from mailbot.classify import load_rules

            assert self.settings.rules_dir is not None
            self._rules = load_rules(self.settings.rules_dir)
        return self._rules

    def mailer(self, s: Session, now: datetime | None = None) -> Mailer:
        return Mailer(s, now or self.clock(), self.settings.own_domain,
                      self.settings.reply_limit_per_day)

    def events(self, s: Session) -> list[EventInfo]:
        return [e.info() for e in s.scalars(select(Event).where(Event.purged_at.is_(None)))]

    def count(self, key: str, n: int = 1) -> None:
        self.stats[key] = self.stats.get(key, 0) + n


def domain(address: str) -> str:
    """For logs: the domain only, never the person."""
    return address.rpartition("@")[2] or "?"
