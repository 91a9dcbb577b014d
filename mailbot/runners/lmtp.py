"""LMTP intake: a mail host pushes each mail; it is taken in like a fetched one and answered,
per recipient, only after its record and effects are committed.

The mail host keeps the mail until it has our answer (Postfix: its queue file), so a 250 is
given only after the commit, a 451 when the database cannot take it (the host retries), and the
same delivery after a lost answer is recognised by its bytes and not applied twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import queue
import re
import socket
import stat
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, InvalidStateError
from dataclasses import dataclass, field
from typing import Any, AnyStr

from mailbot.errors import ConfigError
from mailbot.mailbox import RawMessage
from mailbot.outbox.headers import DOT_ATOM_ADDRESS
from mailbot.runners import intake
from mailbot.runners.base import Runtime
from mailbot.types import EventInfo, Outcome

log = logging.getLogger("mailbot")

# a reading started on arrival: the events it was read with, and its result to come
_Ahead = tuple[list[EventInfo], Future[intake.Understood]]

UIDVALIDITY = 1  # an LMTP "mailbox" never renumbers: the uid is the hash of the delivery
TOO_BIG = "550 5.3.4 Message too big for this system"
TRY_LATER = "451 4.3.0 Temporary failure, mail not taken in; try again later"


def delivery_id(data: bytes) -> str:
    """The identity of one delivery: the mail host sends the same bytes again (queue ID and
    Message-ID included) when it retries after a lost answer, so the retry finds the record."""
    return hashlib.sha256(data).hexdigest()


def mailbox_name(listen: tuple[str, int] | str) -> str:
    """The stable name the records carry as their mailbox."""
    if isinstance(listen, str):
        return f"lmtp:unix:{listen}"
    host, port = listen
    return f"lmtp://{host}:{port}"


# RFC 2034 enhanced codes for the replies aiosmtpd writes without one; the 5xx it gives for a
# command it cannot take are RFC 3463's syntax codes, the rest the class's "other" code
_ENHANCED_BY_CODE = {"500": "5.5.2", "501": "5.5.4", "502": "5.5.1", "503": "5.5.1",
                     "504": "5.5.4", "530": "5.7.0", "552": "5.3.4", "553": "5.1.3"}
_HAS_ENHANCED = re.compile(r"\d{3}[ -][245]\.\d{1,3}\.\d{1,3}(?: |$)")


def enhanced(reply: str) -> str:
    """One reply line with an enhanced status code (RFC 2034): as it is when it has one, or is
    the greeting, a 354 (which ends no command) or anything but a reply; else with the code of
    its class (`_ENHANCED_BY_CODE` for aiosmtpd's syntax and size errors)."""
    code = reply[:3]
    if (reply[3:4] not in ("", " ", "-") or not code.isdigit() or len(code) < 3
            or code[0] not in "245" or code in ("220", "354") or _HAS_ENHANCED.match(reply)):
        return reply
    status = _ENHANCED_BY_CODE.get(code, f"{code[0]}.0.0")
    sep, text = reply[3:4] or " ", reply[4:]
    return f"{code}{sep}{status} {text}" if text else f"{code}{sep}{status}"


# `<local@domain>` (a dot-atom address) and its parameters: what mail hosts write in MAIL and
# RCPT, read by aiosmtpd's parser the same way
_PLAIN_PATH = re.compile(rf"[ \t]*<{DOT_ATOM_ADDRESS}>[ \t]*(?P<rest>[^\s(].*|)")


def plain_path(arg: str, local_limit: int = 0) -> tuple[str, str] | None:
    """(address, parameters) of a MAIL or RCPT argument that is a plain `<local@domain>`
    (`_PLAIN_PATH`), as aiosmtpd's `_getaddr` returns them; None for anything else (quoted
    or obsolete forms, comments, a local part longer than `local_limit`), which aiosmtpd
    then reads itself."""
    m = _PLAIN_PATH.fullmatch(arg)
    if m is None or (local_limit and len(m["local"]) > local_limit):
        return None
    return f"{m['local']}@{m['domain']}", m["rest"]


def per_recipient(reply: str, recipients: list[str]) -> str:
    """RFC 2033: after DATA, one reply for each accepted recipient, in RCPT order."""
    code, _, text = reply.partition(" ")
    return "\r\n".join(f"{code} {text} <{r}>" if r else reply for r in recipients or [""])


# -- the handler: bytes in, one reply out --------------------------------------------------------
@dataclass
class LmtpIntake:
    """The thin handler: mails delivered at the same time over several connections are taken
    in together (one transaction, a savepoint each), and each is answered after the commit.
    One batch at a time, as the IMAP intake does: seat counting never races in this process."""

    rt: Runtime
    read: intake.Understand
    mailbox: str
    max_bytes: int
    on_commit: Callable[[], None] = lambda: None  # e.g. wake the delivery of the replies
    read_many: intake.UnderstandMany | None = None  # e.g. every core for a large batch
    # a mail's reading started on arrival, in a worker process, while the batch before is
    # applied (the sender's connection waits for that batch's commit in any case)
    read_ahead: intake.ReadAhead | None = None
    max_batch: int = 100
    _queue: queue.Queue[tuple[bytes, Future[str], _Ahead | None] | None] = field(
        default_factory=queue.Queue)
    _thread: threading.Thread | None = None
    _events: list[EventInfo] | None = None  # as the last batch found them (for reading ahead)

    def take_in_many(self, datas: list[bytes], ahead: list[_Ahead | None] | None = None
                     ) -> list[str]:
        """Record, apply and answer these mails; the reply for each (for all its recipients).
        `ahead`: the reading of each started on arrival, if it was."""
        replies = [TOO_BIG if len(d) > self.max_bytes else "" for d in datas]
        raws = [RawMessage(self.mailbox, UIDVALIDITY, delivery_id(d), d)
                for d, r in zip(datas, replies, strict=True) if not r]
        started = {id(d): a for d, a in zip(datas, ahead or [], strict=False) if a is not None}
        try:
            outcomes = intake.take_in_batch(self.rt, raws, self.read, None,
                                            self._reading(started))
        except Exception as exc:  # the database is unavailable: the mail host keeps the mail
            log.warning("lmtp: %d mail(s) not taken in, the mail host will retry: %s: %s",
                        len(raws), type(exc).__name__,
                        str(exc).splitlines()[0][:300] if str(exc) else "")
            return [r or TRY_LATER for r in replies]
        for outcome in outcomes:
            self.rt.count(outcome.value)
        if outcomes:
            with contextlib.suppress(Exception):  # a failed wake-up only delays the replies
                self.on_commit()
        done = iter(f"250 2.0.0 {_DONE[o]}" for o in outcomes)
        return [r or next(done) for r in replies]

    def take_in(self, data: bytes) -> str:
        return self.take_in_many([data])[0]

    def _reading(self, started: dict[int, _Ahead]) -> intake.UnderstandMany:
        """The batch's reading: a mail read ahead with the events of this batch is taken as
        read; the others (and one whose reading failed to come back) are read now."""

        def read_many(datas: list[bytes], events: list[EventInfo]) -> Iterator[intake.Understood]:
            self._events = events
            usable = {i: a[1] for i, a in started.items() if a[0] == events}
            rest = [d for d in datas if id(d) not in usable]
            now = iter(self.read_many(rest, events) if self.read_many and rest
                       else intake.understand_each(self.read, rest, events))
            return in_order(datas, usable, now, events)

        def in_order(datas: list[bytes], usable: dict[int, Future[intake.Understood]],
                     now: Iterator[intake.Understood], events: list[EventInfo]
                     ) -> Iterator[intake.Understood]:
            for d in datas:
                future = usable.get(id(d))
                if future is None:
                    yield next(now)
                    continue
                try:
                    yield future.result()
                except Exception:  # e.g. the worker process died: read it here
                    yield intake.understand_each(self.read, [d], events)[0]

        return read_many

    def _start_reading(self, data: bytes) -> _Ahead | None:
        events = self._events
        if self.read_ahead is None or events is None or len(data) > self.max_bytes:
            return None
        try:
            return events, self.read_ahead(data, events)
        except Exception:  # e.g. the pool is shutting down: read with its batch
            return None

    def _batches(self) -> None:
        """The intake thread: wait for a mail, take in what has queued up meanwhile with it."""
        while (first := self._queue.get()) is not None:
            batch = [first]
            while len(batch) < self.max_batch:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    self._queue.put(None)  # stop after this batch
                    break
                batch.append(more)
            try:
                replies = self.take_in_many([data for data, _, _ in batch],
                                            [ahead for _, _, ahead in batch])
            except BaseException:  # never leave a connection without its answer
                replies = [TRY_LATER] * len(batch)
                log.exception("lmtp: a batch of %d mail(s) failed", len(batch))
            for (_, answer, _), reply in zip(batch, replies, strict=True):
                # a connection closed meanwhile cancelled its answer: the mail is taken in
                # all the same, and the mail host's retry will find its record
                with contextlib.suppress(InvalidStateError):
                    answer.set_result(reply)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._batches, name="lmtp-intake", daemon=True)
        self._thread.start()

    # -- aiosmtpd hooks --------------------------------------------------------------------------
    async def handle_EHLO(self, server: Any, session: Any, envelope: Any, hostname: str,  # noqa: N802
                          responses: list[str]) -> list[str]:
        """RFC 2033: an LMTP server MUST offer PIPELINING and ENHANCEDSTATUSCODES. With
        PIPELINING a mail host (Postfix) writes MAIL, RCPT and DATA at once: one round trip
        per mail instead of three; aiosmtpd reads pipelined commands in order."""
        session.host_name = hostname
        return [*responses[:-1], "250-PIPELINING", "250-ENHANCEDSTATUSCODES", responses[-1]]

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,  # noqa: N802
                          rcpt_options: list[str]) -> str:
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        """One reply for the mail; the server repeats it for each recipient."""
        answer: Future[str] = Future()
        data = bytes(envelope.original_content or b"")
        self._queue.put((data, answer, self._start_reading(data)))
        return await asyncio.wrap_future(answer)

    def close(self) -> None:
        """Finish the batch being taken in (and what queued up), then stop."""
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=60)
            self._thread = None


