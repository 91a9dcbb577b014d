"""Words every match of a regex must contain (the keyword pre-check), from the pattern text.

A small reader of Python's regex syntax, enough to find required literal runs: it never
claims a word some match could lack (anything it does not understand requires nothing).
"""

from __future__ import annotations

import re
from typing import Any

_MIN_WORD = 3  # shorter words are in nearly every text: no use as a pre-check
_QUANT = re.compile(r"\{(\d*)(?:(,)(\d*))?\}")
_SIMPLE_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "f": "\f", "v": "\v", "a": "\a"}
_CLASS_ESCAPES = set("dDsSwW")
_POSITION_ESCAPES = set("bBAZ")

# A parsed item: ("lit", char) | ("sub", items) | ("branch", [items, ...])
# | ("repeat", min, items) | ("other",)
Item = tuple[Any, ...]
_OTHER: Item = ("other",)


class _Reader:
    def __init__(self, pattern: str) -> None:
        self.p, self.i = pattern, 0

    def alternatives(self) -> list[list[Item]]:
        alts = [self.sequence()]
        while self.i < len(self.p) and self.p[self.i] == "|":
            self.i += 1
            alts.append(self.sequence())
        return alts

    def branch(self) -> list[Item]:
        alts = self.alternatives()
        if len(alts) == 1:
            return alts[0]
        prefix: list[Item] = []
        # like the regex compiler: an item all alternatives start with is taken out front
        while all(alts) and all(a[0] == alts[0][0] for a in alts[1:]):
            prefix.append(alts[0][0])
            alts = [a[1:] for a in alts]
        return [*prefix, ("branch", alts)] if any(alts) else prefix

    def sequence(self) -> list[Item]:
        items: list[Item] = []
        while self.i < len(self.p) and self.p[self.i] not in "|)":
            c = self.p[self.i]
            if c in "?*+{" and items:
                low = self._quantifier()
                if low is not None:
                    atom = items.pop()
                    items.append(("repeat", low, [atom]))
                    continue
            item = self.atom()
            if item[0] == "group" and not self._quantified():
                items.extend(item[1])  # a plain (?:…) is part of the sequence around it
            else:
                items.append(("sub", item[1]) if item[0] == "group" else item)
        return items

    def _quantified(self) -> bool:
        c = self.p[self.i:self.i + 1]
        return c in ("?", "*", "+") and c != "" or c == "{" and bool(_QUANT.match(self.p, self.i))

    def _quantifier(self) -> int | None:
        c = self.p[self.i]
        if c == "{":
            m = _QUANT.match(self.p, self.i)
            if not m or not (m.group(1) or m.group(3)) and m.group(2):
                return None
            self.i = m.end()
            low = int(m.group(1) or 0)
        else:
            self.i += 1
            low = 1 if c == "+" else 0
        if self.i < len(self.p) and self.p[self.i] in "?+":
            self.i += 1  # lazy or possessive: the same minimum
        return low

    def atom(self) -> Item:
        c = self.p[self.i]
        self.i += 1
        if c == "\\":
            return self._escape()
        if c == "[":
            return self._char_class()
        if c == "(":
            return self._group()
        if c in ".^$":
            return _OTHER
        return ("lit", c)

    def _escape(self) -> Item:
        if self.i >= len(self.p):
            return _OTHER
        c = self.p[self.i]
        self.i += 1
        if c in _CLASS_ESCAPES or c in _POSITION_ESCAPES or c.isdigit() or c in "xuUN":
            if c in "xuUN" or c.isdigit():
                self._skip_escape_tail(c)
            return _OTHER
        if c in _SIMPLE_ESCAPES:
            return ("lit", _SIMPLE_ESCAPES[c])
        return ("lit", c)

    def _skip_escape_tail(self, c: str) -> None:
        if c == "N" and self.p[self.i:self.i + 1] == "{":
            self.i = self.p.index("}", self.i) + 1
        else:
            width = {"x": 2, "u": 4, "U": 8}.get(c, 0)
            if c.isdigit():
                while self.i < len(self.p) and self.p[self.i].isdigit():
                    self.i += 1
            self.i += width

    def _char_class(self) -> Item:
        start = self.i
        if self.p[self.i:self.i + 1] == "^":
            self.i += 1
        if self.p[self.i:self.i + 1] == "]":
            self.i += 1
        while self.i < len(self.p) and self.p[self.i] != "]":
            self.i += 2 if self.p[self.i] == "\\" else 1
        body = self.p[start:self.i]
        self.i += 1
        # a class of one plain character is that character ("[.]")
        if len(body) == 1 and body not in "^\\":
            return ("lit", body)
        return _OTHER

    def _group(self) -> Item:
        if self.p[self.i:self.i + 1] != "?":
            return self._close(("sub", self.branch()))
        head = self.p[self.i + 1:self.i + 3]
        if head[:1] == ":" or head == "P<" or head[:1] == "<" and head[1:] not in ("=", "!"):
            if head[:1] == ":":
                self.i += 2
                return self._close(("group", self.branch()))
            else:
                self.i = self.p.index(">", self.i) + 1
            return self._close(("sub", self.branch()))
        flags = re.match(r"\?[aiLmsux-]+(:?)", self.p[self.i:])
        if flags:
            self.i += flags.end()
            if flags.group(1):
                return self._close(("sub", self.branch()))
            return self._close(_OTHER) if self.p[self.i:self.i + 1] == ")" else _OTHER
        # lookarounds, comments, back-references, conditionals: nothing required
        self.i += 1
        self.branch()
        return self._close(_OTHER)

    def _close(self, item: Item) -> Item:
        if self.p[self.i:self.i + 1] != ")":
            raise ValueError("unbalanced parenthesis")
        self.i += 1
        return item


def required_words(pattern: str) -> tuple[str, ...]:
    """Words of which every match of `pattern` contains at least one, or () when some
    alternative has none worth checking (then the regex always runs)."""
    try:
        re.compile(pattern)
        reader = _Reader(pattern)
        parsed = reader.branch()
        if reader.i != len(pattern):
            return ()
    except (re.error, ValueError, IndexError):
        return ()
    found = _required(parsed)
    if not found or min(map(len, found)) < _MIN_WORD:
        return ()
    # a word holding a shorter one adds nothing: where "invited" occurs, "invite" does
    words = sorted(found, key=len)
    return tuple(w for i, w in enumerate(words) if not any(v in w for v in words[:i]))


def _required(items: list[Item]) -> set[str] | None:
    """For a parsed sequence: the best set of literals one of which every match holds."""
    options: list[set[str]] = []
    run: list[str] = []

    def flush() -> None:
        if run:
            options.append({"".join(run)})
            run.clear()

    for item in items:
        op = item[0]
        if op == "lit":
            run.append(item[1])
            continue
        flush()
        sub: set[str] | None = None
        if op == "sub":
            sub = _required(item[1])
        elif op == "branch":
            alts = [_required(b) for b in item[1]]
            sub = set().union(*alts) if alts and all(alts) else None  # type: ignore[arg-type]
        elif op == "repeat" and item[1] >= 1:
            sub = _required(item[2])
        if sub:
            options.append(sub)
    flush()
    if not options:
        return None
    # the set whose shortest word is longest (rarest in text), then the fewest words
    return max(options, key=lambda o: (min(map(len, o)), -len(o)))
