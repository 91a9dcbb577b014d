"""The loaded rules: sections by dotted name, and the matchers and word lists they give."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar, cast

from mailbot.rulebook.matcher import Matcher

T = TypeVar("T")


@dataclass(frozen=True)
class Section:
    """One named rule: either regex `patterns`, plain `words`, or `numbers` (word -> value)."""

    name: str
    file: Path
    line: int
    description: str
    patterns: tuple[str, ...] = ()
    words: frozenset[str] = frozenset()
    numbers: Mapping[str, int] = field(default_factory=dict)
    match: tuple[str, ...] = ()
    no_match: tuple[str, ...] = ()
    weights: Mapping[str, float] = field(default_factory=dict)
    case_sensitive: bool = False
    multiline: bool = False
    regexes: tuple[Matcher, ...] = ()

    def hits(self, text: str) -> bool:
        """Whether an example text is matched by this section."""
        if self.regexes:
            return any(rx.search(text) for rx in self.regexes)
        key = text.casefold().strip()
        return key in self.words or key in self.numbers or key in self.weights


@dataclass(frozen=True)
class Rules:
    """All sections of all rule files, by dotted name ("register.de")."""

    sections: Mapping[str, Section]
    directory: Path
    _cache: dict[str, Matcher] = field(default_factory=dict, repr=False, compare=False)
    _derived: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    _plain: dict[str, re.Pattern[str]] = field(default_factory=dict, repr=False, compare=False)
    _words: dict[str, frozenset[str]] = field(default_factory=dict, repr=False, compare=False)
    _numbers: dict[str, dict[str, int]] = field(default_factory=dict, repr=False, compare=False)
    _weights: dict[str, Mapping[str, float]] = field(default_factory=dict, repr=False,
                                                     compare=False)
    _families: dict[str, tuple[Section, ...]] = field(default_factory=dict, repr=False,
                                                      compare=False)

    def _family(self, name: str) -> tuple[Section, ...]:
        """The section and its language variants; looked up once per name (classify asks for
        a few sections' weights and patterns per mail)."""
        found = self._families.get(name)
        if found is None:
            found = tuple(s for n, s in self.sections.items()
                          if n == name or n.startswith(name + "."))
            if not found:
                raise KeyError(f"no rule section {name!r} in {self.directory}")
            self._families[name] = found
        return found

    def pattern(self, name: str) -> Matcher:
        """The section's patterns (and those of its language variants) as one matcher."""
        rx = self._cache.get(name)
        if rx is None:
            family = self._family(name)
            parts = [p for s in family for p in s.patterns]
            if not parts:
                raise KeyError(f"rule section {name!r} has no patterns")
            rx = self._cache[name] = Matcher(parts, all(s.case_sensitive for s in family))
        return rx

    def any_of(self, *names: str) -> Matcher:
        """One matcher for the patterns of several sections (one call instead of several)."""
        key = "|".join(names)
        rx = self._cache.get(key)
        if rx is None:
            family = [s for n in names for s in self._family(n)]
            rx = self._cache[key] = Matcher([p for s in family for p in s.patterns],
                                            all(s.case_sensitive for s in family))
        return rx

    def regex(self, name: str) -> re.Pattern[str]:
        """The section's patterns as one plain compiled regex (groups numbered as written):
        re.IGNORECASE unless case_sensitive, re.MULTILINE only when the section says so."""
        rx = self._plain.get(name)
        if rx is None:
            family = self._family(name)
            parts = [p for s in family for p in s.patterns]
            if not parts:
                raise KeyError(f"rule section {name!r} has no patterns")
            flags = (0 if all(s.case_sensitive for s in family) else re.IGNORECASE) | (
                re.MULTILINE if any(s.multiline for s in family) else 0)
            rx = self._plain[name] = re.compile(
                parts[0] if len(parts) == 1 else "|".join(f"(?:{p})" for p in parts), flags)
        return rx

    def derived(self, key: str, make: Callable[[Rules], T]) -> T:
        """What a module builds from these rules (its compiled patterns), built once."""
        if key not in self._derived:
            self._derived[key] = make(self)
        return cast(T, self._derived[key])

    def weights(self, name: str) -> Mapping[str, float]:
        """Named numbers (confidence factors and the like) of a section and its variants."""
        found: Mapping[str, float] | None = self._weights.get(name)
        if found is None:
            merged: dict[str, float] = {}
            for s in self._family(name):
                merged.update(s.weights)
            if not merged:
                raise KeyError(f"rule section {name!r} has no weights")
            found = self._weights[name] = MappingProxyType(merged)
        return found

    def patterns(self, name: str) -> list[Matcher]:
        """Each pattern on its own (for patterns with named groups such as (?P<n>…))."""
        return [rx for s in self._family(name) for rx in s.regexes]

    def words(self, name: str) -> frozenset[str]:
        found = self._words.get(name)
        if found is None:
            found = self._words[name] = frozenset().union(*(s.words for s in self._family(name)))
        return found

    def numbers(self, name: str) -> dict[str, int]:
        found = self._numbers.get(name)
        if found is None:
            found = self._numbers[name] = {}
            for s in self._family(name):
                found.update(s.numbers)
        return found

    def has(self, name: str) -> bool:
        return any(n == name or n.startswith(name + ".") for n in self.sections)


