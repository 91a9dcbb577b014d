"""Load and validate the TOML rule files in rules/: named word lists and regex patterns."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from mailbot.errors import RulesError

# Keys a section may carry; anything else is a typo worth reporting.
_KEYS = {"description", "patterns", "words", "numbers", "match", "no_match", "case_sensitive"}
_FLAGS = re.IGNORECASE | re.MULTILINE
_ESCAPE = re.compile(r"\\.")
_LEADING_B = "\\b"


class Matcher:
    """A compiled rule pattern that is fast on Python's re: case-insensitive patterns run
    without re.IGNORECASE on lower-cased text, and a leading \\b is checked after the match
    (both would stop re from skipping ahead to the first literal)."""

    __slots__ = ("_fast", "_slow", "_bounded", "pattern")

    def __init__(self, parts: list[str], case_sensitive: bool):
        # A pattern "\ba…|\bb…" holds two alternatives: each must lose its leading word
        # boundary, or the one left slows every pattern joined with it
        parts = [alt for p in parts for alt in _top_level_alternatives(p)]
        self.pattern = "|".join(f"(?:{p})" for p in parts)
        self._slow = re.compile(self.pattern, re.MULTILINE if case_sensitive else _FLAGS)
        lowered = not case_sensitive and not any(
            c.isupper() for p in parts for c in _ESCAPE.sub("", p))
        self._bounded = lowered and all(p.startswith(_LEADING_B) for p in parts)
        if lowered:
            fast = [p[2:] if self._bounded else p for p in parts]
            self._fast: re.Pattern[str] | None = re.compile(
                "|".join(f"(?:{p})" for p in fast), re.MULTILINE)
        else:
            self._fast = None

    def _prepare(self, text: str) -> tuple[re.Pattern[str], str]:
        if self._fast is None:
            return self._slow, text
        low = text.lower()
        if len(low) != len(text):  # a few letters grow when lower-cased ("İ")
            return self._slow, text
        return self._fast, low

    def _ok(self, text: str, m: re.Match[str]) -> bool:
        i = m.start()
        return i == 0 or i >= len(text) or not (_word(text[i - 1]) and _word(text[i]))

    def search(self, text: str, pos: int = 0) -> re.Match[str] | None:
        rx, t = self._prepare(text)
        m = rx.search(t, pos)
        if rx is self._fast and self._bounded:
            while m is not None and not self._ok(t, m):
                m = rx.search(t, m.start() + 1)
        return m

    def match(self, text: str, pos: int = 0) -> re.Match[str] | None:
        rx, t = self._prepare(text)
        m = rx.match(t, pos)
        if m is not None and rx is self._fast and self._bounded and not self._ok(t, m):
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
    case_sensitive: bool = False
    regexes: tuple[Matcher, ...] = ()

    def hits(self, text: str) -> bool:
        """Whether an example text is matched by this section."""
        if self.regexes:
            return any(rx.search(text) for rx in self.regexes)
        key = text.casefold().strip()
        return key in self.words or key in self.numbers


@dataclass(frozen=True)
class Rules:
    """All sections of all rule files, by dotted name ("register.de")."""

    sections: Mapping[str, Section]
    directory: Path
    _cache: dict[str, Matcher] = field(default_factory=dict, repr=False, compare=False)
    _words: dict[str, frozenset[str]] = field(default_factory=dict, repr=False, compare=False)
    _numbers: dict[str, dict[str, int]] = field(default_factory=dict, repr=False, compare=False)

    def _family(self, name: str) -> list[Section]:
        found = [s for n, s in self.sections.items() if n == name or n.startswith(name + ".")]
        if not found:
            raise KeyError(f"no rule section {name!r} in {self.directory}")
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


def _line_of(text: str, needle: str, fallback: int) -> int:
    """1-based line of `needle` in the file text (for semantic errors tomllib cannot place)."""
    probe = needle.strip().splitlines()[0][:40] if needle.strip() else ""
    if probe:
        pos = text.find(probe)
        if pos >= 0:
            return text.count("\n", 0, pos) + 1
    return fallback


def _header_line(text: str, name: str) -> int:
    pos = text.find(f"[{name}]")
    if pos >= 0:
        return text.count("\n", 0, pos) + 1
    head = name.split(".")[0]
    pos = text.find(f"[{head}")
    return text.count("\n", 0, pos) + 1 if pos >= 0 else 1


def _strings(value: Any, what: str, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise RulesError(f"{where}: {what} must be a list of strings")
    return tuple(value)


def _sections_of(table: Mapping[str, Any], prefix: str = "") -> Iterable[tuple[str, dict]]:
    """Flatten nested tables: a table holding rule keys is a section, others are namespaces."""
    for key, value in table.items():
        if not isinstance(value, dict):
            continue
        name = f"{prefix}{key}"
        if _KEYS & set(value):
            yield name, value
        else:
            yield from _sections_of(value, name + ".")


def _section(path: Path, text: str, name: str, raw: dict[str, Any]) -> Section:
    line = _header_line(text, name)
    where = f"{path}:{line}: [{name}]"
    unknown = {k for k, v in raw.items() if not isinstance(v, dict)} - _KEYS
    if unknown:
        raise RulesError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    if "description" not in raw or not str(raw["description"]).strip():
        raise RulesError(f"{where}: needs a one-line description")
    patterns = _strings(raw.get("patterns", []), "patterns", where)
    words = _strings(raw.get("words", []), "words", where)
    numbers_raw = raw.get("numbers", {})
    if not isinstance(numbers_raw, dict) or not all(
            isinstance(v, int) and not isinstance(v, bool) for v in numbers_raw.values()):
        raise RulesError(f"{where}: numbers must map words to whole numbers")
    if not (patterns or words or numbers_raw):
        raise RulesError(f"{where}: needs patterns, words or numbers")
    case_sensitive = raw.get("case_sensitive", False)
    if not isinstance(case_sensitive, bool):
        raise RulesError(f"{where}: case_sensitive must be true or false")
    regexes = []
    for p in patterns:
        try:
            regexes.append(Matcher([p], case_sensitive))
        except re.error as exc:
            ln = _line_of(text, p, line)
            raise RulesError(f"{path}:{ln}: [{name}] bad pattern {p!r}: {exc}") from None
    return Section(
        name=name, file=path, line=line, description=str(raw["description"]).strip(),
        patterns=patterns, words=frozenset(w.casefold() for w in words),
        numbers={k.casefold(): v for k, v in numbers_raw.items()},
        match=_strings(raw.get("match", []), "match", where),
        no_match=_strings(raw.get("no_match", []), "no_match", where),
        case_sensitive=case_sensitive, regexes=tuple(regexes),
    )


def load_file(path: Path) -> dict[str, Section]:
    """One rule file's sections; raises RulesError naming file and line."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RulesError(f"{path}: cannot read ({exc})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"at line (\d+)", str(exc))
        line = int(m.group(1)) if m else text.count("\n") + 1  # "at end of document"
        raise RulesError(f"{path}:{line}: {exc}") from None
    return {name: _section(path, text, name, raw) for name, raw in _sections_of(data)}


