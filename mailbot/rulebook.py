"""Load and validate the TOML rule files in rules/: named word lists and regex patterns."""

from __future__ import annotations

import re
import re._constants as _C  # noqa: N812 - the regex parser's opcodes (for the pre-check)
import re._parser as _sre
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
    """A compiled rule pattern that is fast on Python's re. Case-insensitive patterns run
    without re.IGNORECASE on lower-cased text, one regex per top-level alternative, each
    with a leading \\b checked after the match (an alternation of many branches, or a
    leading \\b, stops re from skipping ahead to a literal: one big alternation took 2 ms on
    a 2.5 KB text that it did not match). Before an alternative runs, a keyword pre-check:
    it needs one of a few words taken from the pattern itself ("anmeld", "teilnehm", …);
    a text holding none of them cannot match it."""

    __slots__ = ("_parts", "_slow", "_whole", "_whole_bounded", "pattern")

    def __init__(self, parts: list[str], case_sensitive: bool):
        parts = [alt for p in parts for alt in _top_level_alternatives(p)]
        self.pattern = "|".join(f"(?:{p})" for p in parts)
        self._slow = re.compile(self.pattern, re.MULTILINE if case_sensitive else _FLAGS)
        lowered = not case_sensitive and not any(
            c.isupper() for p in parts for c in _ESCAPE.sub("", p))
        # (words one of which a match needs, regex on lower-cased text, leading \b stripped)
        self._parts: list[tuple[tuple[str, ...], re.Pattern[str], bool]] | None = None
        # match() tries one position only: there one regex for all alternatives is fastest
        self._whole_bounded = lowered and all(p.startswith(_LEADING_B) for p in parts)
        self._whole = re.compile("|".join(
            f"(?:{p[2:] if self._whole_bounded else p})" for p in parts), re.MULTILINE) \
            if lowered else self._slow
        if lowered:
            self._parts = []
            for p in parts:
                bounded = p.startswith(_LEADING_B)
                rx = re.compile(p[2:] if bounded else p, re.MULTILINE)
                self._parts.append((required_words(rx.pattern), rx, bounded))

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
        seen: dict[str, bool] = {}
        out = []
        for needs, rx, bounded in self._parts or ():
            if needs:
                for w in needs:
                    hit = seen.get(w)
                    if hit is None:
                        hit = seen[w] = w in low
                    if hit:
                        break
                else:
                    continue
            out.append((rx, bounded))
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
_last_lower: list[str] = ["", ""]


def _lower(text: str) -> str:
    """text.lower(), remembered for the last text: the sections of a family read one text
    after the other."""
    if _last_lower[0] is not text:
        _last_lower[0], _last_lower[1] = text, text.lower()
    return _last_lower[1]


_MIN_WORD = 3  # shorter words are in nearly every text: no use as a pre-check


def required_words(pattern: str) -> tuple[str, ...]:
    """Words of which every match of `pattern` contains at least one, or () when some
    alternative has none worth checking (then the regex always runs)."""
    try:
        parsed = _sre.parse(pattern)
    except re.error:
        return ()
    found = _required(list(parsed))
    if not found or min(map(len, found)) < _MIN_WORD:
        return ()
    # a word holding a shorter one adds nothing: where "invited" occurs, "invite" does
    words = sorted(found, key=len)
    return tuple(w for i, w in enumerate(words) if not any(v in w for v in words[:i]))


def _required(items: list[Any]) -> set[str] | None:
    """For a parsed sequence: the best set of literals one of which every match holds."""
    options: list[set[str]] = []
    run: list[str] = []

    def flush() -> None:
        if run:
            options.append({"".join(run)})
            run.clear()

    for op, av in items:
        if op is _C.LITERAL:
            run.append(chr(av))
            continue
        flush()
        sub: set[str] | None = None
        if op is _C.SUBPATTERN:
            sub = _required(list(av[-1]))
        elif op is _C.BRANCH:
            alts = [_required(list(b)) for b in av[1]]
            sub = set().union(*alts) if alts and all(alts) else None  # type: ignore[arg-type]
        elif op in (_C.MAX_REPEAT, _C.MIN_REPEAT, _C.POSSESSIVE_REPEAT) and av[0] >= 1:
            sub = _required(list(av[2]))
        if sub:
            options.append(sub)
    flush()
    if not options:
        return None
    # the set whose shortest word is longest (rarest in text), then the fewest words
    return max(options, key=lambda o: (min(map(len, o)), -len(o)))


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
