"""The understanding stage (mailbot/classify) holds no natural-language words: German and English
words, phrases and word lists live in rules/ (rules/de/, rules/en/, shared rules/*.toml), where
they are validated with examples, and the code only names the rule sections it reads.

The rule this test checks, on every string literal of every .py under mailbot/classify (ast):

1. Output is exempt, it is text for people, not text to understand: docstrings, the `name` and
   `description` of a rule class, the reasons of a decision (arguments of `….decide(…)` and of
   `EventMatch(…)`, what is added to `….reasons` or to a `why[…]` list, a `reason=`/`where=`
   argument, what `describe()`/`__str__` return), exception messages and log lines.
2. Every other literal is a lookup key or structure. After regex escapes (`\\b`, `\\s`, …) and
   character classes (`[A-ZÄÖÜ]`) are removed, any run of three or more letters in it is a word,
   and a literal holding a word must be one of:
   - a compound key: lower-case parts joined by ".", "_", "-" or ":" ("names.org_word",
     "only-open", "bounce_sure", ":subject", a section prefix "clause.", a mark "_url_"): a
     rule section, a weight, a reason tag;
   - one word that is an identifier somewhere in the mailbot package ("text", "subject",
     "email", "quote", the names of __all__) or a table name in the rule files ("cue" of
     [clause.cue]): a field or key of the code, not a word of a language;
   - a technical token of addresses (http, https, www, mailto), or a library option value
     (scikit-learn's "chars" step, class_weight="balanced", multiprocessing's "spawn").
So "anmeldung", r"\\b(?:ich|mich)\\b", {"strasse", "platz"} or ("im", "beim") fail; so does a
two-word phrase ("in der"), and a short word in a regex ("und", "der") counts as a word too.
"""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "mailbot"
UNDERSTANDING = PACKAGE / "classify"
RULES = PACKAGE.parent / "rules"

_ESCAPE = re.compile(r"\\[A-Za-z]")
_CLASS = re.compile(r"\[(?:\\.|[^\]\\])*\]")
_WORD = re.compile(r"[^\W\d_]{3,}")
_COMPOUND = re.compile(r"[a-z][a-z0-9]*(?:[._:-][a-z0-9]+)+\.?|:[a-z]+|[a-z][a-z0-9_]*\.|_[a-z]+_")
_TECHNICAL = {"http", "https", "www", "mailto"}
# Option values of the libraries the learned model uses (scikit-learn): not words to understand
_LIBRARY_OPTIONS = {"chars", "balanced", "spawn"}
_OUTPUT_FUNCTIONS = {"describe", "__str__", "__repr__"}
_OUTPUT_KEYWORDS = {"reason", "where"}
_OUTPUT_CALLS = {"decide", "EventMatch"}
_LOG_CALLS = {"debug", "info", "warning", "error", "exception"}  # log.info(…): a line for people
_OUTPUT_LISTS = ("reasons", "why")


def _identifiers() -> set[str]:
    """Every identifier of the package, as written and lower-cased (fields, attributes, names,
    enum members, the names __all__ lists)."""
    found: set[str] = set()
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            for attr in ("id", "attr", "arg", "name"):
                value = getattr(node, attr, None)
                if isinstance(value, str):
                    found |= {value, value.lower()}
    # and the table names of the rule files ("cue" of [clause.cue]): lookup keys
    def tables(table: dict[str, object]) -> None:
        for key, value in table.items():
            if isinstance(value, dict):
                found.add(key)
                tables(value)

    for path in RULES.rglob("*.toml"):
        tables(tomllib.loads(path.read_text(encoding="utf-8")))
    return found


def _docstrings(tree: ast.AST) -> set[int]:
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            first = node.body[0] if node.body else None
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                out.add(id(first.value))
    return out


