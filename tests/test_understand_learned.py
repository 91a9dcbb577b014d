"""The learned intent model (mailbot/classify/learned.py) and where it may decide
(mailbot/classify/learned_rule.py): deterministic, understands a plain registration it has
not seen, never changes what a machine or safety rule decided, and can be switched off."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from mailbot.classify import learned, learned_rule, learned_store, load_rules
from mailbot.config import cache_dir, load_settings
from mailbot.parse import parse
from mailbot.types import InboundMail, IntentKind
from tests.understanding import RULES, from_text, intent

UNSEEN = ("Sehr geehrte Damen und Herren,\n\nhiermit melde ich mich verbindlich für den Fachtag "
          "im Oktober an.\n\nMit freundlichen Grüßen\nJana Beispiel")
ADDRESS = re.compile(r"[\w.+-]+@[\w-]+\.\w")
MACHINE_OR_SAFETY = ["qmail_bounce.eml", "dsn_mixed.eml", "abwesenheitsnotiz.eml",
                     "auto_submitted.eml", "ooo_no_headers.eml", "list_mail.eml", "own_loop.eml",
                     "phishing_admin_name.eml", "phishing_confirm_account.eml"]


class Always:
    """A stand-in model that is sure of one intent, whatever the mail says."""

    def __init__(self, kind: IntentKind):
        self.kind = kind

    def probabilities(self, mail: InboundMail) -> dict[IntentKind, float]:
        return {k: float(k is self.kind) for k in IntentKind}


@pytest.fixture(autouse=True)
def _setting() -> Iterator[None]:
    learned_rule.set_enabled(True)
    yield
    learned_rule.set_enabled(None)


def _mail(body: str, subject: str = "Fachtag") -> InboundMail:
    raw = ("From: Jana Beispiel <jana@verein.example>\nTo: anmeldung@netzwerk-nord.example\n"
           f"Subject: {subject}\nMessage-ID: <l@verein.example>\nMIME-Version: 1.0\n"
           "Content-Type: text/plain; charset=utf-8\n\n" + body)
    return parse(raw.encode("utf-8"), RULES)


def test_the_model_trains_deterministically_from_the_shipped_data() -> None:
    rows = learned.read_rows(learned.data_file(RULES))
    assert len(rows) >= 300
    assert not any(ADDRESS.search(r["subject"] + r["text"]) for r in rows)  # nobody's address
    a, b = learned.train(rows), learned.train(rows)
    for text in (UNSEEN, "Bitte löschen Sie meine Daten.", "I cannot come after all, sorry."):
        assert a.probabilities_of(text) == b.probabilities_of(text)


def test_a_plain_german_registration_it_has_not_seen_is_register() -> None:
    rows = learned.read_rows(learned.data_file(RULES))
    assert not any("verbindlich für den Fachtag im Oktober" in r["text"] for r in rows)
    model = learned.model_for(RULES)
    assert isinstance(model, learned.Model)
    kind, p = model.best(_mail(UNSEEN))
    assert kind is IntentKind.REGISTER and p > 0.5


def test_a_mail_no_rule_understood_is_decided_by_a_sure_model_and_the_reason_says_so() -> None:
    with learned.use(None):
        before = from_text("Bis dann.")
    assert before.kind is IntentKind.OTHER
    with learned.use(Always(IntentKind.REGISTER)):
        after = from_text("Bis dann.")
    assert after.kind is IntentKind.REGISTER
    assert any(r.startswith("model: register") for r in after.reasons)


@pytest.mark.parametrize("name", MACHINE_OR_SAFETY)
def test_machine_and_safety_decisions_are_never_changed_by_the_model(name: str) -> None:
    with learned.use(None):
        before = intent(name)
    assert before.kind not in learned_rule.ANSWERED, before.reasons
    for kind in learned_rule.ANSWERED:
        with learned.use(Always(kind)):
            after = intent(name)
        assert after == before
        assert not any(r.startswith("model:") for r in after.reasons)


def test_the_model_may_stop_an_answer_but_only_towards_not_answering() -> None:
    body = "Hiermit melde ich mich für den Fachtag an."
    with learned.use(None):
        assert from_text(body).kind is IntentKind.REGISTER
    with learned.use(Always(IntentKind.OTHER)):
        vetoed = from_text(body)
    assert vetoed.kind is IntentKind.OTHER
    assert any(r.startswith("model: other") for r in vetoed.reasons)
    with learned.use(Always(IntentKind.CANCEL)):
        assert from_text(body).kind is IntentKind.REGISTER  # a sure rule decision stays


def test_switched_off_the_model_changes_nothing() -> None:
    learned_rule.set_enabled(False)
    with learned.use(Always(IntentKind.REGISTER)):
        assert from_text("Bis dann.").kind is IntentKind.OTHER


def test_the_setting_switches_it_off(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    assert load_settings(env={}).learned_model is True
    assert load_settings(env={"MAILBOT_LEARNED_MODEL": "off"}).learned_model is False
    monkeypatch.setenv("MAILBOT_LEARNED_MODEL", "off")
    learned_rule.set_enabled(None)
    assert learned_rule.enabled() is False
    with learned.use(Always(IntentKind.REGISTER)):
        assert from_text("Bis dann.").kind is IntentKind.OTHER


def test_rules_without_training_data_have_no_model(tmp_path: Path) -> None:
    copy = tmp_path / "rules"
    shutil.copytree(RULES.directory, copy)
    shutil.rmtree(copy / learned.DATA_FILE.parent)
    assert learned.model_for(load_rules(copy)) is None


ANALYSED = ["Sehr geehrte Damen und Herren,\n\nhiermit  melde ich mich an!", "Grüße aus Köln – Jürgen "
            "Weiß, Straße 5a; GROSSE Freude: ÄÖÜ äöü ß.", "a b c", "I", "", "   \t\n  ", "x\u00a0y\u2003z",
            "don't re-send e-mails (please)...", "_lang_de _subj_ AW: Fachtag 00.00.0000\n_url_ ok?",
            "Wort\r\n\r\nNächste\tZeile\x0bvert\x1cSep", "İstanbul ǅemal ﬁne Σίσυφος ΣΑΣ"]


def test_the_plain_python_analysers_give_exactly_the_terms_of_scikit_learn() -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer

    texts = ANALYSED + [learned.features(r["subject"], r["text"], r["language"])
                        for r in learned.read_rows(learned.data_file(RULES))[:60]]
    for settings in (learned.CHARS, learned.WORDS):
        vec = TfidfVectorizer(**settings)
        ours, theirs = learned.analyzer_of(vec), vec.build_analyzer()
        for text in texts:
            assert ours(text) == theirs(text), text
    for kind, ngrams in (("char_wb", [(1, 1), (3, 3), (1, 6)]), ("word", [(1, 1), (2, 3)])):
        for low, high in ngrams:
            pattern = learned.WORDS["token_pattern"] if kind == "word" else None
            vec = TfidfVectorizer(analyzer=kind, ngram_range=(low, high), lowercase=False,
                                  **({"token_pattern": pattern} if pattern else {}))
            ours, theirs = learned.analyzer_of(vec), vec.build_analyzer()
            for text in texts:
                assert ours(text) == theirs(text), (kind, low, high, text)


def test_the_columns_counted_per_word_are_those_of_the_analysed_terms(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A model counts its char n-grams per distinct word (kept for the next mail): the same
    columns, counts and order as the analyser's terms, also once its word store was emptied."""
    model = learned.model_for(RULES)
    assert model is not None
    texts = ANALYSED + [learned.features(r["subject"], r["text"], r["language"])
                        for r in learned.read_rows(learned.data_file(RULES))[:80]]
    monkeypatch.setattr(learned._WordColumns, "LIMIT", 50)
    for part in model.parts:
        for text in texts * 2:  # the second time from the words kept
            terms = [part.vocabulary[t] for t in part.analyse(text) if t in part.vocabulary]
            counted = part.columns(text)
            assert list(counted.items()) == list(Counter(terms).items()), text
        assert part._by_word is None or 0 < len(part._by_word) <= 50


