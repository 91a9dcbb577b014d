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


def first_group_size(text: str, rules: Rules) -> tuple[int, int, int] | None:
    """The first total the text states, with where it stands: (n, start, end)."""
    found = []
    for rx in rules.patterns("seats.group"):
        for m in rx.finditer(text):
            n = _value(_n(m), rules)
            if n and 1 <= n <= 50:
                found.append((m.start(), m.end(), n))
    if not found:
        return None
    start, end, n = min(found)
    return n, start, end


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


_CLAUSE = re.compile(r"[^.!?:;\n]+")
_PAREN_TEXT = re.compile(r"\([^)]*\)")


def listed_party(text: str, rules: Rules) -> int:
    """Who comes, enumerated with the sender in it: "meine Kollegin, ich und fünf
    Teilnehmerinnen aus unserem Deutschkurs" = 7. Every item must count (one person or a
    counted group), else it is no such list and 0 is returned."""
    one = rules.patterns("seats.listed_one")
    many = rules.patterns("seats.listed_many")
    items_split, self_in = rules.regex("seats.list_items"), rules.regex("seats.self_in_list")
    best = 0
    for clause in _CLAUSE.finditer(_PAREN_TEXT.sub(" ", text)):
        c = clause.group(0).strip()
        if not self_in.search(c) or ("," not in c and not items_split.search(c)):
            continue
        items = [i.strip() for i in items_split.split(c) if i.strip()]
        if len(items) < 2:
            continue
        total = 0
        for item in items:
            if any(rx.search(item) for rx in one):
                total += 1
                continue
            m = next((m for rx in many if (m := rx.search(item))), None)
            n = _value(_n(m), rules) if m else None
            if not n:
                break
            total += n
        else:
            best = max(best, total)
    return best
