"""Chain rules that decide what a person wants: erase, cancel, register, ask, or nothing."""

from __future__ import annotations

import re

from mailbot.classify import clauses as cl
from mailbot.classify.clause_sentences import (
    clause_sentences,
    in_order,
    meant_clauses,
    others_cancel_sender_comes,
    said_by,
    said_otherwise,
)
from mailbot.classify.reading import Context, Flow
from mailbot.types import IntentKind, slug_from_own_id

# A question mark inside a link ("…/verify?u=…") asks nothing: links are taken out first.
_LINK = re.compile(r"\b(?:https?://|www\.)\S+", re.I)


def asks(sentence: str) -> bool:
    """The sentence has a question mark of its own (not one inside a link)."""
    return "?" in sentence and "?" in _LINK.sub("", sentence)


def question_sentences(ctx: Context) -> list[str]:
    """Sentences of the new text that ask the coordinators something. Not: a request to act
    for the sender phrased as a question ("Wäre es möglich, mich … anzumelden?", the clause
    reading's requests), a request for the confirmation mailbot sends anyway, an offer of help
    ("Please let me know if you need anything else")."""
    request = set(ctx.hits("intent.question_request")) | set(ctx.hits("question.not_asked"))
    request |= {c.sentence for c in meant_clauses(ctx) if c.request}
    # a topic (childcare, food, interpreting) asks when a need is said with it; only
    # mentioned, it informs ("Ich esse vegetarisch, falls das wichtig ist")
    asking = set(ctx.hits("question.ask")) | (set(ctx.hits("question.topic")) &
                                                 set(ctx.hits("question.need")))
    return [s for s in ctx.sentences if s not in request and (asks(s) or s in asking)]


def strong_registrations(ctx: Context, text: str | None = None) -> list[str]:
    """Register sentences (surface rules or clause reading) that are not questions about
    whether one may still register. Read once per text: several rules ask (as ctx.hits)."""
    return ctx.kept(("strong-registrations", text), lambda: _strong_registrations(ctx, text))


def _strong_registrations(ctx: Context, text: str | None) -> list[str]:
    asking = ctx.rules.pattern("intent.registration_question")
    tentative = ctx.rules.pattern("intent.tentative")
    clauses = clause_sentences(ctx, cl.Want.REGISTER, text)
    wordy = set(said_otherwise(ctx, cl.Want.REGISTER, text))
    found = in_order(ctx, [s for s in ctx.hits("intent.register", text) if s not in wordy],
                     clauses, text=text)
    if cl.load_words(ctx.rules, ctx.mail.language) is not None:
        # a question whose only registration is a noun ("Ab wann ist die Anmeldung für den
        # Fachtag geöffnet?") asks about registering; a request ("Könnten Sie mich …?") does not
        requests = set(clauses) | set(ctx.hits("intent.question_request", text))
        found = [s for s in found if not asks(s) or s in requests]
    # "Wäre es möglich, mich noch nachzumelden?" asks us to act for the sender: a request
    requests = {c.sentence for c in meant_clauses(ctx, text) if c.request}
    return [s for s in found if (s in requests or not asking.search(s))
            and not tentative.search(s)]


def cancellations(ctx: Context) -> list[str]:
    """Cancel sentences: the surface rules' and the clause reading's. Not one that singles
    out who stays away ("Ich selbst bin verhindert", "Die Amtsleiterin selbst wird nicht
    teilnehmen") in a mail that registers others: it says who does not come besides. Read
    once per mail (as ctx.hits)."""
    return ctx.kept(("cancellations", None), lambda: _cancellations(ctx))


def _cancellations(ctx: Context) -> list[str]:
    wordy = said_otherwise(ctx, cl.Want.CANCEL) | others_cancel_sender_comes(ctx)
    found = [s for s in in_order(ctx, ctx.hits("intent.cancel"),
                                 clause_sentences(ctx, cl.Want.CANCEL)) if s not in wordy]
    words = cl.load_words(ctx.rules, ctx.mail.language)
    if words is None or not words.emphatic:
        return found
    aside = {s for s in found if words.emphatic & {t.casefold() for t in cl.tokens(s)}}
    if aside and any(s not in aside for s in strong_registrations(ctx)):
        found = [s for s in found if s not in aside]
    return found


def conditional_only(ctx: Context) -> bool:
    """Every registration hangs on a condition ("if there is interpretation, we would like
    to register …"), or the mail makes it wait on its question ("Gibt es …? Wenn ja, würde
    ich …", "bevor ich mich anmelde: …?", "… oder sollte ich den Platz lieber …?") without
    registering outright: the answer decides, so it is a question."""
    conditional = set(ctx.hits("intent.conditional")) | set(  # usually none: one pass decides
        clause_sentences(ctx, cl.Want.REGISTER, conditional=False))
    depends = bool(ctx.hits("intent.depends"))
    regs = strong_registrations(ctx) if conditional or depends else []
    if not regs:
        return False
    waits = conditional | set(ctx.hits("intent.depends"))
    if depends:
        firm = ctx.rules.pattern("intent.firm")
        waiting = not any(firm.search(s) for s in regs if s not in waits)
    else:
        waiting = all(s in conditional for s in regs)
    return waiting and (bool(question_sentences(ctx)) or any(asks(s) for s in ctx.sentences))


