"""Waiting-list offers that ran out: the seat goes to the next one, one unit per call."""

from __future__ import annotations

from sqlalchemy.orm import Session

from mailbot.models import Registration, RegState
from mailbot.registrations.cancellation import cancel_registration
from mailbot.registrations.messages import Mailer, registration_context
from mailbot.registrations.seats import expired_offers, fill_free_seats, lock_registration


def expire_offer(s: Session, m: Mailer, reg_id: int) -> bool:
    """An offer nobody accepted in time: the seat goes to the next one. False if already done."""
    reg = s.get(Registration, reg_id)
    if reg is None:
        return False
    event = lock_registration(s, reg)
    if reg.state != RegState.OFFERED or reg.offer_until is None or reg.offer_until > m.now:
        return False
    cancel_registration(s, m, reg)
    m.queue("offer_expired", reg.person.email, registration_context(reg), event=event,
            language=reg.person.language, auto_submitted="auto-generated")
    fill_free_seats(s, m, event)
    return True


def expire_one_offer(s: Session, m: Mailer) -> bool:
    """The unit the scheduler loops: expire the first offer that ran out; False when none."""
    return any(expire_offer(s, m, rid) for rid in expired_offers(s, m.now)[:1])
