"""The one-way flow: parse and the shared rule book never import classify (ARCHITECTURE.md)."""

from __future__ import annotations

import subprocess
import sys

import pytest

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
