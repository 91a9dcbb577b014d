"""`mailbot doctor`: real servers pass, each kind of breakage is named in plain words."""

from __future__ import annotations

from pathlib import Path

import pytest

from mailbot import cli
from tests.servers import Dovecot, SmtpSink, free_port


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    for var in ("MAILBOT_MAILBOX_URL", "MAILBOT_SMTP_URL", "MAILBOT_CONFIG",
                "MAILBOT_MAILBOX_PASSWORD", "MAILBOT_SMTP_PASSWORD"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("MAILBOT_FROM", "Anmeldung <anmeldung@mitgen.example>")


def doctor(capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, str]]:
    code = cli.main(["doctor"])
    lines = capsys.readouterr().out.splitlines()
    found = {}
    for line in lines:
        mark, _, rest = line.partition("  ")
        if ":" in rest and mark.strip() in ("ok", "note", "FAIL"):
            name, _, detail = rest.partition(": ")
            found[name.strip()] = f"{mark.strip()} {detail}"
    return code, found


def test_doctor_is_content_with_working_servers(
        db_url: str, dovecot: Dovecot, smtp_sink: SmtpSink, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("MAILBOT_DATABASE_URL", db_url)
    monkeypatch.setenv("MAILBOT_MAILBOX_URL", dovecot.url_with_password)
    monkeypatch.setenv("MAILBOT_SMTP_URL", smtp_sink.url)
    code, found = doctor(capsys)
    assert code == 0, found
    assert found["mailbox"].startswith("ok ") and "logged in" in found["mailbox"]
    assert {"done", "review", "quarantine"} <= set(dovecot.folders())
    assert found["smtp"].startswith("ok ")
    assert found["database"].startswith(("ok ", "note "))
    assert found["rules"].startswith("ok ")
    assert smtp_sink.messages == []  # it checks, it sends nothing


def test_doctor_names_a_wrong_password_and_a_closed_port(
        db_url: str, dovecot: Dovecot, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("MAILBOT_DATABASE_URL", db_url)
    monkeypatch.setenv("MAILBOT_MAILBOX_URL", dovecot.url.replace("mailbot@", "mailbot:falsch@"))
    monkeypatch.setenv("MAILBOT_SMTP_URL", f"smtp+plain://127.0.0.1:{free_port()}")
    code, found = doctor(capsys)
    assert code == 1
    assert found["mailbox"].startswith("FAIL") and "login refused" in found["mailbox"]
    assert found["smtp"].startswith("FAIL") and "nothing accepts connections" in found["smtp"]


def test_doctor_says_what_is_missing_and_exits_1(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("MAILBOT_DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    code, found = doctor(capsys)
    assert code == 1
    assert "MAILBOT_MAILBOX_URL is not set" in found["mailbox"]
    assert "MAILBOT_SMTP_URL is not set" in found["smtp"]
    assert found["database"].startswith("note") and "created on the first start" in found["database"]


def test_doctor_reports_a_broken_configuration_in_one_line(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("MAILBOT_TIMEZONE", "Europe/Hannover")
    code, found = doctor(capsys)
    assert code == 1
    assert found == {"configuration": "FAIL MAILBOT_TIMEZONE: unknown time zone "
                                      "'Europe/Hannover' (e.g. Europe/Berlin)"}


def test_doctor_reports_an_unreachable_database(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("MAILBOT_DATABASE_URL",
                       f"postgresql+psycopg://nobody@127.0.0.1:{free_port()}/x")
    code, found = doctor(capsys)
    assert code == 1
    assert found["database"].startswith("FAIL cannot connect to postgresql+psycopg://nobody@")
