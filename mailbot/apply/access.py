"""Access by mail (DSGVO Art. 15): the sender's own stored data, as text and as JSON.

The same confirmation as an erasure guards it (apply.confirm.hold): an unverified sender is
asked at the From: address first, a verified one gets the data at once. Only the sender's own
data leave: their person row, the registrations that are theirs (not the ones they made for
someone else, and no other attendee's name), the mails from and to their address that are
kept, and requests held for them. The answer goes to the From: address, never a Reply-To.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mailbot.apply.confirm import hold
from mailbot.apply.inbound import Inbound, reply
from mailbot.models import InboundRecord, OutboxRow, PendingAction, Person, Registration
from mailbot.registrations.identity import email_key, find_person
from mailbot.registrations.messages import Mailer
from mailbot.registrations.seats import position_of
from mailbot.types import IntentKind, Outcome

JSON_NAME = "meine-daten.json"
JSON_NAME_EN = "my-data.json"


def _iso(t: datetime | None) -> str | None:
    return t.isoformat() if t is not None else None


def stored_data(s: Session, address: str, exclude_record: int | None = None) -> dict[str, Any]:
    """Everything kept about one address, as plain JSON data."""
    key = email_key(address)
    person: Person | None = find_person(s, address)
    regs: list[dict[str, Any]] = []
    if person is not None:
        for reg in s.scalars(select(Registration).where(Registration.person_id == person.id)
                             .order_by(Registration.created_at, Registration.id)):
            ev = reg.event
            regs.append({
                "event": ev.title, "event_slug": ev.slug, "starts": _iso(ev.info().starts),
                "ends": _iso(ev.info().ends), "venue": ev.venue, "city": ev.city,
                "state": reg.state.value, "seats": reg.seats, "waiting_seats": reg.waiting_seats,
                "waiting_position": position_of(s, reg) if reg.waiting_seats else None,
                "organization": reg.organization, "question": reg.question,
                "registered_by": reg.registered_by, "registered_at": _iso(reg.created_at),
                "offer_until": _iso(reg.offer_until), "moved_up_at": _iso(reg.moved_up_at),
                "cancelled_at": _iso(reg.cancelled_at),
                "reminder_sent_at": _iso(reg.reminder_sent_at),
            })
    # the mails: kept by the address they came from (or went to); compared by its key
    at_domain = "%@" + key.rpartition("@")[2]
    received = [r for r in s.scalars(select(InboundRecord).where(
        func.lower(InboundRecord.sender).like(at_domain))
        .order_by(InboundRecord.created_at, InboundRecord.id))
        if email_key(r.sender) == key and r.id != exclude_record]
    sent = [r for r in s.scalars(select(OutboxRow).where(OutboxRow.to_addr.like(at_domain))
                                 .order_by(OutboxRow.created_at, OutboxRow.id))
            if email_key(r.to_addr) == key]
    pending = s.scalars(select(PendingAction).where(PendingAction.sender == key)
                        .order_by(PendingAction.id)).all()
    return {
        "email": person.email if person else address.strip().lower(),
        "person": None if person is None else {
            "name": person.name, "email": person.email, "organization": person.organization,
            "language": person.language, "created_at": _iso(person.created_at)},
        "registrations": regs,
        "mails_received": [{
            "date": _iso(r.created_at), "subject": r.subject, "understood_as": r.intent.value,
            "event_slug": r.event_slug, "outcome": r.outcome.value, "excerpt": r.excerpt,
            "note": r.reason, "full_mail_kept": r.raw is not None} for r in received],
        "mails_sent": [{
            "date": _iso(r.created_at), "kind": r.template, "status": r.status.value,
            "sent_at": _iso(r.sent_at)} for r in sent],
        "requests_waiting_for_confirmation": [{
            "action": p.action, "state": p.state.value, "created_at": _iso(p.created_at),
            "expires_at": _iso(p.expires_at)} for p in pending],
    }


class Access:
    name = "access"
    description = "mail the sender the data stored about them (DSGVO Art. 15), text and JSON"

    def __call__(self, s: Session, m: Mailer, inb: Inbound) -> Outcome | None:
        if inb.intent.kind != IntentKind.ACCESS:
            return None
        if (held := hold(s, m, inb, "access")) is not None:
            return held
        address = inb.mail.sender_email  # only the sender's own data, whoever else is named
        data = stored_data(s, address, exclude_record=inb.record.id)
        data["generated_at"] = m.now.isoformat()
        blob = json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")
        name = JSON_NAME if inb.language == "de" else JSON_NAME_EN
        reply(m, inb, "access_data", {"data": data, "name": (data["person"] or {}).get("name", "")},
              to=address, attachments=[{"filename": name, "mime": "application/json",
                                        "b64": base64.b64encode(blob).decode("ascii")}])
        inb.record.reason = "access request answered with the sender's data"
        return Outcome.DONE