_DONE = {Outcome.DONE: "taken in", Outcome.REVIEW: "taken in for review",
         Outcome.QUARANTINE: "taken in, kept for a human"}


# -- the server: aiosmtpd's LMTP with replies that stay one per recipient ------------------------
def _server_class() -> type:
    try:
        from aiosmtpd.lmtp import LMTP
        from aiosmtpd.smtp import syntax
    except ModuleNotFoundError:
        raise ConfigError("MAILBOT_LMTP_LISTEN needs the Python module 'aiosmtpd'; "
                          "install it (pip install aiosmtpd)") from None

    class Server(LMTP):
        """aiosmtpd answers DATA with one line (the handler's, or its own error) and a too-large
        mail with 552; LMTP wants, after DATA, one line per recipient (else the client waits
        for the missing ones), and we answer 550 for our size limit. Its own replies get an
        enhanced status code (`enhanced`), as ENHANCEDSTATUSCODES promises."""

        _after_data = False
        _rcpts: list[str] = []
        _greeting = False  # the LHLO reply: its lines carry the extensions, not status codes

        def _getaddr(self, arg: str) -> tuple[str | None, str | None]:
            return plain_path(arg, self.local_part_limit) or super()._getaddr(arg)

        @syntax("LHLO hostname")
        async def smtp_LHLO(self, arg: str) -> None:  # noqa: N802
            self._greeting = True
            try:
                await super().smtp_LHLO(arg)
            finally:
                self._greeting = False

        async def smtp_DATA(self, arg: str) -> None:  # noqa: N802
            try:
                await super().smtp_DATA(arg)
            finally:
                self._after_data = False

        async def push(self, status: AnyStr) -> None:
            if not isinstance(status, str):
                return await super().push(status)
            if status.startswith("354"):  # aiosmtpd resets the envelope before its last push
                self._after_data = True
                self._rcpts = list(self.envelope.rcpt_tos) if self.envelope else []
            elif status.startswith("552 Error"):  # aiosmtpd's own size check
                status = TOO_BIG
            if self._after_data and not status.startswith("354"):
                status = per_recipient(status, self._rcpts)
            elif not self._greeting:
                status = enhanced(status)
            await super().push(status)

    return Server


