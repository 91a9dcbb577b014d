"""Destructive requests from unverified senders wait for a "Ja" from the address itself.

Anyone can forge a From: header, so a cancellation, erasure, substitution or declined offer
from a sender our mail server does not vouch for (parse.authentication) is held: the request is
stored as a PendingAction and the address gets a confirmation request. Its Message-ID is the
token; only the owner of the address received it, so a "Ja" whose In-Reply-To/References carry
it comes from the owner. The "Ja" replays the stored request through the same apply chain with
the trust granted: one code path carries out the action, whoever asked (GNU Mailman does the
same for `leave`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, replace
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from mailbot.apply.inbound import Inbound, event_by_slug, reply
from mailbot.models import Event, PendingAction, PendingState
from mailbot.parse.authentication import mail_trust
from mailbot.registrations.identity import email_key
from mailbot.registrations.messages import Mailer
from mailbot.types import (
    Attendee,
    Command,
    InboundMail,
    Intent,
    IntentKind,
    Outcome,
    Trust,
    TrustPolicy,
)

# Answered or expired requests are kept this long (the late "Ja" gets a polite answer), then go.
KEEP_ANSWERED = timedelta(days=14)


class SenderTrust:
    name = "sender-trust"
    description = "decide once whether the From: address is vouched for by our mail server"

    def __init__(self, policy: TrustPolicy) -> None:
        self.policy = policy

    def __call__(self, s: Session, m: Mailer, inb: Inbound) -> Outcome | None:
        inb.policy = self.policy
        if inb.trust is Trust.UNVERIFIED:
            inb.trust = mail_trust(inb.mail, self.policy.authserv_ids)
        return None


def hold(s: Session, m: Mailer, inb: Inbound, action: str, event: Event | None = None
         ) -> Outcome | None:
    """None when the sender may act at once; else store the request, ask the address itself
    to confirm it, and return the outcome of this mail."""
    if inb.trust is not Trust.UNVERIFIED:
        return None
    mail, intent = inb.mail, inb.intent
    _prune(s, m)
    expires = m.now + timedelta(hours=inb.policy.confirm_hours)
    event = event or event_by_slug(s, intent.event)
    ctx: dict[str, Any] = {
        "action": action, "expires": expires.isoformat(),
        "substitute_name": intent.substitute.name if intent.substitute else "",
        "cancelled_seats": intent.cancel_seats or 0,
    }
    # to the From: address, never to a Reply-To: the forger may have set that one
    row = reply(m, inb, "confirm_request", ctx, event=event, to=mail.sender_email)
    if row is None:
        inb.record.reason = inb.record.reason or "unverified sender; confirmation request held back"
        return Outcome.DONE
    s.add(PendingAction(token=row.message_id, action=action, sender=email_key(mail.sender_email),
                        payload=_facts(mail, intent), inbound_id=inb.record.id,
                        state=PendingState.PENDING, created_at=m.now, expires_at=expires))
    inb.record.reason = f"unverified sender: {action} waits for confirmation"
    return Outcome.DONE


class ConfirmAnswer:
    name = "confirm-answer"
    description = "a 'Ja'/'Nein' to our confirmation request carries out or drops the request"

    def __init__(self, replay: Callable[[Session, Mailer, Inbound], Outcome]) -> None:
        self.replay = replay

    def __call__(self, s: Session, m: Mailer, inb: Inbound) -> Outcome | None:
        mail, yes = inb.mail, inb.intent.accepts_offer
        if inb.trust is Trust.CONFIRMED or yes is None or not mail.in_reply_to:
            return None
        # locked (PostgreSQL): of two workers taking a "Ja" to one request (two mails, or
        # one delivered twice) the second waits, then reads it answered: nothing twice
        row = s.scalars(select(PendingAction).where(
            PendingAction.token.in_(list(mail.in_reply_to))).order_by(PendingAction.id)
            .with_for_update().execution_options(populate_existing=True)).first()
        if row is None:
            return None
        if row.sender != email_key(mail.sender_email):
            # the token reached someone else (a forward?): nothing destructive, a human looks
            inb.record.reason = "answer to a confirmation request from another address"
            return Outcome.REVIEW
        if row.state is not PendingState.PENDING:
            if row.state is PendingState.EXPIRED and yes:
                reply(m, inb, "confirm_expired", {"action": row.action})
            return Outcome.DONE  # answered before: nothing twice
        row.answered_at = m.now
        if not yes:
            row.state, row.payload = PendingState.REFUSED, {}
            reply(m, inb, "confirm_refused", {"action": row.action})
            return Outcome.DONE
        if m.now >= row.expires_at:
            row.state, row.payload = PendingState.EXPIRED, {}
            reply(m, inb, "confirm_expired", {"action": row.action})
            return Outcome.DONE
        row.state = PendingState.DONE
        facts, row.payload = row.payload, {}
        s.flush()
        again = Inbound(inb.record, _mail(facts, mail), _intent(facts), trust=Trust.CONFIRMED,
                        policy=inb.policy)
        return self.replay(s, m, again)


def forget_pending(s: Session, address: str) -> None:
    """Erasure: requests held for an address go with it."""
    s.execute(delete(PendingAction).where(PendingAction.sender == email_key(address)))


def _prune(s: Session, m: Mailer) -> None:
    """Requests expired or answered long ago: nobody needs their facts any more."""
    s.execute(delete(PendingAction).where(PendingAction.expires_at < m.now - KEEP_ANSWERED))


# -- what is stored to replay a request: the mail facts the actions read, and the Intent -----
def _facts(mail: InboundMail, intent: Intent) -> dict[str, Any]:
    facts = asdict(intent)
    facts["kind"] = intent.kind.value
    return {"mail": {"sender_email": mail.sender_email, "sender_name": mail.sender_name,
                     "subject": mail.subject, "language": mail.language,
                     "message_id": mail.message_id},
            "intent": facts}


def _attendee(d: dict[str, Any] | None) -> Attendee | None:
    return Attendee(d["name"], d.get("email")) if d else None


def _intent(facts: dict[str, Any]) -> Intent:
    d = dict(facts["intent"])
    return Intent(**{
        **d, "kind": IntentKind(d["kind"]),
        "attendees": tuple(a for a in map(_attendee, d.get("attendees") or ()) if a),
        "substitute": _attendee(d.get("substitute")),
        "commands": tuple(Command(**c) for c in d.get("commands") or ()),
        "candidate_events": tuple(d.get("candidate_events") or ()),
        "reasons": tuple(d.get("reasons") or ()),
    })


def _mail(facts: dict[str, Any], answer: InboundMail) -> InboundMail:
    """The held mail again, threaded under the "Ja" and answered at the From: address only."""
    f = facts["mail"]
    return replace(answer, sender_email=f["sender_email"], sender_name=f["sender_name"],
                   subject=f["subject"], language=f["language"], reply_to="",
                   auto_markers=(), bounced_recipients=(), ours=False)

