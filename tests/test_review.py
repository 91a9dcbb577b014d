"""`mailbot review` and `mailbot reprocess`: through the CLI, against Dovecot where mail moves."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from mailbot import cli
from mailbot.database import Database
from mailbot.mailbox import RawMessage, open_mailbox
from mailbot.models import InboundRecord, OutboxRow, Registration, RegState
from mailbot.runners.worker import Worker
from mailbot.types import EventInfo, InboundMail, Intent, IntentKind, Outcome
from tests.digest_data import Clock, make_event, make_worker
from tests.servers import Dovecot

SLUG = "werkstatt-2027"
BROKEN = {"on": True}  # the "rules bug" a quarantine test fixes half-way


def raw_mail(n: int, subject: str, sender: str = "uli@verein.example",
             name: str = "Uli Unsicher", text: str = "Ich komme vielleicht.") -> bytes:
    return (f"From: {name} <{sender}>\r\nTo: anmeldung@mitgen.example\r\n"
            f"Subject: {subject}\r\nMessage-ID: <review-{n}@verein.example>\r\n"
            f"Content-Type: text/plain; charset=utf-8\r\n\r\n{text}\r\n").encode()


def fake_understand(self: Worker, data: bytes, events: list[EventInfo]
                    ) -> tuple[InboundMail, Intent]:
    """Stands in for parse + classify: the subject says what the mail is."""
    msg = email.message_from_bytes(data, policy=email.policy.default)
    subject = str(msg["Subject"])
    if "kaputt" in subject and BROKEN["on"]:
        raise ValueError("rules bug")
    sender = msg["From"].addresses[0]
    text = msg.get_content().strip()
    mail = InboundMail(
        message_id=str(msg["Message-ID"]).strip("<>"), sender_email=sender.addr_spec.lower(),
        sender_name=sender.display_name, reply_to="", to=(), subject=subject, date=None,
        in_reply_to=(), text=text, signature="", quoted="", full_text=text, language="de",
        headers={})
    if "unklar" in subject:
        return mail, Intent(IntentKind.OTHER, confidence=0.2, organization="Verein e.V.")
    return mail, Intent(IntentKind.REGISTER, event=SLUG, confidence=0.95, party_size=1,
                        organization="Verein e.V.")


@pytest.fixture(autouse=True)
def setup(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, db_url: str) -> Iterator[None]:
    monkeypatch.setattr(Worker, "understand", fake_understand)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MAILBOT_DATABASE_URL", db_url)
    monkeypatch.setenv("MAILBOT_FROM", "Anmeldung <anmeldung@mitgen.example>")
    for var in ("MAILBOT_MAILBOX_URL", "MAILBOT_SMTP_URL", "MAILBOT_CONFIG"):
        monkeypatch.delenv(var, raising=False)
    BROKEN["on"] = True
    db = Database(db_url)
    with db.session() as s:
        make_event(s, capacity=10)
    db.dispose()
    yield


def intake(db_url: str, raws: list[bytes], mailbox: object = None) -> list[int]:
    """Handle mails like `mailbot run` does; returns their record ids."""
    w = make_worker(db_url, Clock(datetime.now(UTC)))
    w.mailbox = mailbox  # type: ignore[assignment]
    if mailbox is not None:
        w.intake_pass()
    else:
        for i, data in enumerate(raws):
            w.handle_one_mail(RawMessage("test", 1, f"u{i}-{len(data)}", data))
    with w.db.session() as s:
        return list(s.scalars(select(InboundRecord.id).order_by(InboundRecord.id)))


def through_imap(db_url: str, dovecot: Dovecot, data: bytes) -> int:
    """Deliver one mail to Dovecot's inbox and let intake file it; returns its record id."""
    dovecot.append(data)
    box = open_mailbox(dovecot.url, dovecot.password)
    try:
        (rid,) = intake(db_url, [], box)
    finally:
        box.close()
    return rid


def state(db_url: str) -> tuple[list[InboundRecord], list[Registration], list[OutboxRow]]:
    db = Database(db_url)
    with db.session() as s:
        out = (list(s.scalars(select(InboundRecord).order_by(InboundRecord.id))),
               list(s.scalars(select(Registration).options(selectinload(Registration.person)))),
               list(s.scalars(select(OutboxRow))))
    db.dispose()
    return out