def controller(handler: LmtpIntake, listen: tuple[str, int] | str) -> Any:
    """An aiosmtpd controller (its own thread and event loop) serving `handler` on `listen`."""
    from aiosmtpd.controller import Controller, UnixSocketController

    server = _server_class()
    kwargs: dict[str, Any] = {"data_size_limit": handler.max_bytes, "enable_SMTPUTF8": True,
                              "ready_timeout": 10.0, "server_hostname": socket.getfqdn()}

    class Tcp(Controller):
        def factory(self) -> Any:
            return server(self.handler, **self.SMTP_kwargs)

    class Unix(UnixSocketController):
        def factory(self) -> Any:
            return server(self.handler, **self.SMTP_kwargs)

    if isinstance(listen, str):
        _remove_stale_socket(listen)
        return Unix(handler, unix_socket=listen, **kwargs)
    host, port = listen
    return Tcp(handler, hostname=host, port=port, **kwargs)


def _remove_stale_socket(path: str) -> None:
    """A socket file left by a killed worker would make the bind fail; one that still answers
    belongs to a running worker and stays (the bind then fails with a clear error)."""
    with contextlib.suppress(FileNotFoundError):
        if not stat.S_ISSOCK(os.stat(path).st_mode):
            raise ConfigError(f"MAILBOT_LMTP_LISTEN: {path} exists and is not a socket")
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            try:
                s.connect(path)
            except ConnectionRefusedError:
                os.unlink(path)


