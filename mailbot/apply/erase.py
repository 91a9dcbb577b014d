"""Erasure (DSGVO Art. 17): free the seats, delete the person, keep only an anonymous fact."""

from __future__ import annotations

from sqlalchemy.orm import Session

from mailbot.apply.confirm import forget_pending, hold
from mailbot.apply.inbound import Inbound, reply
from mailbot.registrations.erasure import erase_person
from mailbot.registrations.identity import find_person
from mailbot.registrations.messages import Mailer
from mailbot.types import IntentKind, Outcome


class Erase:
    name = "erase"
    description = "delete the sender's data across all events and confirm it"

    def __call__(self, s: Session, m: Mailer, inb: Inbound) -> Outcome | None:
        if inb.intent.kind != IntentKind.ERASE:
            return None
        if (held := hold(s, m, inb, "erase")) is not None:
            return held
        # only the sender's own data: nobody erases someone else by naming their address
        person = find_person(s, inb.mail.sender_email)
        count = erase_person(s, m, person) if person is not None else 0
        forget_pending(s, inb.mail.sender_email)
        inb.record.sender = ""
        inb.record.subject = ""
        reply(m, inb, "erased", {"count": count, "name": ""})
        return Outcome.DONE
