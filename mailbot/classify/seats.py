"""How many seats: "zu dritt", "3 Plätze", "mit zwei Kolleginnen", "insgesamt vier Personen"."""

from __future__ import annotations

from mailbot.classify.rulebook import Rules


def _value(word: str, rules: Rules) -> int | None:
    w = word.casefold()
    if w.isdigit():
        return int(w)
    return rules.numbers("seats.number").get(w) or rules.numbers("seats.together").get(w)


def group_size(text: str, rules: Rules) -> int | None:
    """The whole party when the text gives a total ("zu dritt", "3 Plätze"), else None."""
    best = None
    for rx in rules.patterns("seats.group"):
        for m in rx.finditer(text):
            n = _value(m.group("n"), rules)
            if n and 1 <= n <= 50:
                best = n if best is None else max(best, n)
    return best


def companions(text: str, rules: Rules) -> int:
    """People coming along with the sender ("mit zwei Kolleginnen" = 2)."""
    total = 0
    for rx in rules.patterns("seats.companions"):
        for m in rx.finditer(text):
            n = _value(m.group("n"), rules)
            if n and 1 <= n <= 50:
                total = max(total, n)
    return total
