"""The IMAP mailbox (imapclient): IDLE or polling, reconnects with backoff, batched BODY.PEEK fetch."""

from __future__ import annotations

import email.parser
import email.policy
import logging
import socket
import ssl
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError, LoginError

from mailbot.config import _IMAP, ServerUrl, parse_server_url
from mailbot.errors import ConfigError, MailboxError
from mailbot.mailbox.base import RawMessage
from mailbot.types import Outcome

log = logging.getLogger(__name__)

T = TypeVar("T")

DELETED = b"\\Deleted"
# Socket errors (incl. timeouts and TLS errors), imaplib's abort/error and anything a dropped
# connection surfaces as inside imapclient's parser.
_RETRYABLE: tuple[type[BaseException], ...] = (OSError, IMAPClientError, EOFError)


class _Permanent(MailboxError):
    """A problem no reconnect can fix (no STARTTLS, bad credentials, bad certificate)."""


class _GaveUp(MailboxError):
    """The caller's retry budget is used up."""


class _ConnectionLost(ConnectionError):
    """The server closed the connection (BYE or EOF) while we were idling."""


def _describe(exc: BaseException) -> str:
    """One line about a network error; never contains the password (we never send it in one)."""
    text = " ".join(str(exc).split()) or exc.__class__.__name__
    if isinstance(exc, TimeoutError):
        return f"timed out ({text})"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    return f"{exc.__class__.__name__}: {text}"[:300]


def _norm_id(value: str) -> str:
    return value.strip().strip("<>").strip()


