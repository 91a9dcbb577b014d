"""The SQLite connection as mailbot sets it up: every connection of the engine, not only the
first, gets the same pragmas."""

from __future__ import annotations

from pathlib import Path

from mailbot.database import make_engine


def test_each_sqlite_connection_keeps_savepoint_journals_in_memory_and_waits_for_the_lock(
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
                "temp_store", "journal_mode", "busy_timeout")] == [2, "wal", 30000]
            conn.close()
    finally:
        engine.dispose()
