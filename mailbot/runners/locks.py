"""One intake at a time per mailbox: a lock that dies with its process (no stale leases).

Two workers fetching the same IMAP inbox would both MOVE a message the other already moved
(a session still sees a message until it syncs the other's expunge), leaving copies in `done`.
PostgreSQL gives us session advisory locks; for SQLite an flock on a file beside the database
does the same. Either is released by the kernel or the server when the holder dies.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import Engine, text


def _key(name: str) -> int:
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


@contextlib.contextmanager
def exclusive(engine: Engine, name: str) -> Iterator[bool]:
    """Yields True when this process holds the lock `name`, False when another one does."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"),
                                    {"k": _key(name)}).scalar())
            try:
                yield got
            finally:
                if got:
                    conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _key(name)})
                conn.commit()
        return
    db = engine.url.database
    path = Path(f"{db}.{_key(name) & 0xFFFFFFFF:08x}.lock") if db and db != ":memory:" else None
    if path is None:
        yield True
        return
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
