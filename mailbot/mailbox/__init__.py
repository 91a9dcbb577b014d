"""Where mail arrives: one `Mailbox` protocol, an IMAP and a Maildir implementation."""

from mailbot.mailbox.base import Mailbox, RawMessage, open_mailbox

__all__ = ["Mailbox", "RawMessage", "open_mailbox"]
