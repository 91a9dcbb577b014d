"""Real servers on loopback for tests: Dovecot (IMAP), an aiosmtpd sink (SMTP), database URLs."""

from __future__ import annotations

import contextlib
import imaplib
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

DOVECOT_BIN = os.environ.get("MAILBOT_TEST_DOVECOT", "/usr/sbin/dovecot")
POSTGRES_HOST = "127.0.0.1"
POSTGRES_PORT = 5432
POSTGRES_DB = "test"
# Debian's postgres image and most CI services know "postgres"; a local cluster may only know root.
POSTGRES_USERS = ("postgres", "root")


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def unavailable(reason: str) -> None:
    """Skip the test, but fail it under CI=true: CI must skip nothing."""
    if in_ci():
        pytest.fail(f"{reason} (CI=true: missing test services are failures)", pytrace=False)
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for_port(host: str, port: int, timeout: float, proc: subprocess.Popen[bytes] | None,
                   greeting: bytes = b"") -> None:
    deadline = time.monotonic() + timeout
    while True:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before listening on {port}")
        try:
            with socket.create_connection((host, port), timeout=1.0) as s:
                if not greeting or s.recv(200).startswith(greeting):
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"nothing listens on {host}:{port} after {timeout} s")
        time.sleep(0.02)


# ---------------------------------------------------------------------------------------------
# Dovecot

_DOVECOT_CONF = """\
# Written by tests/servers.py: one throw-away Dovecot per test.
instance_name = {instance}
base_dir = {root}/run
state_dir = {root}/state
listen = 127.0.0.1
protocols = imap
{ssl}
disable_plaintext_auth = no
auth_mechanisms = plain login
# A refused login answers at once instead of after Dovecot's default 2 s penalty.
auth_failure_delay = 0
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
default_internal_user = {user}
default_internal_group = {group}
default_login_user = {user}
mail_uid = {user}
mail_gid = {group}
first_valid_uid = 0
mail_location = {mail_location}
mail_max_userip_connections = 200
imap_idle_notify_interval = 2 mins

passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/etc/passwd
}}
userdb {{
  driver = static
  args = uid={user} gid={group} home={root}/mail/%u
}}

namespace inbox {{
  inbox = yes
  prefix = {prefix}
  separator = {separator}
}}

service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {imaps_port}
  }}
}}
service anvil {{
  chroot =
}}
service stats {{
  chroot =
}}
"""


