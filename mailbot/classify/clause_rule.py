"""The chain rule that decides from the clauses of the new text (mailbot/classify/clauses.py)
where the surface rules of rules/intents.toml decided nothing.

It runs after the machine rules (they stop the chain) and after every rule that decides an
intent, so whatever those decided (phishing, invitations by others, offers …) stays; it only
reads the new text, never quotes or the signature. A clause counts when someone (the sender,
the sender's group or a third person, or the coordinators asked to act for the sender) wants
something; an instruction to the reader ("Melden Sie sich an") or "man" does not.

- an erase clause decides erase;
- firm clauses (no condition, no question) that all register or all cancel decide that; a
  negated registration ("ich nehme nicht teil", "I can't make it") cancels; both at once
  decide nothing;
- registrations only under a condition ("Falls noch Plätze frei sind, würde ich gern kommen")
  are read as the rules read them (intents.conditional_only): a question when the mail asks
  anything, else a registration;
- a registration or cancellation asked about ("Kann ich mich noch anmelden?") is a question.
Each decision names its clause in the reasons.
"""

from __future__ import annotations

from mailbot.classify import clauses as cl
from mailbot.classify.intents import _Undecided, asks, question_sentences
from mailbot.classify.reading import Context
from mailbot.types import IntentKind

_WHO = (cl.Subject.FIRST_SINGULAR, cl.Subject.FIRST_PLURAL, cl.Subject.THIRD, cl.Subject.NONE)
_KIND = {cl.Want.REGISTER: IntentKind.REGISTER, cl.Want.CANCEL: IntentKind.CANCEL,
         cl.Want.ERASE: IntentKind.ERASE}


def mail_clauses(ctx: Context) -> list[cl.Clause]:
    """The clauses of the new text that want something, in the mail's language."""
    words = cl.load_words(ctx.rules, ctx.mail.language)
    if words is None:
        return []
    return [c for c in cl.read(ctx.sentences, words) if c.want is not None]


class ClauseIntent(_Undecided):
    name = "clause-intent"
    description = "Register, cancel, erase or question read from the clauses of the new text"

    def decide(self, ctx: Context) -> None:
        found = mail_clauses(ctx)
        erase = [c for c in found if c.want is cl.Want.ERASE and not c.question
                 and not c.conditional and c.subject is not cl.Subject.GENERIC]
        if erase:
            _decide(ctx, IntentKind.ERASE, 0.8, erase[0])
            return
        meant = [c for c in found if c.subject in _WHO or c.request]
        firm = [c for c in meant if not c.conditional and (not c.question or c.request)]
        wants = {c.want for c in firm}
        if len(wants) == 1:
            want = firm[0].want
            if want is not None:
                _decide(ctx, _KIND[want], 0.8, firm[0])
            return
        if wants:
            return  # registers and cancels at once: not for this rule to weigh
        waiting = [c for c in meant if c.conditional and c.want is cl.Want.REGISTER
                   and not c.question]
        if waiting:
            asking = bool(question_sentences(ctx)) or any(asks(s) for s in ctx.sentences)
            if asking:
                _decide(ctx, IntentKind.QUESTION, 0.8, waiting[0])
            else:
                _decide(ctx, IntentKind.REGISTER, 0.7, waiting[0])
            return
        asked = [c for c in meant if c.question]
        if asked:
            _decide(ctx, IntentKind.QUESTION, 0.8, asked[0])


def _decide(ctx: Context, kind: IntentKind, confidence: float, clause: cl.Clause) -> None:
    ctx.decide(kind, confidence, f"clause: {clause.describe()}")
