"""A sentence's tokens cut into the segments and clauses that mailbot/classify/clauses.py reads:
cut at clause punctuation and before a conjunction of condition or an indirect question, and a
separable particle after an inserted clause joined back to its verb. Tokens and tags in, index
ranges out; the words come from rules/<language>/clauses.toml."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from mailbot.classify.clause_words import ClauseWords

# Clause punctuation (a segment ends there). Not the full stop: the sentences are already cut,
# so a "." inside one ends a date or an abbreviation ("am 12. September … an").
SPLIT = frozenset(",;:!?")
# A dash sets off an inserted clause like a comma, but not inside a quoted title ("Fachtag
# „Teilhabe gestalten – kommunale Strategien“").
DASH = frozenset("-–—")
# opening quote → the quotes that close it ("„…“" German, "“…”" English, guillemets both ways)
QUOTES = {"„": "“”", "“": "”", "«": "»", "»": "«", '"': '"'}


def starts(low: Sequence[str], i: int, openers: Iterable[tuple[str, ...]]) -> bool:
    return any(tuple(low[i:i + len(c)]) == c for c in openers)


def starts_condition(low: Sequence[str], i: int, words: ClauseWords) -> bool:
    return starts(low, i, words.condition)


def segments(toks: Sequence[str], words: ClauseWords) -> list[tuple[int, int]]:
    """(start, end) of each segment: cut at clause punctuation, before a condition, an
    indirect question or a conjunction that starts a clause of its own ("but")."""
    low = [t.casefold() for t in toks]
    dashes = set(_dashes(toks))
    segs, start = [], 0
    for i, t in enumerate(toks):
        if t in SPLIT or i in dashes:
            if i > start:
                segs.append((start, i))
            start = i + 1
        elif i > start and (starts_condition(low, i, words) or starts(low, i, words.indirect)
                            or low[i] in words.split):
            segs.append((start, i))
            start = i
    if start < len(toks):
        segs.append((start, len(toks)))
    return segs


def _dashes(toks: Sequence[str]) -> list[int]:
    """The indices of the dashes that set off a remark: not those inside quotes."""
    out, closing = [], ""  # the quotes that close the quote we are in, "" outside quotes
    for i, t in enumerate(toks):
        if closing and t in closing:
            closing = ""
        elif not closing and t in QUOTES:
            closing = QUOTES[t]
        elif not closing and t in DASH:
            out.append(i)
    return out


def units(segs: Sequence[tuple[int, int]], low: Sequence[str], tags: Sequence[str],
          words: ClauseWords) -> list[list[int]]:
    """The token indices of each clause. A segment without a verb that holds a separable
    particle closes the clause of the last segment before it with a finite verb: "nehme ich,
    sofern nichts dazwischenkommt, an beiden Tagen gern teil" is one clause "teilnehmen" around
    the inserted condition, "nehme ich, nachdem ich gefragt habe, am Fachtag teil" around the
    inserted subordinate clause."""
    t = words.tags
    marks = _dashes(low)
    # between a pair of dashes: "nehme ich – falls …, ich habe … bekommen – gern teil"
    aside = [(marks[k], marks[k + 1]) for k in range(0, len(marks) - 1, 2)]
    out: list[list[int]] = []
    host: int | None = None
    for a, b in segs:
        span = list(range(a, b))
        verbs = [i for i in span if t.is_verb(tags[i])]
        if not verbs and host is not None and any(tags[i] in t.particle for i in span):
            out[host] += span
            host = None
            continue
        out.append(span)
        if starts_condition(low, a, words) or starts(low, a, words.indirect) or \
                tags[a] in t.subordinate or any(d < a and b <= e for d, e in aside):
            continue  # an inserted condition or subordinate clause is closed by its own verb
        if any(tags[i] in t.finite for i in verbs) and not any(
                tags[i] in t.particle for i in span):
            host = len(out) - 1
    return out

