"""What the clause reading (mailbot/classify/clauses.py) found in a mail, as marks the learned
intent model (mailbot/classify/learned.py) reads beside the words: one mark per clause with its
verb lemma, what it wants, its subject and whether it is negated, asked, conditional or a
request ("_cl_anmelden_register_FIRST_SINGULAR_conditional"), and one per wanting clause
("_want_cancel"). Leave-one-corpus-out (bench/generalisation.py) measured that the model with
them generalises better than with surface words alone: the lemma with its particle is the same
however far apart "melde … an" stand."""

from __future__ import annotations

from mailbot.classify import clauses as cl
from mailbot.parse.text import flowing, sentences
from mailbot.rulebook import Rules

# Marks are made of the clause's fields joined with this, so the word analyser keeps each whole.
_JOIN = "_"


def clause_marks(text: str, language: str, rules: Rules, limit: int) -> str:
    """The marks of the clauses of `text` (its first `limit` characters), space-separated."""
    words = cl.load_words(rules, language)
    if words is None:
        return ""
    out = []
    for c in cl.read(sentences(flowing(text[:limit])), words):
        want = c.want.value if c.want else "none"
        flags = [f for f, on in (("negated", c.negated), ("question", c.question),
                                 ("conditional", c.conditional), ("request", c.request)) if on]
        out.append(_JOIN.join(["", "cl", c.verb.replace(" ", _JOIN), want, c.subject.name,
                               *flags]))
        if c.want:
            asked = [f for f, on in (("question", c.question and not c.request),
                                     ("conditional", c.conditional)) if on]
            out.append(_JOIN.join(["", "want", c.want.value]) + "".join(_JOIN + f for f in asked))
    return " ".join(out)
