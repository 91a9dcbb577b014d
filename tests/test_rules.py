"""The rule files in rules/: their examples hold, and broken files are refused with file and line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from mailbot.classify import example_failures, load_default_rules, load_rules
from mailbot.config import default_rules_dir
from mailbot.errors import RulesError


@pytest.fixture
def rules_copy(tmp_path: Path) -> Path:
    target = tmp_path / "rules"
    shutil.copytree(default_rules_dir(), target)
    return target


def test_every_rule_file_example_holds():
    assert example_failures(load_default_rules()) == []


def test_every_section_carries_examples():
    rules = load_default_rules()
    assert [n for n, s in rules.sections.items() if not (s.match or s.no_match)] == []


def test_the_default_rules_are_loaded_once():
    assert load_default_rules() is load_default_rules()


def test_a_toml_syntax_error_names_file_and_line(rules_copy: Path):
    (rules_copy / "broken.toml").write_text('[x]\ndescription = "ok"\npatterns = ["a"\n')
    with pytest.raises(RulesError, match=r"broken\.toml:4: "):
        load_rules(rules_copy)


def test_a_bad_regex_names_file_and_line(rules_copy: Path):
    (rules_copy / "extra.toml").write_text(
        '# comment\n[extra.thing]\ndescription = "a rule"\npatterns = [\n  \'\'\'ok\'\'\',\n'
        '  \'\'\'(unclosed\'\'\',\n]\n')
    with pytest.raises(RulesError, match=r"extra\.toml:6: \[extra\.thing\] bad pattern"):
        load_rules(rules_copy)


def test_a_section_without_description_is_refused(rules_copy: Path):
    (rules_copy / "extra.toml").write_text('\n\n[extra.thing]\npatterns = ["a"]\n')
    with pytest.raises(RulesError, match=r"extra\.toml:3: \[extra\.thing\]: needs a one-line"):
        load_rules(rules_copy)


def test_an_unknown_key_is_refused(rules_copy: Path):
    (rules_copy / "extra.toml").write_text('[extra.thing]\ndescription = "d"\npatern = ["a"]\n')
    with pytest.raises(RulesError, match="unknown key.*patern"):
        load_rules(rules_copy)


def test_a_section_defined_twice_is_refused(rules_copy: Path):
    (rules_copy / "zz.toml").write_text('[intent.erase]\ndescription = "d"\npatterns = ["x"]\n')
    with pytest.raises(RulesError, match=r"zz\.toml:1: \[intent\.erase\] is already defined in"):
        load_rules(rules_copy)


def test_a_missing_required_section_is_refused(rules_copy: Path):
    (rules_copy / "seats.toml").unlink()
    with pytest.raises(RulesError, match="missing rule section.*seats.number"):
        load_rules(rules_copy)


def test_a_failing_example_is_reported_with_file_and_line(rules_copy: Path):
    (rules_copy / "extra.toml").write_text(
        '[extra.thing]\ndescription = "d"\npatterns = ["\\\\banmeldung\\\\b"]\n'
        'match = ["Abmeldung"]\n')
    failures = example_failures(load_rules(rules_copy))
    assert failures == ["extra.toml:1: [extra.thing] misses 'Abmeldung'"]


def test_a_rule_edit_changes_behaviour(rules_copy: Path):
    from mailbot.classify import classify
    from mailbot.parse import parse

    data = (b"From: a@b.example\r\nSubject: x\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
            b"Bin dabei.\r\n")
    assert classify(parse(data, load_rules(rules_copy)), [], load_rules(rules_copy)).kind == \
        "register"
    text = (rules_copy / "intents.toml").read_text()
    (rules_copy / "intents.toml").write_text(text.replace("'''\\bbin\\s+dabei\\b''',", ""))
    changed = load_rules(rules_copy)
    assert classify(parse(data, changed), [], changed).kind == "other"
