"""Engine, sessions and migrations: SQLite (WAL, busy timeout) by default, PostgreSQL by URL."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from mailbot.errors import ConfigError

log = logging.getLogger(__name__)


def make_engine(url: str) -> Engine:
    """An engine for `url`; SQLite gets WAL, a busy timeout and transactions that take the write
    lock at BEGIN, so two workers never interleave a read-then-write (seat counting)."""
    try:
        if url.startswith("sqlite"):
            # no pre-ping: a connection to a local file does not go stale, and the ping was
            # one more statement at every checkout (several per mail under load)
            engine = create_engine(url, connect_args={"timeout": 30})

            @event.listens_for(engine, "connect")
            def _pragmas(dbapi_conn: Any, _record: Any) -> None:
                dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
                cur = dbapi_conn.cursor()
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA synchronous=NORMAL")
                cur.execute("PRAGMA foreign_keys=ON")
                cur.execute("PRAGMA busy_timeout=30000")
                # the sub-journal of a savepoint (one per mail in a batch) in memory: in a
                # temporary file it cost ~40 writes per mail
                cur.execute("PRAGMA temp_store=MEMORY")
                cur.close()

            @event.listens_for(engine, "begin")
            def _begin(conn: Any) -> None:
                conn.exec_driver_sql("BEGIN IMMEDIATE")

            return engine
        return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)
    except (ArgumentError, NoSuchModuleError) as exc:
        raise ConfigError(f"MAILBOT_DATABASE_URL: cannot use {url.split('://')[0]}:// ({exc})"
                          ) from None
    except ModuleNotFoundError as exc:
        raise ConfigError(f"MAILBOT_DATABASE_URL needs the Python module {exc.name!r}; "
                          "install mailbot[postgres]") from None


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


class Database:
    """An engine plus a session factory; `session()` is one transaction."""

    def __init__(self, url: str, *, auto_migrate: bool = True) -> None:
        self.url = url
        self.engine = make_engine(url)
        if auto_migrate:
            migrate(self.engine)
        self._factory = sessionmaker(self.engine, expire_on_commit=False)

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

    def dispose(self) -> None:
        self.engine.dispose()


def affected(s: Session, stmt: Any) -> int:
    """Rows an UPDATE/DELETE touched: the atomic claim of a unit of work ("did I win?")."""
    result = s.execute(stmt)
    return int(getattr(result, "rowcount", 0) or 0)
