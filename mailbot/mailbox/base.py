"""The Mailbox protocol that intake talks to, and the raw message it hands over."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from mailbot.types import Outcome


@dataclass(frozen=True)
class RawMessage:
    """One message as fetched: its identity in the mailbox and its bytes."""

    mailbox: str  # a stable name of the mailbox: "imap://user@host/INBOX" or "maildir:///path"
    uidvalidity: int  # IMAP UIDVALIDITY; Maildir: a constant 1
    uid: str  # IMAP UID as text; Maildir: the message key
    data: bytes


class Mailbox(Protocol):
    """What intake needs from a mailbox; implementations reconnect on their own."""

    name: str

    def fetch_new(self, limit: int = 100, max_bytes: int | None = None,
                  skip: Collection[str] = ()) -> Iterator[RawMessage]:
        """Messages still in the inbox, oldest first, without marking them read (BODY.PEEK):
        at most `limit`, and with `max_bytes`, none after the one that brings their size to it
        (the first always comes, however large). Those whose uid is in `skip` are passed over
        (e.g. a batch fetched before, not yet moved: the next is fetched while it is applied)."""
        ...

    def move(self, msg: RawMessage, outcome: Outcome) -> None:
        """Move a message out of the inbox into the folder for `outcome` (created when missing).
        Moving a message that is already gone is not an error."""
        ...

    def move_many(self, msgs: Sequence[RawMessage], outcome: Outcome) -> None:
        """Move several messages into the folder for `outcome` in as few commands as the
        mailbox allows (IMAP: one UID MOVE of a UID set); as `move` for each, messages already
        gone are skipped."""
        ...

    def move_from(self, outcome: Outcome, message_id: str, to: Outcome) -> bool:
        """Move the message with this Message-ID (no angle brackets) from the folder for
        `outcome` to the folder for `to` (review commands). False when it is not there."""
        ...

    def backlog(self) -> int:
        """How many messages wait in the inbox now (for the start-up progress bar)."""
        ...

    def wait(self, timeout: float) -> bool:
        """Block up to `timeout` seconds for new mail (IMAP IDLE; polling otherwise).
        Returns True when something may have arrived."""
        ...

    def probe(self) -> str:
        """Check, without touching any message, that the mailbox works as `mailbot run` needs
        it (reachable, logged in, inbox and outcome folders usable); one line on what was found.
        Raises MailboxError, or the network error itself, when it does not (`mailbot doctor`)."""
        ...

    def close(self) -> None: ...
