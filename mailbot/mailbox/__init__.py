"""Where mail arrives: one `Mailbox` protocol (base), IMAP and Maildir; `open_mailbox` picks one."""

from __future__ import annotations

from mailbot.mailbox.base import Mailbox, RawMessage
from mailbot.types import Outcome

__all__ = ["Mailbox", "RawMessage", "open_mailbox"]

def open_mailbox(url: str, password: str | None = None, folders: dict[Outcome, str] | None = None,
                 ) -> Mailbox:
    """Open the mailbox a MAILBOT_MAILBOX_URL names (already validated by config)."""
    folders = folders or {o: o.value for o in Outcome}
    if url.startswith("maildir:"):
        from mailbot.mailbox.maildir import MaildirMailbox

        return MaildirMailbox(url, folders)
    from mailbot.mailbox.imap import ImapMailbox

    return ImapMailbox(url, password, folders)
