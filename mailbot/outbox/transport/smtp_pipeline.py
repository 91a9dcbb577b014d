"""SMTP command pipelining (RFC 2920) on a connection that aiosmtplib opened: MAIL FROM, every
RCPT TO and DATA leave in one write, the message (with the next message's commands) in a
second, and the replies are read as they come (`Chain`). aiosmtplib waits for each reply before
the next command (its protocol keeps one reply at a time), four round trips per message; with
hundreds of confirmations in a burst, those waits and writes, not the server, set the pace.
Connecting, TLS, login, NOOP and QUIT stay with aiosmtplib: only the transactions are written
here, while a reply reader of our own is the connection's protocol, and aiosmtplib's is put
back after them."""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass

import aiosmtplib
from aiosmtplib import (
    SMTPDataError,
    SMTPReadTimeoutError,
    SMTPRecipientRefused,
    SMTPRecipientsRefused,
    SMTPResponse,
    SMTPResponseException,
    SMTPSenderRefused,
    SMTPServerDisconnected,
)
from aiosmtplib.email import quote_address
from aiosmtplib.protocol import LINE_ENDINGS_REGEX, PERIOD_REGEX

from mailbot.outbox.headers import PLAIN_ADDRESS

# a reply longer than this is not an SMTP reply (aiosmtplib's own bound)
_MAX_REPLY = 8192 * 4


def offered(client: aiosmtplib.SMTP) -> bool:
    """The server said PIPELINING in its EHLO answer, on a connection aiosmtplib has open."""
    return (not client.is_ehlo_or_helo_needed and client.supports_extension("pipelining")
            and client.protocol is not None and client.protocol.transport is not None)


class _Replies(asyncio.Protocol):
    """The connection's protocol while commands are pipelined: collects whole replies."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._buf = bytearray()
        self.ready: deque[SMTPResponse] = deque()
        self.lost: Exception | None = None
        self._waiter: asyncio.Future[None] | None = None

    def data_received(self, data: bytes) -> None:
        self._buf += data
        try:
            while (reply := _one_reply(self._buf)) is not None:
                self.ready.append(reply)
        except SMTPResponseException as exc:
            self.lost = self.lost or exc
        if len(self._buf) > _MAX_REPLY:
            self.lost = self.lost or SMTPResponseException(-1, "Response too long")
        self._wake()

    def eof_received(self) -> bool:
        self.lost = self.lost or SMTPServerDisconnected("Unexpected EOF received")
        self._wake()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = self.lost or SMTPServerDisconnected("Connection lost")
        self._wake()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def take(self, n: int, timeout: float | None) -> list[SMTPResponse]:
        """The next n replies in order; fewer when the connection ended first (the caller looks
        for the reply that said why, as a 421 before the server hangs up)."""
        timer = None
        if timeout is not None:
            timer = self._loop.call_later(timeout, self._expire, timeout)
        try:
            while len(self.ready) < n and self.lost is None:
                self._waiter = self._loop.create_future()
                await self._waiter
        finally:
            if timer is not None:
                timer.cancel()
        if isinstance(self.lost, SMTPReadTimeoutError) or (
                isinstance(self.lost, SMTPResponseException) and len(self.ready) < n):
            raise self.lost
        return [self.ready.popleft() for _ in range(min(n, len(self.ready)))]

    def _expire(self, timeout: float) -> None:
        self.lost = SMTPReadTimeoutError(f"Timed out waiting for server response ({timeout} s)")
        self._wake()


def _one_reply(buf: bytearray) -> SMTPResponse | None:
    """Take one complete (possibly multi-line) reply off the front of buf."""
    offset, lines = 0, []
    while (end := buf.find(b"\n", offset)) != -1:
        line = bytes(buf[offset:end + 1])
        offset = end + 1
        try:
            code = int(line[:3])
        except ValueError:
            raise SMTPResponseException(
                -1, f"Malformed SMTP response line: {line.decode('utf-8', 'replace')}") from None
        lines.append(line[4:].strip(b" \t\r\n"))
        if line[3:4] != b"-":
            del buf[:offset]
            return SMTPResponse(code, b"\n".join(lines).decode("utf-8", "surrogateescape"))
    return None


def data_block(message: bytes) -> tuple[bytes, int]:
    """The message as it goes after DATA (CRLF line endings, leading dots doubled, the final
    dot) and its SIZE (RFC 1870: before the dots). The same transform as aiosmtplib's, with a
    fast way for what is already in shape, as our composed messages are."""
    crlf = message.count(b"\r\n")
    if message.count(b"\n") != crlf or message.count(b"\r") != crlf:
        message = LINE_ENDINGS_REGEX.sub(b"\r\n", message)
    if not message.endswith(b"\r\n"):
        message += b"\r\n"
    size = len(message)
    if message.startswith(b".") or b"\n." in message:
        message = PERIOD_REGEX.sub(b"..", message)
    return message + b".\r\n", size


@dataclass(frozen=True)
class Prepared:
    """One message as it goes out pipelined: its envelope commands and its data block."""

    sender: str
    recipients: tuple[str, ...]
    head: bytes  # MAIL FROM, each RCPT TO, DATA
    block: bytes  # the data, dot-stuffed, with the final dot


def prepare(client: aiosmtplib.SMTP, sender: str, recipients: list[str], message: bytes
            ) -> Prepared:
    block, size = data_block(message)
    size_option = f" SIZE={size}" if client.supports_extension("size") else ""
    head = "".join([f"MAIL FROM:{_quoted(sender)}{size_option}\r\n",
                    *(f"RCPT TO:{_quoted(r)}\r\n" for r in recipients), "DATA\r\n"])
    return Prepared(sender, tuple(recipients), head.encode("ascii"), block)


def _quoted(address: str) -> str:
    """aiosmtplib's quote_address, whose parsing (email.utils.parseaddr) cost more than the
    rest of a message's commands, taken only for an address that is not a bare addr-spec."""
    if PLAIN_ADDRESS.fullmatch(address):  # "<" it ">" as it is
        return f"<{address}>"
    return quote_address(address)


