"""The fast matcher of a rule section's patterns on Python's re."""

from __future__ import annotations

import re
import threading

import ahocorasick

from mailbot.rulebook.literals import required_words

_FLAGS = re.IGNORECASE | re.MULTILINE
# what is syntax, not text: escapes ("\S", "\W") and named groups ("(?P<n>", "(?P=n)"), whose
# capital letters say nothing about the case of what the pattern matches
_SYNTAX = re.compile(r"\\.|\(\?P[<=]")
_LEADING_B = "\\b"


class Matcher:
    """A compiled rule pattern that is fast on Python's re. Case-insensitive patterns run
    without re.IGNORECASE on lower-cased text, one regex per top-level alternative, each
    with a leading \\b checked after the match (an alternation of many branches, or a
    leading \\b, stops re from skipping ahead to a literal: one big alternation took 2 ms on
    a 2.5 KB text that it did not match). Before an alternative runs, a keyword pre-check:
    it needs one of a few words taken from the pattern itself ("anmeld", "teilnehm", …);
    a text holding none of them cannot match it. The keywords of all matchers are looked for
    in one scan of the text (`_KEYWORDS`), however many matchers then read it."""

    __slots__ = ("_always", "_by_mask", "_flags", "_keyword_ids", "_keywords", "_last_active",
                 "_parts", "_slow_rx", "_whole", "_whole_bounded", "pattern")

    def __init__(self, parts: list[str], case_sensitive: bool):
        parts = [alt for p in parts for alt in _top_level_alternatives(p)]
        self.pattern = "|".join(f"(?:{p})" for p in parts)
        self._flags = re.MULTILINE if case_sensitive else _FLAGS
        # compiled on first use only: most matchers run on lower-cased text and never need it
        self._slow_rx: re.Pattern[str] | None = None
        lowered = not case_sensitive and not any(
            c.isupper() for p in parts for c in _SYNTAX.sub("", p))
        # (regex on lower-cased text, leading \b stripped) per alternative
        self._parts: list[tuple[re.Pattern[str], bool]] | None = None
        # the alternatives that may match the last text (a text is searched more than once)
        self._last_active: tuple[str, list[tuple[re.Pattern[str], bool]]] | None = None
        # match() tries one position only: there one regex for all alternatives is fastest
        self._whole_bounded = lowered and all(p.startswith(_LEADING_B) for p in parts)
        self._whole = re.compile("|".join(
            f"(?:{p[2:] if self._whole_bounded else p})" for p in parts), re.MULTILINE) \
            if lowered else self._slow
        # the pre-check as bit masks: each keyword, the alternatives it lets run; `_always`,
        # those that need no keyword; the alternatives of each mask, built once
        self._keywords: dict[int, int] = {}  # keyword (its number in _KEYWORDS): bits
        self._always = 0
        self._by_mask: dict[int, list[tuple[re.Pattern[str], bool]]] = {}
        if lowered:
            self._parts = []
            for i, p in enumerate(parts):
                bounded = p.startswith(_LEADING_B)
                rx = re.compile(p[2:] if bounded else p, re.MULTILINE)
                needs = required_words(rx.pattern)
                self._parts.append((rx, bounded))
                for w in needs:
                    k = _KEYWORDS.number(w)
                    self._keywords[k] = self._keywords.get(k, 0) | 1 << i
                if not needs:
                    self._always |= 1 << i
        self._keyword_ids = frozenset(self._keywords)

    @property
    def _slow(self) -> re.Pattern[str]:
        if self._slow_rx is None:
            self._slow_rx = re.compile(self.pattern, self._flags)
        return self._slow_rx

    def _lowered(self, text: str) -> str | None:
        if self._parts is None:
            return None
        low = _lower(text)
        return low if len(low) == len(text) else None  # a few letters grow ("İ")

    @staticmethod
    def _ok(text: str, m: re.Match[str]) -> bool:
        i = m.start()
        return i == 0 or i >= len(text) or not (_word(text[i - 1]) and _word(text[i]))

    def _active(self, low: str) -> list[tuple[re.Pattern[str], bool]]:
        last = self._last_active
        if last is not None and last[0] is low:  # finditer: the same text again, further on
            return last[1]
        mask = self._always
        if self._keyword_ids:  # a matcher whose alternatives all need no keyword: no scan
            keywords = self._keywords
            for k in self._keyword_ids.intersection(_KEYWORDS.found(low)):
                mask |= keywords[k]
        out = self._by_mask.get(mask)
        if out is None:
            out = [part for i, part in enumerate(self._parts or ()) if mask >> i & 1]
            if len(self._by_mask) < _MASKS_KEPT:
                self._by_mask[mask] = out
        self._last_active = (low, out)
        return out

    def search(self, text: str, pos: int = 0) -> re.Match[str] | None:
        low = self._lowered(text)
        if low is None:
            return self._slow.search(text, pos)
        if len(low) - pos < _SHORT:
            return self._search_whole(low, pos)
        best: re.Match[str] | None = None
        for rx, bounded in self._active(low):
            m = rx.search(low, pos)
            while m is not None and bounded and not self._ok(low, m):
                m = rx.search(low, m.start() + 1)
            if m is not None and (best is None or m.start() < best.start()):
                best = m
        return best

    def _search_whole(self, low: str, pos: int) -> re.Match[str] | None:
        m = self._whole.search(low, pos)
        while m is not None and self._whole_bounded and not self._ok(low, m):
            m = self._whole.search(low, m.start() + 1)
        return m

    def match(self, text: str, pos: int = 0) -> re.Match[str] | None:
        low = self._lowered(text)
        if low is None:
            return self._slow.match(text, pos)
        m = self._whole.match(low, pos)
        if m is not None and self._whole_bounded and not self._ok(low, m):
            return None
        return m

    def finditer(self, text: str) -> list[re.Match[str]]:
        out = []
        pos = 0
        while pos <= len(text):
            m = self.search(text, pos)
            if m is None:
                break
            out.append(m)
            pos = m.end() if m.end() > m.start() else m.start() + 1
        return out


