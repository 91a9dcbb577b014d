"""Intake's reading step: bytes -> mail and intent, no I/O; one mail after the other or a batch
on every core. A mail that cannot be read gives its error (and the reason it is quarantined)."""

from __future__ import annotations

import itertools
import re
import traceback
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from dataclasses import fields, replace
from datetime import datetime
from typing import Any

from mailbot.runners.pool import CorePool, freeze_heap
from mailbot.types import EventInfo, InboundMail, Intent

Understand = Callable[[bytes, list[EventInfo]], tuple[InboundMail, Intent]]
Understood = tuple[InboundMail, Intent] | Exception  # what reading one mail gave
# A batch of mails read at once (e.g. in worker processes); an error is returned, not raised.
# The results come in order, possibly one by one as they are ready (an iterator).
UnderstandMany = Callable[[list[bytes], list[EventInfo]], Iterable[Understood]]
# one mail's reading handed to a worker process: its result to come
ReadAhead = Callable[[bytes, list[EventInfo]], Future[Understood]]


# -- understand: bytes -> mail and intent, no I/O -----------------------------------------------
def understand(data: bytes, events: list[EventInfo], rules: Any, now: datetime
               ) -> tuple[InboundMail, Intent]:
    from mailbot.classify import classify
    from mailbot.parse import parse

    mail = _without_surrogates(parse(data))
    return mail, classify(mail, events, rules, now=now)


def _fix(value: Any) -> Any:
    """The value with lone surrogates turned back into text; the same object when it has none
    (nearly always: the check is one scan in C, the repair an encode and a decode)."""
    if isinstance(value, str):
        # raw 8-bit header bytes come through the stdlib parser as lone surrogates, which
        # neither the database nor an outgoing header can encode: turn them back into text
        if _SURROGATE.search(value) is None:
            return value
        return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    if isinstance(value, tuple):
        fixed = tuple(_fix(v) for v in value)
        return value if all(a is b for a, b in zip(fixed, value, strict=True)) else fixed
    if isinstance(value, dict):
        pairs = [(_fix(k), _fix(v), k, v) for k, v in value.items()]
        if all(fk is k and fv is v for fk, fv, k, v in pairs):
            return value
        return {fk: fv for fk, fv, _k, _v in pairs}
    return value


_SURROGATE = re.compile("[\ud800-\udfff]")


def _without_surrogates(mail: InboundMail) -> InboundMail:
    changes = {f.name: fixed for f in fields(mail)
               if (fixed := _fix(value := getattr(mail, f.name))) is not value}
    return replace(mail, **changes) if changes else mail


# -- the error of a mail that cannot be read, as the reason it is quarantined -----------------
def quarantine_reason(exc: BaseException) -> str:
    """The error and where it was raised (file and line), short enough for a record."""
    if isinstance(exc, Unreadable):
        return exc.reason
    where = traceback.extract_tb(exc.__traceback__)[-1:] if exc.__traceback__ else []
    at = f" at {where[0].filename.rsplit('/', 1)[-1]}:{where[0].lineno}" if where else ""
    return f"{type(exc).__name__}: {exc}{at}"[:1000]


class Unreadable(Exception):
    """A mail a worker process could not read: the reason (error and place) comes back as text,
    since a traceback does not cross the process boundary."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# -- a batch: read one after the other, or on every core --------------------------------------
def understand_each(read: Understand, datas: list[bytes], events: list[EventInfo]
                    ) -> list[Understood]:
    """Read the mails one after the other; a mail that cannot be read gives its error."""
    out: list[Understood] = []
    for data in datas:
        try:
            out.append(read(data, events))
        except Exception as exc:  # a bug or a mail we cannot read: quarantined later
            out.append(exc)
    return out


_read_here: Understand | None = None  # the reader of this worker process (inherited by fork)


def _read_chunk(datas: list[bytes], events: list[EventInfo]) -> list[Understood]:
    assert _read_here is not None
    return [got if not isinstance(got, Exception) else Unreadable(quarantine_reason(got))
            for got in understand_each(_read_here, datas, events)]


def _read_one(data: bytes, events: list[EventInfo]) -> Understood:
    return _read_chunk([data], events)[0]


def read_ahead(pool: CorePool) -> ReadAhead | None:
    """Reading one mail in a worker process as soon as it arrives (LMTP: while the batch
    before is applied); None when the pool does not read lone mails."""
    if not pool.worth_it(1):
        return None
    return lambda data, events: pool.submit(_read_one, data, events)


def start_reader(read: Understand, warm_up: Iterable[bytes] = ()) -> None:
    """The initializer of a CorePool that reads mails: the reader of each worker process,
    which first reads the `warm_up` mails (their results dropped): what reading builds on first
    use (the rules' compiled patterns, a tagger) is built before the first mail waits for it,
    and then frozen out of the garbage collector's sight (`freeze_heap`)."""
    global _read_here
    _read_here = read
    understand_each(read, list(warm_up), [])
    freeze_heap()  # the tagger and patterns it loaded live as long as the process


def pooled(read: Understand, pool: CorePool, chunk: int = 20) -> UnderstandMany:
    """Read a batch in worker processes (a small one right here). The mails come back in
    chunks (of at most `chunk`, smaller for a small batch so that every process reads) as
    they are read, so the caller applies the first ones while the processes read the rest:
    the reading is off the main process's path."""

    def read_many(datas: list[bytes], events: list[EventInfo]) -> Iterable[Understood]:
        if not pool.worth_it(len(datas)):
            return understand_each(read, datas, events)
        return itertools.chain.from_iterable(
            pool.imap_chunks(_read_chunk, datas, events,
                             size=min(chunk, pool.chunk_size(len(datas)))))

    return read_many
