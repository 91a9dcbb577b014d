"""Delivery in a process of its own under `mailbot run`: the replies are rendered, sent and
written down as sent beside the intake, on the other core, instead of between its batches.

The intake wakes the sender after each commit (one byte down a pipe); the sender also looks
for due retries on its own every few seconds. Leases (delivery.claim_due) already keep two
senders from sending one row twice, so a sender killed mid-round, or a second worker's, loses
and doubles nothing that the in-process delivery would not.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import multiprocessing
import os
import select
import signal
import threading
from typing import Any

from mailbot.runners.base import Runtime
from mailbot.runners.delivery import Delivery
from mailbot.runners.pool import end_with_parent, freeze_heap

log = logging.getLogger("mailbot")

_STOP = b"q"
_WAKE = b"w"


class Sender:
    """The delivery process: `start` forks it (before the worker starts threads), `wake` says
    that replies are due, `stop` lets it finish its round and waits for it. A sender that died
    (a bug, the OOM killer) is started again at the next wake."""

    def __init__(self, rt: Runtime, every: float = 15.0, limit: int = 200) -> None:
        self.rt, self.every, self.limit = rt, every, limit
        self._proc: Any = None  # multiprocessing.Process (fork context)
        self._wfd = -1
        self._lock = threading.Lock()  # woken from several threads (LMTP, intake, stop)

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def start(self) -> Sender:
        rfd, wfd = os.pipe()
        os.set_blocking(wfd, False)  # a full pipe means a wake-up is pending already
        freeze_heap()
        proc = multiprocessing.get_context("fork").Process(
            target=_serve, args=(self.rt, rfd, wfd, self.every, self.limit),
            name="mailbot-sender", daemon=True)
        proc.start()
        os.close(rfd)
        self._proc, self._wfd = proc, wfd
        return self

    def wake(self) -> None:
        """Replies are due: the sender starts a round now, or right after the one it is in."""
        with self._lock:
            if self._proc is None:
                return
            if not self._proc.is_alive():
                log.warning("the delivery process ended (exit code %s); starting it again",
                            self._proc.exitcode)
                self._close_pipe()
                self.start()
            self._send(_WAKE)

    def stop(self, timeout: float = 30.0) -> None:
        """Finish the round being sent, then end; a sender that does not is killed (its rows'
        leases free them for the next start)."""
        with self._lock:
            proc, self._proc = self._proc, None
            if proc is None:
                return
            self._send(_STOP)
            self._close_pipe()
        proc.join(timeout)
        if proc.is_alive():
            log.warning("the delivery process did not stop within %.0f s; killing it", timeout)
            proc.kill()
            proc.join(5)

    def _send(self, what: bytes) -> None:
        try:
            os.write(self._wfd, what)
        except BlockingIOError:
            if what == _STOP:  # the pipe is full of wake-ups: closing it stops the sender too
                return
        except OSError as exc:
            if exc.errno != errno.EBADF:
                raise

    def _close_pipe(self) -> None:
        if self._wfd >= 0:
            with contextlib.suppress(OSError):
                os.close(self._wfd)
            self._wfd = -1


def _serve(rt: Runtime, rfd: int, wfd: int, every: float, limit: int) -> None:
    """The sender process: a round of delivery after each wake-up, and every `every` seconds
    for retries and the scheduler's mails; it ends on the parent's word or with the parent."""
    os.close(wfd)  # else the pipe never reads as closed while this process holds its end
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops us after its last commit
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    end_with_parent()
    rt.db.engine.dispose(close=False)  # the parent's connections stay the parent's
    from mailbot.outbox.transport import open_transport

    s = rt.settings
    here = Runtime(settings=s, db=rt.db, clock=rt.clock)
    transport = open_transport(s.smtp(), connections=s.smtp_connections)
    delivery = Delivery(here, transport)
    failures, stopping, pause = 0, False, 0.0  # at once: rows left by an earlier run
    try:
        while not stopping:
            ready, _, _ = select.select([rfd], [], [], pause)
            if ready:
                got = os.read(rfd, 4096)
                stopping = not got or _STOP in got  # closed: the parent is gone or done
            try:
                delivery.run(limit)
                failures = 0
            except Exception as exc:  # the next wake-up or retry tries again
                failures += 1
                log.warning("delivery failed: %s: %s", type(exc).__name__, exc)
            pause = every if failures == 0 else min(60.0, 2.0 ** min(failures, 6))
    finally:
        with contextlib.suppress(Exception):  # closing is best effort
            transport.close()
        rt.db.engine.dispose()
