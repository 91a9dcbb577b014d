"""End to end: an SMTP server that answers 4xx gets the mail again later, once; a 5xx is final."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mailbot.models import OutboxStatus
from tests.e2e import DbView, mailbot, prepared, registration, wait_until
from tests.servers import Dovecot, SmtpSink

pytestmark = pytest.mark.dovecot

RETRY = 0.2  # MAILBOT_RETRY_SECONDS: the first retry is due 0.2 s after a 4xx


@pytest.fixture
def env(db_url: str, dovecot: Dovecot, smtp_sink: SmtpSink, tmp_path: Path) -> dict[str, str]:
    return prepared(db_url, dovecot, smtp_sink, tmp_path, retry_seconds=str(RETRY),
                    send_retries="8")


@pytest.fixture
def view(env: dict[str, str], db_url: str) -> Iterator[DbView]:
    v = DbView.open(db_url)
    yield v
    v.close()


@pytest.mark.parametrize("temporary", [421, 451])
def test_a_mail_the_server_defers_is_delivered_later_and_only_once(
        env: dict[str, str], view: DbView, dovecot: Dovecot, smtp_sink: SmtpSink,
        tmp_path: Path, temporary: int) -> None:
    m = registration(1, tag=f"defer{temporary}")
    dovecot.append(m.data)
    smtp_sink.respond_with([temporary, temporary])  # two refusals, then the default 250

    first = mailbot(env, "run", "--once", cwd=tmp_path)
    assert "handled 1 mail(s), sent 0" in first.stdout
    assert smtp_sink.messages == []
    (row,) = view.outbox()
    assert row.status == OutboxStatus.QUEUED and row.attempts == 1
    assert str(temporary) in row.last_error

    def one_pass() -> int:
        mailbot(env, "run", "--once", cwd=tmp_path)
        return len(smtp_sink.messages)

    # Each pass sends what is due; the backoff (0.2 s, 0.4 s, …) decides when that is.
    wait_until("the deferred confirmation to be accepted", one_pass, timeout=30, interval=0.1)
    (row,) = view.outbox()
    assert row.status == OutboxStatus.SENT and row.attempts == 2
    assert [a.reply[:3] for a in smtp_sink.attempts] == [str(temporary)] * 2 + ["250"]
    assert smtp_sink.messages[0].rcpt_tos == (m.sender,)
    mailbot(env, "run", "--once", cwd=tmp_path)
    assert len(smtp_sink.attempts) == 3, "a sent mail is never sent again"


def test_a_mail_the_server_refuses_for_good_is_recorded_as_failed_and_never_retried(
        env: dict[str, str], view: DbView, dovecot: Dovecot, smtp_sink: SmtpSink,
        tmp_path: Path) -> None:
    m = registration(2, tag="refused")
    dovecot.append(m.data)
    smtp_sink.respond_always(550)

    mailbot(env, "run", "--once", cwd=tmp_path)
    (row,) = view.outbox()
    assert row.status == OutboxStatus.FAILED and row.attempts == 1
    assert "550" in row.last_error
    assert len(smtp_sink.attempts) == 1 and smtp_sink.messages == []

    smtp_sink.respond_always(None)  # the server would accept now: a failed row stays failed
    for _ in range(3):
        out = mailbot(env, "run", "--once", cwd=tmp_path)
        assert "sent 0" in out.stdout
    assert len(smtp_sink.attempts) == 1
    (row,) = view.outbox()
    assert row.status == OutboxStatus.FAILED
    # the registration itself stands; only its answer could not be delivered
    assert view.registrations() == [(m.sender, m.slug, "registered")]
