"""The IMAP mailbox (imapclient): IDLE or polling, reconnects with backoff, batched BODY.PEEK fetch."""

from __future__ import annotations

import logging
import time
from collections.abc import Collection, Iterator, Sequence
from typing import Any

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError

from mailbot.mailbox.base import RawMessage
from mailbot.mailbox.imap_connect import GaveUp
from mailbot.mailbox.imap_folders import (
    find_by_message_id,
    message_id_of,
    norm_id,
    server_folder,
    transfer,
    uid_set,
)
from mailbot.mailbox.imap_session import ImapSession
from mailbot.mailbox.imap_wait import has_newer, idle, poll
from mailbot.types import Outcome

log = logging.getLogger(__name__)


class ImapMailbox(ImapSession):
    """An IMAP folder as a Mailbox; connects lazily and reconnects on any network error.

    `retry_for` is the budget (seconds) one call keeps reconnecting before it raises
    MailboxError; None retries forever (a long-running worker). `wait()` never raises for
    network errors: it retries until its own timeout and then reports that mail may be there.
    """

    def __init__(self, url: str, password: str | None = None,
                 folders: dict[Outcome, str] | None = None, *, timeout: float = 30.0,
                 retry_for: float | None = 60.0, use_idle: bool = True, use_move: bool = True,
                 batch_size: int = 200, idle_refresh: float = 300.0, poll_interval: float = 30.0,
                 backoff: float = 0.5, max_backoff: float = 60.0) -> None:
        super().__init__(url, password, timeout=timeout, retry_for=retry_for, backoff=backoff,
                         max_backoff=max_backoff)
        self.folders = dict(folders or {o: o.value for o in Outcome})
        self.use_idle = use_idle
        self.use_move = use_move
        self.batch_size = max(1, batch_size)
        # Servers may drop an IDLE after 30 min (RFC 2177); restart it well before that. The
        # restart also bounds a rare miss: Dovecot reports no change that landed between our
        # last command and the start of IDLE until the next command (the DONE of the restart).
        self.idle_refresh = min(idle_refresh, 25 * 60.0)
        self.poll_interval = poll_interval
        self._folder_names: dict[Outcome, str] = {}

    def __repr__(self) -> str:
        return f"ImapMailbox({self.name!r})"

    def probe(self) -> str:
        """Log in, open the inbox and the outcome folders (created when missing, as `run` would
        create them); nothing is fetched or moved."""

        def op(client: IMAPClient) -> None:
            for outcome in Outcome:
                self._select(client, self._folder(client, outcome))
            self._select(client, self.inbox)

        self._run("probe", op)
        folders = ", ".join(self.folders[o] for o in Outcome)
        return f"{self.url.display}: logged in; inbox and folders {folders} usable"

    # -- fetching ------------------------------------------------------------------------

    def fetch_new(self, limit: int = 100, max_bytes: int | None = None,
                  skip: Collection[str] = ()) -> Iterator[RawMessage]:
        def search(client: IMAPClient) -> tuple[list[int], int]:
            # Select afresh each pass: it re-reads UIDVALIDITY and lets imaplib drop the
            # untagged responses it has collected since (they pile up on a long connection).
            self._selected = None
            self._select(client, self.inbox)
            uids = sorted(int(u) for u in client.search(["NOT", "DELETED"]))
            return uids, self.uidvalidity or 0

        uids, validity = self._run("search", search)
        uids = [u for u in uids if str(u) not in skip][:limit] if skip else uids[:limit]
        if max_bytes is not None and len(uids) > 1:
            uids = self._within(uids, validity, max_bytes)
        for start in range(0, len(uids), self.batch_size):
            chunk = uids[start:start + self.batch_size]

            def fetch(client: IMAPClient, chunk: list[int] = chunk) -> dict[int, Any] | None:
                self._select(client, self.inbox)
                if self.uidvalidity != validity:
                    return None
                # BODY.PEEK: fetching must not mark anything \Seen (a human may read the inbox).
                return dict(client.fetch(chunk, ["BODY.PEEK[]"]))

            got = self._run("fetch", fetch)
            if got is None:
                log.warning("%s: UIDVALIDITY changed while fetching; starting over next pass",
                            self.name)
                return
            for uid in chunk:
                data = got.get(uid, {}).get(b"BODY[]")
                if data is None:
                    continue  # moved or expunged since the search
                self._newest_uid = max(self._newest_uid, uid)
                yield RawMessage(self.name, validity, str(uid), bytes(data))

    def _within(self, uids: list[int], validity: int, max_bytes: int) -> list[int]:
        """The first of `uids` up to the one that brings their size (RFC822.SIZE, asked in one
        command) to `max_bytes`: a batch of large mails is not fetched into memory at once."""

        def sizes(client: IMAPClient) -> dict[int, Any] | None:
            self._select(client, self.inbox)
            if self.uidvalidity != validity:
                return None  # the fetch that follows says so
            return dict(client.fetch(uids, ["RFC822.SIZE"]))

        got = self._run("fetch sizes", sizes) or {}
        total = 0
        for i, uid in enumerate(uids):
            total += int(got.get(uid, {}).get(b"RFC822.SIZE", 0))  # 0: gone since the search
            if total >= max_bytes:
                return uids[:i + 1]
        return uids

    def backlog(self) -> int:
        def status(client: IMAPClient) -> int:
            return int(client.folder_status(self.inbox, [b"MESSAGES"]).get(b"MESSAGES", 0))

        return self._run("status", status)

    # -- moving --------------------------------------------------------------------------

    def move(self, msg: RawMessage, outcome: Outcome) -> None:
        self.move_many([msg], outcome)

    def move_many(self, msgs: Sequence[RawMessage], outcome: Outcome) -> None:
        if not msgs:
            return

        def op(client: IMAPClient) -> None:
            self._select(client, self.inbox)
            current = sorted({int(m.uid) for m in msgs if m.uidvalidity == self.uidvalidity})
            # One SEARCH for the whole set: a UID already moved (crash between commit and
            # move) is simply not there any more, and MOVE is given only the ones that are.
            uids = sorted(int(u) for u in client.search(["UID", uid_set(current)])) \
                if current else []
            for msg in msgs:
                if msg.uidvalidity == self.uidvalidity:
                    continue
                # UIDs were renumbered since the fetch: the Message-ID is the only handle left.
                mid = message_id_of(msg.data)
                found = find_by_message_id(client, mid)[:1] if mid else []
                if not found:
                    log.info("%s: UID %s (UIDVALIDITY %s) is gone and its Message-ID is not"
                             " found", self.name, msg.uid, msg.uidvalidity)
                uids.extend(found)
            if uids:
                self._move_uids(client, sorted(set(uids)), outcome)

        self._run(f"move to {outcome.value}", op)

    def move_from(self, outcome: Outcome, message_id: str, to: Outcome) -> bool:
        mid = norm_id(message_id)

        def op(client: IMAPClient) -> bool:
            source = self._folder(client, outcome)
            self._select(client, source)
            uids = find_by_message_id(client, mid)
            if uids and outcome != to:
                self._move_uids(client, uids, to)
            return bool(uids)

        return self._run(f"move from {outcome.value} to {to.value}", op)

    def _move_uids(self, client: IMAPClient, uids: Sequence[int], outcome: Outcome) -> None:
        target = self._folder(client, outcome)
        try:
            transfer(client, uids, target, self.use_move)
        except IMAPClientError as exc:
            if "TRYCREATE" not in str(exc).upper():
                raise
            # Someone deleted the folder since we looked it up: create it and try once more.
            self._folder_names.pop(outcome, None)
            target = self._folder(client, outcome)
            transfer(client, uids, target, self.use_move)

    # -- folders -------------------------------------------------------------------------

    def _folder(self, client: IMAPClient, outcome: Outcome) -> str:
        """The server name of the folder for `outcome` (looked up once per connection)."""
        if outcome not in self._folder_names:
            self._folder_names[outcome] = server_folder(client, self.folders[outcome], self.name)
        return self._folder_names[outcome]

    # -- waiting -------------------------------------------------------------------------

    def wait(self, timeout: float) -> bool:
        end = time.monotonic() + max(0.0, timeout)

        def op(client: IMAPClient) -> bool:
            self._select(client, self.inbox)
            if self._has_newer(client):
                return True
            if self.use_idle and client.has_capability("IDLE"):
                return idle(client, end, self.idle_refresh)
            return poll(client, end, self.poll_interval, lambda: self._has_newer(client))

        try:
            return self._run("wait", op, deadline=end)
        except GaveUp as exc:
            # The fetch that follows retries (and reports) on its own budget.
            log.debug("%s", exc)
            return True

    def _has_newer(self, client: IMAPClient) -> bool:
        """Anything in the inbox with a UID above what fetch_new handed out?"""
        return has_newer(client, self._newest_uid)
