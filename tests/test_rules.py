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
    # "Bin dabei" registers by the clause verb "dabei sein" ("bin" says its subject)
    clauses = rules_copy / "de" / "clauses.toml"
    clauses.write_text(clauses.read_text().replace('"dabei sein", "mit dabei sein", ', ""))
    changed = load_rules(rules_copy)
    assert classify(parse(data, changed), [], changed).kind == "other"


def test_the_keyword_pre_check_holds_words_every_match_needs():
    from mailbot.rulebook import required_words

    assert required_words(r"melde\w*\s+(?:ich|wir)\s+.{0,20}?\ban\b") == ("melde",)
    # the shared "an" and "teil" are factored out; "zumelden" holds "melden" anyway
    assert set(required_words(r"(?:anmelden|anzumelden)|teil(?:nehmen|zunehmen)")) == {
        "melden", "nehmen"}
    assert required_words(r"(?:x|anmelden)") == ()  # one branch without a usable word
    assert required_words(r"[a-z]+\s+an\b") == ()


def test_a_matcher_made_after_a_text_was_scanned_finds_its_keywords_in_it():
    """The keywords found in a text are kept for all matchers; a matcher with a new keyword,
    made after the text was scanned, must not be handed the scan without it."""
    from mailbot.rulebook.matcher import Matcher

    filler = " und dann noch etwas mehr text, damit der text lang genug ist." * 3
    text = "Wir möchten uns gern anmelden." + filler
    first = Matcher([r"\bgern\b", r"\bmöchten\b"], case_sensitive=False)
    assert first.search(text) is not None
    later = Matcher([r"\bquerfeldeinlauf\w*", r"\banmeld\w*"], case_sensitive=False)
    m = later.search("".join(text))  # an equal text, a new string
    assert m is not None and m.group(0) == "anmelden"
    # overlapping keywords: both found in one scan
    both = Matcher([r"\bxyzanmeld\w*", r"meldung\w*"], case_sensitive=False)
    assert both.search("Die Anmeldung kam an." + filler) is not None


def test_the_shared_keyword_scan_with_no_keywords_finds_none():
    """A process whose matchers hold no keyword yet (rules without any, a matcher made on its
    own): the scan finds nothing and a long text is still searched."""
    from mailbot.rulebook.matcher import Matcher, _Keywords

    assert _Keywords().found("ein langer text " * 20) == frozenset()
    m = Matcher([r"\b[a-z]+ x", r"\b\d+ y"], case_sensitive=False)
    assert m.search("hallo " * 30 + "12 y") is not None


def test_the_fast_matcher_finds_what_the_plain_regex_finds():
    """Pre-check, lower-casing and per-alternative regexes never change a result: every
    section on every example of every section and on the dev corpus texts."""
    import re

    from mailbot.parse import parse

    rules = load_default_rules()
    texts = [ex for s in rules.sections.values() for ex in (*s.match, *s.no_match)]
    corpus = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "mails"
    texts += [parse(p.read_bytes(), rules).text for p in sorted(corpus.glob("*.eml"))[:40]]
    pairs = []
    for name, section in rules.sections.items():
        flags = re.MULTILINE | (0 if section.case_sensitive else re.IGNORECASE)
        if any("(?P<" in p for p in section.patterns):  # read one by one (patterns())
            pairs += [(name, fast, re.compile(p, flags))
                      for fast, p in zip(section.regexes, section.patterns, strict=True)]
        elif section.patterns:
            pairs.append((name, rules.pattern(name),
                          re.compile("|".join(f"(?:{p})" for p in section.patterns), flags)))
    for name, fast, plain in pairs:
        for text in texts:
            got, want = fast.search(text), plain.search(text)
            assert (got is None) == (want is None), (name, text[:80])
            if want is not None:
                assert got is not None and got.start() == want.start(), (name, text[:80])
            assert (fast.match(text) is None) == (plain.match(text) is None), (name, text[:80])


def test_a_named_group_is_syntax_and_keeps_a_pattern_on_the_fast_path():
    """The "P" of "(?P<n>…)" is no capital letter of the text: such a pattern (the seat
    counts: "wir sind (?P<n>…)") runs on lower-cased text with its keyword pre-check, like any
    other, and its group still gives the number (~100 µs of a mail's reading went to these
    patterns under re.IGNORECASE)."""
    from mailbot.rulebook.matcher import Matcher

    named = Matcher([r"\bwir\s+sind\s+(?P<n>\d{1,2}|zwei|drei)\b"], case_sensitive=False)
    capital = Matcher([r"\b[A-ZÄÖÜ][a-zäöüß]+straße\b"], case_sensitive=False)
    assert named._parts is not None and capital._parts is None
    m = named.search("Hallo, Wir sind DREI Personen.")
    assert m is not None and m.group("n").casefold() == "drei" and m.start() == 7
