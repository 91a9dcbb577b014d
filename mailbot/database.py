"""Engine, sessions and migrations: SQLite (WAL, busy timeout) by default, PostgreSQL by URL."""

from __future__ import annotations

import logging
import sqlite3
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any
from weakref import WeakSet

from sqlalchemy import Connection, Engine, create_engine, event, func, inspect, select
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.attributes import instance_state, set_committed_value

from mailbot.errors import ConfigError

log = logging.getLogger(__name__)


WRITES = "mailbot.writes"  # Connection.info: statements other than SELECT run on it so far


def _count_writes(conn: Connection, _cursor: Any, statement: str, *_args: Any) -> None:
    if statement.lstrip()[:6].upper() != "SELECT":  # SAVEPOINT, ROLLBACK TO … count too
        conn.info[WRITES] = conn.info.get(WRITES, 0) + 1


def writes(conn: Connection) -> int:
    """How many statements that may change data (anything but a SELECT) have run on this
    connection: what a transaction read holds while this stays the same (and, on PostgreSQL,
    the rows it depends on are locked)."""
    return int(conn.info.get(WRITES, 0))


def make_engine(url: str) -> Engine:
    """An engine for `url`; SQLite gets WAL, a busy timeout and transactions that take the write
    lock at BEGIN, so two workers never interleave a read-then-write (seat counting)."""
    try:
        if url.startswith("sqlite"):
            # no pre-ping: a connection to a local file does not go stale, and the ping was
            # one more statement at every checkout (several per mail under load)
            # no busy timeout of SQLite's own: BEGIN IMMEDIATE waits for the lock in
            # begin_immediate (every statement of ours runs in such a transaction)
            engine = create_engine(url, connect_args={"timeout": 0})

            @event.listens_for(engine, "connect")
            def _pragmas(dbapi_conn: Any, _record: Any) -> None:
                dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
                cur = dbapi_conn.cursor()
                cur.execute("PRAGMA busy_timeout=30000")  # for the mode switch of a new file
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA synchronous=NORMAL")
                cur.execute("PRAGMA foreign_keys=ON")
                # the sub-journal of a savepoint (one per mail in a batch) in memory: in a
                # temporary file it cost ~40 writes per mail
                cur.execute("PRAGMA temp_store=MEMORY")
                cur.execute("PRAGMA busy_timeout=0")  # begin_immediate waits for the lock
                cur.close()

            @event.listens_for(engine, "begin")
            def _begin(conn: Any) -> None:
                if conn.get_execution_options().get(READ_ONLY):
                    conn.exec_driver_sql("BEGIN")  # a snapshot to read: in WAL, no lock
                else:
                    begin_immediate(conn, wait=not conn.get_execution_options().get(NO_WAIT))
        else:
            engine = create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)
    except (ArgumentError, NoSuchModuleError) as exc:
        raise ConfigError(f"MAILBOT_DATABASE_URL: cannot use {url.split('://')[0]}:// ({exc})"
                          ) from None
    except ModuleNotFoundError as exc:
        raise ConfigError(f"MAILBOT_DATABASE_URL needs the Python module {exc.name!r}; "
                          "install mailbot[postgres]") from None
    event.listen(engine, "after_cursor_execute", _count_writes)
    return engine


READ_ONLY = "mailbot_read_only"  # execution option: Database.reading()'s transactions
# execution option (SQLite): a transaction that begins only if the write lock is free now, else
# raises LockBusy (the caller has something better to do than wait)
NO_WAIT = "mailbot_no_wait"
BUSY_SECONDS = 30.0  # how long a transaction waits for another's write lock


class LockBusy(Exception):
    """Another connection holds SQLite's write lock (a transaction begun with NO_WAIT)."""


def begin_immediate(conn: Any, wait: bool = True) -> None:
    """BEGIN IMMEDIATE, asked again every millisecond or two while another connection holds
    the write lock. SQLite's own busy handler sleeps 1, 2, 5, 10, 15, 20, 25 … 100 ms between
    tries: the delivery process, waiting behind a batch that wrote for 50 ms, woke ~80 ms
    later, often after the next batch had taken the lock again (it slept half of a burst).
    The tries go straight to the driver: through SQLAlchemy each cost ~100 µs (an execution
    context, a wrapped exception), ~10 % of the delivery process's time in a burst. The last
    one goes through SQLAlchemy, so that what fails fails as its OperationalError.
    Without `wait`, LockBusy at once when the lock is taken."""
    deadline = time.monotonic() + BUSY_SECONDS
    pause = 0.0005
    driver = conn.connection.driver_connection
    while wait and time.monotonic() <= deadline:
        try:
            driver.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc):
                break  # not the lock: raised below, as SQLAlchemy's error
        time.sleep(pause)
        pause = min(2 * pause, 0.002)
    try:
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    except OperationalError as exc:
        if "locked" in str(exc.orig) and not wait:
            raise LockBusy(str(exc.orig)) from exc
        raise


@contextmanager
def begin_now(conn: Connection) -> Iterator[None]:
    """A transaction on `conn` that begins only when SQLite's write lock is free now, else
    raises LockBusy (elsewhere: a transaction like any other)."""
    conn.execution_options(**{NO_WAIT: True})
    try:
        with conn.begin():
            yield
    finally:
        conn.execution_options(**{NO_WAIT: False})