def new_registrations(ctx: Context) -> list[str]:
    """Registrations that are not the sender keeping an existing one ("ich komme aber wie
    angemeldet"): only these can outweigh a cancellation."""
    keep = ctx.rules.pattern("intent.keep")
    return [s for s in strong_registrations(ctx) if not keep.search(s)]


class _Undecided:
    """Base: a rule that only runs while no earlier rule has decided the intent."""

    name = ""
    description = ""

    def apply(self, ctx: Context) -> Flow:
        if ctx.kind is None:
            self.decide(ctx)
        return Flow.CONTINUE

    def decide(self, ctx: Context) -> None:
        raise NotImplementedError


class OfferAnswerRule(_Undecided):
    name = "offer-answer"
    description = "A bare 'Ja'/'Nein' reply: the answer to a waiting-list offer"

    def decide(self, ctx: Context) -> None:
        lines = [x for x in ctx.body.split("\n") if x.strip()]
        if not ctx.mail.in_reply_to or not lines or len(lines) > 3:
            return
        if ctx.rules.pattern("intent.yes").match(lines[0]):
            ctx.accepts_offer = True
            ctx.decide(IntentKind.REGISTER, ctx.sure("offer_answer"), "short yes to an offer")
        elif ctx.rules.pattern("intent.no").match(lines[0]):
            ctx.accepts_offer = False
            ctx.decide(IntentKind.CANCEL, ctx.sure("offer_answer"), "short no to an offer")


class Phishing(_Undecided):
    name = "phishing"
    description = "Account/mailbox 'verify now' mails with a link: other, never answered"

    def decide(self, ctx: Context) -> None:
        # A call to confirm an account or password with a link is phishing however much it
        # mentions registrations; answering it would confirm the address to the sender.
        # An HTML button hides its link when converted to text: a shouting call to action
        # ("JETZT ANMELDEN") or a second account cue stands in for it.
        found = ctx.hits("intent.phishing")
        if found and (_LINK.search(ctx.mail.full_text or ctx.mail.text)
                      or ctx.hits("intent.phishing_action") or len(found) > 1):
            ctx.decide(IntentKind.OTHER, ctx.sure("phishing"), "phishing: confirm an account via a link")


class EraseRule(_Undecided):
    name = "erase"
    description = "Deletion requests for personal data (DSGVO Art. 17)"

    def decide(self, ctx: Context) -> None:
        if ctx.hits("intent.erase"):
            ctx.decide(IntentKind.ERASE, ctx.sure("erase"), "asks to delete personal data")


class SubstituteRule(_Undecided):
    name = "substitute"
    description = "'Statt mir kommt …': the sender withdraws and someone else registers"

    def decide(self, ctx: Context) -> None:
        if ctx.hits("intent.substitute"):
            ctx.decide(IntentKind.REGISTER, ctx.sure("substitute"),
                       "substitution: someone takes the sender's seat")
            ctx.reasons.append("substitute")


class CancelRule(_Undecided):
    name = "cancel"
    description = "Cancellations, in full or of some seats, in text or subject"

    def decide(self, ctx: Context) -> None:
        cancels = cancellations(ctx)
        in_subject = _subject_says(ctx, "intent.cancel")
        if not cancels and not in_subject:
            return
        registers = new_registrations(ctx)
        if registers and ctx.hits("intent.takeover"):
            return  # "meine Kollegin ist krank … ich übernehme ihren Platz": the sender registers
        absent = set(ctx.hits("intent.self_absent"))
        if not registers and ctx.forwarded and all(s in absent for s in cancels) \
                and not in_subject and not _cancel_context(ctx):
            return  # "anbei die Anmeldung meiner Kollegin … Ich selbst komme nicht"
        if registers and absent and not _cancel_context(ctx):
            # "ich selbst schaffe es nicht, aber mein Kollege würde gern teilnehmen": the
            # sender only explains why someone else comes; nothing was booked to cancel
            return
        if len(registers) > len(cancels) + (1 if in_subject else 0):
            return  # e.g. "meine Kollegin kann nicht, ich melde mich aber an"
        conf = ctx.sure("cancel" if cancels and not registers else "cancel_unsure")
        c = said_by(ctx, cl.Want.CANCEL, cancels, "intent.cancel")
        ctx.decide(IntentKind.CANCEL, conf, f"clause: {c.describe()}" if c else
                   "cancels" + (" (subject)" if not cancels else ""))


