"""Chain rules that fill in the details of a human mail: event, people, seats, questions."""

from __future__ import annotations

from mailbot.classify.event_match import match_event
from mailbot.classify.intents import question_sentences, strong_registrations
from mailbot.classify.people_rule import PeopleRule
from mailbot.classify.reading import Context, Flow
from mailbot.classify.seats_rule import SeatsRule
from mailbot.types import IntentKind

__all__ = ["Confidence", "EventRule", "PeopleRule", "QuestionFlag", "SeatsRule"]

_HUMAN = (IntentKind.REGISTER, IntentKind.CANCEL, IntentKind.QUESTION, IntentKind.ERASE)


class EventRule:
    name = "event"
    description = "Which event: plus-address, our Message-ID, names, dates, city, venue, quote"

    def apply(self, ctx: Context) -> Flow:
        if ctx.kind not in _HUMAN:
            return Flow.CONTINUE
        text = ctx.body
        quoted = ctx.mail.quoted
        registers = ctx.kind == IntentKind.REGISTER
        if registers and not ctx.via_forward:
            # "Für Nürtingen ist es mir leider zu weit": a place the sender turns down is no
            # evidence for its event (a cancellation, though, names what it cancels)
            regs = set(strong_registrations(ctx))
            declined = [s for s in ctx.hits("event.declined") if s not in regs]
            if declined:
                text = "\n".join(s for s in ctx.sentences if s not in declined)
        if ctx.via_forward and ctx.forwarded:
            text, quoted = text + "\n" + ctx.forwarded.text, ""
        m = match_event(ctx.mail, ctx.events, ctx.now, ctx.subject, text, quoted, ctx.rules,
                        text_may_override=registers)
        ctx.event, ctx.candidates, ctx.event_decided_by = m.event, m.candidates, m.decided_by
        ctx.reasons += [f"event: {r}" for r in m.reasons]
        return Flow.CONTINUE


class QuestionFlag:
    name = "question-flag"
    description = "Marks mails that ask something (childcare, access, food, travel, language)"

    def apply(self, ctx: Context) -> Flow:
        if ctx.kind not in _HUMAN or ctx.via_forward:
            return Flow.CONTINUE
        asks = question_sentences(ctx)
        if ctx.kind == IntentKind.REGISTER:
            # "can i still sign up??" beside the registration: registering answers it
            still = set(ctx.hits("intent.registration_question")) - set(ctx.hits("question.topic"))
            asks = [s for s in asks if s not in still]
        if ctx.kind == IntentKind.QUESTION and not asks:
            asks = ctx.hits("intent.registration_question")
        ctx.has_question = bool(asks)
        ctx.question = " ".join(asks)[:1000]
        return Flow.CONTINUE


class Confidence:
    name = "confidence"
    description = "Lowers the confidence where event or people remain unsure"

    def apply(self, ctx: Context) -> Flow:
        if ctx.kind in (IntentKind.REGISTER, IntentKind.CANCEL):
            lowered = ctx.rules.weights("confidence.lowered")
            if ctx.event is None:
                ctx.confidence *= lowered["no_event_but_candidates" if ctx.candidates else "no_event"]
            elif ctx.event_decided_by == "only-open":
                ctx.confidence *= lowered["only_open_event"]
            if any(not a.name for a in ctx.attendees):
                ctx.confidence *= lowered["attendee_without_name"]
        ctx.confidence = round(max(0.0, min(1.0, ctx.confidence)), 2)
        return Flow.CONTINUE
