"""The learned intent model (mailbot/classify/learned.py) and where it may decide
(mailbot/classify/learned_rule.py): deterministic, understands a plain registration it has
not seen, never changes what a machine or safety rule decided, and can be switched off."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from mailbot.classify import learned, learned_rule, load_rules
from mailbot.config import load_settings
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
