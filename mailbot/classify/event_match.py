"""Which event a mail is about: plus-address, our Message-IDs, aliases, dates, city, venue."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from mailbot.classify.dates import Calendar, find_dates
from mailbot.parse.text import skeleton
from mailbot.rulebook import Rules
from mailbot.types import EventInfo, InboundMail, slug_from_own_id

_PLUS = re.compile(r"^[^@+]+\+([a-z0-9_-]+)@", re.I)
_WORD = re.compile(r"[a-z0-9]+")
# Evidence weights: a name of the event decides; a date nearly; a city or a month helps.
W_ALIAS, W_DATE, W_VENUE, W_CITY, W_TITLE_WORD, W_MONTH = 10.0, 6.0, 4.0, 4.0, 2.0, 3.0
# How much each part of the mail counts: what the sender wrote beats what they quoted.
W_SUBJECT, W_TEXT, W_QUOTE = 1.0, 1.0, 0.35


@dataclass(frozen=True)
class _Profile:
    slug: str
    aliases: tuple[re.Pattern[str], ...]
    title_words: frozenset[str]
    city: str
    venue_words: frozenset[str]
    days: frozenset[tuple[int, int]]
    months: frozenset[int]


@dataclass(frozen=True)
class EventMatch:
    event: str | None
    candidates: tuple[str, ...]
    reasons: tuple[str, ...]
    decided_by: str  # "plus-address", "own-id", "text", "only-open", "" (not decided)


def _phrase(text: str) -> re.Pattern[str] | None:
    key = skeleton(text).strip()
    if len(key) < 4:
        return None
    words = _WORD.findall(key)
    # no leading \b: it would stop re from skipping to the first letter; found() checks it
    return re.compile(r"[\W_]*".join(map(re.escape, words)) + r"\b") if words else None


def found(rx: re.Pattern[str], text: str) -> bool:
    """A match that starts at a word boundary ("Werkstatt", not "Frauenwerkstatt")."""
    m = rx.search(text)
    while m is not None:
        i = m.start()
        if i == 0 or not text[i - 1].isalnum():
            return True
        m = rx.search(text, i + 1)
    return False


@lru_cache(maxsize=32)
def _profiles(events: tuple[EventInfo, ...], generic: frozenset[str]) -> tuple[_Profile, ...]:
    word_sets = [set(_WORD.findall(skeleton(e.title + " " + " ".join(e.aliases))))
                 for e in events]
    out = []
    for e, words in zip(events, word_sets, strict=True):
        others = set().union(*(w for w in word_sets if w is not words))
        aliases = [p for p in (_phrase(a) for a in (e.title, *e.aliases, e.slug)) if p]
        # quoted part of a title ("Werkstattgespräch „Vernetzt in Niedersachsen 2027“")
        aliases += [p for p in (_phrase(q) for q in re.findall(r"[„\"“](.+?)[“\"”]", e.title))
                    if p]
        venue_name = e.venue.split(",")[0]
        city = skeleton(e.city)
        venue = {w for w in _WORD.findall(skeleton(venue_name))
                 if len(w) >= 5 and w not in generic and w != city}
        start, end = e.starts, max(e.ends, e.starts)
        days: set[tuple[int, int]] = set()
        day = start
        while day.date() <= end.date() and len(days) < 14:
            days.add((day.day, day.month))
            day += timedelta(days=1)
        out.append(_Profile(
            slug=e.slug, aliases=tuple(aliases),
            title_words=frozenset(w for w in words - others if len(w) >= 9 and not w.isdigit()),
            city=city, venue_words=frozenset(venue), days=frozenset(days),
            months=frozenset(m for _, m in days)))
    return tuple(out)


def _score_text(text: str, profiles: Sequence[_Profile], weight: float,
                scores: dict[str, float], why: dict[str, list[str]], where: str,
                rules: Rules) -> None:
    if not text.strip():
        return
    sk = skeleton(text)
    words = set(_WORD.findall(sk))
    dates = find_dates(text.lower(), Calendar.of(rules))
    cities = [p.city for p in profiles]
    months = [m for p in profiles for m in p.months]
    for p in profiles:
        s = 0.0
        if any(found(a, sk) for a in p.aliases):
            s += W_ALIAS
            why[p.slug].append(f"name in {where}")
        if p.title_words & words:
            s += W_TITLE_WORD
        if p.city and p.city in sk and re.search(rf"\b{re.escape(p.city)}\b", sk):
            s += W_CITY / cities.count(p.city)
            why[p.slug].append(f"city in {where}")
        if p.venue_words & words:
            s += W_VENUE
            why[p.slug].append(f"venue in {where}")
        if p.days & dates.days:
            s += W_DATE
            why[p.slug].append(f"date in {where}")
        hit_months = p.months & dates.months
        if hit_months:
            s += W_MONTH / max(months.count(m) for m in hit_months)
        scores[p.slug] += s * weight


def _decide(scores: dict[str, float]) -> str | None:
    """The clear winner: enough evidence, and well ahead of the runner-up."""
    ranked = sorted(scores.items(), key=lambda kv: -kv[1])
    s1 = ranked[0][1]
    s2 = ranked[1][1] if len(ranked) > 1 else 0.0
    return ranked[0][0] if s1 >= 3.0 and s1 >= 1.6 * s2 and s1 - s2 >= 2.0 else None


def _named_in_text(text: str, events: Sequence[EventInfo], now: datetime,
                   rules: Rules) -> str | None:
    """The open event the sender's own words name clearly (by name, or a name's worth)."""
    open_events = tuple(e for e in events if e.is_open_at(now))
    if not open_events or not text.strip():
        return None
    profiles = _profiles(open_events, rules.words("event.venue_generic"))
    scores = {p.slug: 0.0 for p in profiles}
    why: dict[str, list[str]] = {p.slug: [] for p in profiles}
    _score_text(text, profiles, W_TEXT, scores, why, "text", rules)
    decided = _decide(scores)
    return decided if decided and scores[decided] >= W_ALIAS else None


def match_event(mail: InboundMail, events: Sequence[EventInfo], now: datetime,
                subject: str, text: str, quoted: str, rules: Rules,
                text_may_override: bool = False) -> EventMatch:
    """The event the mail means, or None with the open candidates when nothing decides.
    With `text_may_override`, a reply to our mail about one event that registers for
    another by name ("melden Sie mich außerdem für den Fachtag an") goes to that one."""
    by_slug = {e.slug: e for e in events}
    for addr in mail.to:
        m = _PLUS.match(addr)
        if m and m.group(1).lower() in by_slug:
            return EventMatch(m.group(1).lower(), (), ("plus-address",), "plus-address")
    for mid in mail.in_reply_to:
        slug = slug_from_own_id(mid)
        if slug and slug in by_slug:
            other = _named_in_text(text, events, now, rules) if text_may_override else None
            if other and other != slug:
                return EventMatch(other, (), ("named in a reply to our mail",), "text")
            return EventMatch(slug, (), ("reply to our mail",), "own-id")
    best = _match_open(mail, events, now, subject, text, quoted, rules)
    if best.decided_by in ("text", "quote"):
        return best
    # A mail that names an event which has started or closed by now ("morgen komme ich zum
    # zweiten Tag des Fachtags") means that one: the answer is "closed", not "which event?".
    # Only a name counts: vague references (dates, a city, "im Herbst") stay with open events.
    closed = _named_closed(events, now, subject, text, rules)
    return EventMatch(closed, (), ("names an event that is closed",), "text") if closed else best


def _named_closed(events: Sequence[EventInfo], now: datetime, subject: str,
                  text: str, rules: Rules) -> str | None:
    if all(e.is_open_at(now) for e in events):
        return None
    profiles = _profiles(tuple(events), rules.words("event.venue_generic"))
    open_slugs = {e.slug for e in events if e.is_open_at(now)}
    # the sender's own words first: a subject may repeat ours about another event
    for where in (text, subject + "\n" + text):
        words = skeleton(where)
        named = [p.slug for p in profiles if any(found(a, words) for a in p.aliases)]
        if named:
            return named[0] if len(named) == 1 and named[0] not in open_slugs else None
    return None


# "zu Punkt 2", "Nr. 2", "item 2": a numbered item of a quoted list (event.item_ref)
_ITEM_LINE = re.compile(r"^[>\s]*(\d{1,2})[.)]\s+(\S.*)$")


def _numbered_item(text: str, quoted: str, rules: Rules) -> str:
    """The text of the quoted list item the sender points at by its number, or ""."""
    refs = {m.group(1) for m in rules.regex("event.item_ref").finditer(text)}
    if len(refs) != 1 or not quoted:
        return ""
    want = refs.pop()
    for line in quoted.split("\n"):
        m = _ITEM_LINE.match(line)
        if m and m.group(1) == want:
            return m.group(2)
    return ""


def _match_open(mail: InboundMail, events: Sequence[EventInfo], now: datetime,
                subject: str, text: str, quoted: str, rules: Rules) -> EventMatch:
    open_events = tuple(e for e in events if e.is_open_at(now))
    if not open_events:
        return EventMatch(None, (), ("no event open",), "")
    profiles = _profiles(open_events, rules.words("event.venue_generic"))
    scores = {p.slug: 0.0 for p in profiles}
    why: dict[str, list[str]] = {p.slug: [] for p in profiles}
    own = dict.fromkeys(scores, 0.0)
    own_why: dict[str, list[str]] = {p.slug: [] for p in profiles}
    _score_text(text, profiles, W_TEXT, own, own_why, "text", rules)
    if subject != mail.subject.strip():
        # "Re: Anmeldebestätigung – X" repeats the subject of what is answered; the sender's
        # own words, when they name one event clearly, come first
        decided = _decide(own)
        if decided and own[decided] >= W_ALIAS:
            return EventMatch(decided, (), tuple(own_why[decided]), "text")
    _score_text(subject, profiles, W_SUBJECT, scores, why, "subject", rules)
    for slug, s in own.items():
        scores[slug] += s
        why[slug] += own_why[slug]
    # What the sender wrote decides when it points at one event; the quote only when it does not
    decided = _decide(scores)
    if decided:
        return EventMatch(decided, (), tuple(why[decided]), "text")
    item = _numbered_item(text, quoted[:3000], rules)
    if item:
        # "Zu Punkt 2 melde ich mich an" under a quoted list: only that item counts
        picked = dict.fromkeys(scores, 0.0)
        picked_why: dict[str, list[str]] = {p.slug: [] for p in profiles}
        _score_text(item, profiles, W_TEXT, picked, picked_why,
                    where="numbered item in the quote", rules=rules)
        decided = _decide(picked)
        if decided:
            return EventMatch(decided, (), tuple(picked_why[decided]), "quote")
    _score_text(quoted[:3000], profiles, W_QUOTE, scores, why, "quote", rules)
    ranked = sorted(scores.items(), key=lambda kv: -kv[1])
    best, s1 = ranked[0]
    decided = _decide(scores)
    if decided:
        return EventMatch(decided, (), tuple(why[decided]), "quote")
    if s1 < 1.0 and len(open_events) == 1:
        return EventMatch(open_events[0].slug, (), ("the only open event",), "only-open")
    if s1 < 1.0:
        return EventMatch(None, tuple(e.slug for e in open_events), ("nothing names an event",),
                          "")
    close = tuple(slug for slug, s in ranked if s >= s1 / 1.6 and s > 0)
    return EventMatch(None, close, ("several events fit",), "")
