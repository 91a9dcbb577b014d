"""Scheduled jobs: waiting-list offers, reminders, retention and the coordinators' digest.

A unit handles one item in its own transaction and says whether it found one; `drain` runs
a unit until it finds no more work. The scheduler only calls these in loops.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from mailbot.registrations.lifecycle import forget_old_mails, purge_one_event, send_one_reminder
from mailbot.registrations.messages import Mailer
from mailbot.registrations.offers import expire_one_offer
from mailbot.runners.base import Runtime

Unit = Callable[[Session, Mailer], bool]


def handle_one(rt: Runtime, unit: Unit) -> bool:
    """One unit in one transaction, with a mailer for whatever it has to tell people."""
    with rt.db.session() as s:
        return unit(s, rt.mailer(s))


def drain(unit: Callable[[], bool], limit: int = 10_000) -> int:
    """Run a handle_one_… job until it finds no more work."""
    n = 0
    while n < limit and unit():
        n += 1
    return n


def _drain_unit(rt: Runtime, unit: Unit) -> int:
    return drain(lambda: handle_one(rt, unit))


def offers(rt: Runtime) -> int:
    """Waiting-list offers that ran out: expire them and offer the seat to the next one."""
    return _drain_unit(rt, expire_one_offer)


def reminders(rt: Runtime) -> int:
    return _drain_unit(rt, send_one_reminder)


def purge(rt: Runtime) -> int:
    """Events past their retention time lose their registrations."""
    return _drain_unit(rt, purge_one_event)


def retention(rt: Runtime) -> int:
    """Purge events past their retention time, then let old handled mails forget senders."""
    return purge(rt) + _drain_unit(rt, forget_old_mails)


def housekeeping(rt: Runtime) -> dict[str, int]:
    return {"offers expired": offers(rt),
            "reminders": reminders(rt),
            "events purged and mails forgotten": retention(rt)}


def digest(rt: Runtime) -> bool:
    """From the configured local time on, each coordinator's digest once a day."""
    from mailbot.reports.digest import digest_job

    return digest_job(rt)
