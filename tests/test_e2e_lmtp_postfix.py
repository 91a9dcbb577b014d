"""End to end with a real Postfix: a registration submitted by SMTP, relayed by Postfix's
`lmtp:` transport to `mailbot run` (LMTP intake, no mailbox), confirmed at the SMTP sink."""

from __future__ import annotations

import os
import signal
import smtplib
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e import (
    FROM,
    ROOT,
    DbView,
    Worker,
    mailbot,
    registration,
    running_worker,
    sink_wait,
    wait_until,
    write_events,
)
from tests.postfix_server import DOMAIN, Postfix, running_postfix
from tests.servers import SmtpSink, free_port

TO = f"anmeldung@{DOMAIN}"


@pytest.fixture
def lmtp_port() -> int:
    return free_port()


@pytest.fixture
def postfix(lmtp_port: int) -> Iterator[Postfix]:
    with running_postfix(lmtp_port) as server:
        yield server


@pytest.fixture
def env(db_url: str, smtp_sink: SmtpSink, lmtp_port: int, tmp_path: Path) -> dict[str, str]:
    """`mailbot` with the LMTP intake only (no mailbox URL), the events imported."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILBOT_")}
    env.update({"MAILBOT_DATABASE_URL": db_url, "MAILBOT_SMTP_URL": smtp_sink.url,
                "MAILBOT_FROM": FROM, "MAILBOT_RULES_DIR": str(ROOT / "rules"),
                "MAILBOT_LMTP_LISTEN": f"127.0.0.1:{lmtp_port}", "PYTHONUNBUFFERED": "1"})
    mailbot(env, "events", "import", str(write_events(tmp_path)), cwd=tmp_path)
    return env


def submit(postfix: Postfix, sender: str, data: bytes) -> None:
    with smtplib.SMTP(postfix.host, postfix.smtp_port, timeout=30) as smtp:
        assert smtp.sendmail(sender, [TO], data) == {}


def listening(worker: Worker) -> None:
    wait_until("the LMTP intake to listen", lambda: "LMTP intake listening" in worker.log,
               timeout=120, log=lambda: worker.log)


def test_postfix_delivers_a_registration_by_lmtp_and_the_confirmation_arrives(
        postfix: Postfix, env: dict[str, str], smtp_sink: SmtpSink, db_url: str,
        tmp_path: Path) -> None:
    m = registration(1, tag="pf")
    with running_worker(env, tmp_path) as worker:
        listening(worker)
        submit(postfix, m.sender, m.data)

        [confirmation] = sink_wait(smtp_sink, 1, timeout=30, worker=worker)
        assert confirmation.rcpt_tos == (m.sender,)
        assert b"Auto-Submitted: auto-replied" in confirmation.data
        log = postfix.wait_for_log("status=sent")
        assert f"relay=127.0.0.1[127.0.0.1]:{postfix.lmtp_port}" in log
        assert "(250 2.0.0 taken in" in log
        assert worker.terminate() == 0
    view = DbView.open(db_url)
    try:
        assert view.registrations() == [(m.sender, m.slug, "registered")]
        [rec] = view.inbound()
        assert rec.mailbox == f"lmtp://127.0.0.1:{postfix.lmtp_port}"
    finally:
        view.close()


def test_mail_postfix_could_not_deliver_while_mailbot_was_down_arrives_once_it_is_up(
        postfix: Postfix, env: dict[str, str], smtp_sink: SmtpSink, db_url: str,
        tmp_path: Path) -> None:
    m = registration(2, tag="pf")
    submit(postfix, m.sender, m.data)  # nothing listens on the LMTP port yet
    postfix.wait_for_log("status=deferred")

    with running_worker(env, tmp_path) as worker:
        listening(worker)
        postfix.flush()
        sink_wait(smtp_sink, 1, timeout=30, worker=worker)
        postfix.wait_for_log("status=sent")
        assert worker.terminate() == 0
    view = DbView.open(db_url)
    try:
        assert view.registrations() == [(m.sender, m.slug, "registered")]
    finally:
        view.close()
    assert len(smtp_sink.messages) == 1


def test_a_reader_process_killed_under_way_does_not_stop_the_intake(
        postfix: Postfix, env: dict[str, str], smtp_sink: SmtpSink, db_url: str,
        tmp_path: Path) -> None:
    """The reader processes can die (the OOM killer); the worker starts them anew and the
    next mails are taken in, not refused with 451 until someone restarts mailbot."""
    first, *later = [registration(n, tag="pf-kill") for n in range(3, 6)]
    with running_worker(env, tmp_path) as worker:
        listening(worker)
        submit(postfix, first.sender, first.data)
        sink_wait(smtp_sink, 1, timeout=30, worker=worker)
        children = Path(f"/proc/{worker.proc.pid}/task/{worker.proc.pid}/children"
                        ).read_text().split()
        readers = [c for c in children  # forked, not multiprocessing's resource tracker
                   if b"mailbot" in Path(f"/proc/{c}/cmdline").read_bytes()]
        assert readers, "mailbot run reads in worker processes"
        os.kill(int(readers[0]), signal.SIGKILL)
        time.sleep(1.0)  # the pool has noticed: the next mail finds it broken
        for m in later:
            submit(postfix, m.sender, m.data)
        sink_wait(smtp_sink, 3, timeout=60, worker=worker)
        assert worker.terminate() == 0
    view = DbView.open(db_url)
    try:
        assert sorted(view.registrations()) == sorted(
            (m.sender, m.slug, "registered") for m in (first, *later))
    finally:
        view.close()
