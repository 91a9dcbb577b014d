"""The chain rule that lets the learned intent model (mailbot/classify/learned.py) decide where
the rules could not, and only there.

It runs after every rule that decides an intent and before the fallback, so:
- whatever a machine rule decided (own loop, bounce, auto-reply, list mail) stopped the chain
  before it; whatever a safety rule decided (phishing, invitations and offers by others, any
  `other`) is final: the model never turns a mail into one that is answered unless no rule
  decided anything about it;
- a mail no rule understood (no intent yet) may become register, cancel, question or erase when
  the model's most likely intent is one of these with probability >= `fill`;
- a mail the rules would answer (not an answer to an offer, not a forwarded registration, not a
  reply to one of our own mails: there the model has too little text and we began the talk)
  becomes `other` (a person looks at it) when the model gives other + machine >= `veto`: the
  model may always make the bot answer less, never more;
- a human intent the rules were unsure of (confidence below `unsure`) may move to another human
  intent when the model is sure enough (`move`; off: leave-one-corpus-out showed no gain).
Leave-one-corpus-out (bench/generalisation.py) chose the figures: the lowest `fill` and the
`veto` with the best intent figures that answer no machine or `other` mail of any left-out corpus
(with 11 corpora, 0.85 answered one thank-you note: 0.9).
The model runs only where it may change the outcome. Every decision it takes is written to the
reasons. Switched off by MAILBOT_LEARNED_MODEL=off, by rules without learned/intents.jsonl, or
by `learned.use(None)`."""

from __future__ import annotations

from dataclasses import dataclass

from mailbot.classify import learned
from mailbot.classify.reading import Context, Flow
from mailbot.types import IntentKind, slug_from_own_id

ANSWERED = (IntentKind.REGISTER, IntentKind.CANCEL, IntentKind.QUESTION, IntentKind.ERASE)


@dataclass(frozen=True)
class Policy:
    """Where the model may decide: probabilities it needs, and which rule decisions are unsure."""

    fill: float = 0.9  # no rule decided: the model's answered intent needs this probability
    move: float = 1.01  # rules unsure: moving to another answered intent needs this (>1: never)
    unsure: float = 0.75  # a rule decision below this confidence counts as unsure
    veto: float = 0.4  # rules would answer: `other` when machine+other reach this (>1: never)
    veto_top: bool = False  # True: only when the model's most likely intent is not answered
    most: float = 0.8  # confidence given to a decision of the model (at most)


POLICY = Policy()


def enabled() -> bool:
    """The MAILBOT_LEARNED_MODEL setting, read once per process."""
    global _enabled
    if _enabled is None:
        from mailbot.config import learned_model_setting

        _enabled = learned_model_setting()
    return _enabled


_enabled: bool | None = None


def set_enabled(on: bool | None) -> None:
    """Switch the model on or off for this process (None: back to the setting)."""
    global _enabled
    _enabled = on


class LearnedIntent:
    name = "learned-intent"
    description = "The learned intent model, where no rule decided or the rules were unsure"

    def __init__(self, policy: Policy | None = None):
        self.policy = policy

    def apply(self, ctx: Context) -> Flow:
        policy = self.policy or POLICY
        if ctx.kind is None:
            if policy.fill > 1:
                return Flow.CONTINUE
        elif ctx.kind in ANSWERED and ctx.accepts_offer is None and not ctx.via_forward:
            unsure = ctx.confidence < policy.unsure
            if policy.veto > 1 and not (unsure and policy.move <= 1):
                return Flow.CONTINUE  # a sure decision the model may not change
        else:
            return Flow.CONTINUE  # a machine, a safety decision, an offer answer: final
        if not enabled():
            return Flow.CONTINUE
        model = learned.model_for(ctx.rules)
        if model is None:
            return Flow.CONTINUE
        probs = model.probabilities(ctx.mail)
        kind = max(probs, key=lambda k: (probs[k], k.value))
        p = probs[kind]
        before = ctx.kind.value if ctx.kind else "-"
        if ctx.kind is not None:
            silent = sum(v for k, v in probs.items() if k not in ANSWERED)
            if silent >= policy.veto and (kind not in ANSWERED or not policy.veto_top) \
                    and not any(slug_from_own_id(i) for i in ctx.mail.in_reply_to):
                ctx.decide(IntentKind.OTHER, round(min(silent, policy.most), 2),
                           f"model: {IntentKind.OTHER.value} p={silent:.2f} (rules: {before})")
                return Flow.CONTINUE
            if ctx.confidence >= policy.unsure or p < policy.move:
                return Flow.CONTINUE
        elif p < policy.fill:
            return Flow.CONTINUE
        if kind in ANSWERED and kind is not ctx.kind:
            ctx.decide(kind, round(min(p, policy.most), 2),
                       f"model: {kind.value} p={p:.2f} (rules: {before})")
        return Flow.CONTINUE
