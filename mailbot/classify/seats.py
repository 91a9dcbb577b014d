"""How many seats: "zu dritt", "3 Plätze", "mit zwei Kolleginnen", "insgesamt vier Personen"."""

from __future__ import annotations

import re

from mailbot.rulebook import Rules


def _value(word: str, rules: Rules) -> int | None:
    w = word.casefold()
    if w.isdigit():
        return int(w)
    return (rules.numbers("seats.number").get(w) or rules.numbers("seats.together").get(w)
            or rules.numbers("seats.one").get(w))


def _n(m: re.Match[str]) -> str:
    """The number a pattern captured: patterns with two alternatives name the second (?P<n2>…)."""
    d = m.groupdict()
    return d.get("n") or d.get("n2") or ""


def group_size(text: str, rules: Rules) -> int | None:
    """The whole party when the text gives a total ("zu dritt", "3 Plätze"), else None."""
    best = None
    for rx in rules.patterns("seats.group"):
        for m in rx.finditer(text):
            n = _value(_n(m), rules)
            if n and 1 <= n <= 50:
                best = n if best is None else max(best, n)
    return best


def _largest(text: str, section: str, rules: Rules) -> int:
    """The largest count that a pattern of `section` finds in the text, or 0."""
    best = 0
    for rx in rules.patterns(section):
        for m in rx.finditer(text):
            n = _value(_n(m), rules)
            if n and 1 <= n <= 50:
                best = max(best, n)
    return best


def companions(text: str, rules: Rules) -> int:
    """People coming along with the sender ("mit zwei Kolleginnen" = 2)."""
    return _largest(text, "seats.companions", rules)


def accompanied_group(text: str, rules: Rules) -> int:
    """A group of others plus the sender who goes along ("vier Frauen … kommen, und ich
    begleite sie" = 5), or 0."""
    if not any(rx.search(text) for rx in rules.patterns("seats.self_along")):
        return 0
    others = _largest(text, "seats.others_group", rules)
    return others + 1 if others else 0
