"""The intake job in-process on a Maildir: stopping between mails, quarantine identity."""

from __future__ import annotations

import mailbox as stdlib_mailbox
from pathlib import Path

import pytest
from sqlalchemy import select

from mailbot.config import load_settings
from mailbot.database import Database
from mailbot.mailbox.maildir import MaildirMailbox
from mailbot.models import InboundRecord
from mailbot.runners.worker import Worker
from mailbot.types import Outcome


def _mail(n: int) -> bytes:
    return (f"From: Person {n} <p{n}@verein.example>\r\nTo: anmeldung@mitgen.example\r\n"
            f"Subject: Anmeldung\r\nMessage-ID: <m{n}@verein.example>\r\n\r\n"
            f"Hiermit melde ich mich an.\r\n\r\nPerson {n}\r\n").encode()


@pytest.fixture
def worker(tmp_path: Path, db_url: str) -> Worker:
    box = stdlib_mailbox.Maildir(str(tmp_path / "inbox"), create=True)
    for n in range(5):
        box.add(_mail(n))
    settings = load_settings(env={"MAILBOT_DATABASE_URL": db_url})
    return Worker(settings=settings, db=Database(db_url),
                  mailbox=MaildirMailbox(f"maildir://{tmp_path}/inbox"))


def test_a_stop_request_ends_the_pass_between_two_batches_and_the_rest_stay(
        worker: Worker) -> None:
    seen: list[Outcome] = []
    worker.on_mail = seen.append
    worker.should_stop = lambda: len(seen) >= 1
    assert worker.intake_pass(batch=2) == 2
    assert worker.mailbox is not None and worker.mailbox.backlog() == 3
    worker.should_stop = lambda: False
    assert worker.intake_pass(batch=2) == 3


def test_a_quarantined_mail_keeps_its_message_id_for_the_review(
        worker: Worker, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(data: bytes, events: object) -> object:
        raise ValueError("rules exploded")

    monkeypatch.setattr(worker, "understand", broken)
    worker.intake_pass()
    with worker.db.session() as s:
        recs = s.scalars(select(InboundRecord).order_by(InboundRecord.id)).all()
        assert {r.outcome for r in recs} == {Outcome.QUARANTINE}
        assert sorted(r.message_id for r in recs) == [f"m{n}@verein.example" for n in range(5)]
        assert all("rules exploded" in r.reason and r.raw for r in recs)


def test_raw_utf8_header_bytes_are_read_as_text_not_quarantined(
        tmp_path: Path, db_url: str) -> None:
    box = stdlib_mailbox.Maildir(str(tmp_path / "in8"), create=True)
    box.add("From: Jöhn Döe <jdöe@mächine.example>\r\nTo: anmeldung@mitgen.example\r\n"
            "Subject: Anmeldung\r\nMessage-ID: <u8@mächine.example>\r\n\r\n"
            "Hiermit melde ich mich an.\r\n\r\nJöhn Döe\r\n".encode())
    settings = load_settings(env={"MAILBOT_DATABASE_URL": db_url})
    w = Worker(settings=settings, db=Database(db_url),
               mailbox=MaildirMailbox(f"maildir://{tmp_path}/in8"))
    w.intake_pass()
    with w.db.session() as s:
        rec = s.scalars(select(InboundRecord)).one()
        assert rec.outcome != Outcome.QUARANTINE, rec.reason
        assert rec.sender == "jdöe@mächine.example"


def test_housekeeping_makes_handled_mails_forget_their_senders_after_thirty_days(
        worker: Worker) -> None:
    from datetime import UTC, datetime, timedelta

    from mailbot.registrations.event_changes import import_events
    from tests.factories import event

    now = datetime(2027, 1, 10, 9, 0, tzinfo=UTC)
    worker.clock = lambda: now
    with worker.db.session() as s:
        import_events(s, worker.mailer(s), [event(capacity=10)])
    worker.intake_pass()
    worker.housekeeping()
    with worker.db.session() as s:
        assert all(r.sender for r in s.scalars(select(InboundRecord)))
    worker.clock = lambda: now + timedelta(days=31)
    worker.housekeeping()
    with worker.db.session() as s:
        recs = s.scalars(select(InboundRecord)).all()
        assert [r.outcome for r in recs] == [Outcome.DONE] * 5
        assert all(not r.sender and r.message_id for r in recs)
