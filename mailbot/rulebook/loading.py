"""Read and validate the TOML rule files of a rules directory (and its language folders)."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from mailbot.errors import RulesError
from mailbot.rulebook.book import Rules, Section
from mailbot.rulebook.matcher import Matcher

# Keys a section may carry; anything else is a typo worth reporting.
_KEYS = {"description", "patterns", "words", "numbers", "weights", "match", "no_match",
         "case_sensitive", "multiline"}
# A pattern may name another section: {{names.title.academic}} stands for its words (or its
# patterns) as one group, {{names.title.academic:dotted}} for its words ending in "." only,
# {{…:plain}} for those without. So a list is written once and the patterns that need it
# are built from it.
_REFERENCE = re.compile(r"\{\{([\w.]+)(?::(dotted|plain))?\}\}")
# Files in the language folders that their own module reads (not rule sections)
_OWN_READER = {"clauses.toml"}  # mailbot/classify/clause_words.py
# (file, its text, section name, raw table) of every section of a rules directory
Raw = tuple[Path, str, str, dict[str, Any]]


def _line_of(text: str, needle: str, fallback: int) -> int:
    """1-based line of `needle` in the file text (for semantic errors tomllib cannot place)."""
    probe = needle.strip().splitlines()[0][:40] if needle.strip() else ""
    if probe:
        pos = text.find(probe)
        if pos >= 0:
            return text.count("\n", 0, pos) + 1
    return fallback


def _header_line(text: str, name: str) -> int:
    name = name if f"[{name}]" in text else name.rpartition(".")[0]  # a language folder's
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


def _words_group(words: Iterable[str]) -> str:
    """An alternation of words, longest first (as a greedy "Herrn?" tries "Herrn" first);
    capitalised, for the case-sensitive patterns that look for "Frau" before a name."""
    ordered = sorted({w[:1].upper() + w[1:] for w in words}, key=lambda w: (-len(w), w))
    return "(?:" + "|".join(re.escape(w) for w in ordered) + ")"


def _expand(pattern: str, raws: Mapping[str, Raw], where: str, seen: tuple[str, ...] = ()) -> str:
    def one(m: re.Match[str]) -> str:
        name, only = m.group(1), m.group(2)
        family = [r for n, r in raws.items() if n == name or n.startswith(name + ".")]
        if not family or name in seen:
            raise RulesError(f"{where}: {{{{{name}}}}} names no section"
                             if not family else f"{where}: {{{{{name}}}}} refers to itself")
        words = [str(w).casefold() for r in family for w in r[3].get("words", [])]
        if words:
            if only:
                words = [w for w in words if w.endswith(".") == (only == "dotted")]
            return _words_group(words)
        parts = [_expand(str(p), raws, where, (*seen, name)) for r in family
                 for p in r[3].get("patterns", [])]
        return "(?:" + "|".join(parts) + ")"

    return _REFERENCE.sub(one, pattern)


def _section(path: Path, text: str, name: str, raw: dict[str, Any],
             raws: Mapping[str, Raw]) -> Section:
    line = _header_line(text, name)
    where = f"{path}:{line}: [{name}]"
    unknown = {k for k, v in raw.items() if not isinstance(v, dict)} - _KEYS
    if unknown:
        raise RulesError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    if "description" not in raw or not str(raw["description"]).strip():
        raise RulesError(f"{where}: needs a one-line description")
    patterns = tuple(_expand(p, raws, where, (name,))
                     for p in _strings(raw.get("patterns", []), "patterns", where))
    words = _strings(raw.get("words", []), "words", where)
    numbers_raw = raw.get("numbers", {})
    if not isinstance(numbers_raw, dict) or not all(
            isinstance(v, int) and not isinstance(v, bool) for v in numbers_raw.values()):
        raise RulesError(f"{where}: numbers must map words to whole numbers")
    weights = raw.get("weights", {})
    if not isinstance(weights, dict) or not all(
            isinstance(v, int | float) and not isinstance(v, bool) for v in weights.values()):
        raise RulesError(f"{where}: weights must map names to numbers")
    if not (patterns or words or numbers_raw or weights):
        raise RulesError(f"{where}: needs patterns, words, numbers or weights")
    case_sensitive = raw.get("case_sensitive", False)
    multiline = raw.get("multiline", False)
    if not isinstance(case_sensitive, bool) or not isinstance(multiline, bool):
        raise RulesError(f"{where}: case_sensitive and multiline must be true or false")
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
        case_sensitive=case_sensitive, multiline=multiline, regexes=tuple(regexes),
        weights={k: float(v) for k, v in weights.items()},
    )


def _raw_file(path: Path) -> list[Raw]:
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
    return [(path, text, name, raw) for name, raw in _sections_of(data)]


def load_file(path: Path) -> dict[str, Section]:
    """One rule file's sections; raises RulesError naming file and line."""
    raws = {r[2]: r for r in _raw_file(path)}
    return {name: _section(*r, raws) for name, r in raws.items()}


def load_rules(rules_dir: Path) -> Rules:
    """Load and validate every `*.toml` in `rules_dir` and its folders (`de/`, `en/`: the
    words of one language); a section name may be defined once."""
    rules_dir = Path(rules_dir)
    if not rules_dir.is_dir():
        raise RulesError(f"rules directory {rules_dir} does not exist")
    raws: dict[str, Raw] = {}
    paths = sorted(rules_dir.glob("*.toml")) + sorted(
        p for p in rules_dir.glob("*/*.toml") if p.name not in _OWN_READER)
    for path in paths:
        for raw in _raw_file(path):
            if path.parent != rules_dir:  # rules/de/names.toml: [names.title] is names.title.de
                raw = (raw[0], raw[1], f"{raw[2]}.{path.parent.name}", raw[3])
            name = raw[2]
            if name in raws:
                first = raws[name]
                raise RulesError(f"{path}:{_header_line(raw[1], name)}: [{name}] is already "
                                 f"defined in {first[0]}:{_header_line(first[1], name)}")
            raws[name] = raw
    sections = {name: _section(*raw, raws) for name, raw in raws.items()}
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