def _is_output(node: ast.AST) -> bool:
    """Whether a statement or call is output: its literals are text for people."""
    if isinstance(node, ast.Raise):
        return True
    if isinstance(node, ast.FunctionDef) and node.name in _OUTPUT_FUNCTIONS:
        return True
    if isinstance(node, ast.keyword) and node.arg in _OUTPUT_KEYWORDS:
        return True
    if isinstance(node, ast.Assign) and len(node.targets) == 1:
        target = node.targets[0]
        return isinstance(target, ast.Name) and target.id in ("name", "description")
    if isinstance(node, ast.AugAssign):
        return isinstance(node.target, ast.Attribute) and node.target.attr in _OUTPUT_LISTS
    if isinstance(node, ast.Compare):  # "substitute" in ctx.reasons: a reason tag
        return any(isinstance(c, ast.Attribute) and c.attr in _OUTPUT_LISTS
                   for c in node.comparators)
    if isinstance(node, ast.Call):
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if name in _OUTPUT_CALLS:
            return True
        if name in _LOG_CALLS and isinstance(func, ast.Attribute) \
                and ast.unparse(func.value) in ("log", "logger", "logging"):
            return True
        if name in ("append", "extend") and isinstance(func, ast.Attribute):
            receiver = ast.unparse(func.value)
            return any(w in receiver for w in _OUTPUT_LISTS)
    return False


def _literals(path: Path) -> list[tuple[int, str]]:
    """The literals of a file that are not output: (line, text)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docs = _docstrings(tree)
    out: list[tuple[int, str]] = []

    def visit(node: ast.AST, exempt: bool) -> None:
        exempt = exempt or _is_output(node)
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if not exempt and id(node) not in docs:
                out.append((node.lineno, node.value))
            return
        for child in ast.iter_child_nodes(node):
            visit(child, exempt)

    visit(tree, False)
    return out


def words_in(literal: str, identifiers: set[str]) -> list[str]:
    """The natural-language words of one literal under the rule of the module docstring."""
    text = _CLASS.sub(" ", _ESCAPE.sub(" ", literal))
    words = _WORD.findall(text)
    if not words:
        return []
    key = literal.strip()
    if _COMPOUND.fullmatch(key) or key in _TECHNICAL or key in _LIBRARY_OPTIONS:
        return []
    if key.isidentifier() and (key in identifiers or key.islower() and key.lower() in identifiers):
        return []
    return [w for w in words if w.lower() not in _TECHNICAL]


def test_the_rule_of_this_test_tells_words_from_keys():
    ids = {"text", "subject"}
    assert words_in("names.org_word", ids) == []
    assert words_in("only-open", ids) == []
    assert words_in("subject", ids) == []
    assert words_in(r"\b(?:https?://|www\.)", ids) == []
    assert words_in(r"(?:^|\s)[A-ZÄÖÜ]\.(?:\s|$)", ids) == []
    assert words_in("anmeldung", ids) == ["anmeldung"]
    assert words_in(r"\b(?:ich|mich)\b", ids) == ["ich", "mich"]
    assert words_in("in der", ids) == ["der"]
    assert words_in("strasse", ids) == ["strasse"]


def test_log_lines_and_exception_messages_are_output_other_literals_are_not(
        tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("log.info('training failed here: %s', 1)\n"
                      "raise ValueError('no such section')\n"
                      "words.add('anmeldung')\n", encoding="utf-8")
    assert [text for _line, text in _literals(module)] == ["anmeldung"]


def test_no_python_module_of_the_understanding_stage_holds_natural_language_words():
    identifiers = _identifiers()
    found = []
    for path in sorted(UNDERSTANDING.rglob("*.py")):
        for line, literal in _literals(path):
            words = words_in(literal, identifiers)
            if words:
                found.append(f"{path.relative_to(PACKAGE.parent)}:{line}: {literal[:60]!r} "
                             f"({', '.join(words[:4])})")
    assert found == [], "words belong in rules/ (see this test's docstring):\n" + "\n".join(found)
