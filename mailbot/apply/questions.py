"""Questions go to the event's coordinators with the asker in Reply-To; the asker is told."""

from __future__ import annotations

from sqlalchemy.orm import Session

from mailbot.apply.inbound import Inbound, event_by_slug, open_events, reply
from mailbot.models import Event
from mailbot.registrations.messages import Mailer, event_context
from mailbot.types import IntentKind, Outcome


def forward_question(s: Session, m: Mailer, inb: Inbound, event: Event | None) -> bool:
    """Forward the question to the coordinators; False when nobody could receive it."""
    events = [event] if event else [e for e in (event_by_slug(s, c) for c in
                                                inb.intent.candidate_events) if e]
    if not events:
        events = open_events(s, m)
    coordinators = list(dict.fromkeys(c.lower() for e in events for c in e.coordinators))
    if not coordinators:
        return False
    mail = inb.mail
    ctx = {"name": "", "asker_name": mail.sender_name, "asker_email": mail.answer_to,
           "question": inb.intent.question or mail.text[:1000], "text": mail.text[:4000],
           "original_subject": mail.subject, "seats": 0, "waiting_seats": 0, "position": None,
           "attendees": [], "organization": inb.intent.organization}
    if event is not None:
        ctx["event"] = event_context(event)
    for addr in coordinators:
        m.queue("question_forward", addr, ctx, language=events[0].language, event=event,
                inbound=inb.record, reply_to=mail.answer_to, auto_submitted="auto-generated")
    return True


class Question:
    name = "question"
    description = "forward a question to the coordinators and acknowledge it"

    def __call__(self, s: Session, m: Mailer, inb: Inbound) -> Outcome | None:
        if inb.intent.kind != IntentKind.QUESTION:
            return None
        event = event_by_slug(s, inb.intent.event)
        if not forward_question(s, m, inb, event):
            return Outcome.REVIEW
        reply(m, inb, "question_ack", {}, event=event)
        return Outcome.DONE
