"""The start-up progress bar: only on a terminal, only for a real backlog; mailbox backlogs."""

from __future__ import annotations

import io
from pathlib import Path

from mailbot.mailbox.imap import ImapMailbox
from mailbot.mailbox.maildir import MaildirMailbox
from mailbot.runners.progress import Progress, for_backlog
from mailbot.types import Outcome
from tests.servers import Dovecot


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_bar_appears_only_on_a_terminal_with_enough_mail() -> None:
    assert for_backlog(500, io.StringIO()) is None
    assert for_backlog(10, Terminal()) is None
    assert isinstance(for_backlog(500, Terminal()), Progress)


def test_the_bar_counts_mails_and_ends_with_a_summary() -> None:
    out = Terminal()
    bar = Progress(3, out)
    for outcome in (Outcome.DONE, Outcome.DONE, Outcome.REVIEW):
        bar(outcome)
    bar.finish()
    text = out.getvalue()
    assert "mails 3/3" in text and "100%" in text and "2 done, 1 review" in text


def test_both_mailboxes_report_their_backlog(tmp_path: Path, dovecot: Dovecot) -> None:
    msg = b"From: a@b.example\r\nSubject: x\r\nMessage-ID: <p1@b.example>\r\n\r\nhi\r\n"
    for _ in range(3):
        dovecot.append(msg)
    imap = ImapMailbox(dovecot.url, dovecot.password)
    try:
        assert imap.backlog() == 3
    finally:
        imap.close()
    maildir = MaildirMailbox(f"maildir://{tmp_path}/box")
    assert maildir.backlog() == 0
    (tmp_path / "box" / "new").mkdir(parents=True, exist_ok=True)
    (tmp_path / "box" / "new" / "1.x").write_bytes(msg)
    assert maildir.backlog() == 1