class Chain:
    """Transactions one after the other on one connection, pipelined: MAIL FROM, every RCPT
    TO and DATA in one write; then the message's data and, when a message follows, its MAIL,
    RCPT and DATA in the next (RFC 2920 lets the message content open a group), so that a
    message costs one round trip, not two. Only where `offered(client)`. `close` hands the
    connection back to aiosmtplib, or closes it when an exchange broke off (connection lost,
    no answer in time, cancelled) or a next message's commands are still unanswered."""

    def __init__(self, client: aiosmtplib.SMTP, timeout: float | None) -> None:
        protocol = client.protocol
        assert protocol is not None and protocol.transport is not None
        self._protocol = protocol
        self._transport: asyncio.Transport = protocol.transport  # type: ignore[assignment]
        self._timeout = timeout
        self._replies = _Replies(asyncio.get_running_loop())
        self._transport.set_protocol(self._replies)
        self._ahead: Prepared | None = None  # written with the data before, not yet answered
        self._in_step = True

    async def sendmail(self, this: Prepared, then: Prepared | None = None
                       ) -> tuple[dict[str, SMTPResponse], str]:
        """client.sendmail(...) for `this`: the same result (refused recipients, the server's
        last reply) and the same errors, with RSET after a refusal. `then`: the message to
        send next on this connection, whose commands may go with this one's data."""
        transport, replies, timeout = self._transport, self._replies, self._timeout
        recipients = list(this.recipients)
        self._in_step = False
        if self._ahead is not this:
            transport.write(this.head)
        self._ahead = None
        got = await replies.take(len(recipients) + 2, timeout)
        if len(got) < len(recipients) + 2:
            _raise_first_refusal(got, this.sender, recipients)
            raise replies.lost or SMTPServerDisconnected("Connection lost")
        mail, data = got[0], got[-1]
        refused = {r: reply for r, reply in zip(recipients, got[1:-1], strict=True)
                   if reply.code not in (250, 251)}
        accepted = mail.code == 250 and len(refused) < len(recipients)
        done = data
        if data.code == 354:
            # RFC 2920: DATA taken though nothing else was: an empty message ends it
            if accepted and then is not None:
                transport.write(this.block + then.head)
                self._ahead = then
            else:
                transport.write(this.block if accepted else b".\r\n")
            (done,) = await _one(replies, timeout)
        if accepted and done.code == 250:
            self._in_step = True
            return refused, done.message
        if self._ahead is None:  # after the data's reply the transaction is over in any case
            await _rset(transport, replies, timeout)
        self._in_step = True
        _raise_first_refusal(got, this.sender, recipients)
        raise SMTPDataError(done.code, done.message)

    def close(self) -> None:
        if self._in_step and self._ahead is None:
            self._transport.set_protocol(self._protocol)
        else:
            self._transport.close()


async def _one(replies: _Replies, timeout: float | None) -> list[SMTPResponse]:
    got = await replies.take(1, timeout)
    if not got:
        raise replies.lost or SMTPServerDisconnected("Connection lost")
    return got


async def _rset(transport: asyncio.Transport, replies: _Replies, timeout: float | None) -> None:
    """Clear the envelope after a refusal, as aiosmtplib does."""
    transport.write(b"RSET\r\n")
    await _one(replies, timeout)


def _raise_first_refusal(got: list[SMTPResponse], sender: str, recipients: list[str]) -> None:
    """The error aiosmtplib raises for the same replies, met one after the other."""
    if got and got[0].code != 250:
        raise SMTPSenderRefused(got[0].code, got[0].message, sender)
    answered = got[1:len(recipients) + 1]
    refused = [SMTPRecipientRefused(reply.code, reply.message, r)
               for r, reply in zip(recipients, answered, strict=False)  # fewer: hung up
               if reply.code not in (250, 251)]
    if len(answered) == len(recipients) and len(refused) == len(recipients):
        raise SMTPRecipientsRefused(refused)
    for reply in got[len(recipients) + 1:]:  # DATA's
        if reply.code != 354:
            raise SMTPDataError(reply.code, reply.message)
    if len(answered) < len(recipients):
        for reply in answered:  # a 421 and the server hung up: that reply says why
            if reply.code >= 400:
                raise SMTPResponseException(reply.code, reply.message)