def test_review_assign_registers_the_sender_and_moves_the_mail_to_done(
        db_url: str, dovecot: Dovecot, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    rid = through_imap(db_url, dovecot, raw_mail(1, "Anmeldung unklar"))
    assert len(dovecot.messages("review")) == 1 and dovecot.uids("INBOX") == []

    monkeypatch.setenv("MAILBOT_MAILBOX_URL", dovecot.url_with_password)
    assert cli.main(["review"]) == 0
    listed = capsys.readouterr().out
    assert f"#{rid}" in listed and "uli@verein.example" in listed and "unsure" in listed

    assert cli.main(["review", "assign", str(rid), SLUG]) == 0
    assert f"mail #{rid}: uli@verein.example registered for {SLUG}" in capsys.readouterr().out
    assert dovecot.uids("review") == []
    assert [m.split(b"\r\n")[2] for m in dovecot.messages("done")] == [b"Subject: Anmeldung unklar"]
    recs, regs, rows = state(db_url)
    assert recs[0].resolved_at is not None and recs[0].raw is None and recs[0].moved_at
    assert [(r.state, r.seats, r.person.email) for r in regs] == [
        (RegState.REGISTERED, 1, "uli@verein.example")]
    assert [(r.template, r.to_addr, r.in_reply_to) for r in rows] == [
        ("confirmation", "uli@verein.example", "review-1@verein.example")]
    # resolved means resolved: a second try is a clear error, not a second registration
    assert cli.main(["review", "assign", str(rid), SLUG]) == 1
    assert "already resolved" in capsys.readouterr().err
    assert cli.main(["review"]) == 0 and "nothing needs a human" in capsys.readouterr().out


def test_review_dismiss_files_a_quarantined_mail_in_done_by_its_message_id(
        db_url: str, dovecot: Dovecot, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    rid = through_imap(db_url, dovecot, raw_mail(2, "Anmeldung kaputt"))
    assert len(dovecot.messages("quarantine")) == 1
    monkeypatch.setenv("MAILBOT_MAILBOX_URL", dovecot.url_with_password)
    assert cli.main(["review", "dismiss", str(rid)]) == 0
    assert dovecot.uids("quarantine") == [] and len(dovecot.messages("done")) == 1
    recs, regs, rows = state(db_url)
    assert recs[0].resolved_at is not None and recs[0].raw is None and "dismissed" in recs[0].reason
    assert regs == [] and rows == []


def test_review_register_needs_an_event_and_says_so_in_one_line(
        db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    (rid,) = intake(db_url, [raw_mail(3, "Anmeldung unklar")])
    assert cli.main(["review", "register", str(rid)]) == 1
    err = capsys.readouterr().err
    assert err == (f"mailbot: mail #{rid} names no event; choose one: "
                   f"mailbot review assign {rid} SLUG\n")
    assert state(db_url)[1] == []
    assert cli.main(["review", "assign", str(rid), "nope"]) == 1
    assert "no event 'nope'" in capsys.readouterr().err
    assert cli.main(["review", "dismiss", "999"]) == 1
    assert "there is no mail #999" in capsys.readouterr().err


def test_reprocess_applies_a_quarantined_mail_once_after_the_fix(
        db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    (rid,) = intake(db_url, [raw_mail(4, "Anmeldung kaputt", "kim@verein.example", "Kim Kurz")])
    assert cli.main(["reprocess"]) == 0
    assert "still fails: ValueError: rules bug" in capsys.readouterr().out
    recs, regs, _ = state(db_url)
    assert recs[0].outcome == Outcome.QUARANTINE and regs == []

    BROKEN["on"] = False
    assert cli.main(["reprocess", str(rid)]) == 0
    assert f"mail #{rid}: done (register, {SLUG})" in capsys.readouterr().out
    assert cli.main(["reprocess"]) == 0
    assert "nothing in quarantine" in capsys.readouterr().out
    recs, regs, rows = state(db_url)
    assert recs[0].outcome == Outcome.DONE and recs[0].raw is None
    assert recs[0].message_id == "review-4@verein.example" and recs[0].sender == "kim@verein.example"
    assert [r.person.email for r in regs] == ["kim@verein.example"]
    assert [r.template for r in rows] == ["confirmation"]
    assert cli.main(["reprocess", str(rid)]) == 1  # done now: not again
    assert "already resolved" in capsys.readouterr().err


def test_reprocess_does_not_apply_a_mail_that_arrived_again_and_was_applied(
        db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    data = raw_mail(5, "Anmeldung kaputt", "kim@verein.example", "Kim Kurz")
    intake(db_url, [data])
    BROKEN["on"] = False
    intake(db_url, [data + b" "])  # the same Message-ID again, under another UID: applied
    assert cli.main(["reprocess"]) == 0
    recs, regs, rows = state(db_url)
    assert [r.outcome for r in recs] == [Outcome.DONE, Outcome.DONE]
    assert "not applied twice" in recs[0].reason
    assert len(regs) == 1 and [r.template for r in rows] == ["confirmation"]
