"""SmtpTransport: aiosmtplib connections, reused across batches, on a private event loop; a
large batch goes over a few of them at once."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import zlib
from collections.abc import Callable, Sequence
from email.message import EmailMessage
from email.utils import getaddresses
from typing import TypeVar

import aiosmtplib
from aiosmtplib import (
    SMTPAuthenticationError,
    SMTPException,
    SMTPHeloError,
    SMTPNotSupported,
    SMTPRecipientsRefused,
    SMTPResponseException,
    SMTPServerDisconnected,
    SMTPTimeoutError,
)

from mailbot.config import ServerUrl
from mailbot.errors import TransportError
from mailbot.outbox.transport import smtp_pipeline
from mailbot.outbox.transport.base import SendResult
from mailbot.types import SendStatus

K = TypeVar("K")
log = logging.getLogger(__name__)

# 5xx replies that mean "our login/configuration is wrong", not "this message is bad": failing
# the messages permanently would lose them, so they are retried until the setup is fixed.
_CONFIG_CODES = frozenset({530, 534, 535, 538})

_NETWORK_ERRORS = (SMTPServerDisconnected, SMTPTimeoutError, ConnectionError, TimeoutError,
                   OSError)

# A batch opens one more connection for every this many messages (up to the maximum): a few
# replies are not worth a handshake, a burst's hundreds are sent while others wait for answers.
PER_CONNECTION = 8


def _flat(msg: EmailMessage, sender: str, rcpts: list[str]) -> bytes | None:
    """The message as bytes, flattened once with its own policy (composed messages carry SMTP
    line endings and 7bit bodies, valid with or without 8BITMIME); None when it needs what
    aiosmtplib's send_message does on top (a copy without Bcc, SMTPUTF8)."""
    if "Bcc" in msg or "Resent-Bcc" in msg or not (sender + "".join(rcpts)).isascii():
        return None
    pol = msg.policy
    if getattr(pol, "linesep", "\n") != "\r\n" or getattr(pol, "cte_type", "8bit") != "7bit":
        return None  # not composed by us: let aiosmtplib pick line endings and encoding
    return msg.as_bytes(policy=pol)


class _Lane:
    """One connection's part of a batch: its messages flattened once, and its pipelined chain
    (smtp_pipeline.Chain) while the server offers PIPELINING and the messages allow it."""

    def __init__(self, client: aiosmtplib.SMTP, timeout: float | None) -> None:
        self.client, self._timeout = client, timeout
        self._chain: smtp_pipeline.Chain | None = None
        self._prepared: dict[int, smtp_pipeline.Prepared | None] = {}

    def prepared(self, msg: EmailMessage, sender: str, rcpts: list[str]
                 ) -> smtp_pipeline.Prepared | None:
        """The message ready to go pipelined, or None when it cannot (no PIPELINING, or it
        needs aiosmtplib's send_message: Bcc, SMTPUTF8); kept for its turn when asked for as
        the next message."""
        key = id(msg)
        if key not in self._prepared:
            self._prepared.clear()  # at most this message and the next
            data = _flat(msg, sender, rcpts) if smtp_pipeline.offered(self.client) else None
            self._prepared[key] = (None if data is None else
                                   smtp_pipeline.prepare(self.client, sender, rcpts, data))
        return self._prepared[key]

    def chain(self) -> smtp_pipeline.Chain:
        if self._chain is None:
            self._chain = smtp_pipeline.Chain(self.client, self._timeout)
        return self._chain

    def close(self) -> None:
        if self._chain is not None:
            self._chain.close()
            self._chain = None


