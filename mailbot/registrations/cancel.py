"""Cancel all or some seats, hand a seat to a substitute; freed seats go to the waiting list."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailbot.models import Person, Registration, RegState
from mailbot.registrations.context import Inbound, ask_which_event, event_by_slug, reply
from mailbot.registrations.identity import email_key, find_person
from mailbot.registrations.messages import Mailer, ics_for, registration_context
from mailbot.registrations.seats import fill_free_seats, lock_event
from mailbot.types import IntentKind, Outcome


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


class Cancel:
    name = "cancel"
    description = "cancel a registration, or some of its seats"

    def __call__(self, s: Session, m: Mailer, inb: Inbound) -> Outcome | None:
        if inb.intent.kind != IntentKind.CANCEL:
            return None
        mail, intent = inb.mail, inb.intent
        targets = [a.email for a in intent.attendees if a.email] or [mail.sender_email]
        if email_key(mail.sender_email) not in {email_key(t) for t in targets}:
            targets.append(mail.sender_email)  # "I cancel for my colleague" may be ours, too
        regs = [r for t in targets if (p := find_person(s, t)) for r in active_registrations(s, p)]
        event = event_by_slug(s, intent.event)
        if event is not None:
            regs = [r for r in regs if r.event_id == event.id]
        elif len({r.event_id for r in regs}) > 1:
            return ask_which_event(s, m, inb, sorted({r.event for r in regs},
                                                     key=lambda e: e.starts))
        if not regs:
            reply(m, inb, "not_registered", {}, event=event)
            return Outcome.DONE
        # colleagues without an address ride on the sender's registration: cancel just them
        others = tuple(a.name for a in intent.attendees if not a.email and a.name
                       and " ".join(a.name.casefold().split())
                       != " ".join(mail.sender_name.casefold().split()))
        seats = intent.cancel_seats or (len(others) if others and not any(
            a.email for a in intent.attendees) else None)
        regs = regs[:1] if seats else regs
        for reg in regs:
            ev = lock_event(s, reg.event_id)
            given = cancel_registration(s, m, reg, seats, others)
            remaining = reg.seats + reg.waiting_seats
            reply(m, inb, "cancelled", registration_context(
                reg, cancelled_seats=given, remaining_seats=remaining), event=ev,
                to=reg.person.email, ics=ics_for(reg, cancel=remaining == 0) if given else None)
            fill_free_seats(s, m, ev)
        return Outcome.DONE
