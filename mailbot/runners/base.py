"""What every runner shares: settings, the database, the clock and the rules (loaded once)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mailbot.config import Settings
from mailbot.database import Database
from mailbot.models import Event, OutboxRow, utcnow
from mailbot.registrations.messages import Mailer, replies_of_the_day
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
        return CountingMailer(s, now or self.clock(), self.settings.own_domain,
                              self.settings.reply_limit_per_day)

    def events(self, s: Session) -> list[EventInfo]:
        return [e.info() for e in s.scalars(select(Event).where(Event.purged_at.is_(None)))]

    def count(self, key: str, n: int = 1) -> None:
        self.stats[key] = self.stats.get(key, 0) + n


REPLIES_TODAY = "mailbot.replies_today"  # Session.info: replies per address in the last day


def prime_reply_counts(s: Session, now: datetime, addresses: list[str]) -> None:
    """The replies each of `addresses` got in the last day, in one query for a whole batch;
    `CountingMailer` then counts on from there for this transaction (an address counted
    before in it is not asked again)."""
    counts: dict[str, int] = s.info.setdefault(REPLIES_TODAY, {})
    keys = sorted({a.strip().lower() for a in addresses} - counts.keys())
    counts.update(dict.fromkeys(keys, 0))
    for start in range(0, len(keys), 500):
        for to, n in s.execute(select(OutboxRow.to_addr, func.count()).where(
                OutboxRow.to_addr.in_(keys[start:start + 500]), *replies_of_the_day(now))
                .group_by(OutboxRow.to_addr)):
            counts[to] = int(n)


class CountingMailer(Mailer):
    """A Mailer that, in a transaction primed by `prime_reply_counts`, asks the database for
    an address's replies of the day at most once and counts the ones it queues itself."""

    def replies_today(self, to: str) -> int:
        counts: dict[str, int] | None = self.session.info.get(REPLIES_TODAY)
        if counts is None:
            return super().replies_today(to)
        key = to.strip().lower()
        if key not in counts:
            counts[key] = super().replies_today(key)
        return counts[key]

    def queue(self, template: str, to: str, context: dict[str, Any], **kw: Any
              ) -> OutboxRow | None:
        row = super().queue(template, to, context, **kw)
        counts: dict[str, int] | None = self.session.info.get(REPLIES_TODAY)
        if row is not None and counts is not None and row.auto_submitted == "auto-replied":
            counts[row.to_addr] = counts.get(row.to_addr, 0) + 1
        return row


def domain(address: str) -> str:
    """For logs: the domain only, never the person."""
    return address.rpartition("@")[2] or "?"
