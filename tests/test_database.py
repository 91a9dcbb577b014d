"""The SQLite connection as mailbot sets it up: every connection of the engine, not only the
first, gets the same pragmas."""

from __future__ import annotations

from pathlib import Path

import pytest

from mailbot.database import make_engine


def test_each_sqlite_connection_keeps_savepoint_journals_in_memory(
        tmp_path: Path) -> None:
    # A savepoint per mail: with temporary files, SQLite wrote the original of every page a
    # mail touched to a sub-journal file (~40 writes per mail in a burst); in memory, none.
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    try:
        # raw connections: no BEGIN IMMEDIATE, so that two can be open at once
        conns = [engine.raw_connection() for _ in range(2)]
        for conn in conns:
            cur = conn.cursor()
            assert [cur.execute(f"PRAGMA {name}").fetchone()[0] for name in (
                "temp_store", "journal_mode", "busy_timeout")] == [2, "wal", 0]
            conn.close()
    finally:
        engine.dispose()


def test_a_transaction_waits_for_another_s_write_lock_and_gets_it_soon_after(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """BEGIN IMMEDIATE is asked again every millisecond or two (not after SQLite's own sleeps
    of up to 100 ms) while another connection writes, and fails after the busy time."""
    import threading

    from sqlalchemy import text
    from sqlalchemy.exc import OperationalError

    from mailbot import database

    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    try:
        with engine.connect() as conn:
            conn.execute(text("CREATE TABLE t (x INTEGER)"))
            conn.commit()
        holder = engine.raw_connection()  # committed from the timer's thread
        holder.cursor().execute("BEGIN IMMEDIATE")
        release = threading.Timer(0.2, holder.commit)
        release.start()
        with engine.connect() as conn:  # its BEGIN IMMEDIATE waits for the holder
            conn.execute(text("INSERT INTO t VALUES (1)"))
            conn.commit()
        release.join()
        holder.cursor().execute("BEGIN IMMEDIATE")
        monkeypatch.setattr(database, "BUSY_SECONDS", 0.05)
        with engine.connect() as conn, pytest.raises(OperationalError, match="locked"):
            conn.execute(text("INSERT INTO t VALUES (2)"))
        holder.rollback()
        holder.close()
    finally:
        engine.dispose()


def test_a_reading_transaction_takes_no_write_lock(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """While another connection writes, a reading transaction reads at once (a WAL snapshot)
    where a writing one has to wait for the lock."""
    from sqlalchemy import func, select
    from sqlalchemy.exc import OperationalError

    from mailbot import database
    from mailbot.models import OutboxRow

    db = database.Database(f"sqlite:///{tmp_path / 'db.sqlite'}")
    holder = db.engine.raw_connection()
    try:
        holder.cursor().execute("BEGIN IMMEDIATE")
        monkeypatch.setattr(database, "BUSY_SECONDS", 0.05)
        with db.reading() as s:
            assert s.scalar(select(func.count()).select_from(OutboxRow)) == 0
        with pytest.raises(OperationalError, match="locked"), db.session() as s:
            s.scalar(select(func.count()).select_from(OutboxRow))
    finally:
        holder.rollback()
        holder.close()
        db.dispose()