class ImapMailbox:
    """An IMAP folder as a Mailbox; connects lazily and reconnects on any network error.

    `retry_for` is the budget (seconds) one call keeps reconnecting before it raises
    MailboxError; None retries forever (a long-running worker). `wait()` never raises for
    network errors: it retries until its own timeout and then reports that mail may be there.
    """

    def __init__(self, url: str, password: str | None = None,
                 folders: dict[Outcome, str] | None = None, *, timeout: float = 30.0,
                 retry_for: float | None = 60.0, use_idle: bool = True, use_move: bool = True,
                 batch_size: int = 50, idle_refresh: float = 300.0, poll_interval: float = 30.0,
                 backoff: float = 0.5, max_backoff: float = 60.0) -> None:
        self.url: ServerUrl = parse_server_url(url, _IMAP, "mailbox URL", ())
        self._password = self.url.password if self.url.password is not None else password
        if not self.url.username or self._password is None:
            raise ConfigError(f"{self.url.display}: the mailbox needs a user name and a password")
        # The identity of the mailbox in the database: independent of how TLS is negotiated.
        self.name = (f"imap://{self.url.username}@{self.url.host.lower()}:{self.url.port}"
                     f"/{self.url.path}")
        self.folders = dict(folders or {o: o.value for o in Outcome})
        self.inbox = self.url.path
        self.timeout = timeout
        self.retry_for = retry_for
        self.use_idle = use_idle
        self.use_move = use_move
        self.batch_size = max(1, batch_size)
        # Servers may drop an IDLE after 30 min (RFC 2177); restart it well before that. The
        # restart also bounds a rare miss: Dovecot reports no change that landed between our
        # last command and the start of IDLE until the next command (the DONE of the restart).
        self.idle_refresh = min(idle_refresh, 25 * 60.0)
        self.poll_interval = poll_interval
        self.backoff = backoff
        self.max_backoff = max_backoff
        self._client: IMAPClient | None = None
        self._selected: str | None = None
        self._failures = 0
        self.uidvalidity: int | None = None
        self._newest_uid = 0  # highest inbox UID handed out by fetch_new (for wait)
        self._folder_names: dict[Outcome, str] = {}

    def __repr__(self) -> str:
        return f"ImapMailbox({self.name!r})"

    # -- connection handling -------------------------------------------------------------

    def _ssl_context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context()
        if not self.url.verify:
            # imap+insecure: TLS against a self-signed server, explicitly asked for in the URL.
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        return ctx

    def _connect(self) -> IMAPClient:
        tls = self.url.tls
        try:
            client = IMAPClient(self.url.host, self.url.port, ssl=tls == "implicit",
                                ssl_context=self._ssl_context() if tls == "implicit" else None,
                                timeout=self.timeout)
        except ssl.SSLCertVerificationError as exc:
            raise _Permanent(f"{self.name}: certificate check failed ({exc.verify_message})"
                             ) from None
        try:
            if tls == "starttls":
                if not client.has_capability("STARTTLS"):
                    raise _Permanent(
                        f"{self.name}: the server does not offer STARTTLS, which {self.url.scheme}://"
                        " requires (use imaps:// for TLS on connect, or imap+plain:// for an"
                        " unencrypted local test server)")
                try:
                    client.starttls(self._ssl_context())
                except ssl.SSLCertVerificationError as exc:
                    raise _Permanent(f"{self.name}: certificate check failed"
                                     f" ({exc.verify_message})") from None
            try:
                client.login(self.url.username or "", self._password or "")
            except LoginError as exc:
                if "UNAVAILABLE" in str(exc).upper():
                    raise  # the server's backend is down for a moment: retry
                raise _Permanent(f"{self.name}: login refused ({' '.join(str(exc).split())})"
                                 ) from None
            self._select(client, self.inbox)
            self._keepalive(client)
        except BaseException:
            self._shutdown(client)
            raise
        return client

    @staticmethod
    def _keepalive(client: IMAPClient) -> None:
        """TCP keepalive, so a server that vanished without a FIN (network gone, VM paused) is
        noticed within ~2 minutes even in the middle of a long IDLE."""
        sock = client.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        for name, value in (("TCP_KEEPIDLE", 60), ("TCP_KEEPINTVL", 15), ("TCP_KEEPCNT", 4)):
            if hasattr(socket, name):  # Linux names; other systems keep their defaults
                sock.setsockopt(socket.IPPROTO_TCP, getattr(socket, name), value)

    @staticmethod
    def _shutdown(client: IMAPClient) -> None:
        try:
            client.shutdown()
        except Exception:  # already broken: nothing left to release
            log.debug("shutdown of a broken connection failed", exc_info=True)

    def _drop(self) -> None:
        client, self._client, self._selected = self._client, None, None
        if client is not None:
            self._shutdown(client)

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
            except _Permanent:
                self._drop()
                raise
            except _RETRYABLE as exc:
                self._drop()
                attempts += 1
                if stale and attempts == 1:
                    # An old connection died (idle timeout, server restart): reconnect at once.
                    log.info("%s: connection lost during %s (%s); reconnecting", self.name, what,
                             _describe(exc))
                    continue
                self._failures += 1
                delay = min(self.max_backoff, self.backoff * 2 ** (self._failures - 1))
                if deadline is not None:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        raise _GaveUp(f"{self.name}: {what} failed: {_describe(exc)}"
                                      f" (gave up after {attempts} attempt"
                                      f"{'s' if attempts > 1 else ''})") from None
                    delay = min(delay, left)
                log.warning("%s: %s failed: %s; retrying in %.1f s", self.name, what,
                            _describe(exc), delay)
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
                self._shutdown(client)

    # -- fetching ------------------------------------------------------------------------

    def fetch_new(self, limit: int = 100) -> Iterator[RawMessage]:
        def search(client: IMAPClient) -> tuple[list[int], int]:
            # Select afresh each pass: it re-reads UIDVALIDITY and lets imaplib drop the
            # untagged responses it has collected since (they pile up on a long connection).
            self._selected = None
            self._select(client, self.inbox)
            uids = sorted(int(u) for u in client.search(["NOT", "DELETED"]))
            return uids, self.uidvalidity or 0

        uids, validity = self._run("search", search)
        uids = uids[:limit]
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

    def backlog(self) -> int:
        def status(client: IMAPClient) -> int:
            return int(client.folder_status(self.inbox, [b"MESSAGES"]).get(b"MESSAGES", 0))

        return self._run("status", status)

    # -- moving --------------------------------------------------------------------------

    def move(self, msg: RawMessage, outcome: Outcome) -> None:
        def op(client: IMAPClient) -> None:
            self._select(client, self.inbox)
            if msg.uidvalidity == self.uidvalidity:
                uid: int | None = int(msg.uid)
                if not client.search(["UID", str(uid)]):
                    uid = None
            else:
                # UIDs were renumbered since the fetch: the Message-ID is the only handle left.
                mid = self._message_id(msg.data)
                uid = self._find_by_message_id(client, mid)[0] if mid else None
                if uid is None:
                    log.info("%s: UID %s (UIDVALIDITY %s) is gone and its Message-ID is not"
                             " found", self.name, msg.uid, msg.uidvalidity)
            if uid is None:
                return  # already moved (e.g. crash between commit and move): nothing to do
            self._move_uids(client, [uid], outcome)

        self._run(f"move to {outcome.value}", op)

    def move_from(self, outcome: Outcome, message_id: str, to: Outcome) -> bool:
        mid = _norm_id(message_id)

        def op(client: IMAPClient) -> bool:
            source = self._folder(client, outcome)
            self._select(client, source)
            uids = self._find_by_message_id(client, mid)
            if uids and outcome != to:
                self._move_uids(client, uids, to)
            return bool(uids)

        return self._run(f"move from {outcome.value} to {to.value}", op)

    @staticmethod
    def _message_id(data: bytes) -> str | None:
        headers = email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(data)
        value = headers.get("Message-ID")
        return _norm_id(str(value)) if value else None

    def _find_by_message_id(self, client: IMAPClient, mid: str) -> list[int]:
        """UIDs in the selected folder whose Message-ID is exactly `mid`."""
        charset = None if mid.isascii() else "UTF-8"
        found = client.search(["HEADER", "Message-ID", mid, "NOT", "DELETED"], charset)
        if not found:
            return []
        # SEARCH HEADER matches substrings: confirm the exact id.
        heads = client.fetch(found, ["BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]"])
        exact = []
        for uid, item in heads.items():
            raw = next((v for k, v in item.items() if k.startswith(b"BODY[HEADER")), b"")
            if self._message_id(bytes(raw or b"")) == mid:
                exact.append(int(uid))
        return sorted(exact)

    def _move_uids(self, client: IMAPClient, uids: Sequence[int], outcome: Outcome) -> None:
        target = self._folder(client, outcome)
        try:
            self._transfer(client, uids, target)
        except IMAPClientError as exc:
            if "TRYCREATE" not in str(exc).upper():
                raise
            # Someone deleted the folder since we looked it up: create it and try once more.
            self._folder_names.pop(outcome, None)
            target = self._folder(client, outcome)
            self._transfer(client, uids, target)

    def _transfer(self, client: IMAPClient, uids: Sequence[int], target: str) -> None:
        if self.use_move and client.has_capability("MOVE"):
            client.move(uids, target)
            return
        client.copy(uids, target)
        client.add_flags(uids, [DELETED], silent=True)
        if client.has_capability("UIDPLUS"):
            client.uid_expunge(uids)
        else:
            # Without UIDPLUS, EXPUNGE also removes other \Deleted messages; nobody else is
            # expected to leave deleted mail in the registration inbox.
            client.expunge()

    # -- folders -------------------------------------------------------------------------

    def _folder(self, client: IMAPClient, outcome: Outcome) -> str:
        """The server name of the folder for `outcome`, created and subscribed when missing.
        Configured names use "/" for hierarchy; the personal namespace prefix is added when
        the server has one (Courier/Cyrus style "INBOX.") and the bare name does not exist."""
        if outcome in self._folder_names:
            return self._folder_names[outcome]
        configured = self.folders[outcome]
        prefix, delim = "", "/"
        if client.has_capability("NAMESPACE"):
            personal = client.namespace().personal
            if personal:
                prefix, delim = personal[0][0] or "", personal[0][1] or delim
        else:
            listing = client.list_folders("", "")
            if listing and listing[0][1]:
                delim = listing[0][1].decode() if isinstance(listing[0][1], bytes) else listing[0][1]
        base = configured.replace("/", delim)
        if base.upper() == "INBOX":
            self._folder_names[outcome] = "INBOX"
            return "INBOX"
        candidates = [base]
        if prefix and not base.startswith(prefix):
            candidates.insert(0, prefix + base)
        existing = {name for _flags, _delim, name in client.list_folders()}
        name = next((c for c in candidates if c in existing), None)
        if name is None:
            name = candidates[0]
            try:
                client.create_folder(name)
                log.info("%s: created folder %s", self.name, name)
            except IMAPClientError as exc:
                if "ALREADYEXISTS" not in str(exc).upper():
                    raise
            try:
                client.subscribe_folder(name)
            except IMAPClientError as exc:  # a folder works without a subscription
                log.info("%s: could not subscribe to %s (%s)", self.name, name, _describe(exc))
        self._folder_names[outcome] = name
        return name

    # -- waiting -------------------------------------------------------------------------

    def wait(self, timeout: float) -> bool:
        end = time.monotonic() + max(0.0, timeout)

        def op(client: IMAPClient) -> bool:
            self._select(client, self.inbox)
            if self._has_newer(client):
                return True
            if self.use_idle and client.has_capability("IDLE"):
                return self._idle(client, end)
            return self._poll(client, end)

        try:
            return self._run("wait", op, deadline=end)
        except _GaveUp as exc:
            # The fetch that follows retries (and reports) on its own budget.
            log.debug("%s", exc)
            return True

    def _has_newer(self, client: IMAPClient) -> bool:
        """Anything in the inbox with a UID above what fetch_new handed out?"""
        # Dovecot searches the view the session had when the command began, and announces a
        # message that arrived meanwhile only by an EXISTS at the end of the reply; IDLE never
        # announces it again. So: forget older EXISTS replies (what they announced is in the
        # view this SEARCH sees), and count one that comes with the SEARCH as "look again".
        pending = client._imap.untagged_responses
        pending.pop("EXISTS", None)
        found = client.search(["UID", f"{self._newest_uid + 1}:*", "NOT", "DELETED"])
        # "n:*" always matches the highest UID, even when that is below n.
        return any(int(u) > self._newest_uid for u in found) or bool(pending.pop("EXISTS", None))

    def _poll(self, client: IMAPClient, end: float) -> bool:
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return False
            time.sleep(min(left, self.poll_interval))
            client.noop()
            if self._has_newer(client):
                return True

    def _idle(self, client: IMAPClient, end: float) -> bool:
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return False
            stop = time.monotonic() + min(left, self.idle_refresh)
            client.idle()
            # On any exception in between, _run drops the connection: no DONE needed then.
            # Dovecot reports what changed since our last command right after "+ idling", often
            # in the same packet: imaplib has read it already, and idle_check() only polls the
            # socket, so it would sit there until the next change. DONE hands it over.
            arrived = False if self._buffered(client) else self._idle_until(client, stop)
            _text, late = client.idle_done()
            if arrived or self._arrival(late):
                return True

    @staticmethod
    def _buffered(client: IMAPClient) -> bool:
        """Has imaplib read bytes from the server that nobody has parsed yet?"""
        sock = client.socket()
        timeout = sock.gettimeout()
        sock.setblocking(False)  # peek() must not wait for the server when nothing is there
        try:
            return bool(client._imap.file.peek(1))
        except OSError:  # e.g. TLS wants more bytes: then nothing complete is buffered
            return False
        finally:
            sock.settimeout(timeout)

    def _idle_until(self, client: IMAPClient, stop: float) -> bool:
        while True:
            left = stop - time.monotonic()
            if left <= 0:
                return False
            began = time.monotonic()
            responses = client.idle_check(timeout=left)
            if self._arrival(responses):
                return True
            if not responses and time.monotonic() - began < left - 0.05:
                # idle_check returns early and empty only when the socket hit EOF.
                raise _ConnectionLost("the server closed the connection")

    @staticmethod
    def _arrival(responses: Sequence[Any]) -> bool:
        for resp in responses:
            if len(resp) >= 2 and resp[1] == b"EXISTS":
                return True
            if len(resp) >= 2 and resp[1] == b"RECENT" and resp[0]:
                return True
            if resp and resp[0] == b"BYE":
                raise _ConnectionLost("the server said BYE")
        return False
