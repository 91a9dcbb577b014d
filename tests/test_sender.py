"""The delivery process of `mailbot run` (runners.sender), forked from the test as `run` forks
it, against a real SMTP sink on loopback, on SQLite and PostgreSQL: woken after a commit it
sends the replies, a stop sends the last ones, a dead one is started again, two never send one
row twice, and it ends with its parent."""

from __future__ import annotations

import gc
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from mailbot.config import load_settings
from mailbot.database import Database
from mailbot.mailbox import RawMessage
from mailbot.models import OutboxRow, OutboxStatus
from mailbot.registrations.event_changes import import_events
from mailbot.registrations.events_file import load_events
from mailbot.runners.delivery import claim_due, lease, mark_sent
from mailbot.runners.sender import Sender
from mailbot.runners.worker import Worker
from tests.e2e import FROM, ROOT, DbView, Sent, registration, wait_until, write_events
from tests.servers import SmtpSink


def settings_env(db_url: str, sink: SmtpSink) -> dict[str, str]:
    return {"MAILBOT_DATABASE_URL": db_url, "MAILBOT_FROM": FROM,
            "MAILBOT_RULES_DIR": str(ROOT / "rules"), "MAILBOT_SMTP_URL": sink.url}


@pytest.fixture
def worker(db_url: str, tmp_path: Path, smtp_sink: SmtpSink) -> Iterator[Worker]:
    w = Worker(settings=load_settings(env=settings_env(db_url, smtp_sink)), db=Database(db_url))
    with w.db.session() as s:
        import_events(s, w.mailer(s), load_events(write_events(tmp_path)))
    yield w
    w.db.dispose()


def take_in(w: Worker, m: Sent) -> None:
    """Committed, its confirmation queued (not sent: this worker has no transport)."""
    w.handle_one_mail(RawMessage("INBOX", 1, m.sender, m.data))


def alive(pid: int) -> bool:
    """Running (a zombie waiting for its parent to reap it counts as ended)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
    except (OSError, IndexError):
        return False


def test_woken_after_a_commit_it_sends_the_replies_and_a_stop_sends_the_last_ones(
        worker: Worker, db_url: str, smtp_sink: SmtpSink) -> None:
    sender = Sender(worker).start()
    try:
        first, second = registration(1, tag="sender"), registration(2, tag="sender")
        take_in(worker, first)
        sender.wake()
        [confirmation] = smtp_sink.wait_for(1)
        assert confirmation.rcpt_tos == (first.sender,)
        take_in(worker, second)  # committed, and no wake-up: the stop still sends it
    finally:
        sender.stop()
    assert sorted(m.rcpt_tos[0] for m in smtp_sink.messages) == sorted(
        [first.sender, second.sender])
    view = DbView.open(db_url)
    assert {row.status for row in view.outbox()} == {OutboxStatus.SENT}
    view.close()


def test_what_the_worker_loaded_is_frozen_before_the_sender_is_forked(worker: Worker) -> None:
    """As before the readers' fork (tests/test_core_pool.py): the worker's start-up objects
    are not walked by the collector of either process, nor written to by the sender's."""
    loaded = ["loaded at start-up", []]
    sender = Sender(worker).start()
    try:
        assert all(o is not loaded for o in gc.get_objects())
    finally:
        sender.stop()


def test_a_sender_that_died_is_started_again_at_the_next_wake(
        worker: Worker, smtp_sink: SmtpSink) -> None:
    sender = Sender(worker).start()
    try:
        first = sender.pid
        assert first is not None
        os.kill(first, signal.SIGKILL)
        wait_until("the killed sender to end", lambda: not alive(first))
        m = registration(3, tag="sender")
        take_in(worker, m)
        sender.wake()
        [confirmation] = smtp_sink.wait_for(1)
        assert confirmation.rcpt_tos == (m.sender,)
        assert sender.pid not in (None, first)
    finally:
        sender.stop()


def test_two_senders_on_one_database_send_each_reply_once(
        worker: Worker, db_url: str, smtp_sink: SmtpSink) -> None:
    other = Worker(settings=worker.settings, db=Database(db_url))
    senders = [Sender(worker).start(), Sender(other).start()]
    mails = [registration(10 + i, tag="two-senders") for i in range(40)]
    try:
        for i, m in enumerate(mails):
            take_in(worker, m)
            senders[i % 2].wake()
            senders[(i + 1) % 2].wake()
        smtp_sink.wait_for(len(mails), timeout=60)
    finally:
        for sender in senders:
            sender.stop()
        other.db.dispose()
    assert sorted(m.rcpt_tos[0] for m in smtp_sink.messages) == sorted(m.sender for m in mails)


def test_a_row_another_sender_sent_after_we_picked_it_is_not_leased_again(
        worker: Worker) -> None:
    # the race behind a rare double send on PostgreSQL under load: one sender SELECTs the due
    # rows; before its UPDATE, the other claims, sends and writes them down (lease cleared)
    for i in range(3):
        take_in(worker, registration(70 + i, tag="late-lease"))
    now = worker.clock()
    with worker.db.reading() as s:
        picked = list(s.scalars(select(OutboxRow.id).where(
            OutboxRow.status == OutboxStatus.QUEUED)))
    won = claim_due(worker, 50)
    assert won == sorted(picked)
    mark_sent(worker, won[:2])
    with worker.db.session() as s:  # the last one: the server said "later", due again in a while
        row = s.get(OutboxRow, won[2])
        assert row is not None
        row.lease_until, row.next_attempt_at = None, now + timedelta(minutes=5)
    with worker.db.session() as s:
        assert lease(s, picked, now) == []


def test_the_sender_ends_with_its_parent_even_when_that_is_killed(
        db_url: str, smtp_sink: SmtpSink, tmp_path: Path) -> None:
    script = (
        "import json, os, sys, time\n"
        "from mailbot.config import load_settings\n"
        "from mailbot.database import Database\n"
        "from mailbot.runners.sender import Sender\n"
        "from mailbot.runners.worker import Worker\n"
        "env = json.loads(sys.argv[1])\n"
        "w = Worker(settings=load_settings(env=env), db=Database(env['MAILBOT_DATABASE_URL']))\n"
        "print(Sender(w).start().pid, flush=True)\n"
        "time.sleep(600)\n")
    parent = subprocess.Popen([sys.executable, "-c", script,
                               json.dumps(settings_env(db_url, smtp_sink))],
                              stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert parent.stdout is not None
        pid = int(parent.stdout.readline())
        assert alive(pid)
    finally:
        parent.kill()
        parent.wait(10)
    wait_until("the sender to end with its parent", lambda: not alive(pid))
