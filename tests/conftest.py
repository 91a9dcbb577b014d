"""Shared fixtures: real Dovecot, an SMTP sink and both databases (see tests/servers.py)."""

from __future__ import annotations

import gc
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers import (
    Dovecot,
    SmtpSink,
    database_url,
    running_dovecot,
    running_smtp_sink,
)


def pytest_configure(config: pytest.Config) -> None:
    # The trained intent model is cached in one temp dir for the session (subprocesses too,
    # MAILBOT_* stripped or not), never in the real ~/.cache.
    os.environ.pop("MAILBOT_CACHE_DIR", None)
    os.environ["XDG_CACHE_HOME"] = _CACHE


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(_CACHE, ignore_errors=True)


_CACHE = tempfile.mkdtemp(prefix="mailbot-test-cache-")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # `-m "not dovecot"` deselects everything that starts a Dovecot, whichever way it asks.
    for item in items:
        if "dovecot" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.dovecot)


@pytest.fixture(autouse=True)
def _unfrozen() -> Iterator[None]:
    """A test that starts readers or a sender freezes this process's objects before the fork
    (runners.pool.freeze_heap), as `mailbot run` does at start-up; the test process goes on,
    so the collector sees them again afterwards."""
    yield
    gc.unfreeze()


@pytest.fixture
def dovecot() -> Iterator[Dovecot]:
    """A fresh Dovecot on a free loopback port (imap+plain, no namespace prefix)."""
    with running_dovecot() as server:
        yield server


@pytest.fixture
def smtp_sink() -> Iterator[SmtpSink]:
    """An aiosmtpd server on loopback that keeps what it receives; replies can be scripted."""
    with running_smtp_sink() as sink:
        yield sink


@pytest.fixture(params=[pytest.param("sqlite", id="sqlite"),
                        pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database on each backend: a temp SQLite file, or a fresh PostgreSQL schema."""
    with database_url(request.param, tmp_path) as url:
        yield url


@pytest.fixture(params=[pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres)])
def pg_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """PostgreSQL only, for two transactions at once (SQLite lets one writer in at a time): a
    race between two workers, played out with real locks."""
    with database_url(request.param, tmp_path) as url:
        yield url