# -- serving: the server, its replies woken after each commit -----------------------------------
@dataclass
class LmtpService:
    """What `mailbot run` starts: the LMTP server and its intake thread; `on_commit` is called
    after each commit (it wakes the delivery process, which sends the replies at once)."""

    handler: LmtpIntake
    on_commit: Callable[[], None]
    listen: tuple[str, int] | str
    _controller: Any = None

    def start(self) -> LmtpService:
        self.handler.on_commit = self.on_commit
        self.handler.start()
        self._controller = controller(self.handler, self.listen)
        try:
            self._controller.start()
        except Exception as exc:  # e.g. the port is taken: one clear line, not a traceback
            self._controller = None
            self.stop()
            raise ConfigError(f"MAILBOT_LMTP_LISTEN: cannot listen on {self.handler.mailbox}:"
                              f" {type(exc).__name__}: {exc}") from None
        if isinstance(self.listen, str):
            os.chmod(self.listen, 0o666)  # who may connect: the directory's permissions decide
        log.info("LMTP intake listening on %s", self.handler.mailbox)
        return self

    def stop(self) -> None:
        """Stop accepting, finish the mail being taken in (and wake its replies)."""
        if self._controller is not None:
            with contextlib.suppress(Exception):
                self._controller.stop()
            self._controller = None
        self.handler.close()
        if isinstance(self.listen, str):
            with contextlib.suppress(OSError):
                os.unlink(self.listen)


def start_lmtp(rt: Runtime, read: intake.Understand, on_commit: Callable[[], None],
               read_many: intake.UnderstandMany | None = None,
               read_ahead: intake.ReadAhead | None = None) -> LmtpService:
    """Serve LMTP where MAILBOT_LMTP_LISTEN says; `on_commit` after each commit (e.g. wake the
    delivery process)."""
    listen = rt.settings.lmtp()
    if read_many is None:  # else the worker processes read (and warm up themselves)
        with contextlib.suppress(Exception):  # load rules and models now, not for the first mail
            read(b"Subject: warm-up\r\n\r\nwarm-up\r\n", [])
    handler = LmtpIntake(rt, read, mailbox_name(listen), rt.settings.lmtp_max_bytes,
                         read_many=read_many, read_ahead=read_ahead)
    return LmtpService(handler, on_commit, listen).start()
