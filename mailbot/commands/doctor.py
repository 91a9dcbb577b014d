"""`mailbot doctor`: check configuration, database, rules, mailbox and SMTP; say what is wrong."""

from __future__ import annotations

import argparse
import contextlib
import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from mailbot.config import ServerUrl, Settings
from mailbot.errors import MailbotError, TransportError
from mailbot.mailbox import Mailbox

TIMEOUT = 10.0


def configure(parser: argparse.ArgumentParser) -> None:
    parser.set_defaults(func=cmd_doctor)


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    warning: bool = False  # works, but worth knowing

    def line(self) -> str:
        mark = "ok  " if self.ok and not self.warning else "note" if self.ok else "FAIL"
        return f"{mark}  {self.name}: {self.detail}"


def explain(exc: BaseException, host: str = "", port: int = 0) -> str:
    """A network error in words an IT helper can act on."""
    where = f"{host}:{port}" if host else "the server"
    if isinstance(exc, socket.gaierror):
        return f"the host name {host!r} cannot be resolved (typo in the URL, or no DNS?)"
    if isinstance(exc, ConnectionRefusedError):
        return f"nothing accepts connections on {where} (wrong port, or a firewall?)"
    if isinstance(exc, TimeoutError | socket.timeout):
        return f"no answer from {where} within {TIMEOUT:.0f} s (firewall, or wrong host?)"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return (f"the TLS certificate of {where} is not trusted ({exc.verify_message}); "
                "fix the certificate, or for a self-signed server you run yourself use the "
                "+insecure URL scheme")
    if isinstance(exc, ssl.SSLError):
        return (f"TLS with {where} failed ({exc.reason or exc}); does the port expect TLS on "
                "connect (imaps/smtps) or STARTTLS (imap/smtp)?")
    text = " ".join(str(exc).split()) or type(exc).__name__
    low = text.lower()
    if "connection refused" in low:
        return f"{text} (wrong port, or a firewall?)"
    if "name or service not known" in low or "gaierror" in low:
        return f"{text} (the host name cannot be resolved: typo, or no DNS?)"
    if "login" in low or "authenticat" in low:
        return f"{text} (check the user name and the password variable)"
    if "certificate" in low:
        return f"{text} (fix the certificate, or use the +insecure scheme for a self-signed one)"
    return text


# ---------------------------------------------------------------- the checks


def check_database(s: Settings) -> Check:
    from sqlalchemy import text

    from mailbot.database import make_engine, migrations_dir

    try:
        engine = make_engine(s.database_url)
    except MailbotError as exc:
        return Check("database", False, str(exc))
    shown = engine.url.render_as_string(hide_password=True)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            current = _revision(conn)
        from alembic.config import Config
        from alembic.script import ScriptDirectory

        cfg = Config()
        cfg.set_main_option("script_location", str(migrations_dir()))
        head = ScriptDirectory.from_config(cfg).get_current_head()
    except MailbotError as exc:
        return Check("database", False, f"{shown}: {exc}")
    except Exception as exc:  # the driver's own errors: connection refused, bad password …
        orig = getattr(exc, "orig", None) or exc
        return Check("database", False, f"cannot connect to {shown}: "
                     f"{' '.join(str(orig).split())[:300]}")
    finally:
        engine.dispose()
    if current is None:
        return Check("database", True, f"{shown} reachable; empty, the tables are created on the "
                     "first start", warning=True)
    if current != head:
        return Check("database", True, f"{shown} at schema {current}; it is upgraded to {head} "
                     "on the next start", warning=True)
    return Check("database", True, f"{shown}, schema {current} (current)")


def _revision(conn: object) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(conn).get_current_revision()  # type: ignore[arg-type]


def check_events(s: Settings) -> Check:
    from sqlalchemy import select

    from mailbot.database import Database, is_migrated, make_engine
    from mailbot.models import Event

    engine = make_engine(s.database_url)
    try:
        if not is_migrated(engine):
            return Check("events", True, "none yet (mailbot events import FILE)", warning=True)
    finally:
        engine.dispose()
    db = Database(s.database_url, auto_migrate=False)
    try:
        with db.session() as session:
            events = list(session.scalars(select(Event).where(Event.purged_at.is_(None))))
    except Exception as exc:  # an old schema: the database check says more
        return Check("events", True, f"cannot read them ({type(exc).__name__})", warning=True)
    finally:
        db.dispose()
    if not events:
        return Check("events", True, "none yet (mailbot events import FILE)", warning=True)
    lonely = [e.slug for e in events if not e.coordinators]
    if lonely:
        return Check("events", True, f"{len(events)}; without coordinators (no digest, questions "
                     f"go nowhere): {', '.join(lonely)}", warning=True)
    return Check("events", True, f"{len(events)} event(s), all with coordinators")