class SmtpTransport:
    """Sends over SMTP: implicit TLS (smtps), STARTTLS required (smtp), or none (smtp+plain).

    The connections stay open between batches and are checked with NOOP before the next one;
    callers are synchronous, the asyncio clients run on a loop owned by this object. A large
    batch is sent over up to `connections` connections at once (each waits for the server's
    answers while the others send); the messages to one recipient keep their order, since
    they all go over the same connection.
    """

    def __init__(self, url: ServerUrl, timeout: float = 30, envelope_from: str | None = None,
                 local_hostname: str | None = None, cert_bundle: str | None = None,
                 connections: int = 1):
        if url.tls not in ("implicit", "starttls", "none") or not url.host:
            raise ValueError(f"not an SMTP server URL: {url.display}")
        self.url = url
        self.timeout = timeout
        self.envelope_from = envelope_from
        self.local_hostname = local_hostname
        self.cert_bundle = cert_bundle  # extra CA file, e.g. a company CA; verification stays on
        self.connections = 0  # connections opened so far (for logs and tests)
        self.pipelined = 0  # messages sent with their commands pipelined (RFC 2920)
        self.max_connections = max(1, connections)
        self._loop = asyncio.new_event_loop()
        self._client: aiosmtplib.SMTP | None = None
        self._more: list[aiosmtplib.SMTP] = []  # the other connections of large batches

    @property
    def where(self) -> str:
        return f"{self.url.host}:{self.url.port}"

    # ------------------------------------------------------------ public, synchronous

    def deliver(self, batch: Sequence[tuple[K, EmailMessage]],
                on_result: Callable[[K, SendResult], None]) -> None:
        if not batch:
            return
        if self._loop.is_closed():
            raise RuntimeError("SmtpTransport is closed")
        self._loop.run_until_complete(self._deliver(list(batch), on_result))

    def probe(self) -> str:
        """Connect with the TLS policy of sending (STARTTLS required for smtp://), log in when
        the URL has a user, NOOP; sends nothing."""
        if self._loop.is_closed():
            raise RuntimeError("SmtpTransport is closed")
        return self._loop.run_until_complete(self._probe())

    def close(self) -> None:
        if self._loop.is_closed():
            return
        try:
            self._loop.run_until_complete(self._quit())
            self._loop.run_until_complete(self._loop.shutdown_default_executor())
        finally:
            self._loop.close()

    def __enter__(self) -> SmtpTransport:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------ connection

    async def _quit(self) -> None:
        clients, self._client, self._more = [self._client, *self._more], None, []
        for client in clients:
            if client is None or not client.is_connected:
                continue
            try:
                await client.quit()
            except (SMTPException, OSError, TimeoutError):
                client.close()

    def _drop(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            client.close()

    async def _connected(self) -> aiosmtplib.SMTP:
        if self._client is not None and await self._alive(self._client):
            return self._client
        self._client = await self._open()
        return self._client

    @staticmethod
    async def _alive(client: aiosmtplib.SMTP) -> bool:
        """A kept connection still works (servers drop idle ones after a few minutes; find out
        before MAIL FROM); one that does not is closed."""
        if client.is_connected:
            try:
                await client.noop()
                return True
            except (SMTPException, *_NETWORK_ERRORS):
                pass
        client.close()
        return False

    async def _open(self) -> aiosmtplib.SMTP:
        u = self.url
        client = aiosmtplib.SMTP(
            hostname=u.host, port=u.port, timeout=self.timeout,
            use_tls=u.tls == "implicit",
            # True = STARTTLS or give up; False = never (smtp+plain, smtps already encrypted).
            start_tls=u.tls == "starttls",
            validate_certs=u.verify, cert_bundle=self.cert_bundle,
            username=u.username, password=u.password if u.username else None,
            local_hostname=self.local_hostname,
        )
        await client.connect()
        self.connections += 1
        if client.is_ehlo_or_helo_needed:
            # now, not at the first message: its extensions decide whether it is pipelined;
            # an old server that refuses EHLO gets HELO from sendmail, as before
            with contextlib.suppress(SMTPHeloError):
                await client.ehlo()
        return client

    async def _others(self, n: int) -> list[aiosmtplib.SMTP]:
        """Up to n connections besides the first, for a large batch: those kept from before
        (checked with NOOP), then new ones, opened at once. One that cannot be opened is
        left out: the batch goes over fewer (the first connection works)."""
        kept = [c for c, ok in zip(self._more, await asyncio.gather(
            *(self._alive(c) for c in self._more)), strict=True) if ok]
        opened = await asyncio.gather(*(self._open() for _ in range(n - len(kept))),
                                      return_exceptions=True)
        self._more = kept + [c for c in opened if isinstance(c, aiosmtplib.SMTP)]
        refused = [got for got in opened if isinstance(got, BaseException)]
        if refused:
            # e.g. "421 too many connections from your IP": use what the server allows from
            # now on, and say so once, rather than knocking again every round
            allowed = 1 + len(self._more)
            log.warning("SMTP: %s took only %d connection(s) at once (%s); sending over %d "
                        "from now on (MAILBOT_SMTP_CONNECTIONS is %d)", self.where, allowed,
                        refused[0], allowed, self.max_connections)
            self.max_connections = allowed
        return self._more[:n]

    def _forget(self, client: aiosmtplib.SMTP) -> None:
        """A connection in trouble: closed, and a new one opened next time."""
        if client is self._client:
            self._drop()
        else:
            if client in self._more:
                self._more.remove(client)
            client.close()

    async def _probe(self) -> str:
        u = self.url
        shown = f"{u.scheme}://{u.username + '@' if u.username else ''}{u.host}:{u.port}"
        self._drop()  # a fresh connection, so the check covers the whole setup
        try:
            client = await self._connected()
            await self._noop(client, shown)
        except SMTPAuthenticationError as exc:
            raise TransportError(f"{shown}: the server refused user {u.username!r} and the "
                                 f"password ({exc.code}); check MAILBOT_SMTP_PASSWORD",
                                 code=exc.code) from exc
        except (*_NETWORK_ERRORS, ssl.SSLError):
            raise  # the caller explains network trouble in its own words
        except SMTPResponseException as exc:
            raise TransportError(f"{shown}: answered {exc.code} {exc.message}",
                                 code=exc.code) from exc
        except SMTPException as exc:
            text = str(exc).upper()
            if "STARTTLS" in text and u.tls == "starttls":
                raise TransportError(f"{shown}: the server does not offer STARTTLS, which "
                                     "smtp:// requires (smtps:// for TLS on connect, smtp+plain://"
                                     " only for a local test server)") from exc
            if "AUTH" in text:
                raise TransportError(f"{shown}: the server offers no login (AUTH); leave the "
                                     "user out of the URL if it needs none") from exc
            raise TransportError(f"{shown}: {exc}") from exc
        finally:
            await self._quit()
        return f"{shown}: connected" + (", logged in" if u.username else "")

    @staticmethod
    async def _noop(client: aiosmtplib.SMTP, shown: str) -> None:
        try:
            await client.noop()
        except SMTPResponseException as exc:
            raise TransportError(f"{shown}: NOOP answered {exc.code}", code=exc.code) from exc

    def _setup_failure(self, exc: BaseException) -> SendResult:
        """A RETRY result that says in one line why no connection could be used."""
        u, where = self.url, self.where
        code: int | None = None
        if isinstance(exc, SMTPAuthenticationError):
            code = exc.code
            detail = f"{where} refused the login as {u.username!r}: {exc.code} {exc.message}"
        elif isinstance(exc, SMTPResponseException):
            code = exc.code
            detail = f"{where} answered {exc.code} {exc.message}"
        elif isinstance(exc, ssl.SSLCertVerificationError) or (
                isinstance(exc, ssl.SSLError) and "CERTIFICATE_VERIFY_FAILED" in str(exc)):
            reason = getattr(exc, "verify_message", "") or str(exc)
            detail = (f"the TLS certificate of {where} was not accepted ({reason}); use "
                      f"{u.scheme.split('+')[0]}+insecure:// only for a server you trust")
        elif isinstance(exc, SMTPException) and "STARTTLS" in str(exc).upper() \
                and u.tls == "starttls":
            detail = (f"{where} does not offer STARTTLS, and smtp:// never sends without TLS "
                      "(use smtps:// for implicit TLS on port 465, smtp+plain:// only for a "
                      "local test server)")
        elif isinstance(exc, TimeoutError | SMTPTimeoutError):
            detail = f"no answer from {where} within {self.timeout:g} s"
        elif isinstance(exc, OSError | SMTPException):
            detail = f"cannot connect to {where}: {exc}"
        else:
            detail = f"cannot connect to {where}: {type(exc).__name__}: {exc}"
        return SendResult(SendStatus.RETRY, detail, code)

    # ------------------------------------------------------------ sending

    async def _deliver(self, batch: list[tuple[K, EmailMessage]],
                       on_result: Callable[[K, SendResult], None]) -> None:
        try:
            client = await self._connected()
        except (SMTPException, ssl.SSLError, *_NETWORK_ERRORS) as exc:
            self._drop()
            result = self._setup_failure(exc)
            log.warning("SMTP: %s (%d messages kept for retry)", result.detail, len(batch))
            for key, _ in batch:
                on_result(key, result)
            return
        lanes = [client]
        if len(batch) > PER_CONNECTION and self.max_connections > 1:
            lanes += await self._others(min(self.max_connections,
                                            -(-len(batch) // PER_CONNECTION)) - 1)
        # one recipient's messages go in order over one connection (by the first recipient)
        parts: list[list[tuple[K, EmailMessage, tuple[str, list[str]]]]] = [[] for _ in lanes]
        for key, msg in batch:
            sender, rcpts = self._envelope(msg)
            lane = zlib.crc32((rcpts[0] if rcpts else "").lower().encode()) % len(lanes)
            parts[lane].append((key, msg, (sender, rcpts)))
        trouble: list[SendResult] = []  # the answer that made a connection give up

        async def send_part(conn: aiosmtplib.SMTP,
                            part: list[tuple[K, EmailMessage, tuple[str, list[str]]]]) -> None:
            lane = _Lane(conn, self.timeout)
            try:
                for i, (key, msg, envelope) in enumerate(part):
                    if trouble:
                        # The server is in trouble: the rest waits for the next round rather
                        # than hammering a rate-limited or dying server.
                        on_result(key, SendResult(SendStatus.RETRY,
                                                  f"not tried after: {trouble[0].detail}",
                                                  trouble[0].code))
                        continue
                    then = part[i + 1][1:] if i + 1 < len(part) else None
                    result, give_up = await self._send(lane, msg, *envelope, then=then)
                    on_result(key, result)
                    if give_up:
                        trouble.append(result)
                        lane.close()
                        self._forget(conn)
            finally:
                lane.close()

        await asyncio.gather(*(send_part(c, p) for c, p in zip(lanes, parts, strict=True)))

    def _envelope(self, msg: EmailMessage) -> tuple[str, list[str]]:
        known = getattr(msg, "envelope", None)  # a Flat message written by outbox.wire
        if known is not None:
            return self.envelope_from or known[0], list(known[1])
        sender = self.envelope_from or next(
            (a for _, a in getaddresses([str(v) for v in msg.get_all("From", [])]) if a), "")
        rcpts = [a for _, a in getaddresses([str(v) for h in ("To", "Cc")
                                             for v in msg.get_all(h, [])]) if a]
        return sender, rcpts

    async def _send(self, lane: _Lane, msg: EmailMessage, sender: str, rcpts: list[str],
                    then: tuple[EmailMessage, tuple[str, list[str]]] | None = None
                    ) -> tuple[SendResult, bool]:
        """One message and its envelope: (result, give up the connection and the rest of the
        batch?). `then`: the message to go next on this connection (its commands may leave
        with this one's data)."""
        if not sender or not rcpts:
            return SendResult(SendStatus.FAILED, "message has no From or no To address"), False
        client = lane.client
        try:
            this = lane.prepared(msg, sender, rcpts)
            if this is not None:
                self.pipelined += 1
                nxt = lane.prepared(then[0], *then[1]) if then and then[1][0] and then[1][1] \
                    else None
                refused, reply = await lane.chain().sendmail(this, nxt)
            else:
                lane.close()  # aiosmtplib's own protocol reads the replies
                data = _flat(msg, sender, rcpts)
                if data is None:  # Bcc to strip, or non-ASCII addresses (SMTPUTF8)
                    refused, reply = await client.send_message(msg, sender=sender,
                                                               recipients=rcpts)
                else:
                    refused, reply = await client.sendmail(sender, rcpts, data)
        except SMTPRecipientsRefused as exc:
            codes = [r.code for r in exc.recipients]
            detail = "recipient refused: " + "; ".join(f"{r.code} {r.message}"
                                                       for r in exc.recipients)
            # A recipient's 4xx is about that mailbox (greylisting, full): the rest can go on.
            status = SendStatus.FAILED if all(c >= 500 for c in codes) else SendStatus.RETRY
            return SendResult(status, detail, codes[0] if codes else None), False
        except SMTPResponseException as exc:
            detail = f"{exc.code} {exc.message}"
            if exc.code in _CONFIG_CODES:
                return SendResult(SendStatus.RETRY, f"server configuration: {detail}",
                                  exc.code), True
            if 500 <= exc.code < 600:
                return SendResult(SendStatus.FAILED, detail, exc.code), False
            return SendResult(SendStatus.RETRY, detail, exc.code if exc.code > 0 else None), True
        except SMTPNotSupported as exc:
            # e.g. a non-ASCII address and no SMTPUTF8: this server will never take it.
            return SendResult(SendStatus.FAILED, str(exc)), False
        except _NETWORK_ERRORS as exc:
            return SendResult(SendStatus.RETRY, f"connection to {self.where} lost: "
                              f"{type(exc).__name__}: {exc}"), True
        except SMTPException as exc:
            return SendResult(SendStatus.RETRY, f"{type(exc).__name__}: {exc}"), True
        detail = reply
        if refused:
            detail += "; refused: " + "; ".join(f"{a}: {r.code} {r.message}"
                                                for a, r in refused.items())
        return SendResult(SendStatus.SENT, detail, 250), False
