"""The ordered classification chain (one list, one place) and classify() that runs it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from mailbot.classify import (
    access,
    clause_rule,
    commands,
    enrich,
    intents,
    learned_rule,
    machines,
    offers_unsolicited,
)
from mailbot.classify.reading import Context, Flow, Rule
from mailbot.rulebook import Rules
from mailbot.types import EventInfo, InboundMail, Intent, IntentKind

# Machines first (they stop the chain), then what the person wants (first match decides),
# then the details of a human mail. Order is policy: edit it here and nowhere else.
CHAIN: list[Rule] = [
    machines.OwnLoop(),
    machines.Bounce(),
    machines.AutoReply(),
    machines.ListMail(),
    intents.OfferAnswerRule(),
    intents.Phishing(),
    offers_unsolicited.UnsolicitedOffer(),
    intents.EraseRule(),
    access.AccessRule(),
    intents.SubstituteRule(),
    intents.CancelRule(),
    intents.Invitation(),
    intents.RegisterRule(),
    intents.QuestionRule(),
    intents.ForwardedRegistration(),
    intents.SubjectOnly(),
    clause_rule.ClauseIntent(),
    learned_rule.LearnedIntent(),
    intents.Fallback(),
    enrich.EventRule(),
    enrich.PeopleRule(),
    enrich.SeatsRule(),
    enrich.QuestionFlag(),
    commands.CommandLines(),
    enrich.Confidence(),
]


def classify(mail: InboundMail, events: Sequence[EventInfo], rules: Rules,
             now: datetime | None = None) -> Intent:
    """What the mail wants; pure. `now` (default: the mail's date, else the current time)
    decides which events are still open."""
    when = now or mail.date or datetime.now(UTC)
    ctx = Context(mail=mail, events=tuple(events), rules=rules, now=when)
    for rule in CHAIN:
        if rule.apply(ctx) is Flow.STOP:
            break
    return Intent(
        kind=ctx.kind or IntentKind.OTHER, event=ctx.event, attendees=ctx.attendees,
        organization=ctx.organization, party_size=ctx.party_size,
        has_question=ctx.has_question, question=ctx.question, confidence=ctx.confidence,
        candidate_events=ctx.candidates, cancel_seats=ctx.cancel_seats,
        substitute=ctx.substitute, accepts_offer=ctx.accepts_offer,
        reasons=tuple(ctx.reasons), language=mail.language, machine=ctx.machine,
        commands=tuple(ctx.commands),
    )
