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

    from sqlalchemy import event, text
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
        tries: list[str] = []  # the statements that went through SQLAlchemy's execution
        event.listen(engine, "before_cursor_execute",
                     lambda _c, _cur, stmt, *_a: tries.append(stmt))
        release.start()
        with engine.connect() as conn:  # its BEGIN IMMEDIATE waits for the holder
            conn.execute(text("INSERT INTO t VALUES (1)"))
            conn.commit()
        release.join()
        # the ~100 tries while it waited went to the driver: through SQLAlchemy each cost
        # ~100 µs (the delivery process spun ~10 % of its time in a burst)
        assert tries.count("BEGIN IMMEDIATE") <= 1 and "INSERT INTO t VALUES (1)" in tries
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


def _people(n: int, start: int = 0) -> list[object]:
    from mailbot.models import Person

    return [Person(email_key=f"p{i}@verein.example", email=f"p{i}@verein.example")
            for i in range(start, start + n)]


def test_new_rows_are_written_in_one_statement_per_table_with_the_keys_sqlite_would_give(
        tmp_path: Path) -> None:
    """SQLite cannot say which key RETURNING gave to which row of a multi-row INSERT, so rows
    whose key the database makes went in one INSERT each (4 per registration in a burst).
    Numbered before the flush, as SQLite numbers them (largest plus one, in the order added),
    a table's new rows go in one executemany."""
    from sqlalchemy import event, select

    from mailbot import database
    from mailbot.models import Person

    db = database.Database(f"sqlite:///{tmp_path / 'db.sqlite'}")
    inserts: list[tuple[str, bool]] = []

    def seen(_c: object, _cur: object, stmt: str, _p: object, _ctx: object, many: bool) -> None:
        if stmt.startswith("INSERT"):
            inserts.append((stmt.split()[2], many))

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        with db.session() as s:
            s.add_all(_people(2))
        with db.session() as s:
            s.add_all(_people(5, start=2))
        assert inserts == [("people", True), ("people", True)]
        with db.session() as s:
            assert [(p.id, p.email_key) for p in s.scalars(select(Person).order_by(Person.id))
                    ] == [(i + 1, f"p{i}@verein.example") for i in range(7)]
    finally:
        db.dispose()


def test_a_new_row_numbered_for_a_flush_that_was_rolled_back_is_numbered_again(
        tmp_path: Path) -> None:
    """A savepoint rolled back (a mail of a batch failed) takes its rows with it; an object of
    it added again gets the next free key, not the one it had, which a row added since holds."""
    from mailbot import database
    from mailbot.models import Person

    db = database.Database(f"sqlite:///{tmp_path / 'db.sqlite'}")
    try:
        with db.session() as s:
            s.add_all(_people(1))
            s.flush()
            [again] = _people(1, start=1)
            try:
                with s.begin_nested():
                    s.add(again)
                    s.flush()
                    assert again.id == 2  # type: ignore[attr-defined]
                    raise RuntimeError("this mail failed")
            except RuntimeError:
                pass
            [other] = _people(1, start=2)
            s.add(other)
            s.flush()
            assert other.id == 2  # type: ignore[attr-defined]
            s.add(again)
            s.flush()
            assert again.id == 3  # type: ignore[attr-defined]
        with db.session() as s:
            assert s.get(Person, 3).email_key == "p1@verein.example"  # type: ignore[union-attr]
    finally:
        db.dispose()