# Below this many characters (a subject, a line) one regex for all alternatives costs less
# than the pre-check of each
_SHORT = 100
# The texts whose keywords _Keywords keeps (a mail's rules read two or three texts in turns)
_TEXTS_KEPT = 8
# The masks of active alternatives whose lists a matcher keeps (a text holds few of its keywords)
_MASKS_KEPT = 256
# The last text read and its lower case: the sections of a family, and many matchers, read one
# text after the other. One tuple, replaced at once (threads).
_last: tuple[str, str] = ("", "")


class _Keywords:
    """The pre-check keywords of every matcher, numbered, in one Aho-Corasick automaton: a
    text is scanned once for all of them (a few microseconds in C) instead of once per matcher
    and keyword in Python (a mail is read by some 30 matchers with ~25 keywords each). The
    keywords found in the last few texts are kept: a mail's rules read two or three texts
    (its body, the body without its closing, …) in turns, each as a new but equal string."""

    def __init__(self) -> None:
        self._numbers: dict[str, int] = {}
        self._automaton: ahocorasick.Automaton | None = None
        self._found: dict[str, frozenset[int]] = {}
        self._lock = threading.Lock()

    def number(self, word: str) -> int:
        with self._lock:
            k = self._numbers.get(word)
            if k is None:
                k = self._numbers[word] = len(self._numbers)
                self._automaton = None  # built again, with the new word, on next use
                self._found = {}
            return k

    def found(self, low: str) -> frozenset[int]:
        found = self._found
        got = found.get(low)
        if got is None:
            # `is None`, not `or`: an automaton is falsy while it holds no word
            automaton = self._automaton if self._automaton is not None else self._build()
            got = frozenset(k for _end, k in automaton.iter(low)) if self._numbers \
                else frozenset()  # pyahocorasick refuses to scan with no word
            if len(found) >= _TEXTS_KEPT:
                found.clear()
            found[low] = got
        return got

    def _build(self) -> ahocorasick.Automaton:
        with self._lock:
            automaton = ahocorasick.Automaton(ahocorasick.STORE_INTS)
            for word, k in self._numbers.items():
                automaton.add_word(word, k)
            automaton.make_automaton()
            self._automaton = automaton
            self._found = {}
            return automaton


_KEYWORDS = _Keywords()


def _lower(text: str) -> str:
    """text.lower(), remembered for the last text."""
    global _last
    last = _last
    if last[0] is not text:
        last = _last = (text, text.lower())
    return last[1]


def _top_level_alternatives(pattern: str) -> list[str]:
    """A pattern split at its top-level "|" (not inside groups or classes); patterns with
    named groups stay whole (a name may be defined once per pattern)."""
    if "|" not in pattern or "(?P<" in pattern:
        return [pattern]
    out, depth, start, i, in_class = [], 0, 0, 0, False
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            i += 2
            continue
        if in_class:
            in_class = c != "]"
        elif c == "[":
            in_class = True
            if pattern[i + 1:i + 2] == "]" or pattern[i + 1:i + 3] == "^]":
                i += 2 if pattern[i + 1] == "]" else 3  # "[]…]" and "[^]…]": ] is a member
                continue
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif c == "|" and depth == 0:
            out.append(pattern[start:i])
            start = i + 1
        i += 1
    out.append(pattern[start:])
    return out if all(out) else [pattern]


def _word(c: str) -> bool:
    return c.isalnum() or c == "_"


