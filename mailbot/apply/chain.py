"""The apply chain: one ordered list of actions; the first that handles a mail decides its outcome."""

from __future__ import annotations

from sqlalchemy.orm import Session

from mailbot.apply.access import Access
from mailbot.apply.cancel import Cancel
from mailbot.apply.confirm import ConfirmAnswer, SenderTrust
from mailbot.apply.coordinator import Coordinator, Office
from mailbot.apply.erase import Erase
from mailbot.apply.inbound import Action, Inbound
from mailbot.apply.offers import OfferAnswer
from mailbot.apply.questions import Question
from mailbot.apply.register import Register
from mailbot.apply.substitute import Substitute
from mailbot.registrations.messages import Mailer
from mailbot.types import IntentKind, Outcome, TrustPolicy


class OwnMail:
    name = "own-mail"
    description = "our own mail came back (loop marker): never answer it"

    def __call__(self, s: Session, m: Mailer, inb: Inbound) -> Outcome | None:
        return Outcome.DONE if inb.mail.ours else None


class Machine:
    name = "machine"
    description = "auto-replies, bounces, list and bulk mail are recorded, never answered"

    def __call__(self, s: Session, m: Mailer, inb: Inbound) -> Outcome | None:
        # classify decided it (mailbot/classify/machines.py); the mail's markers are not read here
        if inb.intent.kind == IntentKind.BOUNCE:
            inb.record.bounced = list(inb.mail.bounced_recipients)
            return Outcome.DONE
        if inb.intent.kind == IntentKind.AUTO_REPLY or inb.intent.machine:
            return Outcome.DONE
        return None


class NoSender:
    name = "no-sender"
    description = "a mail without a usable sender address cannot be answered: a human looks"

    def __call__(self, s: Session, m: Mailer, inb: Inbound) -> Outcome | None:
        if "@" in inb.mail.answer_to:
            return None
        inb.record.reason = "no usable sender address"
        return Outcome.REVIEW


class LowConfidence:
    name = "low-confidence"
    description = "unsure what the sender wants: a human looks instead of a wrong registration"

    def __init__(self, threshold: float) -> None:
        self.threshold = threshold

    def __call__(self, s: Session, m: Mailer, inb: Inbound) -> Outcome | None:
        if inb.intent.kind == IntentKind.OTHER or inb.intent.confidence < self.threshold:
            inb.record.reason = inb.record.reason or (
                f"unsure ({inb.intent.kind.value}, confidence {inb.intent.confidence:.2f})")
            return Outcome.REVIEW
        return None


def chain(min_confidence: float, trust: TrustPolicy | None = None,
          office: Office | None = None) -> list[Action]:
    """The order in which actions look at a mail; the first that returns an Outcome wins.
    A confirmed request ("Ja" to our confirmation request) runs through this same list.
    Coordinator commands come before the confidence check (a command mail reads as nothing
    else) and before registrations; anyone else's command lines fall through to them."""
    actions: list[Action] = [
        SenderTrust(trust or TrustPolicy()), OwnMail(), Machine(), NoSender(),
        ConfirmAnswer(lambda s, m, inb: apply(s, m, inb, actions)), OfferAnswer(),
        Coordinator(office), LowConfidence(min_confidence), Erase(), Access(), Substitute(),
        Cancel(), Register(), Question()]
    return actions


def apply(s: Session, m: Mailer, inb: Inbound, actions: list[Action]) -> Outcome:
    for action in actions:
        outcome = action(s, m, inb)
        if outcome is not None:
            if outcome == Outcome.REVIEW and not inb.record.reason:
                inb.record.reason = f"{action.name}: needs a human"
            return outcome
    return Outcome.REVIEW
