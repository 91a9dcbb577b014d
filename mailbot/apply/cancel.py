"""Cancel all or some seats, hand a seat to a substitute; freed seats go to the waiting list."""

from __future__ import annotations

from sqlalchemy.orm import Session

from mailbot.apply.confirm import hold
from mailbot.apply.inbound import Inbound, ask_which_event, event_by_slug, reply
from mailbot.models import RegState
from mailbot.registrations.cancellation import active_registrations, cancel_registration
from mailbot.registrations.identity import email_key, find_person
from mailbot.registrations.messages import Mailer, ics_for, registration_context
from mailbot.registrations.seats import fill_free_seats, lock_registration
from mailbot.types import IntentKind, Outcome


class Cancel:
    name = "cancel"
    description = "cancel a registration, or some of its seats"

    def __call__(self, s: Session, m: Mailer, inb: Inbound) -> Outcome | None:
        if inb.intent.kind != IntentKind.CANCEL:
            return None
        if (held := hold(s, m, inb, "cancel")) is not None:
            return held  # not even "not registered" goes out before the address confirms
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
        # colleagues without an address ride on the sender's registration: cancel just them
        others = tuple(a.name for a in intent.attendees if not a.email and a.name
                       and " ".join(a.name.casefold().split())
                       != " ".join(mail.sender_name.casefold().split()))
        seats = intent.cancel_seats or (len(others) if others and not any(
            a.email for a in intent.attendees) else None)
        regs = regs[:1] if seats else regs
        cancelled = 0
        for reg in regs:
            ev = lock_registration(s, reg)
            if reg.state == RegState.CANCELLED:
                continue
            cancelled += 1
            given = cancel_registration(s, m, reg, seats, others)
            remaining = reg.seats + reg.waiting_seats
            reply(m, inb, "cancelled", registration_context(
                reg, cancelled_seats=given, remaining_seats=remaining), event=ev,
                to=reg.person.email, ics=ics_for(reg, cancel=remaining == 0) if given else None)
            fill_free_seats(s, m, ev)
        if not cancelled:  # none, or none left once we had the lock
            reply(m, inb, "not_registered", {}, event=event)
        return Outcome.DONE
