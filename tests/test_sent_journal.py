"""The sent journal (runners.sent_journal) on SQLite: while another connection holds the write
lock, delivery goes on sending and writes the acceptances to the journal, folded into the
outbox when the lock is free; a journal a killed sender left is folded in before the next
claim, so those mails are not sent again, as are the acceptances of a sender that waited for
the lock in vain; an entry never marks a row it did not send."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError

from mailbot import database
from mailbot.config import load_settings
from mailbot.database import Database
from mailbot.models import OutboxRow, OutboxStatus
from mailbot.outbox.transport import open_transport
from mailbot.registrations.event_changes import import_events
from mailbot.registrations.events_file import load_events
from mailbot.runners.delivery import Delivery, claim_due, mark_sent, render
from mailbot.runners.sent_journal import SentJournal
from mailbot.runners.worker import Worker
from tests.e2e import registration, wait_until, write_events
from tests.servers import SmtpSink
from tests.test_sender import settings_env, take_in


@pytest.fixture
def worker(tmp_path: Path, smtp_sink: SmtpSink) -> Iterator[Worker]:
    url = f"sqlite:///{tmp_path / 'mailbot.db'}"
    w = Worker(settings=load_settings(env=settings_env(url, smtp_sink)), db=Database(url))
    with w.db.session() as s:
        import_events(s, w.mailer(s), load_events(write_events(tmp_path)))
    yield w
    w.db.dispose()


def statuses(w: Worker) -> dict[int, OutboxStatus]:
    with w.db.reading() as s:
        return {row_id: status for row_id, status in s.execute(
            select(OutboxRow.id, OutboxRow.status))}


def journal_of(w: Worker) -> SentJournal:
    journal = SentJournal.beside(w.db)
    assert journal is not None
    return journal


def test_while_another_connection_holds_the_write_lock_the_round_goes_on_sending(
        worker: Worker, smtp_sink: SmtpSink, tmp_path: Path) -> None:
    mails = [registration(i, tag="locked") for i in range(40)]
    for m in mails:
        take_in(worker, m)
    ids = claim_due(worker, 100)
    assert len(ids) == len(mails)
    batch = render(worker, ids)
    transport = open_transport(worker.settings.smtp())
    # the intake applying a batch: SQLite's one write lock taken by another connection
    intake = sqlite3.connect(tmp_path / "mailbot.db", isolation_level=None)
    intake.execute("BEGIN IMMEDIATE")
    sending = threading.Thread(target=Delivery(worker, transport).send, args=(batch,))
    try:
        sending.start()
        # every mail goes out while the lock is held (before, the first acceptance waited
        # for it, and the transport with it)
        smtp_sink.wait_for(len(mails), timeout=30)
        wait_until("every acceptance in the journal", lambda: sorted(
            i for group in journal_of(worker).pending().values() for i in group) == ids)
        assert set(statuses(worker).values()) == {OutboxStatus.QUEUED}  # nothing written yet
    finally:
        intake.execute("ROLLBACK")
        intake.close()
        sending.join(30)
        transport.close()
    assert not sending.is_alive()
    # the round's end waited for the lock and folded the journal in
    assert statuses(worker) == dict.fromkeys(ids, OutboxStatus.SENT)
    assert journal_of(worker).pending() == {}
    assert len(smtp_sink.messages) == len(mails)


def test_a_journal_a_killed_sender_left_is_folded_in_before_the_next_claim(
        worker: Worker) -> None:
    for i in range(3):
        take_in(worker, registration(50 + i, tag="killed"))
    ids = claim_due(worker, 10)
    now = worker.clock()
    journal_of(worker).add(ids[:2], now)  # accepted, then the sender was killed
    with worker.db.session() as s:  # its leases ran out: all three would be due again
        s.execute(update(OutboxRow).values(lease_until=now - timedelta(seconds=1)))
    assert claim_due(worker, 10) == ids[2:]  # only the one the server never accepted
    with worker.db.reading() as s:
        sent = {row_id: (status, at) for row_id, status, at in s.execute(
            select(OutboxRow.id, OutboxRow.status, OutboxRow.sent_at))}
    assert [sent[i][0] for i in ids] == [OutboxStatus.SENT] * 2 + [OutboxStatus.QUEUED]
    at = sent[ids[0]][1]
    assert at is not None and at == now.replace(tzinfo=at.tzinfo)  # when it was accepted
    assert journal_of(worker).pending() == {}


def test_an_entry_does_not_mark_a_row_no_sender_holds(worker: Worker) -> None:
    # a row number an erasure freed, taken by a new mail not yet claimed: not "sent"
    take_in(worker, registration(60, tag="reused"))
    (row_id,) = statuses(worker)
    journal_of(worker).add([row_id], worker.clock())
    assert claim_due(worker, 10) == [row_id]
    assert statuses(worker) == {row_id: OutboxStatus.QUEUED}
    assert journal_of(worker).pending() == {}


def test_only_a_sqlite_file_has_a_journal(tmp_path: Path) -> None:
    memory = Database("sqlite://")
    assert SentJournal.beside(memory) is None
    memory.dispose()
    on_file = Database(f"sqlite:///{tmp_path / 'x.db'}")
    journal = SentJournal.beside(on_file)
    assert journal is not None and journal.path == (tmp_path / "x.db-sent").resolve()
    assert journal.pending() == {} and not journal.path.exists()  # made on first use only
    on_file.dispose()


def test_a_claim_folds_what_another_workers_killed_sender_left(worker: Worker) -> None:
    for i in range(4):
        take_in(worker, registration(70 + i, tag="other-killed"))
    ids = claim_due(worker, 10)
    now = worker.clock()
    journal_of(worker).add(ids[:1], now)
    assert claim_due(worker, 10) == []  # folded its own; all it wrote down is folded now
    assert journal_of(worker).pending() == {}
    # the other worker's sender, killed after it wrote two acceptances down (another process:
    # its own connection to the journal file)
    other = sqlite3.connect(journal_of(worker).path, isolation_level=None)
    other.executemany("INSERT INTO sent (id, at) VALUES (?, ?)",
                      [(i, now.isoformat()) for i in ids[1:3]])
    other.close()
    with worker.db.session() as s:
        s.execute(update(OutboxRow).values(lease_until=now - timedelta(seconds=1)))
    assert claim_due(worker, 10) == ids[3:]
    assert [statuses(worker)[i] for i in ids] == [OutboxStatus.SENT] * 3 + [OutboxStatus.QUEUED]


def test_acceptances_that_waited_in_vain_for_the_lock_are_kept_in_the_journal(
        worker: Worker, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for i in range(2):
        take_in(worker, registration(80 + i, tag="stuck"))
    ids = claim_due(worker, 10)
    monkeypatch.setattr(database, "BUSY_SECONDS", 0.2)
    stuck = sqlite3.connect(tmp_path / "mailbot.db", isolation_level=None)
    stuck.execute("BEGIN IMMEDIATE")  # e.g. a long purge
    try:
        with pytest.raises(OperationalError):
            mark_sent(worker, ids)  # the round's end: it waits, then gives up
    finally:
        stuck.execute("ROLLBACK")
        stuck.close()
    assert sorted(i for group in journal_of(worker).pending().values() for i in group) == ids
    with worker.db.session() as s:  # the leases ran out meanwhile: still not sent again
        s.execute(update(OutboxRow).values(lease_until=worker.clock() - timedelta(seconds=1)))
    assert claim_due(worker, 10) == []
    assert set(statuses(worker).values()) == {OutboxStatus.SENT}


def test_a_claim_that_finds_nothing_due_does_not_wait_for_the_write_lock(
        worker: Worker, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A round ends by asking once more, and usually finds nothing: it asks without the write
    lock, which the intake holds while it applies a batch (before, it waited for it)."""
    take_in(worker, registration(90, tag="idle"))
    (row_id,) = claim_due(worker, 10)
    mark_sent(worker, [row_id])  # sent, and the journal folded: nothing is due now
    monkeypatch.setattr(database, "BUSY_SECONDS", 0.2)
    intake = sqlite3.connect(tmp_path / "mailbot.db", isolation_level=None)
    intake.execute("BEGIN IMMEDIATE")  # the intake applying a batch
    try:
        assert claim_due(worker, 10) == []  # before: OperationalError after BUSY_SECONDS
    finally:
        intake.execute("ROLLBACK")
        intake.close()
    assert statuses(worker) == {row_id: OutboxStatus.SENT}