def check_rules(s: Settings) -> Check:
    from mailbot.rulebook import load_rules  # the loader `mailbot run` uses (Worker.rules)

    if s.rules_dir is None:
        return Check("rules", False, "no rules directory configured")
    try:
        rules = load_rules(s.rules_dir)
    except MailbotError as exc:
        return Check("rules", False, str(exc))
    n = len(getattr(rules, "sections", {}) or {})
    return Check("rules", True, f"{s.rules_dir}: {n} rule section(s) loaded")


def _server_url(name: str, value: str | None, parse: Callable[[], ServerUrl], missing: str
                ) -> ServerUrl | Check:
    """The parsed URL, or the failed check that says why there is none."""
    if not value:
        return Check(name, False, missing)
    try:
        return parse()
    except MailbotError as exc:
        return Check(name, False, str(exc))


def check_mailbox(s: Settings) -> Check:
    url = _server_url("mailbox", s.mailbox_url, s.imap, "MAILBOT_MAILBOX_URL is not set, so no "
                      "registration mail can be read (e.g. "
                      "imaps://anmeldung%40verein.example@imap.verein.example/INBOX)")
    if isinstance(url, Check):
        return url
    try:
        if url.scheme == "maildir":
            from mailbot.mailbox.maildir import MaildirMailbox

            mb: Mailbox = MaildirMailbox(s.mailbox_url or "", s.folders, create=False)
        else:
            from mailbot.mailbox.imap import ImapMailbox

            mb = ImapMailbox(s.mailbox_url or "", url.password, s.folders, timeout=TIMEOUT,
                             retry_for=0.0, backoff=0.1)
    except MailbotError as exc:
        return Check("mailbox", False, str(exc))
    try:
        return Check("mailbox", True, mb.probe())
    except Exception as exc:  # MailboxError carries the server's words; add a hint
        return Check("mailbox", False, explain(_cause(exc), url.host, url.port))
    finally:
        with contextlib.suppress(Exception):
            mb.close()


def check_smtp(s: Settings) -> Check:
    url = _server_url("smtp", s.smtp_url, s.smtp, "MAILBOT_SMTP_URL is not set, so no answer "
                      "can be sent (e.g. smtps://anmeldung%40verein.example@smtp.verein.example:465)")
    if isinstance(url, Check):
        return url
    from mailbot.outbox.transport import open_transport

    user = f"{url.username}@" if url.username else ""
    shown = f"{url.scheme}://{user}{url.host}:{url.port}"
    transport = open_transport(url, timeout=TIMEOUT)
    try:
        detail = transport.probe()
    except TransportError as exc:
        return Check("smtp", False, str(exc))
    except Exception as exc:  # the network's own errors, in words an IT helper can act on
        return Check("smtp", False, f"{shown}: {explain(_cause(exc), url.host, url.port)}")
    finally:
        transport.close()
    # file:// works, but only for development.
    return Check("smtp", True, detail, warning=url.scheme == "file")


def _cause(exc: BaseException) -> BaseException:
    """The network error under a library's wrapper (aiosmtplib's SMTPConnectError …)."""
    while isinstance(exc.__cause__, OSError):
        exc = exc.__cause__
    return exc


def run_checks(config: Path | None) -> list[Check]:
    from mailbot.config import load_settings

    try:
        s = load_settings(config)
    except MailbotError as exc:
        return [Check("configuration", False, str(exc))]
    checks = [Check("configuration", True, f"time zone {s.timezone}, digest at "
                    f"{s.digest_time:%H:%M}, sender {s.from_addr}")]
    if s.from_address.domain in ("localhost", ""):
        checks[0] = Check("configuration", True, f"MAILBOT_FROM is {s.from_addr!r}: set the "
                          "registration address, or answers come from localhost", warning=True)
    db = check_database(s)
    checks.append(db)
    if db.ok:
        checks.append(check_events(s))
    checks += [check_rules(s), check_mailbox(s), check_smtp(s)]
    return checks


def cmd_doctor(args: argparse.Namespace) -> int:
    import logging

    from mailbot.commands.common import config_path

    logging.getLogger("alembic").setLevel(logging.WARNING)  # its INFO lines bury the answer
    checks = run_checks(config_path(args))
    for c in checks:
        print(c.line())
    bad = [c.name for c in checks if not c.ok]
    print(f"\n{len(bad)} problem(s): {', '.join(bad)}" if bad else "\neverything looks fine")
    return 1 if bad else 0
