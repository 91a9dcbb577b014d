"""Mails the SMTP server accepted while SQLite's write lock was taken, written down beside the
database until the outbox rows can be marked sent.

Delivery writes each acceptance down before the transport waits for the server again, so that
a crash repeats at most one mail per SMTP connection. On SQLite that write needs the one write
lock, which the intake holds while it applies a batch (a few hundred milliseconds in a burst):
the delivery process stood still meanwhile (in a burst of 2,000 mails it waited ~3 s of ~8 for
the lock, and sent the rest alone after the intake). With the lock taken, the acceptances now
go to this journal, a small SQLite file of its own (its lock is held for microseconds), and are
folded into the outbox rows (status sent) with the next write that finds the lock free, before
every claim of due rows (a crashed sender's journal included) and at the end of each round.
Folding is idempotent: a crash between the fold's commit and the journal's cleanup folds the
same rows again to the same result. The journal holds row numbers and times, nothing about a
person. PostgreSQL locks rows, not the database: there the rows are marked at once, no journal.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

from mailbot.database import Database


class SentJournal:
    """The journal file of one SQLite database (`<database>-sent`)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._conn: sqlite3.Connection | None = None
        self._pid = 0
        self._lock = threading.Lock()  # a sending thread and a claiming one may share it
        # something may be in the file that this process has not folded: at start (an earlier
        # sender's), and after each add
        self.unfolded = True
        self._adds = 0  # adds made here: an add between pending() and forget() keeps unfolded
        self._adds_read = -1

    @classmethod
    def beside(cls, db: Database) -> SentJournal | None:
        """The journal of `db`: None for PostgreSQL and for an in-memory SQLite database (one
        process only, no lock to wait for)."""
        url = db.engine.url
        if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
            return None
        key = (url.database, os.getpid())  # asked for every write: no path resolved then
        journal = _OPEN.get(key)
        if journal is None:
            with _OPEN_LOCK:
                journal = _OPEN.setdefault(key, cls(Path(f"{url.database}-sent").resolve()))
        return journal

    def _db(self) -> sqlite3.Connection:
        # a connection is never used across fork(): a forked process opens its own
        if self._conn is None or self._pid != os.getpid():
            conn = sqlite3.connect(self.path, timeout=30.0, isolation_level=None,
                                   check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")  # as the database: survives a crash
            conn.execute("CREATE TABLE IF NOT EXISTS sent"
                         " (id INTEGER PRIMARY KEY, at TEXT NOT NULL)")
            self._conn, self._pid = conn, os.getpid()
        return self._conn

    def add(self, ids: Iterable[int], at: datetime) -> None:
        """Rows accepted at `at`, written down now (committed when this returns)."""
        stamp = at.isoformat()
        with self._lock:
            self._write("INSERT OR REPLACE INTO sent (id, at) VALUES (?, ?)",
                        [(i, stamp) for i in ids])
            self.unfolded = True
            self._adds += 1

    def pending(self, everything: bool = False) -> dict[datetime, list[int]]:
        """Every row written down and not yet folded, by the time it was accepted; unless
        `everything`, nothing when all this process wrote down is folded (a claim looks at
        everything: rows of another worker's sender that was killed before it folded them)."""
        with self._lock:
            if not (self.unfolded or everything) or (self._conn is None
                                                       and not self.path.exists()):
                self.unfolded = False  # nothing was ever written down: no file to make
                return {}
            out: dict[datetime, list[int]] = {}
            self._adds_read = self._adds
            for row_id, stamp in self._db().execute("SELECT id, at FROM sent ORDER BY id"):
                out.setdefault(datetime.fromisoformat(stamp), []).append(row_id)
            if not out:
                self.unfolded = False
            return out

    def forget(self, folded: dict[datetime, list[int]]) -> None:
        """The rows of `folded` are marked sent in the database: out of the journal."""
        with self._lock:
            self._write("DELETE FROM sent WHERE id = ?",
                        [(i,) for group in folded.values() for i in group])
            if self._adds == self._adds_read:  # all it held was folded: no need to look again
                self.unfolded = False

    def _write(self, sql: str, rows: list[tuple[object, ...]]) -> None:
        if not rows:
            return
        db = self._db()
        db.execute("BEGIN IMMEDIATE")
        try:
            db.executemany(sql, rows)
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")


# the journal of each database file, per process
_OPEN: dict[tuple[str, int], SentJournal] = {}
_OPEN_LOCK = threading.Lock()