class Dovecot:
    """A Dovecot IMAP server in its own temp dir; `stop()`/`start()` keep port and mail."""

    def __init__(self, *, prefix: str = "", separator: str = ".", mail_format: str = "maildir",
                 user: str = "mailbot", password: str | None = None, tls: bool = False) -> None:
        self.host = "127.0.0.1"
        self.port = free_port()
        # With tls=True: STARTTLS on `port`, implicit TLS on `imaps_port`, a self-signed
        # certificate for localhost/127.0.0.1 in `.cert` (point SSL_CERT_FILE at it to trust it).
        self.imaps_port = free_port() if tls else 0
        self.user = user
        self.password = password or "pw-" + secrets.token_hex(6)
        self.prefix = prefix
        self.separator = separator
        self._proc: subprocess.Popen[bytes] | None = None
        # Not under pytest's tmp_path: /tmp/pytest-of-root is 0700, and when we run as root
        # Dovecot's unprivileged processes must be able to walk to their files.
        self.root = Path(tempfile.mkdtemp(prefix="mailbot-dovecot-"))
        run_as, group = ("nobody", "nogroup") if os.geteuid() == 0 else _current_user()
        for sub in ("run", "state", "etc", "mail"):
            (self.root / sub).mkdir()
        location = ("maildir:~/Maildir:LAYOUT=fs" if mail_format == "maildir-fs" else
                    "mdbox:~/mdbox" if mail_format == "mdbox" else "maildir:~/Maildir")
        self.cert = self.root / "etc" / "cert.pem"
        ssl = "ssl = no"
        if tls:
            key = self.root / "etc" / "key.pem"
            _self_signed(self.cert, key)
            ssl = f"ssl = yes\nssl_cert = <{self.cert}\nssl_key = <{key}"
        (self.root / "etc" / "dovecot.conf").write_text(_DOVECOT_CONF.format(
            instance=f"mailbot-test-{self.port}", root=self.root, user=run_as, group=group,
            port=self.port, imaps_port=self.imaps_port, prefix=prefix, separator=separator,
            mail_location=location, ssl=ssl))
        (self.root / "etc" / "passwd").write_text(f"{self.user}:{{PLAIN}}{self.password}\n")
        os.chmod(self.root, 0o755)
        for path in (self.root / "etc", self.root / "etc" / "dovecot.conf",
                     self.root / "etc" / "passwd"):
            os.chmod(path, 0o755 if path.is_dir() else 0o644)
        if os.geteuid() == 0:
            shutil.chown(self.root / "mail", run_as, group)
        self.start_seconds = 0.0

    @property
    def config(self) -> Path:
        return self.root / "etc" / "dovecot.conf"

    @property
    def url(self) -> str:
        """The mailbox URL without the password (pass `.password` separately)."""
        return f"imap+plain://{self.user}@{self.host}:{self.port}/INBOX"

    @property
    def url_with_password(self) -> str:
        return f"imap+plain://{self.user}:{self.password}@{self.host}:{self.port}/INBOX"

    @property
    def log(self) -> str:
        path = self.root / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def start(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            return
        began = time.monotonic()
        # setsid: Dovecot and all its children share one process group that stop() can kill.
        self._proc = subprocess.Popen(
            ["setsid", DOVECOT_BIN, "-F", "-c", str(self.config)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            _wait_for_port(self.host, self.port, 10.0, self._proc, greeting=b"* OK")
        except RuntimeError as exc:
            err = self._proc.stderr.read().decode(errors="replace") if self._proc.stderr else ""
            self.stop()
            raise RuntimeError(f"Dovecot did not start: {exc}\n{err}\n{self.log}") from None
        self.start_seconds = time.monotonic() - began

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        # SIGTERM to the whole group: the imap processes say BYE to their clients at once. The
        # master then lingers a second or more reaping its children; nothing of it matters to
        # a test, so it gets SIGKILL after a short grace period.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=0.3)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        if proc.stderr:
            proc.stderr.close()

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    # -- helpers that talk IMAP with the stdlib, independent of the code under test -----------

    def folder_name(self, outcome: object, folders: dict[Any, str] | None = None) -> str:
        """The server-side name of the folder for an Outcome (default names: its value)."""
        name = folders[outcome] if folders else str(getattr(outcome, "value", outcome))
        if name.upper() == "INBOX":
            return "INBOX"
        return self.prefix + name.replace("/", self.separator)

    @contextlib.contextmanager
    def client(self) -> Iterator[imaplib.IMAP4]:
        conn = imaplib.IMAP4(self.host, self.port, timeout=10)
        try:
            conn.login(self.user, self.password)
            yield conn
        finally:
            with contextlib.suppress(Exception):
                conn.logout()

    def _select(self, conn: imaplib.IMAP4, folder: str, readonly: bool = True) -> bool:
        typ, _ = conn.select(_quote(folder), readonly=readonly)
        return typ == "OK"

    def append(self, data: bytes, folder: str = "INBOX", flags: str = "") -> None:
        with self.client() as conn:
            if folder.upper() != "INBOX":
                conn.create(_quote(folder))  # NO when it exists: fine
            typ, resp = conn.append(_quote(folder), f"({flags})" if flags else None, None, data)
            if typ != "OK":
                raise RuntimeError(f"APPEND to {folder} failed: {resp!r}")

    def uids(self, folder: str = "INBOX") -> list[int]:
        with self.client() as conn:
            if not self._select(conn, folder):
                return []
            typ, resp = conn.uid("SEARCH", "ALL")
            return sorted(int(x) for x in (resp[0] or b"").split())

    def flags(self, folder: str = "INBOX") -> dict[int, set[str]]:
        """UID -> flags, e.g. to check that fetching left messages unseen."""
        with self.client() as conn:
            if not self._select(conn, folder):
                return {}
            typ, resp = conn.uid("FETCH", "1:*", "(UID FLAGS)")
            out: dict[int, set[str]] = {}
            for line in resp:
                if not isinstance(line, bytes):
                    continue
                m = re.search(rb"UID (\d+) FLAGS \(([^)]*)\)", line)
                if m:
                    out[int(m.group(1))] = set(m.group(2).decode().split())
            return out

    def messages(self, folder: str = "INBOX") -> list[bytes]:
        with self.client() as conn:
            if not self._select(conn, folder):
                return []
            typ, resp = conn.uid("FETCH", "1:*", "(BODY.PEEK[])")
            return [part[1] for part in resp if isinstance(part, tuple)]

    def folders(self) -> list[str]:
        with self.client() as conn:
            typ, resp = conn.list()
            names = []
            for line in resp:
                if isinstance(line, bytes):
                    m = re.match(rb'\(.*?\) (?:"[^"]*"|NIL) (.+)$', line)
                    if m:
                        names.append(m.group(1).decode().strip('"'))
            return names


def _self_signed(cert: Path, key: Path) -> None:
    if not shutil.which("openssl"):
        unavailable("openssl is needed to make a test certificate")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True)


def _quote(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _current_user() -> tuple[str, str]:
    import grp
    import pwd

    return pwd.getpwuid(os.geteuid()).pw_name, grp.getgrgid(os.getegid()).gr_name


@contextlib.contextmanager
def running_dovecot(**kwargs: Any) -> Iterator[Dovecot]:
    if not os.access(DOVECOT_BIN, os.X_OK):
        unavailable(f"Dovecot binary {DOVECOT_BIN} not found (apt-get install dovecot-imapd)")
    server = Dovecot(**kwargs)
    try:
        server.start()
        yield server
    finally:
        server.cleanup()


# ---------------------------------------------------------------------------------------------
# SMTP sink

_REPLIES = {
    250: "250 2.0.0 OK queued",
    421: "421 4.3.2 Service not available, closing channel",
    450: "450 4.2.1 Mailbox busy, try again later",
    451: "451 4.3.0 Temporary failure, try again later",
    452: "452 4.3.1 Insufficient system storage",
    550: "550 5.1.1 Mailbox unavailable",
    552: "552 5.3.4 Message too big",
    554: "554 5.7.1 Rejected",
}


def _reply(code: int | str) -> str:
    if isinstance(code, str):
        return code
    return _REPLIES.get(code, f"{code} {code // 100}.0.0 Scripted reply")


@dataclass(frozen=True)
class SinkMessage:
    """One message the sink accepted (or refused, in `.attempts`), with the reply it got."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes
    reply: str = "250 2.0.0 OK queued"
    login: str | None = None

    @property
    def accepted(self) -> bool:
        return self.reply.startswith("2")


@dataclass
class SmtpSink:
    """An aiosmtpd server on 127.0.0.1 that keeps what it receives and answers as scripted."""

    host: str = "127.0.0.1"
    port: int = 0
    messages: list[SinkMessage] = field(default_factory=list)  # accepted only
    attempts: list[SinkMessage] = field(default_factory=list)  # every DATA, accepted or not
    logins: list[tuple[str, str]] = field(default_factory=list)  # (user, password) seen in AUTH
    _script: list[str] = field(default_factory=list)
    _always: str | None = None
    _rcpt_replies: dict[str, str] = field(default_factory=dict)
    # say PIPELINING in the EHLO answer, as Postfix, Exim and the big providers do (aiosmtpd
    # reads pipelined commands in order but does not say so by itself)
    pipelining: bool = True
    _cond: threading.Condition = field(default_factory=threading.Condition)
    _controller: Any = None

    @property
    def url(self) -> str:
        return f"smtp+plain://{self.host}:{self.port}"

    def respond_with(self, codes: Iterable[int | str]) -> None:
        """Answer the next DATA commands with these replies in order (ints or full lines)."""
        with self._cond:
            self._script.extend(_reply(c) for c in codes)

    def respond_always(self, code: int | str | None) -> None:
        """Answer every DATA with this reply once the script is used up (None: accept again)."""
        with self._cond:
            self._always = None if code is None else _reply(code)

    def reject_recipient(self, address: str, code: int | str = 550) -> None:
        """Refuse RCPT TO for one address (the others are still accepted)."""
        with self._cond:
            self._rcpt_replies[address.lower()] = _reply(code)

    def clear(self) -> None:
        with self._cond:
            self.messages.clear()
            self.attempts.clear()
            self._script.clear()
            self._always = None
            self._rcpt_replies.clear()

    def wait_for(self, n: int, timeout: float = 5.0) -> list[SinkMessage]:
        """Block until at least `n` messages were accepted; AssertionError after `timeout`."""
        with self._cond:
            if not self._cond.wait_for(lambda: len(self.messages) >= n, timeout):
                raise AssertionError(f"SMTP sink: expected {n} message(s) within {timeout} s,"
                                     f" got {len(self.messages)}")
            return list(self.messages)

    # -- aiosmtpd handler hooks --------------------------------------------------------------

    async def handle_EHLO(self, server: Any, session: Any, envelope: Any, hostname: str,
                          responses: list[str]) -> list[str]:
        session.host_name = hostname
        if self.pipelining:
            responses.insert(-1, "250-PIPELINING")
        return responses

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        with self._cond:
            reply = self._rcpt_replies.get(address.lower())
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self._cond:
            reply = self._script.pop(0) if self._script else (self._always or _REPLIES[250])
            login = session.auth_data.login.decode() if getattr(
                session.auth_data, "login", None) else None
            msg = SinkMessage(envelope.mail_from, tuple(envelope.rcpt_tos),
                              bytes(envelope.original_content or envelope.content), reply, login)
            self.attempts.append(msg)
            if msg.accepted:
                self.messages.append(msg)
            self._cond.notify_all()
        return reply

    def _authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str,
                      auth_data: Any) -> Any:
        from aiosmtpd.smtp import AuthResult

        login = getattr(auth_data, "login", b"") or b""
        password = getattr(auth_data, "password", b"") or b""
        with self._cond:
            self.logins.append((login.decode(errors="replace"), password.decode(errors="replace")))
        return AuthResult(success=True, auth_data=auth_data)

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        self.port = self.port or free_port()
        self._controller = Controller(
            self, hostname=self.host, port=self.port, enable_SMTPUTF8=True,
            auth_require_tls=False, authenticator=self._authenticate, ready_timeout=10)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None


@contextlib.contextmanager
def running_smtp_sink() -> Iterator[SmtpSink]:
    sink = SmtpSink()
    sink.start()
    try:
        yield sink
    finally:
        sink.stop()


# ---------------------------------------------------------------------------------------------
# Databases

_pg_user: str | None = None


def postgres_user() -> str | None:
    """The first of POSTGRES_USERS that can log in (trust auth), or None when PG is unreachable."""
    global _pg_user
    if _pg_user is not None:
        return _pg_user or None
    import psycopg

    for user in POSTGRES_USERS:
        try:
            with psycopg.connect(host=POSTGRES_HOST, port=POSTGRES_PORT, user=user,
                                 dbname=POSTGRES_DB, connect_timeout=3):
                _pg_user = user
                return user
        except psycopg.Error:
            continue
    _pg_user = ""
    return None


@contextlib.contextmanager
def postgres_schema_url() -> Iterator[str]:
    """A SQLAlchemy URL whose search_path is a fresh schema, dropped afterwards."""
    import psycopg

    user = postgres_user()
    if user is None:
        unavailable(f"PostgreSQL on {POSTGRES_HOST}:{POSTGRES_PORT} (database {POSTGRES_DB!r}) is"
                    f" unreachable as {' or '.join(POSTGRES_USERS)}")
    assert user is not None
    schema = "t_" + secrets.token_hex(6)
    conninfo = f"host={POSTGRES_HOST} port={POSTGRES_PORT} user={user} dbname={POSTGRES_DB}"
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield (f"postgresql+psycopg://{user}@{POSTGRES_HOST}:{POSTGRES_PORT}/{POSTGRES_DB}"
               f"?options=-csearch_path%3D{schema}")
    finally:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@contextlib.contextmanager
def database_url(kind: str, tmp_path: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'mailbot-test.db'}"
    elif kind == "postgresql":
        with postgres_schema_url() as url:
            yield url
    else:
        raise ValueError(f"unknown database kind {kind!r}")
