"""Who comes, counted phrase by phrase in the sentences about coming: "ich + 1 Kollegin",
"mich und zwei Kolleginnen", "me plus two colleagues", "mit Begleitung", "Frau A. und Herr B.".

A sentence is read as tokens (words, numbers, "+"). Each phrase that stands for people adds to
the count: a number before a person noun, a "plus" before a number, one companion ("eine
Begleitperson", "mit Begleitung", "a plus-one"), a possessive before one person ("meine
Kollegin"), a title before a name ("Frau Wrede"). The sender counts when the sentence names them
in the list ("mich", "myself", "ich und …") and never when it says they stay away ("ich selbst
nicht"). Only sentences that speak of coming, registering or seats are read, so "ich arbeite
mit drei Kolleginnen" adds nobody. The words are tables in rules/seats.toml and
rules/<language>/seats.toml; this module only knows the order of phrases.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from mailbot.rulebook import Rules
from mailbot.rulebook.matcher import Matcher

# words (with inner hyphens and apostrophes: "plus-one", "N'Guessan"), numbers, "+", and the
# punctuation that ends a segment (a negation only takes back its own segment)
_TOKEN = re.compile(r"[,;:()–—]|\+|\d+|[^\W\d_]+(?:[-'’][^\W\d_]+)*")
_CUT = frozenset(",;:()–—")
_ASIDE = frozenset("()")
_MAX = 50  # more than this is no party (a year, an hour, an address)
_REACH = 3  # words allowed between a number and its person noun ("zwei weitere Kolleginnen")


@dataclass(frozen=True)
class Headcount:
    """People named in the sentences about coming: others, and whether the sender is one."""

    others: int = 0
    self_in: bool = False
    self_out: bool = False  # "ich selbst nicht", "not myself": the sender stays away
    why: str = ""  # the sentence the count came from (for the reasons)

    @property
    def total(self) -> int:
        return self.others + (1 if self.self_in and not self.self_out else 0)


@dataclass(frozen=True)
class _Words:
    numbers: dict[str, int]
    person: frozenset[str]  # person nouns, singular and plural ("kollegin", "colleagues")
    total: frozenset[str]  # after a bare number the whole party ("drei Personen")
    additional: frozenset[str]  # "weitere", "more": the people after it are more than that
    one: frozenset[str]  # nouns that are one companion without a number ("begleitung")
    anyone: frozenset[str]  # "jemanden": one companion in a clause about coming
    singular: frozenset[str]  # person nouns in the singular (after "meine", "my")
    possessive: frozenset[str]
    article: frozenset[str]
    between: frozenset[str]  # words between a number and its noun ("weitere", "more", "of")
    plus: frozenset[str]
    with_: frozenset[str]
    together: frozenset[str]  # "zusammen mit", "together with": a companion in any segment
    self_: frozenset[str]  # the sender as an object or in a list ("mich", "myself")
    self_subject: frozenset[str]  # "ich", "i": the sender only next to a list word
    joiner: frozenset[str]
    group_pronoun: frozenset[str]  # "wir", "we": a number after it is the group ("we both")
    group_head: frozenset[str]  # "group": "a volunteer group" is no volunteer
    title: frozenset[str]
    negation: frozenset[str]


def _words(rules: Rules) -> _Words:
    w = rules.words
    return _Words(
        numbers=rules.numbers("seats.number"), person=w("seats.person_noun"),
        total=w("seats.total_noun"), additional=w("seats.additional"),
        one=w("seats.companion_noun"), anyone=w("seats.anyone"),
        singular=w("seats.one_person"),
        possessive=w("seats.possessive"), article=w("seats.article"),
        between=w("seats.between"), plus=w("seats.plus"), with_=w("seats.with"),
        together=w("seats.together"),
        self_=w("seats.self_object"), self_subject=w("seats.self_subject"),
        joiner=w("seats.joiner"), group_pronoun=w("seats.group_pronoun"),
        group_head=w("seats.group_head"),
        title=frozenset(t.rstrip(".") for t in w("names.title.salutation")),
        negation=w("seats.negation"),
    )


def _number(tok: str, words: _Words) -> int:
    n = int(tok) if tok.isdigit() else words.numbers.get(tok, 0)
    return n if 0 < n <= _MAX else 0


def _noun_after(low: list[str], i: int, words: _Words) -> int | None:
    """Index of the person noun that the number at `i` counts, or None."""
    for j in range(i + 1, min(len(low), i + 2 + _REACH)):
        if low[j] in words.person:
            return j
        if low[j] not in words.between:
            return None
    return None


def _segments(low: list[str], ends: frozenset[str], test: Callable[[list[str]], bool]
              ) -> list[bool]:
    """For each token: whether `test` holds for its segment (tokens between `ends`)."""
    out: list[bool] = []
    start = 0
    for k in range(len(low) + 1):
        if k == len(low) or low[k] in ends:
            hit = test(low[start:k])
            out += [hit] * (k - start) + ([False] if k < len(low) else [])
            start = k + 1
    return out


def _joined(low: list[str], end: int, words: _Words) -> bool:
    """The phrase ending at `end` is the first item of a list ("meine Kollegin und ich")."""
    return end + 1 < len(low) and low[end + 1] in words.joiner


def read_sentence(sentence: str, words: _Words, coming: Matcher) -> Headcount:
    raw = _TOKEN.findall(sentence)
    low = [t.casefold() for t in raw]
    negated = _segments(low, _CUT, lambda seg: any(t in words.negation for t in seg))
    # one person without a number ("meine Kollegin") counts only in a part of the sentence
    # that speaks of coming ("ich habe mit meiner Chefin gesprochen und melde mich an": no),
    # or as an item of a list ("mich sowie meine Kollegin")
    def about(seg: list[str]) -> bool:
        return bool(coming.search(" ".join(seg)))

    # a remark in parentheses does not cut a phrase from its verb ("Meine Tochter (16) würde
    # ich gern mitbringen")
    here = _segments(low, (_CUT - _ASIDE) | words.joiner, about)
    # a counted group needs a clause about coming too, but lists run over "und" ("ich melde
    # mich an, unser Verein hat 20 Mitglieder": no)
    clause = _segments(low, _CUT, about)
    others, self_in, i = 0, False, 0
    # people a phrase counted whose names may follow ("meine Kollegin Frau Nowak", "zwei
    # Kolleginnen, Frau A und Frau B"); a list word before any such name ends the phrase
    pending, naming, plus = 0, False, False
    held = 0  # a titled name outside a clause about coming, counted when a list continues it
    while i < len(low):
        t = low[i]
        nxt = low[i + 1] if i + 1 < len(low) else ""
        if negated[i]:
            i += 1
            continue
        counted = 0
        listed = i > 0 and low[i - 1] in words.joiner
        if t in words.plus and _number(nxt, words) and \
                not (i + 2 < len(low) and low[i + 2].isdigit()):
            # "+1", "plus zwei Kolleginnen": the sender and that many more (not "+49 511 …")
            counted = _number(nxt, words)
            self_in = plus = True
            j = _noun_after(low, i + 1, words)
            i = j if j is not None else i + 1
        elif (n := _number(t, words)) and t not in words.article and \
                (clause[i] or listed) and not (i and low[i - 1] in words.group_pronoun) and \
                (j := _noun_after(low, i, words)) is not None:
            # "drei Personen" is the whole party (the stated totals count it), but "drei
            # weitere Personen" are more
            if low[j] not in words.total or words.additional & set(low[i + 1:j]):
                counted = n
            i = j
        elif t in words.possessive and nxt in words.singular and \
                (here[i] or listed or _joined(low, i + 1, words)
                 or " ".join(low[max(0, i - 2):i]) in words.together):
            counted, i = 1, i + 1
        elif t in words.article and (j := _noun_after(low, i, words)) is not None and \
                low[j] in words.singular | words.one and \
                not (j + 1 < len(low) and low[j + 1] in words.group_head) and \
                (here[i] or listed or _joined(low, j, words)):
            counted, i = 1, j
        elif t in words.plus and nxt in words.one:
            counted, self_in, i = 1, True, i + 1  # "mich + Begleitung"
        elif t in words.with_ and nxt in words.one:
            counted, i = 1, i + 1  # "mit Begleitung"
        elif t in words.anyone and here[i]:
            counted = 1  # "ich bringe noch jemanden mit"
        elif t in words.title and i + 1 < len(raw) and raw[i + 1][:1].isupper():
            if pending:
                pending, naming = pending - 1, True
            elif here[i] or listed:
                # "Frau Wrede und Herr Kaya … teilnehmen": the first of a list counts with it
                others += 1 + (held if listed else 0)
                held = 0
            else:
                held = 1  # "wie mit Frau Özkan besprochen" mentions, it does not count
            i += 1
            while i + 1 < len(raw) and raw[i + 1][:1].isupper() and low[i + 1] not in words.title:
                i += 1
            i += 1
            continue
        elif t in words.self_ or (t in words.self_subject and (
                nxt in words.joiner or (i and low[i - 1] in words.joiner))):
            self_in = True
        elif t in words.joiner and not naming:
            pending = 0
        if t not in words.joiner:
            held = 0
        if counted and plus and pending and counted <= pending and t not in words.plus:
            # "+1 (mein Kollege Serkan kommt mit)": who the plus is, not one more
            pending, naming = pending - counted, True
        elif counted:
            others += counted
            pending, naming, plus = counted, False, t in words.plus
        i += 1
    return Headcount(others=others, self_in=self_in, why=sentence if others else "")


def about_coming(sentences: Iterable[str], rules: Rules) -> list[str]:
    """The sentences that speak of coming, registering or seats."""
    about = rules.pattern("seats.attending")
    return [s for s in sentences if about.search(s)]


def headcount(sentences: Iterable[str], rules: Rules) -> Headcount:
    """The largest count of one sentence about coming (`sentences` are those); the sender
    stays away when any of them says so."""
    words = rules.derived("headcount.words", _words)
    away = rules.pattern("seats.self_out")
    coming = rules.pattern("seats.attending")
    best = Headcount()
    out = False
    for s in sentences:
        if away.search(s):
            out = True
        h = read_sentence(s, words, coming)
        if h.others > best.others or (h.others == best.others and h.self_in > best.self_in):
            best = h
    if out:
        return Headcount(best.others, best.self_in, True, best.why)
    return best
