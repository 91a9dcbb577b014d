"""Erasure (DSGVO Art. 17): free the seats, delete the person, keep only an anonymous fact."""

from __future__ import annotations

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from mailbot.models import Erasure, InboundRecord, OutboxRow, OutboxStatus, Person, Registration
from mailbot.registrations.cancellation import cancel_registration
from mailbot.registrations.identity import email_key
from mailbot.registrations.messages import Mailer
from mailbot.registrations.seats import fill_free_seats, lock_registration


def erase_person(s: Session, m: Mailer, person: Person) -> int:
    """Delete a person and everything that names them; returns the registrations removed."""
    regs = list(s.scalars(select(Registration).where(Registration.person_id == person.id)))
    events = []
    for reg in regs:
        events.append(lock_registration(s, reg))
        cancel_registration(s, m, reg)
        s.delete(reg)
    # what was still to go to them (a confirmation, a reminder: their name, their event) goes
    # with their data; the notice of the erasure is queued after this
    scrub_address(s, person.email, unsent_too=True)
    s.delete(person)
    s.flush()
    for ev in events:
        fill_free_seats(s, m, ev)
    s.add(Erasure(at=m.now, registrations_removed=len(regs), kind="request"))
    return len(regs)


def scrub_address(s: Session, address: str, *, unsent_too: bool = False) -> None:
    """Forget mails from and to an address (records stay, anonymous, so nothing runs twice);
    mail still queued to it is kept, unless `unsent_too`."""
    key = email_key(address)
    domain = key.rpartition("@")[2]
    for rec in s.scalars(select(InboundRecord).where(InboundRecord.sender.like(f"%@{domain}"))):
        if email_key(rec.sender) == key:
            rec.sender, rec.subject, rec.excerpt, rec.raw, rec.bounced = "", "", "", None, []
    s.execute(delete(OutboxRow).where(
        OutboxRow.to_addr == address.lower(),
        *(() if unsent_too else (OutboxRow.status != OutboxStatus.QUEUED,))))
    s.execute(update(OutboxRow).where(OutboxRow.reply_to == address.lower())
              .values(reply_to=None, context={}))