def test_a_cached_model_loads_without_scikit_learn_and_predicts_the_same(tmp_path: Path) -> None:
    path = learned.data_file(RULES)
    key = learned.training_key(path.read_bytes())
    trained = learned.load_or_train(path, tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == [learned_store.path_of(tmp_path, key).name]
    loaded = learned_store.load(tmp_path, key)
    assert isinstance(loaded, learned.Model) and loaded is not trained
    assert loaded.classes == trained.classes and loaded.size == trained.size
    for row in learned.read_rows(path):
        text = learned.features(row["subject"], row["text"], row["language"])
        a, b = trained.probabilities_of(text), loaded.probabilities_of(text)
        assert a.keys() == b.keys()
        assert all(abs(a[k] - b[k]) <= 1e-9 for k in a)
    # a fresh process finds it there and never imports scikit-learn
    code = ("import sys; from pathlib import Path; from mailbot.classify import learned, "
            "load_default_rules; m = learned.model_for(load_default_rules()); "
            "print(type(m).__name__, m.size, 'sklearn' in sys.modules)")
    env = {**os.environ, "MAILBOT_CACHE_DIR": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["Model", str(trained.size), "False"]


def test_with_a_cache_the_training_runs_in_a_process_of_its_own(tmp_path: Path) -> None:
    """The first process to need the model (a worker's first start) trains it in a process of
    its own and loads it from the cache: scikit-learn and the fit never enter its memory."""
    # VmHWM, not ru_maxrss: that one starts at the RSS of the process that forked it (pytest)
    code = ("import re, sys; from mailbot.classify import learned, load_default_rules; "
            "m = learned.model_for(load_default_rules()); "
            "hwm = re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read())[1]; "
            "print(type(m).__name__, 'sklearn' in sys.modules, int(hwm) // 1024)")
    env = {**os.environ, "MAILBOT_CACHE_DIR": str(tmp_path)}
    name, sklearn, rss_mib = subprocess.run([sys.executable, "-c", code], env=env,
                                            capture_output=True, text=True,
                                            check=True).stdout.split()
    assert (name, sklearn) == ("Model", "False")
    assert int(rss_mib) < 150, (name, sklearn, rss_mib)
    assert len(list(tmp_path.glob("intent_model.*.npz"))) == 1


def test_a_missing_corrupt_or_unwritable_cache_only_means_training(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = learned.model_for(RULES)
    assert isinstance(model, learned.Model)
    trainings: list[int] = []
    monkeypatch.setattr(learned, "train", lambda rows: trainings.append(len(rows)) or model)
    path = learned.data_file(RULES)
    key = learned.training_key(path.read_bytes())
    assert learned_store.load(tmp_path, key) is None  # missing
    learned_store.path_of(tmp_path, key).write_bytes(b"PK\x03\x04 not a model")
    assert learned_store.load(tmp_path, key) is None  # corrupt
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    assert learned.load_or_train(path, blocked / "cache", elsewhere=False) is model  # cannot be created
    assert not learned_store.save(blocked / "cache", key, model)
    assert learned.load_or_train(path, tmp_path, elsewhere=False) is model  # the corrupt file is replaced
    assert len(trainings) == 2
    loaded = learned.load_or_train(path, tmp_path, elsewhere=False)
    assert len(trainings) == 2 and loaded is not model
    assert loaded.probabilities_of(UNSEEN) == model.probabilities_of(UNSEEN)
    assert learned_store.load(tmp_path, "0" * 64) is None  # another key: not this file


def test_the_cache_key_follows_the_data_and_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    data = learned.data_file(RULES).read_bytes()
    key = learned.training_key(data)
    assert learned.training_key(data) == key
    assert learned.training_key(data + b"\n") != key
    monkeypatch.setitem(learned.REGRESSION, "C", 1.0)
    assert learned.training_key(data) != key


def test_the_cache_directory_setting(tmp_path: Path) -> None:
    assert cache_dir({"MAILBOT_CACHE_DIR": str(tmp_path), "XDG_CACHE_HOME": "/x"}) == tmp_path
    assert cache_dir({"XDG_CACHE_HOME": "/x"}) == Path("/x/mailbot")
    home = cache_dir({"XDG_CACHE_HOME": "relative"})
    assert home is not None and home.parts[-2:] == (".cache", "mailbot")
