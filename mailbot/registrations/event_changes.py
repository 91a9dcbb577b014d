"""Events: import by slug, venue and time changes (notices with a higher SEQUENCE), capacity."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailbot.errors import UserError
from mailbot.models import Event, Registration, RegState
from mailbot.registrations.messages import Mailer, ics_for, registration_context
from mailbot.registrations.seats import fill_free_seats, lock_event, position_of
from mailbot.types import EventInfo


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    notices: int = 0


def _offset_minutes(info: EventInfo) -> int:
    off = info.starts.utcoffset()
    return int(off.total_seconds() // 60) if off else 0


def import_events(s: Session, m: Mailer, infos: list[EventInfo]) -> ImportResult:
    res = ImportResult()
    for info in infos:
        ev = s.scalars(select(Event).where(Event.slug == info.slug)).first()
        if ev is None:
            ev = Event(slug=info.slug, sequence=0)
            _copy(ev, info)
            ev.venue = info.venue
            s.add(ev)
            res.created += 1
            continue
        ev = lock_event(s, ev.id)
        old_venue, old_starts, old_ends, old_capacity = ev.venue, ev.starts, ev.ends, ev.capacity
        _copy(ev, info)
        changed = []
        if info.venue != old_venue:
            changed.append("venue")
        if info.starts != old_starts or info.ends != old_ends:
            changed.append("time")
        ev.venue = info.venue
        res.updated += 1
        s.flush()
        if changed:
            res.notices += announce_change(s, m, ev, old_venue, changed)
        if ev.capacity > old_capacity:
            fill_free_seats(s, m, ev)
    s.flush()
    return res


def _copy(ev: Event, info: EventInfo) -> None:
    ev.title, ev.starts, ev.ends = info.title, info.starts, info.ends
    ev.tz_offset_minutes = _offset_minutes(info)
    ev.city, ev.capacity, ev.aliases = info.city, info.capacity, list(info.aliases)
    ev.language, ev.coordinators = info.language, list(info.coordinators)
    ev.registration_deadline, ev.reminder_days = info.registration_deadline, info.reminder_days
    ev.confirm_hours, ev.retention_days = info.confirm_hours, info.retention_days


def set_venue(s: Session, m: Mailer, slug: str, venue: str) -> int | None:
    """Set the venue; returns the number of notices queued, None when it did not change."""
    ev = s.scalars(select(Event).where(Event.slug == slug)).first()
    if ev is None:
        raise UserError(f"no event with slug {slug!r} (see `mailbot events list`)")
    ev = lock_event(s, ev.id)
    venue = " ".join(venue.split())
    if venue == ev.venue:
        return None
    old = ev.venue
    ev.venue = venue
    s.flush()
    return announce_change(s, m, ev, old, ["venue"])


def announce_change(s: Session, m: Mailer, ev: Event, old_venue: str, changed: list[str]) -> int:
    """Tell everyone registered (with an updated calendar entry) and everyone waiting."""
    if m.now >= ev.ends:
        return 0
    ev.sequence += 1
    s.flush()
    regs = s.scalars(select(Registration).where(Registration.event_id == ev.id,
                                                Registration.state != RegState.CANCELLED)
                     .order_by(Registration.id)).all()
    n = 0
    for reg in regs:
        key = f"change:{reg.id}:{ev.sequence}"
        if reg.seats:
            row = m.queue("venue_notice", reg.person.email, registration_context(
                reg, old_venue=old_venue, changed=changed), language=reg.person.language,
                event=ev, ics=ics_for(reg), auto_submitted="auto-generated", dedupe_key=key)
        else:
            row = m.queue("venue_notice_waiting", reg.person.email, registration_context(
                reg, old_venue=old_venue, changed=changed, position=position_of(s, reg)),
                language=reg.person.language, event=ev, auto_submitted="auto-generated",
                dedupe_key=key)
        n += row is not None
    return n
