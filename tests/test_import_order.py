"""The one-way flow (docs/ARCHITECTURE.md): a stage imports only itself and the stages before it.

Every module under mailbot/ is read with ast (imports inside functions and TYPE_CHECKING blocks
count too) and checked against STAGES; and parse and the shared rule book import first in a
fresh interpreter without pulling in classify.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parent.parent / "mailbot"

# The stages in flow order, each with the top-level names under mailbot/ that belong to it.
# "" is mailbot/__init__.py. Base may import only base; a stage may import itself and earlier ones.
STAGES: list[tuple[str, set[str]]] = [
    ("base", {"", "config", "config_values", "errors", "types", "database", "models", "rulebook",
              "samples"}),
    ("mailbox", {"mailbox"}),
    ("parse", {"parse"}),
    ("classify", {"classify"}),
    ("registrations", {"registrations"}),
    ("apply", {"apply"}),
    ("outbox", {"outbox"}),
    ("reports", {"reports"}),
    ("runners", {"runners"}),
    ("commands", {"commands"}),
    ("cli", {"cli", "__main__"}),
]
_RANK = {top: i for i, (_, tops) in enumerate(STAGES) for top in tops}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _top(module: str) -> str:
    """The top-level name under mailbot/ of a mailbot module ("" for the package itself)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _stage(module: str) -> int:
    return _RANK[_top(module)]


def _imported(module: str, path: Path) -> list[tuple[int, str]]:
    """(line, mailbot module) for every import of a mailbot module in this file."""
    is_package = path.name == "__init__.py"
    out: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names if a.name.split(".")[0] == "mailbot"]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                if not is_package:
                    base = base[:-1]
                base = base[:len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != "mailbot":
                continue
            for a in node.names:
                sub = f"{target}.{a.name}"
                # `from mailbot import parse` imports the module mailbot.parse
                out.append((node.lineno, sub if sub in MODULES else target))
        elif isinstance(node, ast.Call) and node.args and (
                getattr(node.func, "attr", None) == "import_module"
                or getattr(node.func, "id", None) == "import_module"):
            # importlib.import_module("mailbot.x") or f"mailbot.commands.{name}": the known prefix
            arg = node.args[0]
            if isinstance(arg, ast.JoinedStr) and arg.values:
                arg = arg.values[0]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str) \
                    and arg.value.split(".")[0] == "mailbot":
                out.append((node.lineno, arg.value.rstrip(".")))
    return out


def test_every_module_belongs_to_a_stage() -> None:
    unknown = sorted(m for m in MODULES if _top(m) not in _RANK)
    assert unknown == [], f"give these modules a stage in STAGES: {unknown}"


@pytest.mark.parametrize("module", sorted(m for m in MODULES if _top(m) in _RANK))
def test_a_module_imports_no_later_stage(module: str) -> None:
    own = _stage(module)
    later = [f"line {line}: {target} "
             f"({STAGES[_stage(target)][0] if _top(target) in _RANK else 'no stage'})"
             for line, target in _imported(module, MODULES[module])
             if _top(target) not in _RANK or _stage(target) > own]
    assert later == [], f"{module} ({STAGES[own][0]}) imports a later stage: " + "; ".join(later)

_MODULES = ["mailbot.rulebook", "mailbot.parse.text", "mailbot.parse", "mailbot.parse.machine",
            "mailbot.parse.reply", "mailbot.parse.mime", "mailbot.parse.html"]


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)


@pytest.mark.parametrize("module", _MODULES)
def test_each_parse_module_imports_first_in_a_fresh_interpreter_without_classify(module: str) -> None:
    code = (f"import sys, importlib; importlib.import_module({module!r}); "
            "bad = sorted(m for m in sys.modules if m.split('.')[:2] == ['mailbot', 'classify']);"
            "print(','.join(bad))")
    done = _run(code)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "", f"{module} pulled in {done.stdout.strip()}"


def test_classify_imports_first_and_keeps_its_public_rule_api() -> None:
    code = ("import mailbot.classify as c, mailbot.rulebook as new; "
            "assert c.load_rules is new.load_rules and c.load_default_rules is new.load_default_rules; "
            "print('ok')")
    done = _run(code)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_the_check_sees_imports_inside_functions_relative_ones_and_import_module(
        tmp_path: Path) -> None:
    path = tmp_path / "chain.py"
    path.write_text("import importlib\n"
                    "def f():\n    from mailbot.runners.worker import Worker\n"
                    "from ..outbox import compose\nfrom . import people\n"
                    "importlib.import_module(f'mailbot.commands.{f}')\n", encoding="utf-8")
    found = sorted(target for _, target in _imported("mailbot.classify.chain", path))
    assert found == ["mailbot.classify.people", "mailbot.commands", "mailbot.outbox.compose",
                     "mailbot.runners.worker"]
    assert [STAGES[_stage(t)][0] for t in found] == ["classify", "commands", "outbox", "runners"]