def load_rules(rules_dir: Path) -> Rules:
    """Load and validate every `*.toml` in `rules_dir`; a section name may be defined once."""
    rules_dir = Path(rules_dir)
    if not rules_dir.is_dir():
        raise RulesError(f"rules directory {rules_dir} does not exist")
    sections: dict[str, Section] = {}
    for path in sorted(rules_dir.glob("*.toml")):
        for name, sec in load_file(path).items():
            if name in sections:
                raise RulesError(f"{path}:{sec.line}: [{name}] is already defined in "
                                 f"{sections[name].file}:{sections[name].line}")
            sections[name] = sec
    missing = [n for n in REQUIRED if not any(s == n or s.startswith(n + ".") for s in sections)]
    if missing:
        raise RulesError(f"{rules_dir}: missing rule section(s) {', '.join(missing)}")
    return Rules(sections=sections, directory=rules_dir)


def example_failures(rules: Rules) -> list[str]:
    """Every `match` example a section misses and every `no_match` it hits, as messages."""
    out = []
    for s in rules.sections.values():
        out += [f"{s.file.name}:{s.line}: [{s.name}] misses {ex!r}" for ex in s.match
                if not s.hits(ex)]
        out += [f"{s.file.name}:{s.line}: [{s.name}] wrongly matches {ex!r}" for ex in s.no_match
                if s.hits(ex)]
    return out


@lru_cache(maxsize=1)
def load_default_rules() -> Rules:
    """The rules in `mailbot.config.default_rules_dir()`, loaded once per process."""
    from mailbot.config import default_rules_dir

    return load_rules(default_rules_dir())


# The sections the code relies on; a rules directory without them is refused at start.
REQUIRED = (
    "quote.header", "quote.opener", "quote.from_line", "quote.field_line", "quote.separator",
    "signature.delimiter", "signature.mobile", "signature.closing", "signature.disclaimer",
    "machine.auto_subject", "machine.auto_body", "machine.bounce_subject", "machine.bounce_sender",
    "machine.bounce_body", "machine.delay", "machine.absence", "machine.human_request",
    "intent.register", "intent.cancel", "intent.erase", "intent.question_request",
    "intent.invitation", "intent.substitute", "intent.self", "intent.self_absent",
    "intent.yes", "intent.no",
    "seats.number", "seats.group", "seats.companions",
    "question.topic", "question.ask",
    "names.title", "names.not_name", "names.org_word",
    "language.de", "language.en",
)
