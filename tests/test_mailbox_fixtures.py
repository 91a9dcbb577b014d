"""The shared test servers themselves: SMTP sink scripting, database URLs, Dovecot helpers."""

from __future__ import annotations

import smtplib
import time

import pytest
from sqlalchemy import create_engine, text

import tests.servers
from mailbot.types import Outcome
from tests.servers import Dovecot, SmtpSink, in_ci, postgres_schema_url, running_dovecot

MSG = b"From: a@test.example\r\nTo: b@test.example\r\nSubject: hi\r\n\r\nhello\r\n"


def send(sink: SmtpSink, to: tuple[str, ...] = ("b@test.example",)) -> dict[str, tuple[int, bytes]]:
    with smtplib.SMTP(sink.host, sink.port, timeout=5) as smtp:
        return smtp.sendmail("a@test.example", list(to), MSG)


def test_the_smtp_sink_collects_what_it_accepts(smtp_sink: SmtpSink) -> None:
    assert smtp_sink.url == f"smtp+plain://127.0.0.1:{smtp_sink.port}"
    send(smtp_sink)
    [msg] = smtp_sink.wait_for(1)
    assert msg.mail_from == "a@test.example"
    assert msg.rcpt_tos == ("b@test.example",)
    assert msg.data.endswith(b"hello\r\n")


def test_the_smtp_sink_answers_as_scripted(smtp_sink: SmtpSink) -> None:
    smtp_sink.respond_with([451, 451, 250])
    for _ in range(2):
        with pytest.raises(smtplib.SMTPDataError) as err:
            send(smtp_sink)
        assert err.value.smtp_code == 451
    send(smtp_sink)
    assert len(smtp_sink.wait_for(1)) == 1
    assert [a.reply[:3] for a in smtp_sink.attempts] == ["451", "451", "250"]
    smtp_sink.respond_always(550)
    with pytest.raises(smtplib.SMTPDataError) as err:
        send(smtp_sink)
    assert err.value.smtp_code == 550
    smtp_sink.respond_always(None)
    send(smtp_sink)
    assert len(smtp_sink.wait_for(2)) == 2


def test_the_smtp_sink_can_refuse_one_recipient(smtp_sink: SmtpSink) -> None:
    smtp_sink.reject_recipient("gone@test.example")
    refused = send(smtp_sink, ("gone@test.example", "b@test.example"))
    assert refused["gone@test.example"][0] == 550
    assert smtp_sink.wait_for(1)[0].rcpt_tos == ("b@test.example",)


def test_the_smtp_sink_accepts_any_login_and_records_it(smtp_sink: SmtpSink) -> None:
    with smtplib.SMTP(smtp_sink.host, smtp_sink.port, timeout=5) as smtp:
        smtp.login("user", "secret")
        smtp.sendmail("a@test.example", ["b@test.example"], MSG)
    assert smtp_sink.logins == [("user", "secret")]
    assert smtp_sink.wait_for(1)[0].login == "user"


def test_wait_for_fails_clearly_when_nothing_comes(smtp_sink: SmtpSink) -> None:
    began = time.monotonic()
    with pytest.raises(AssertionError, match="expected 1 message"):
        smtp_sink.wait_for(1, timeout=0.2)
    assert time.monotonic() - began < 1


def test_the_database_url_connects_and_is_empty(db_url: str) -> None:
    engine = create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE probe (name TEXT)"))
        conn.execute(text("INSERT INTO probe (name) VALUES ('x')"))
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM probe")).scalar() == 1
        if engine.dialect.name == "postgresql":
            schema = conn.execute(text("SELECT current_schema()")).scalar()
            assert schema and schema.startswith("t_")
    engine.dispose()


def test_ci_is_detected_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    assert in_ci()
    monkeypatch.setenv("CI", "")
    assert not in_ci()


@pytest.mark.parametrize("ci", ["true", ""])
def test_a_missing_dovecot_skips_but_fails_under_ci(monkeypatch: pytest.MonkeyPatch,
                                                   ci: str) -> None:
    monkeypatch.setenv("CI", ci)
    monkeypatch.setattr(tests.servers, "DOVECOT_BIN", "/nonexistent/dovecot")
    expected = pytest.fail.Exception if ci else pytest.skip.Exception
    with pytest.raises(expected, match="not found"), running_dovecot():
        pass


@pytest.mark.parametrize("ci", ["true", ""])
def test_an_unreachable_postgresql_skips_but_fails_under_ci(monkeypatch: pytest.MonkeyPatch,
                                                           ci: str) -> None:
    monkeypatch.setenv("CI", ci)
    monkeypatch.setattr(tests.servers, "POSTGRES_PORT", tests.servers.free_port())
    monkeypatch.setattr(tests.servers, "_pg_user", None)
    expected = pytest.fail.Exception if ci else pytest.skip.Exception
    with pytest.raises(expected, match="unreachable"), postgres_schema_url():
        pass


def test_the_dovecot_helpers_append_list_and_restart(dovecot: Dovecot) -> None:
    dovecot.append(MSG)
    dovecot.append(MSG, folder=dovecot.folder_name(Outcome.REVIEW))
    assert dovecot.uids() == [1]
    assert dovecot.messages("review") == [MSG]
    assert "\\Seen" not in dovecot.flags()[1]
    assert dovecot.start_seconds < 5
    dovecot.stop()
    dovecot.start()
    assert dovecot.messages() == [MSG]
    assert sorted(dovecot.folders()) == ["INBOX", "review"]


@pytest.mark.dovecot
def test_dovecot_can_use_mdbox_storage() -> None:
    with running_dovecot(mail_format="mdbox") as server:
        server.append(MSG)
        assert server.messages() == [MSG]
