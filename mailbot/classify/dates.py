"""Dates people write ("am 25.02.", "6./7. Mai", "16 September", "im Februar") as (day, month)."""

from __future__ import annotations

import re
from dataclasses import dataclass

# Calendar words, not rules: they do not change with the events or the wording of mails.
MONTHS = {
    "januar": 1, "jan": 1, "january": 1, "februar": 2, "feb": 2, "february": 2, "märz": 3,
    "maerz": 3, "mär": 3, "march": 3, "mar": 3, "april": 4, "apr": 4, "mai": 5, "may": 5,
    "juni": 6, "jun": 6, "june": 6, "juli": 7, "jul": 7, "july": 7, "august": 8, "aug": 8,
    "september": 9, "sept": 9, "sep": 9, "oktober": 10, "okt": 10, "october": 10, "oct": 10,
    "november": 11, "nov": 11, "dezember": 12, "dez": 12, "december": 12, "dec": 12,
}
_M = "|".join(sorted(MONTHS, key=len, reverse=True))
_NUMERIC = re.compile(r"(?<![\d.])(\d{1,2})\.\s?(?:/\s?(\d{1,2})\.\s?)?(\d{1,2})\.(?:\s?(\d{2,4}))?"
                      r"(?![\d])")
_ISO = re.compile(r"\b(20\d\d)-(\d\d)-(\d\d)\b")
_NAMED = re.compile(rf"(?<![\d.])(\d{{1,2}})\.?(?:\s*(?:/|-|–|und|bis|&|and|to)\s*(\d{{1,2}})\.?)?"
                    rf"\s*(?:of\s+)?({_M})\b\.?")
_NAMED_EN = re.compile(rf"\b({_M})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?\b")
# Alone, only full month names count ("may" is a verb, "Mar" a name).
_FULL = [m for m in MONTHS if len(m) > 4 or m in ("mai", "juni", "juli", "june", "july")]
_MONTH_ONLY = re.compile(rf"\b({'|'.join(_FULL)})\b")
# Vaguer hints name a span of months: a season, a half of the year, its start or end.
SPANS = {
    "frühjahr": (3, 4, 5), "frühling": (3, 4, 5), "spring": (3, 4, 5),
    "sommer": (6, 7, 8), "summer": (6, 7, 8), "herbst": (9, 10, 11), "autumn": (9, 10, 11),
    "winter": (12, 1, 2), "ersten halbjahr": (1, 2, 3, 4, 5, 6),
    "erste halbjahr": (1, 2, 3, 4, 5, 6), "first half": (1, 2, 3, 4, 5, 6),
    "zweiten halbjahr": (7, 8, 9, 10, 11, 12), "zweite halbjahr": (7, 8, 9, 10, 11, 12),
    "second half": (7, 8, 9, 10, 11, 12), "jahresanfang": (1, 2), "anfang des jahres": (1, 2),
    "beginning of the year": (1, 2), "jahresende": (11, 12), "ende des jahres": (11, 12),
    "end of the year": (11, 12),
}
_SPAN = re.compile(rf"\b({'|'.join(SPANS)})\b")


@dataclass(frozen=True)
class Mentions:
    days: frozenset[tuple[int, int]]  # (day, month)
    months: frozenset[int]  # months named without a day


def _ok(day: int, month: int) -> bool:
    return 1 <= day <= 31 and 1 <= month <= 12


def find_dates(text: str) -> Mentions:
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
    for m in _NAMED.finditer(text):
        mo = MONTHS[m.group(3).lower()]
        named_months.add(mo)
        for g in (m.group(1), m.group(2)):
            if g and _ok(int(g), mo):
                days.add((int(g), mo))
    for m in _NAMED_EN.finditer(text):
        mo = MONTHS[m.group(1).lower()]
        named_months.add(mo)
        if _ok(int(m.group(2)), mo):
            days.add((int(m.group(2)), mo))
    months = {MONTHS[m.group(1).lower()] for m in _MONTH_ONLY.finditer(text)}
    for m in _SPAN.finditer(text):
        months.update(SPANS[m.group(1)])
    # "Mai" alone names the month; "6./7. Mai" already gave the days
    return Mentions(frozenset(days), frozenset(months - named_months - {d[1] for d in days}))
