"""MaildirMailbox on a temporary Maildir (what `mailbot demo` uses)."""

from __future__ import annotations

import mailbox
import os
import threading
import time
from pathlib import Path

import pytest

from mailbot.errors import MailboxError
from mailbot.mailbox import open_mailbox
from mailbot.mailbox.maildir import MaildirMailbox
from mailbot.types import Outcome


def mail(n: int, message_id: str | None = None) -> bytes:
    mid = message_id or f"msg-{n}@test.example"
    return (f"From: p{n}@test.example\nSubject: Anmeldung {n}\nMessage-ID: <{mid}>\n\n"
            f"Ich melde mich an. {n}\n").encode()


def deliver(root: Path, data: bytes, when: float | None = None, seen: bool = False) -> str:
    md = mailbox.Maildir(str(root), create=True)
    msg = mailbox.MaildirMessage(data)
    if seen:
        msg.set_subdir("cur")
        msg.add_flag("S")
    key = md.add(msg)
    if when is not None:
        path = next(p for sub in ("new", "cur") for p in (root / sub).iterdir()
                    if p.name.startswith(key))
        os.utime(path, (when, when))
    return key


def folder_bytes(root: Path) -> list[bytes]:
    return sorted(p.read_bytes() for sub in ("new", "cur") if (root / sub).is_dir()
                  for p in (root / sub).iterdir())


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    return tmp_path / "inbox"


def test_it_fetches_new_and_cur_oldest_first_ignoring_flags(inbox: Path) -> None:
    now = time.time()
    k2 = deliver(inbox, mail(2), when=now - 10)
    k1 = deliver(inbox, mail(1), when=now - 100, seen=True)
    k3 = deliver(inbox, mail(3), when=now - 1)
    mb = MaildirMailbox(f"maildir://{inbox}")
    got = list(mb.fetch_new())
    assert [m.uid for m in got] == [k1, k2, k3]
    assert [m.data for m in got] == [mail(1), mail(2), mail(3)]
    assert {m.uidvalidity for m in got} == {1}
    assert {m.mailbox for m in got} == {f"maildir://{inbox}"}
    assert [m.uid for m in mb.fetch_new(limit=2)] == [k1, k2]
    # a byte budget: up to the mail that fills it, at least one
    assert [m.uid for m in mb.fetch_new(max_bytes=len(mail(1)) + 1)] == [k1, k2]
    assert [m.uid for m in mb.fetch_new(max_bytes=1)] == [k1]
    # the mails of a batch not yet moved, passed over
    assert [m.uid for m in mb.fetch_new(limit=1, skip={k1})] == [k2]


def test_it_creates_a_missing_maildir(inbox: Path) -> None:
    mb = open_mailbox(f"maildir://{inbox}")
    assert isinstance(mb, MaildirMailbox)
    assert list(mb.fetch_new()) == []
    assert all((inbox / sub).is_dir() for sub in ("new", "cur", "tmp"))


def test_it_moves_into_maildirplusplus_folders_created_when_missing(inbox: Path) -> None:
    for n in range(3):
        deliver(inbox, mail(n), when=time.time() - 10 + n)
    mb = MaildirMailbox(f"maildir://{inbox}", {Outcome.DONE: "done", Outcome.REVIEW: "a/review",
                                                Outcome.QUARANTINE: "quarantine"})
    msgs = list(mb.fetch_new())
    for msg, outcome in zip(msgs, [Outcome.DONE, Outcome.REVIEW, Outcome.QUARANTINE], strict=True):
        mb.move(msg, outcome)
    assert folder_bytes(inbox) == []
    assert folder_bytes(inbox / ".done") == [mail(0)]
    assert folder_bytes(inbox / ".a.review") == [mail(1)]
    assert folder_bytes(inbox / ".quarantine") == [mail(2)]
    assert (inbox / ".done" / "maildirfolder").exists()
    assert sorted(mailbox.Maildir(str(inbox)).list_folders()) == ["a.review", "done", "quarantine"]
    assert all(":2," in p.name for p in (inbox / ".done" / "cur").iterdir())


def test_moving_a_message_that_is_already_gone_is_harmless(inbox: Path) -> None:
    deliver(inbox, mail(1))
    mb = MaildirMailbox(f"maildir://{inbox}")
    [msg] = mb.fetch_new()
    mb.move(msg, Outcome.DONE)
    mb.move(msg, Outcome.DONE)
    mb.move(msg, Outcome.REVIEW)
    assert folder_bytes(inbox / ".done") == [mail(1)]
    assert folder_bytes(inbox / ".review") == []


def test_move_from_finds_the_message_by_its_exact_message_id(inbox: Path) -> None:
    deliver(inbox, mail(1, "xabc@test.example"))
    deliver(inbox, mail(2, "abc@test.example"))
    mb = MaildirMailbox(f"maildir://{inbox}")
    for msg in list(mb.fetch_new()):
        mb.move(msg, Outcome.REVIEW)
    assert mb.move_from(Outcome.REVIEW, "<abc@test.example>", Outcome.DONE) is True
    assert folder_bytes(inbox / ".done") == [mail(2, "abc@test.example")]
    assert folder_bytes(inbox / ".review") == [mail(1, "xabc@test.example")]
    assert mb.move_from(Outcome.REVIEW, "abc@test.example", Outcome.DONE) is False


def test_wait_notices_a_delivery_by_the_directory_mtime(inbox: Path) -> None:
    mb = MaildirMailbox(f"maildir://{inbox}", poll_interval=0.05)
    assert mb.wait(0.2) is False
    threading.Timer(0.2, deliver, (inbox, mail(1))).start()
    began = time.monotonic()
    assert mb.wait(5) is True
    assert time.monotonic() - began < 1


def test_wait_does_not_wake_for_fetched_or_moved_mail(inbox: Path) -> None:
    deliver(inbox, mail(1))
    deliver(inbox, mail(2))
    mb = MaildirMailbox(f"maildir://{inbox}", poll_interval=0.05)
    assert mb.wait(5) is True  # not fetched yet
    first, _second = mb.fetch_new()
    threading.Timer(0.1, mb.move, (first, Outcome.DONE)).start()
    assert mb.wait(0.4) is False


def test_an_unusable_maildir_path_raises_a_mailbox_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(MailboxError, match="cannot open the Maildir"):
        MaildirMailbox(f"maildir://{blocker}/inbox")
