"""End to end on real servers: mail into Dovecot, `mailbot run` as a subprocess, confirmations
out at an SMTP sink, registrations in SQLite and PostgreSQL."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from mailbot.types import Outcome
from tests.e2e import (
    DbView,
    before_replies,
    mailbot,
    prepared,
    registrations,
    running_worker,
    sink_count_by_recipient,
    sink_wait,
    to_header,
    wait_until,
)
from tests.servers import Dovecot, SmtpSink

pytestmark = pytest.mark.dovecot


@pytest.fixture
def env(db_url: str, dovecot: Dovecot, smtp_sink: SmtpSink, tmp_path: Path) -> dict[str, str]:
    """A database with the events imported, and the environment that points mailbot at it all."""
    return prepared(db_url, dovecot, smtp_sink, tmp_path)


@pytest.fixture
def view(env: dict[str, str], db_url: str) -> Iterator[DbView]:
    v = DbView.open(db_url)
    yield v
    v.close()


def test_run_once_confirms_twenty_registrations_and_files_every_mail_in_done(
        env: dict[str, str], view: DbView, dovecot: Dovecot, smtp_sink: SmtpSink,
        tmp_path: Path) -> None:
    sent = registrations(20)
    for m in sent:
        dovecot.append(m.data)
    assert len(dovecot.uids()) == 20

    out = mailbot(env, "run", "--once", cwd=tmp_path)

    assert "handled 20 mail(s), sent 20" in out.stdout
    assert sink_count_by_recipient(smtp_sink) == {m.sender: 1 for m in sent}
    for msg in smtp_sink.messages:  # envelope and header agree, and it is our own auto-reply
        assert to_header(msg) == msg.rcpt_tos[0].lower()
        assert b"Auto-Submitted: auto-replied" in msg.data
    assert sorted(view.registrations()) == sorted(
        (m.sender, m.slug, "registered") for m in sent)
    assert len(dovecot.uids(dovecot.folder_name(Outcome.DONE))) == 20
    assert dovecot.uids("INBOX") == []
    assert [r.outcome for r in view.inbound()] == [Outcome.DONE] * 20
    # a second pass finds nothing to do and sends nothing again
    again = mailbot(env, "run", "--once", cwd=tmp_path)
    assert "handled 0 mail(s), sent 0" in again.stdout
    assert len(smtp_sink.messages) == 20


def test_run_answers_a_mail_within_two_seconds_of_its_append_by_idle_and_stops_on_sigterm(
        env: dict[str, str], view: DbView, dovecot: Dovecot, smtp_sink: SmtpSink,
        tmp_path: Path) -> None:
    # A poll interval far beyond the test: only IDLE can make it this fast. DEBUG logs the IMAP
    # conversation, so the test can see when the worker has entered IDLE.
    env = {**env, "MAILBOT_POLL_SECONDS": "300", "MAILBOT_LOG_LEVEL": "DEBUG"}
    first, *idle, racing = registrations(5, tag="idle")
    back_to_back = registrations(10, tag="b2b")
    hooks = before_replies(smtp_sink)
    appended: list[float] = []

    def append_racing() -> None:
        dovecot.append(racing.data)
        appended.append(time.monotonic())

    with running_worker(env, tmp_path) as worker:
        def idling() -> bool:
            """In IDLE now: the server's "+" to IDLE came after our last command and DONE."""
            log = worker.log
            return log.rfind("< b'+") > max(log.rfind("> b'"), log.rfind("< DONE"))

        # The first mail also covers start-up (imports, migrations, login) before we time anything.
        dovecot.append(first.data)
        sink_wait(smtp_sink, 1, 30, worker)
        latencies = []
        for n, m in enumerate(idle, start=2):
            # Append only once the worker idles: this is the latency of IDLE, not of a pass.
            wait_until("the worker to enter IDLE", idling, timeout=10, log=lambda: worker.log)
            if n == len(idle) + 1:
                # The sink will APPEND the next mail while the worker waits for its "250".
                hooks.append(append_racing)
            began = time.monotonic()
            dovecot.append(m.data)
            sink_wait(smtp_sink, n, 10, worker)
            latencies.append(time.monotonic() - began)
            assert smtp_sink.messages[-1].rcpt_tos == (m.sender,)
        print(f"APPEND-to-sink latencies with IDLE: {', '.join(f'{x:.2f} s' for x in latencies)}")
        assert max(latencies) < 2.0, worker.log[-3000:]

        # That mail arrived while the worker was busy, before it looked for news and idled
        # again: it must not wait for the next poll (300 s) either.
        sink_wait(smtp_sink, 5, 10, worker)
        assert smtp_sink.messages[-1].rcpt_tos == (racing.sender,)
        assert time.monotonic() - appended[0] < 2.0

        # Back to back, each mail the moment the previous answer is out: some land between the
        # worker's last look and its IDLE, where Dovecot reports them along with "+ idling".
        with dovecot.client() as conn:
            for n, m in enumerate(back_to_back, start=6):
                began = time.monotonic()
                conn.append("INBOX", None, None, m.data)
                sink_wait(smtp_sink, n, 10, worker)
                assert time.monotonic() - began < 2.0, f"mail {n} took {time.monotonic() - began:.1f} s"

        assert worker.alive()
        began = time.monotonic()
        assert worker.terminate(timeout=15) == 0, worker.log[-3000:]
        assert time.monotonic() - began < 5, "SIGTERM must not wait for the IDLE to run out"
    assert len(view.registrations()) == 15
    assert dovecot.uids("INBOX") == []
    assert len(dovecot.uids(dovecot.folder_name(Outcome.DONE))) == 15


def test_run_reconnects_when_the_imap_server_restarts_and_goes_on_confirming(
        env: dict[str, str], view: DbView, dovecot: Dovecot, smtp_sink: SmtpSink,
        tmp_path: Path) -> None:
    env = {**env, "MAILBOT_POLL_SECONDS": "300"}
    before, during, after = registrations(3, tag="restart")
    with running_worker(env, tmp_path) as worker:
        dovecot.append(before.data)
        sink_wait(smtp_sink, 1, 30, worker)

        dovecot.stop()
        # The worker notices the dropped IDLE connection and retries against a closed port.
        wait_until("the worker to notice the lost connection",
                   lambda: "connection lost" in worker.log or "refused" in worker.log,
                   timeout=10, log=lambda: worker.log)
        assert worker.alive(), worker.log[-3000:]
        dovecot.start()
        dovecot.append(during.data)
        sink_wait(smtp_sink, 2, 60, worker)
        dovecot.append(after.data)
        sink_wait(smtp_sink, 3, 10, worker)

        assert worker.terminate() == 0, worker.log[-3000:]
    assert sink_count_by_recipient(smtp_sink) == {before.sender: 1, during.sender: 1,
                                                  after.sender: 1}
    assert len(view.registrations()) == 3
    assert dovecot.uids("INBOX") == []
