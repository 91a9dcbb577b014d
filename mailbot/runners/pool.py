"""Work on every core: forked worker processes for the pure steps of a large batch (reading
mails, rendering replies), while the database and the servers stay with the main process."""

from __future__ import annotations

import contextlib
import ctypes
import gc
import logging
import multiprocessing
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

log = logging.getLogger("mailbot")

T = TypeVar("T")
R = TypeVar("R")


def end_with_parent() -> None:
    """In a forked helper process: be killed when the parent ends, even by SIGKILL (Linux); a
    helper left behind would go on working for a worker that is gone."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(Exception):
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def freeze_heap() -> None:
    """What start-up loaded (rules, patterns, the learned model, templates: some hundred
    thousand objects that live as long as the process) leaves the garbage collector's sight:
    a full collection no longer walks it each time, and a forked process no longer writes to
    its pages (copy-on-write keeps them shared). Python's advice for a process that forks
    without exec (the gc module's documentation: collect, then freeze right before fork)."""
    gc.collect()
    gc.freeze()


def _worker_start(initializer: Callable[..., None] | None, initargs: tuple[Any, ...]) -> None:
    """In each worker process: end with the parent, and leave SIGTERM/SIGINT to the parent,
    which stops the pool itself (the handlers of `mailbot run` came along with the fork)."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    end_with_parent()
    if initializer is not None:
        initializer(*initargs)


class CorePool:
    """A process pool, one process per core, forked on first use: what the parent loaded
    before (rules, templates, models; `before_start` runs then) is loaded once, not once per
    process. A batch smaller than `threshold`, or a machine with one core, is worked on in
    the calling process."""

    def __init__(self, workers: int | None = None, threshold: int = 16,
                 initializer: Callable[..., None] | None = None,
                 initargs: tuple[Any, ...] = (),
                 before_start: Callable[[], object] | None = None) -> None:
        self.workers = workers or os.cpu_count() or 1
        self.threshold = threshold
        self._initializer, self._initargs = initializer, initargs
        self._before_start = before_start
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    @property
    def started(self) -> bool:
        return self._pool is not None

    def worth_it(self, n: int) -> bool:
        return n >= self.threshold and self.workers >= 2

    def map_chunks(self, fn: Callable[..., list[R]], items: Sequence[T], *args: Any
                   ) -> list[R]:
        """`fn(chunk, *args)` for a few chunks per process, the results in order; `fn` is a
        module-level function returning one result per item."""
        if not self.worth_it(len(items)):
            return fn(list(items), *args)
        return [r for chunk in self.imap_chunks(fn, items, *args, size=self.chunk_size(len(items)))
                for r in chunk]

    def chunk_size(self, n: int) -> int:
        """For n items: a few chunks per process, so an uneven chunk does not leave a core
        idle for long."""
        return max(1, -(-n // (2 * self.workers)))

    def start(self) -> None:
        """Fork the processes now, not when the first batch waits for them, and return once
        one has run the initializer (e.g. a warm-up); nothing on a machine with one core."""
        if self.workers >= 2:
            try:
                self.submit(int).result()  # with fork, the first task starts them all
            except BrokenProcessPool as exc:  # e.g. the warm-up crashed: the first batch retries
                log.warning("the worker processes did not start (%s)", exc)

    def submit(self, fn: Callable[..., R], *args: Any) -> Future[R]:
        """`fn(*args)` in a process; the future of its result. A pool whose process died (the
        kernel's OOM killer, a crash in a C extension) cannot be used again: the processes are
        started anew, so that the next batch is read (the one that was being read when it died
        comes back as failed and is read by its caller)."""
        pool = self._executor()
        try:
            return pool.submit(fn, *args)
        except BrokenProcessPool as exc:
            with self._lock:
                if self._pool is pool:  # else another thread has started them anew already
                    log.warning("a worker process ended abruptly (%s); starting them again", exc)
                    self._pool = None
            pool.shutdown(wait=False, cancel_futures=True)
            return self._executor().submit(fn, *args)

    def _executor(self) -> ProcessPoolExecutor:
        # under a lock: LMTP submits from the server's thread (reading ahead) and the intake's
        with self._lock:
            if self._pool is None:
                if self._before_start is not None:
                    self._before_start()
                freeze_heap()
                self._pool = ProcessPoolExecutor(
                    self.workers, mp_context=multiprocessing.get_context("fork"),
                    initializer=_worker_start, initargs=(self._initializer, self._initargs))
            return self._pool

    def imap_chunks(self, fn: Callable[..., list[R]], items: Sequence[T], *args: Any,
                    size: int = 25) -> Iterator[list[R]]:
        """`fn(chunk, *args)` for chunks of `size`, all handed to the processes at once; the
        results of each chunk, in order, as soon as that chunk is done: the caller works on
        the first while the processes work on the rest."""
        futures = [self.submit(fn, list(items[i:i + size]), *args)
                   for i in range(0, len(items), size)]  # handed out now, not on first next()

        def results() -> Iterator[list[R]]:
            try:
                for f in futures:
                    yield f.result()
            finally:
                for f in futures:  # the caller stopped early (an error): drop what is left
                    f.cancel()

        return results()

    def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
