""""Statt mir kommt …": the seat stays, the person on it changes."""

from __future__ import annotations

from sqlalchemy.orm import Session

from mailbot.apply.confirm import hold
from mailbot.apply.inbound import Inbound, event_by_slug, reply
from mailbot.models import Event, Registration, RegState
from mailbot.registrations.cancellation import active_registrations
from mailbot.registrations.identity import find_person, get_or_create_person
from mailbot.registrations.messages import Mailer, ics_for, registration_context
from mailbot.registrations.seats import lock_registration
from mailbot.types import Outcome


class Substitute:
    name = "substitute"
    description = "hand the sender's registration to the substitute they name"

    def __call__(self, s: Session, m: Mailer, inb: Inbound) -> Outcome | None:
        sub = inb.intent.substitute
        if sub is None:
            return None
        person = find_person(s, inb.mail.sender_email)
        regs = active_registrations(s, person) if person else []
        event = event_by_slug(s, inb.intent.event)
        if event is not None:
            regs = [r for r in regs if r.event_id == event.id]
        if len(regs) != 1:
            return None  # nothing (or no single thing) to hand over: treat it as a registration
        reg = regs[0]
        if (held := hold(s, m, inb, "substitute", reg.event)) is not None:
            return held
        ev = lock_registration(s, reg)
        if reg.state == RegState.CANCELLED:  # cancelled meanwhile: as if none had been found
            return None
        if sub.email and find_person(s, sub.email) is None:
            _hand_over(s, m, inb, ev, reg, sub.name, sub.email)
        else:
            reg.attendees = [sub.name if n == reg.person.name else n for n in reg.attendees] or [
                sub.name]
        reply(m, inb, "substituted", registration_context(reg, substitute_name=sub.name),
              event=ev)
        return Outcome.DONE


def _hand_over(s: Session, m: Mailer, inb: Inbound, ev: Event, reg: Registration, name: str,
               email: str) -> None:
    old_name = reg.person.name
    person = get_or_create_person(s, email, name, reg.organization, reg.person.language)
    s.flush()  # the new person's id
    reg.person_id = person.id
    reg.registered_by = inb.mail.sender_email
    reg.attendees = [name if n == old_name else n for n in reg.attendees] or [name]
    s.flush()
    s.refresh(reg)
    reply(m, inb, "confirmation", registration_context(reg), event=ev, to=email,
          ics=ics_for(reg))
