"""One IMAP session of a mailbox: connects lazily, keeps its inbox selected (and its
UIDVALIDITY), runs each command on a live connection and reconnects with backoff."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from imapclient import IMAPClient

from mailbot.config import _IMAP, ServerUrl, parse_server_url
from mailbot.errors import ConfigError
from mailbot.mailbox.imap_connect import (
    RETRYABLE,
    GaveUp,
    Permanent,
    describe,
    keepalive,
    open_connection,
    shutdown,
)

log = logging.getLogger("mailbot.mailbox.imap")

T = TypeVar("T")


class ImapSession:
    """The connection of an ImapMailbox, reconnected on any network error.

    `retry_for` is the budget (seconds) one call keeps reconnecting before it raises
    MailboxError; None retries forever (a long-running worker).
    """

    def __init__(self, url: str, password: str | None = None, *, timeout: float = 30.0,
                 retry_for: float | None = 60.0, backoff: float = 0.5,
                 max_backoff: float = 60.0) -> None:
        self.url: ServerUrl = parse_server_url(url, _IMAP, "mailbox URL", ())
        self._password = self.url.password if self.url.password is not None else password
        if not self.url.username or self._password is None:
            raise ConfigError(f"{self.url.display}: the mailbox needs a user name and a password")
        # The identity of the mailbox in the database: independent of how TLS is negotiated.
        self.name = (f"imap://{self.url.username}@{self.url.host.lower()}:{self.url.port}"
                     f"/{self.url.path}")
        self.inbox = self.url.path
        self.timeout = timeout
        self.retry_for = retry_for
        self.backoff = backoff
        self.max_backoff = max_backoff
        self._client: IMAPClient | None = None
        self._selected: str | None = None
        self._failures = 0
        self.uidvalidity: int | None = None
        self._newest_uid = 0  # highest inbox UID handed out by fetch_new (for wait)

    def _connect(self) -> IMAPClient:
        client = open_connection(self.url, self._password or "", self.name, self.timeout)
        try:
            self._select(client, self.inbox)
            keepalive(client)
        except BaseException:
            shutdown(client)
            raise
        return client

    def _drop(self) -> None:
        client, self._client, self._selected = self._client, None, None
        if client is not None:
            shutdown(client)

    def _select(self, client: IMAPClient, folder: str) -> None:
        if self._selected == folder:
            return
        info = client.select_folder(folder)
        self._selected = folder
        if folder == self.inbox:
            validity = int(info.get(b"UIDVALIDITY", 0))
            if self.uidvalidity is not None and validity != self.uidvalidity:
                log.warning("%s: UIDVALIDITY changed from %s to %s; UIDs were renumbered",
                            self.name, self.uidvalidity, validity)
                self._newest_uid = 0
            self.uidvalidity = validity

    def _run(self, what: str, op: Callable[[IMAPClient], T], deadline: float | None = None) -> T:
        """Run `op` on a live connection; reconnect with backoff until it succeeds or the
        deadline (default: now + retry_for) passes."""
        if deadline is None and self.retry_for is not None:
            deadline = time.monotonic() + self.retry_for
        attempts = 0
        while True:
            stale = self._client is not None
            try:
                if self._client is None:
                    self._client = self._connect()
                    if self._failures:
                        log.info("%s: connected again", self.name)
                    self._failures = 0
                return op(self._client)
            except Permanent:
                self._drop()
                raise
            except RETRYABLE as exc:
                self._drop()
                attempts += 1
                if stale and attempts == 1:
                    # An old connection died (idle timeout, server restart): reconnect at once.
                    log.info("%s: connection lost during %s (%s); reconnecting", self.name, what,
                             describe(exc))
                    continue
                self._failures += 1
                delay = min(self.max_backoff, self.backoff * 2 ** (self._failures - 1))
                if deadline is not None:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        raise GaveUp(f"{self.name}: {what} failed: {describe(exc)}"
                                      f" (gave up after {attempts} attempt"
                                      f"{'s' if attempts > 1 else ''})") from None
                    delay = min(delay, left)
                log.warning("%s: %s failed: %s; retrying in %.1f s", self.name, what,
                            describe(exc), delay)
                time.sleep(delay)
            except BaseException:
                # A bug or an interrupt (signal) in the middle of a command: the protocol
                # state is unknown, so the next call starts on a fresh connection.
                self._drop()
                raise

    def close(self) -> None:
        client, self._client, self._selected = self._client, None, None
        if client is not None:
            try:
                client.logout()
            except Exception:  # the server may be gone already; the socket is closed anyway
                shutdown(client)