def migrations_dir() -> Path:
    """db/ beside the package in a checkout, else the installed copy in share/mailbot/db."""
    here = Path(__file__).resolve().parent.parent / "db"
    if (here / "env.py").is_file():
        return here
    for base in (Path(sys.prefix), Path(sys.base_prefix), Path("/usr/local"), Path("/usr")):
        cand = base / "share" / "mailbot" / "db"
        if (cand / "env.py").is_file():
            return cand
    raise ConfigError("cannot find the database migrations (db/); reinstall mailbot")


def migrate(engine: Engine, revision: str = "head", *, down: bool = False) -> None:
    """Bring the schema to the newest Alembic revision (run on every start; cheap when current),
    or up (or `down`) to `revision`."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir()))
    cfg.attributes["skip_logging_config"] = True
    try:
        with engine.connect() as conn:
            sqlite = conn.dialect.name == "sqlite"
            if sqlite:
                # A SQLite migration copies a table and drops the old one; with foreign keys on,
                # that drop would delete the registrations of every event (ON DELETE CASCADE).
                # The pragma is ignored inside a transaction, so it is set before BEGIN.
                conn.connection.dbapi_connection.execute(  # type: ignore[union-attr]
                    "PRAGMA foreign_keys=OFF")
            try:
                with conn.begin():
                    cfg.attributes["connection"] = conn
                    (command.downgrade if down else command.upgrade)(cfg, revision)
            finally:
                if sqlite:
                    conn.connection.dbapi_connection.execute(  # type: ignore[union-attr]
                        "PRAGMA foreign_keys=ON")
    except OperationalError as exc:
        raise ConfigError(f"database {engine.url.render_as_string(hide_password=True)}: "
                          f"{str(exc.orig).strip().splitlines()[0]}") from None


def is_migrated(engine: Engine) -> bool:
    try:
        return inspect(engine).has_table("events")
    except OperationalError:
        return False


def number_new_rows(session: Session, _flush: Any, _instances: Any) -> None:
    """SQLite, before a flush: new rows get their integer keys here, as SQLite would give them
    (the largest so far plus one, in the order they were added). SQLite cannot say which key
    RETURNING gave to which row of a multi-row INSERT, so SQLAlchemy inserts rows whose key the
    database makes one statement at a time (4 statements per registration); rows that carry
    their keys go in one executemany per table and flush. Safe because a writing transaction
    holds SQLite's write lock from BEGIN IMMEDIATE on: no other connection inserts between the
    look-up and the INSERT. An object numbered for a flush that was rolled back (a savepoint of
    a failed mail) is numbered again; a key set by hand is kept."""
    numbered: WeakSet[Any] = session.info.setdefault(_NUMBERED, WeakSet())
    by_key: dict[tuple[Any, str], list[Any]] = {}
    for obj in session.new:
        state = instance_state(obj)
        key = _made_key(state.mapper)
        if key is not None and (state.dict.get(key[1]) is None or obj in numbered):
            by_key.setdefault(key, []).append(state)
    for (column, attr), states in by_key.items():
        last = session.connection().scalar(select(func.max(column))) or 0
        for n, state in enumerate(sorted(states, key=lambda st: st.insert_order), start=1):
            obj = state.obj()
            set_committed_value(obj, attr, last + n)  # no change event: the row is new anyway
            numbered.add(obj)


@cache
def _made_key(mapper: Any) -> tuple[Any, str] | None:
    """The key column the database makes for the mapper's table, and its attribute; None for
    a key of several columns, or one the database does not make."""
    keys = mapper.primary_key
    if len(keys) != 1 or keys[0].table.autoincrement_column is not keys[0]:
        return None
    return keys[0], mapper.get_property_by_column(keys[0]).key


_NUMBERED = "mailbot.numbered"  # Session.info: the new objects number_new_rows gave a key


class Database:
    """An engine plus a session factory; `session()` is one transaction."""

    def __init__(self, url: str, *, auto_migrate: bool = True) -> None:
        self.url = url
        self.engine = make_engine(url)
        if auto_migrate:
            migrate(self.engine)
        self._factory = sessionmaker(self.engine, expire_on_commit=False)
        if self.engine.dialect.name == "sqlite":
            event.listen(self._factory, "before_flush", number_new_rows)
        self._reading = sessionmaker(self.engine.execution_options(**{READ_ONLY: True}),
                                     expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One transaction: commit on success, roll back on any exception."""
        with self._factory() as s:
            try:
                yield s
                s.commit()
            except BaseException:
                s.rollback()
                raise

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A transaction that only reads: on SQLite it does not take the write lock (BEGIN,
        not BEGIN IMMEDIATE), so it neither waits for a writer nor makes one wait. Nothing
        may be written in it (a write could not wait for the lock)."""
        with self._reading() as s:
            try:
                yield s
            finally:
                s.rollback()

    def dispose(self) -> None:
        self.engine.dispose()


def affected(s: Session, stmt: Any) -> int:
    """Rows an UPDATE/DELETE touched: the atomic claim of a unit of work ("did I win?")."""
    result = s.execute(stmt)
    return int(getattr(result, "rowcount", 0) or 0)
