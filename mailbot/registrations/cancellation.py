"""Giving seats back: all or some, waiting seats first; the caller fills the freed seats."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailbot.models import Person, Registration, RegState
from mailbot.registrations.messages import Mailer


def active_registrations(s: Session, person: Person) -> list[Registration]:
    return list(s.scalars(select(Registration).where(
        Registration.person_id == person.id, Registration.state != RegState.CANCELLED)))


def cancel_registration(s: Session, m: Mailer, reg: Registration, seats: int | None = None,
                        names: tuple[str, ...] = ()) -> int:
    """Give back `seats` (None = all), waiting seats first; the `names` cancelled leave the
    attendee list first. Returns how many seats were given back."""
    total = reg.seats + reg.waiting_seats
    n = total if seats is None else min(seats, total)
    from_waiting = min(n, reg.waiting_seats)
    reg.waiting_seats -= from_waiting
    reg.seats -= n - from_waiting
    if reg.seats + reg.waiting_seats == 0:
        reg.state = RegState.CANCELLED
        reg.cancelled_at = m.now
        reg.offer_until = None
    elif reg.seats == 0:
        reg.state = RegState.WAITING
    gone = {" ".join(n.casefold().split()) for n in names}
    kept = [a for a in reg.attendees if " ".join(a.casefold().split()) not in gone]
    reg.attendees = kept[: reg.seats + reg.waiting_seats]
    s.flush()
    return n
