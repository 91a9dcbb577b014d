"""`mailbot run`: intake by IDLE (or polling), delivery right after, scheduled jobs beside."""

from __future__ import annotations

import argparse
import contextlib
import logging
import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import TYPE_CHECKING

from mailbot.commands.common import settings, worker
from mailbot.errors import MailboxError
from mailbot.runners.intake import pooled, read_ahead, start_reader
from mailbot.runners.pool import CorePool
from mailbot.runners.progress import Progress, for_backlog
from mailbot.runners.sender import Sender
from mailbot.runners.worker import Worker
from mailbot.samples import warm_up_mails

if TYPE_CHECKING:
    from mailbot.runners.lmtp import LmtpService

log = logging.getLogger("mailbot")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--once", action="store_true",
                        help="one intake and one delivery pass, then exit")
    parser.set_defaults(func=cmd_run)


def cmd_run(args: argparse.Namespace) -> int:
    s = settings(args)
    # with MAILBOT_LMTP_LISTEN the mail host pushes mail; a mailbox URL is then optional
    # `run` sends from a process of its own (Sender), which opens its own transport: the SMTP
    # settings are checked here, at start, with one clear message
    w = worker(s, mailbox=bool(s.mailbox_url) or not s.lmtp_listen, transport=args.once)
    if not args.once:
        s.smtp()
    _ = w.rules  # a broken rules file stops here, with its file and line, not at the first mail
    w.pool = reading_pool(w, lone_mail_here=args.once)
    if args.once:
        sent_before = [0]  # replies sent between two batches of a long backlog

        def between() -> Callable[[], object]:
            send = w.start_delivery()

            def and_count() -> None:
                sent_before[0] += send()

            return and_count

        w.between_batches = between  # a long backlog's replies go out as it is read
        try:
            n = w.intake_pass() if w.mailbox is not None else 0
            w.housekeeping()
            sent = sent_before[0] + w.delivery_pass()
            print(f"handled {n} mail(s), sent {sent}" if n is not None else
                  f"another worker is taking in this mailbox; sent {sent}")
        finally:
            close(w)
        return 0
    return serve(w)


def reading_pool(w: Worker, lone_mail_here: bool = False) -> CorePool:
    """Mail is read (parse, classify) in worker processes while this one applies the mails
    read before and sends their replies; one core: all here (CorePool.worth_it). In a
    long-running worker a lone mail too (IDLE, LMTP): this process then never loads the
    taggers (~30-40 MB of Python objects per language), which only the readers use.
    `lone_mail_here` (`run --once`, e.g. from cron): a lone mail is read here rather than
    starting processes that each load a tagger for it. The learned model is loaded here
    before the fork (its arrays are shared, and it is trained once, not once per process);
    each reader warms up on the sample mails: the patterns it compiles are not inherited."""
    return CorePool(threshold=2 if lone_mail_here else 1, initializer=start_reader,
                    initargs=(w.understand, warm_up_mails()),
                    before_start=lambda: _learned_model(w))


def _learned_model(w: Worker) -> None:
    from mailbot.classify.learned import model_for

    model_for(w.rules)


class _Interrupted(BaseException):
    """Raised by the signal handler to leave a mailbox wait (IDLE) at once; a BaseException so
    that no `except Exception` on the way turns it into an error."""


def serve(w: Worker) -> int:
    """The long-running loop: any error is logged in one line and the loop goes on."""
    from mailbot.runners import scheduler

    stop = threading.Event()
    waiting = threading.Event()  # set only while the main thread blocks in mailbox.wait()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("signal %s: stopping after the current step", signum)
        stop.set()
        if waiting.is_set():
            # A blocking IDLE read is restarted after a signal (PEP 475): without this, a
            # SIGTERM would wait for the IDLE to time out (poll_seconds, minutes).
            waiting.clear()
            raise _Interrupted

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    if w.pool is not None:
        w.pool.start()  # readers warm before the first mail; forked before any thread starts
    # replies are sent by a process of its own, on the other core, while this one takes in
    sender = Sender(w).start()
    sched = scheduler.start(w)
    lmtp: LmtpService | None = None
    log.info("mailbot running on %s", w.mailbox.name if w.mailbox else "?")
    if w.mailbox is not None:
        _backlog_bar(w)
    w.should_stop = stop.is_set

    def wake_sender() -> Callable[[], object]:
        sender.wake()  # the batch before is committed: its replies can go
        return lambda: None

    w.between_batches = wake_sender  # a long backlog's replies go out as it is read
    failures = 0
    try:
        lmtp = _start_lmtp(w, sender.wake) if w.settings.lmtp_listen else None
        while w.mailbox is None and not stop.wait(1.0):
            pass  # LMTP only: the server and the scheduler run in threads, delivery apart
        while not stop.is_set():
            try:
                handled = w.intake_pass()
                if isinstance(w.on_mail, Progress):
                    w.on_mail.finish()
                    w.on_mail = None
                if handled:
                    sender.wake()
                failures = 0
                if handled is None:  # another worker holds the inbox; look again shortly
                    stop.wait(min(w.settings.poll_seconds, 2.0))
                    continue
                assert w.mailbox is not None
                try:
                    waiting.set()
                    if not stop.is_set():
                        w.mailbox.wait(timeout=w.settings.poll_seconds)
                finally:
                    waiting.clear()
            except _Interrupted:
                break
            except (MailboxError, OSError) as exc:
                failures += 1
                pause = min(60.0, 2.0 ** min(failures, 6))
                log.warning("mailbox: %s (retrying in %.0f s)", exc, pause)
                stop.wait(pause)
            except Exception as exc:  # a bug in one pass must not stop the worker
                failures += 1
                log.exception("intake pass failed: %s", exc)
                stop.wait(min(60.0, 2.0 ** min(failures, 6)))
    finally:
        if lmtp is not None:
            lmtp.stop()
        sched.shutdown(wait=False)
        sender.stop()  # after the last commit: the replies to it still go out
        close(w)
    return 0


def _start_lmtp(w: Worker, wake_sender: Callable[[], None]) -> LmtpService:
    """The LMTP intake beside (or instead of) the mailbox; its replies are sent at once (each
    commit wakes the sender). Mails that arrive together are read in the worker processes, as
    a backlog is."""
    from mailbot.runners.lmtp import start_lmtp

    read_many = pooled(w.understand, w.pool) if w.pool is not None else None
    ahead = read_ahead(w.pool) if w.pool is not None else None
    return start_lmtp(w, w.understand, wake_sender, read_many, ahead)


def _backlog_bar(w: Worker) -> None:
    """Starting with many mails waiting: show how far the first pass is, on a terminal."""
    assert w.mailbox is not None
    try:
        w.on_mail = for_backlog(w.mailbox.backlog())
    except Exception:  # the bar is a nicety; the intake pass reports real mailbox trouble
        w.on_mail = None


def close(w: Worker) -> None:
    for thing in (w.pool, w.mailbox, w.transport):
        if thing is not None:
            with contextlib.suppress(Exception):  # closing is best effort
                thing.close()
    w.db.dispose()
