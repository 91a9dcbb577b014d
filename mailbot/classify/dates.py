"""Dates people write ("am 25.02.", "6./7. Mai", "16 September", "im Februar") as (day, month)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from mailbot.rulebook import Rules

_NUMERIC = re.compile(r"(?<![\d.])(\d{1,2})\.\s?(?:/\s?(\d{1,2})\.\s?)?(\d{1,2})\.(?:\s?(\d{2,4}))?"
                      r"(?![\d])")
_ISO = re.compile(r"\b(20\d\d)-(\d\d)-(\d\d)\b")


@dataclass(frozen=True)
class Calendar:
    """The calendar words of the rules (dates.* in rules/de, rules/en) and the patterns built
    from them: month names (with their numbers) and spans of months (seasons, halves)."""

    months: dict[str, int]
    spans: dict[str, tuple[int, ...]]
    named: re.Pattern[str]
    named_en: re.Pattern[str]
    month_only: re.Pattern[str]
    span: re.Pattern[str]

    @staticmethod
    def of(rules: Rules) -> Calendar:
        return rules.derived("dates.calendar", _calendar)


def _calendar(rules: Rules) -> Calendar:
    months = rules.numbers("dates.month")
    first, length = rules.numbers("dates.span_from"), rules.numbers("dates.span_months")
    spans = {w: tuple((first[w] - 1 + i) % 12 + 1 for i in range(length[w])) for w in first}
    m = "|".join(sorted(months, key=len, reverse=True))
    # Alone, only full month names count ("may" is a verb, "Mar" a name).
    full = [w for w in months if len(w) > 4 or w in rules.words("dates.month_alone")]
    between = "|".join(re.escape(w) for w in sorted(rules.words("dates.range_word")))
    return Calendar(
        months, spans,
        named=re.compile(rf"(?<![\d.])(\d{{1,2}})\.?(?:\s*(?:/|-|–|&|{between})\s*(\d{{1,2}})\.?)?"
                         rf"\s*(?:of\s+)?({m})\b\.?"),
        named_en=re.compile(rf"\b({m})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?\b"),
        month_only=re.compile(rf"\b({'|'.join(full)})\b"),
        span=re.compile(rf"\b({'|'.join(spans)})\b"))


@dataclass(frozen=True)
class Mentions:
    days: frozenset[tuple[int, int]]  # (day, month)
    months: frozenset[int]  # months named without a day


def _ok(day: int, month: int) -> bool:
    return 1 <= day <= 31 and 1 <= month <= 12


def find_dates(text: str, cal: Calendar) -> Mentions:
    """Dates in `text`, which must be lower-cased (the patterns are, for speed)."""
    days: set[tuple[int, int]] = set()
    named_months: set[int] = set()
    for m in _NUMERIC.finditer(text):
        d1, d2, mo = int(m.group(1)), m.group(2), int(m.group(3))
        for d in (d1, int(d2) if d2 else None):
            if d is not None and _ok(d, mo):
                days.add((d, mo))
    for m in _ISO.finditer(text):
        if _ok(int(m.group(3)), int(m.group(2))):
            days.add((int(m.group(3)), int(m.group(2))))
    for m in cal.named.finditer(text):
        mo = cal.months[m.group(3).lower()]
        named_months.add(mo)
        for g in (m.group(1), m.group(2)):
            if g and _ok(int(g), mo):
                days.add((int(g), mo))
    for m in cal.named_en.finditer(text):
        mo = cal.months[m.group(1).lower()]
        named_months.add(mo)
        if _ok(int(m.group(2)), mo):
            days.add((int(m.group(2)), mo))
    months = {cal.months[m.group(1).lower()] for m in cal.month_only.finditer(text)}
    for m in cal.span.finditer(text):
        months.update(cal.spans[m.group(1)])
    # "Mai" alone names the month; "6./7. Mai" already gave the days
    return Mentions(frozenset(days), frozenset(months - named_months - {d[1] for d in days}))
