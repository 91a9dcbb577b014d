"""Sentences of the new text read by their clauses (mailbot/classify/clauses.py), for the
intent rules of mailbot/classify/intents.py: which sentences register or cancel, and which
clause a decision rests on (its reason)."""

from __future__ import annotations

from mailbot.classify import clauses as cl
from mailbot.classify.reading import Context
from mailbot.parse.text import flowing, sentences

# Who may want something in a clause that counts: the sender, the sender's group, a third
# person; "man" and an instruction to the reader ("Melden Sie sich an") do not.
_MEANT = (cl.Subject.FIRST_SINGULAR, cl.Subject.FIRST_PLURAL, cl.Subject.THIRD, cl.Subject.NONE)


def meant_clauses(ctx: Context, text: str | None = None) -> list[cl.Clause]:
    """Clauses of the new text (or of `text`) in which someone wants something for themself or
    asks the coordinators to act for the sender."""
    words = cl.load_words(ctx.rules, ctx.mail.language)
    if words is None:
        return []
    sents = ctx.sentences if text is None else sentences(flowing(text))
    return [c for c in cl.read(sents, words) if c.want is not None
            and (c.subject in _MEANT or c.request)]


def clause_sentences(ctx: Context, want: cl.Want, text: str | None = None,
                     conditional: bool = True) -> list[str]:
    """Sentences with a clause that wants `want` and does not ask about it ("Kann ich mich
    noch anmelden?" asks; "Könnten Sie mich anmelden?" is a request); with `conditional`
    False only clauses under a condition or hedge."""
    def make() -> list[str]:
        # "An ihrer Stelle wird Herr X teilnehmen": someone named comes instead, no mere wish
        instead = set(ctx.hits("intent.takeover", text))
        return list(dict.fromkeys(
            c.sentence for c in meant_clauses(ctx, text) if c.want is want
            and (not c.question or c.request) and (conditional or c.conditional)
            and (not _reported_wish(c) or c.sentence in instead)))

    return ctx.kept((f"clause.{want.value}.{conditional}", text), make)


def _reported_wish(c: cl.Clause) -> bool:
    """"Eine Kollegin würde gern kommen": someone else's wish, told by the sender, registers
    nobody until the sender asks for it."""
    return c.want is cl.Want.REGISTER and c.subject is cl.Subject.THIRD and bool(c.modal) \
        and not c.request


def in_order(ctx: Context, *groups: list[str], text: str | None = None) -> list[str]:
    found = {s for g in groups for s in g}
    sents = ctx.sentences if text is None else sentences(flowing(text))
    return [s for s in sents if s in found] or sorted(found)


def said_by(ctx: Context, want: cl.Want, found: list[str], section: str) -> cl.Clause | None:
    """The clause a decision on `found` rests on (its reason names verb, negation, modal), or
    None when a pattern of `section` saw one of the sentences."""
    surface = set(ctx.hits(section))
    if any(s in surface for s in found):
        return None
    return next((c for c in meant_clauses(ctx) if c.want is want and c.sentence in found), None)


def said_otherwise(ctx: Context, want: cl.Want, text: str | None = None) -> set[str]:
    """Sentences in which the clause reading sees a verb of `want` but nobody who wants it:
    said of "man", to the reader ("Melden Sie sich bis Mai an"), done already ("I had
    cancelled earlier"), or turned round by a negation. A surface pattern that saw one there
    saw a word, not a wish."""
    words = cl.load_words(ctx.rules, ctx.mail.language)
    if words is None:
        return set()
    table = words.verb_wants
    sents = ctx.sentences if text is None else sentences(flowing(text))
    found = cl.read(sents, words)
    seen = {c.sentence for c in found if table.get(c.verb) is want}
    return seen - {c.sentence for c in found if c.want is want
                   and (c.subject in _MEANT or c.request)}


def others_cancel_sender_comes(ctx: Context) -> set[str]:
    """Sentences in which only someone else cancels and the sender comes ("My colleague
    can't make it, but I'll be there"): the sender's registration, no cancellation. When the
    sender only keeps a seat already held ("ich komme aber wie geplant", "the other two of us
    are still coming"), the other one's seat is what the mail gives back: a cancellation."""
    if ctx.hits("intent.keep"):
        return set()  # registered before ("wir hatten uns zu dritt angemeldet"): a cancellation
    found = meant_clauses(ctx)
    keep = ctx.rules.pattern("intent.keep")
    me = (cl.Subject.FIRST_SINGULAR, cl.Subject.FIRST_PLURAL)
    comes = {c.sentence for c in found if c.want is cl.Want.REGISTER and c.subject in me
             and not keep.search(c.sentence)}
    cancels = [c for c in found if c.want is cl.Want.CANCEL]
    others = {c.sentence for c in cancels if c.subject is cl.Subject.THIRD}
    return (comes & others) - {c.sentence for c in cancels if c.subject is not cl.Subject.THIRD}
