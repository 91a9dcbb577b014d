"""Answers to a waiting-list offer ("Ja" / "Nein"), and offers that ran out."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailbot.apply.confirm import hold
from mailbot.apply.inbound import Inbound, reply
from mailbot.models import Registration, RegState
from mailbot.registrations.cancellation import cancel_registration
from mailbot.registrations.identity import find_person
from mailbot.registrations.messages import Mailer, ics_for, registration_context
from mailbot.registrations.seats import fill_free_seats, lock_registration
from mailbot.types import Outcome


class OfferAnswer:
    name = "offer-answer"
    description = "accept or decline a seat offered from the waiting list"

    def __call__(self, s: Session, m: Mailer, inb: Inbound) -> Outcome | None:
        if inb.intent.accepts_offer is None:
            return None
        person = find_person(s, inb.mail.sender_email)
        if person is None:
            return None
        reg = s.scalars(select(Registration).where(
            Registration.person_id == person.id, Registration.state == RegState.OFFERED)
            .order_by(Registration.offer_until)).first()
        if reg is None:
            return None
        if not inb.intent.accepts_offer and (held := hold(s, m, inb, "decline", reg.event)):
            return held
        event = lock_registration(s, reg)
        if reg.state != RegState.OFFERED:  # it ran out meanwhile: as if none had been found
            return None
        if inb.intent.accepts_offer:
            reg.state = RegState.REGISTERED
            reg.offer_until = None
            reply(m, inb, "confirmation", registration_context(reg), event=event,
                  ics=ics_for(reg))
        else:
            cancel_registration(s, m, reg)
            reply(m, inb, "offer_declined", registration_context(reg), event=event)
            fill_free_seats(s, m, event)
        return Outcome.DONE