def _subject_says(ctx: Context, section: str) -> bool:
    """The subject asks for `section`, and it is not the subject of one of our own mails
    ("AW: Ihre Anmeldung: …", "Re: Abmeldung bestätigt") quoted back by a reply."""
    return bool(ctx.rules.pattern(section).search(ctx.subject)) and \
        not ctx.rules.pattern("intent.own_subject").search(ctx.subject)


def _cancel_context(ctx: Context) -> bool:
    """Something is already booked: a cancelling subject or a reply to one of our mails."""
    return _subject_says(ctx, "intent.cancel") or any(
        slug_from_own_id(i) for i in ctx.mail.in_reply_to)


class Invitation(_Undecided):
    name = "invitation"
    description = "Third-party invitations and announcements: nobody registers with us"

    def decide(self, ctx: Context) -> None:
        if not ctx.hits("intent.invitation"):
            return
        self_reg = [s for s in strong_registrations(ctx)
                    if ctx.rules.pattern("intent.self").search(s)]
        if not self_reg:
            ctx.decide(IntentKind.OTHER, ctx.sure("invitation"), "an invitation or announcement by others")


class RegisterRule(_Undecided):
    name = "register"
    description = "Registrations of the sender or of others"

    def decide(self, ctx: Context) -> None:
        found = [s for s in strong_registrations(ctx) if not negated_registration(ctx, s)]
        if found and ctx.hits("intent.keep") and question_sentences(ctx):
            # "ich bin schon angemeldet … und komme mit dem Auto: Gibt es …?": how, not whether
            found = [s for s in found if not only_arriving(ctx, s)]
        if found and not conditional_only(ctx):
            c = said_by(ctx, cl.Want.REGISTER, found, "intent.register")
            ctx.decide(IntentKind.REGISTER, ctx.sure("register"),
                       f"clause: {c.describe()}" if c else "registers")


def only_arriving(ctx: Context, sentence: str) -> bool:
    """Every clause of the sentence that registers is a verb of arriving ("komme mit dem
    Auto"), or the sentence keeps a registration ("ich bin schon angemeldet")."""
    if ctx.rules.pattern("intent.keep").search(sentence):
        return True
    words = cl.load_words(ctx.rules, ctx.mail.language)
    if words is None:
        return False
    wants = [c for c in cl.read([sentence], words) if c.want is cl.Want.REGISTER]
    return bool(wants) and all(c.verb in words.arrival for c in wants)


def negated_registration(ctx: Context, sentence: str) -> bool:
    """The surface pattern saw a registration, but every clause of the sentence that wants
    something turns it round ("ich nehme … leider nicht teil"): the clause reading wins."""
    words = cl.load_words(ctx.rules, ctx.mail.language)
    if words is None:
        return False
    wants = [c for c in cl.read([sentence], words) if c.want is not None]
    return bool(wants) and all(c.negated and c.want is cl.Want.CANCEL for c in wants)


class QuestionRule(_Undecided):
    name = "question"
    description = "Questions for the coordinators (no registration in the mail)"

    def decide(self, ctx: Context) -> None:
        asks = question_sentences(ctx)
        if asks or ctx.hits("intent.registration_question") or conditional_only(ctx):
            ctx.decide(IntentKind.QUESTION, ctx.sure("question"), "asks a question")


class ForwardedRegistration(_Undecided):
    name = "forwarded-registration"
    description = "A forwarded original (WG:/Fwd:) in which its author registers"

    def decide(self, ctx: Context) -> None:
        fwd = ctx.forwarded
        if fwd is None or not strong_registrations(ctx, fwd.text):
            return
        ctx.via_forward = True
        ctx.decide(IntentKind.REGISTER, ctx.sure("forwarded_registration"),
                   f"forwarded registration of {fwd.email}")


class SubjectOnly(_Undecided):
    name = "subject-only"
    description = ("A subject like 'Anmeldung' or 'Teilnahme' (or such a heading as the body's "
                   "first line) over a (nearly) empty body or a short form")

    def decide(self, ctx: Context) -> None:
        # a form-like mail puts its subject as a heading: "Anmeldung Netzwerktreffen 04.05."
        heading = next((x.strip() for x in ctx.body.split("\n") if x.strip()), "")
        headed = len(heading) <= 60 and not heading.endswith((".", "?", "!", ",")) and \
            bool(ctx.rules.pattern("intent.register_subject").search(heading))
        if not (headed or _subject_says(ctx, "intent.register_subject")):
            return
        if len(ctx.body) <= 200 and "?" not in ctx.body:
            ctx.decide(IntentKind.REGISTER, ctx.sure("subject_only"), "registration only by subject")


class Fallback(_Undecided):
    name = "fallback"
    description = "Nothing recognised: other, for a human to look at"

    def decide(self, ctx: Context) -> None:
        ctx.decide(IntentKind.OTHER, ctx.sure("nothing_recognised"), "nothing recognised")
