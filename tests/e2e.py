"""Helpers for the end-to-end tests: events file, `mailbot` subprocesses, realistic mails, waits."""

from __future__ import annotations

import contextlib
import email
import json
import os
import signal
import subprocess
import sys
import time
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.utils import formataddr, getaddresses
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import func, select

from mailbot.config import load_settings
from mailbot.database import Database
from mailbot.mailbox.imap import ImapMailbox
from mailbot.models import Event, InboundRecord, OutboxRow, Person, Registration
from mailbot.outbox.transport import open_transport
from mailbot.registrations.event_changes import import_events
from mailbot.registrations.events_file import load_events
from mailbot.runners.worker import Worker as InProcessWorker
from tests.servers import Dovecot, SinkMessage, SmtpSink

T = TypeVar("T")

FROM = "MitGeN Anmeldung <anmeldung@mitgen.example>"
TO = "anmeldung@mitgen.example"
ROOT = Path(__file__).resolve().parent.parent

# (slug, title, starts, ends, city, venue, aliases, coordinator) in the examples' style. The
# capacities are large enough that nobody lands on a waiting list in the e2e tests: every
# registration is confirmed with the same template, so "one confirmation per sender" holds.
EVENTS = [
    ("werkstatt-2027", "Werkstattgespräch „Vernetzt in Niedersachsen 2027“",
     "2027-02-25T14:00:00+01:00", "2027-02-25T17:00:00+01:00", "Hannover", "",
     ["Werkstattgespräch", "Vernetzt in Niedersachsen", "Werkstatt"], "koordination@mitgen.example"),
    ("fachtag-2027",
     "Fachtag „Geschlechtergleichstellung in Zeiten des gesellschaftlichen Wandels“",
     "2027-09-16T10:00:00+02:00", "2027-09-16T16:30:00+02:00", "Hannover",
     "Kulturzentrum Pavillon, Lister Meile 4, 30161 Hannover",
     ["Fachtag", "Geschlechtergleichstellung in Zeiten des gesellschaftlichen Wandels"],
     "koordination@mitgen.example"),
    ("netzwerktreffen-7",
     "7. Bundesweites Netzwerktreffen Migration und Entwicklung auf kommunaler Ebene",
     "2027-05-06T10:00:00+02:00", "2027-05-07T13:00:00+02:00", "Osnabrück", "",
     ["Netzwerktreffen", "Migration und Entwicklung", "Bundesweites Netzwerktreffen"],
     "skew-netzwerk@engagement.example"),
]


def events_toml(capacity: int = 2000) -> str:
    q = json.dumps  # a JSON string is a valid TOML basic string
    return "\n".join(
        f"[[event]]\nslug = {q(slug)}\ntitle = {q(title, ensure_ascii=False)}\nstarts = {starts}\n"
        f"ends = {ends}\ncity = {q(city, ensure_ascii=False)}\n"
        f"venue = {q(venue, ensure_ascii=False)}\ncapacity = {capacity}\n"
        f"aliases = {q(aliases, ensure_ascii=False)}\nlanguage = \"de\"\n"
        f"coordinators = {q([coordinator])}\n"
        for slug, title, starts, ends, city, venue, aliases, coordinator in EVENTS)


def write_events(directory: Path) -> Path:
    path = directory / "events.toml"
    path.write_text(events_toml(), encoding="utf-8")
    return path


# ---------------------------------------------------------------------------------------------
# realistic German registration mails, one distinct sender each

_FIRST = ["Maria", "Aylin", "Jana", "Sevim", "Petra", "Birgit", "Fatma", "Katharina", "Sabine",
          "Youssef", "Thomas", "Jörg", "Anke", "Dilek", "Ursula", "Mehmet", "Claudia", "Olga",
          "Heike", "Tobias", "Renate", "Nadia", "Stefanie", "Günter", "Elif"]
_LAST = ["Muster", "Yılmaz", "Becker", "Kaya", "Lange", "Schröder", "Demir", "Krüger", "Röttger",
         "Benjelloun", "Hoffmann", "Weiß", "Ehlers", "Şahin", "Bäcker", "Öztürk", "Wagner",
         "Iwanowa", "Meyer", "Schulz", "Brandt", "Haddad", "Vogel", "Möller", "Arslan"]
_ORGS = [("Frauenberatung Celle e.V.", "frauenberatung-celle.example"),
         ("Integrationsrat Hildesheim", "integrationsrat-hildesheim.example"),
         ("Landkreis Cloppenburg", "lkclp.example"),
         ("Migrationsberatung Osnabrück", "mbe-os.example"),
         ("Gleichstellungsbüro der Stadt Lüneburg", "stadt-lueneburg.example"),
         ("Kreis Gütersloh", "kreis-guetersloh.example"),
         ("Caritasverband Hannover e.V.", "caritas-hannover.example")]
_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "ı": "i"})


def ascii_address(text: str) -> str:
    """"Jörg.Şahin@…" -> "joerg.sahin@…": German transliteration, then accents dropped."""
    plain = unicodedata.normalize("NFKD", text.lower().translate(_UMLAUTS))
    return plain.encode("ascii", "ignore").decode()

# (subject, body) with {name} and {org}; each names its event in words people really use.
_TEXTS = [
    ("Anmeldung Werkstattgespräch",
     "Guten Tag,\n\nhiermit melde ich mich verbindlich zum Werkstattgespräch am 25. Februar in "
     "Hannover an.\n\nMit freundlichen Grüßen\n{name}\n{org}\n"),
    ("Anmeldung zum Fachtag",
     "Sehr geehrte Damen und Herren,\n\nich möchte mich gerne für den Fachtag "
     "„Geschlechtergleichstellung in Zeiten des gesellschaftlichen Wandels“ am 16. September "
     "anmelden.\n\nViele Grüße\n{name}\n{org}\n"),
    ("Netzwerktreffen Osnabrück - Anmeldung",
     "Hallo zusammen,\n\nhiermit melde ich mich zum 7. Bundesweiten Netzwerktreffen Migration "
     "und Entwicklung in Osnabrück an.\n\nBeste Grüße\n{name}\n{org}\n"),
    ("Teilnahme Werkstattgespräch",
     "Liebes Team,\n\ngerne nehme ich am Werkstattgespräch „Vernetzt in Niedersachsen“ teil. "
     "Bitte merken Sie mich vor.\n\nHerzliche Grüße\n{name}\n{org}\n"),
]


@dataclass(frozen=True)
class Sent:
    """One registration mail the test put into the mailbox."""

    sender: str
    name: str
    slug: str
    message_id: str
    data: bytes


_SLUGS = ["werkstatt-2027", "fachtag-2027", "netzwerktreffen-7", "werkstatt-2027"]


def registration(n: int, tag: str = "t") -> Sent:
    """The n-th registration: a distinct person (and address) for every n."""
    first = _FIRST[n % len(_FIRST)]
    last = _LAST[(n // len(_FIRST)) % len(_LAST)]
    org, domain = _ORGS[n % len(_ORGS)]
    name = f"{first} {last}"
    sender = ascii_address(f"{first}.{last}.{tag}{n}@{domain}")
    subject, body = _TEXTS[n % len(_TEXTS)]
    msg = EmailMessage()
    msg["From"] = formataddr((name, sender))
    msg["To"] = TO
    msg["Subject"] = subject
    msg["Date"] = f"Fri, 20 Nov 2026 09:{n % 60:02d}:00 +0100"
    mid = f"reg-{tag}-{n}@{domain}"
    msg["Message-ID"] = f"<{mid}>"
    msg.set_content(body.format(name=name, org=org), charset="utf-8",
                    cte="quoted-printable" if n % 2 else "8bit")
    return Sent(sender, name, _SLUGS[n % len(_TEXTS)], mid, msg.as_bytes())


def registrations(count: int, tag: str = "t", start: int = 0) -> list[Sent]:
    return [registration(n, tag) for n in range(start, start + count)]


def append_many(dovecot: Dovecot, mails: list[bytes], folder: str = "INBOX") -> None:
    """APPEND over one connection (Dovecot.append logs in once per mail)."""
    with dovecot.client() as conn:
        for data in mails:
            typ, resp = conn.append(folder, None, None, data)
            if typ != "OK":
                raise RuntimeError(f"APPEND failed: {resp!r}")


# ---------------------------------------------------------------------------------------------
# the `mailbot` command as a subprocess

def mailbot_env(db_url: str, dovecot: Dovecot, sink: SmtpSink, **extra: str) -> dict[str, str]:
    """The environment of a `mailbot` subprocess: only MAILBOT_* values set here count."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAILBOT_")}
    env.update({
        "MAILBOT_DATABASE_URL": db_url,
        "MAILBOT_MAILBOX_URL": dovecot.url,
        "MAILBOT_MAILBOX_PASSWORD": dovecot.password,
        "MAILBOT_SMTP_URL": sink.url,
        "MAILBOT_FROM": FROM,
        "MAILBOT_RULES_DIR": str(ROOT / "rules"),
        "PYTHONUNBUFFERED": "1",
    })
    env.update({f"MAILBOT_{k.upper()}": v for k, v in extra.items()})
    return env


def prepared(db_url: str, dovecot: Dovecot, sink: SmtpSink, cwd: Path,
             **extra: str) -> dict[str, str]:
    """The environment for `mailbot` subprocesses, after `mailbot events import` into the DB."""
    env = mailbot_env(db_url, dovecot, sink, **extra)
    out = mailbot(env, "events", "import", str(write_events(cwd)), cwd=cwd)
    assert f"{len(EVENTS)} created" in out.stdout, out.stdout
    return env


def mailbot(env: dict[str, str], *args: str, cwd: Path, timeout: float = 120.0,
            check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run `mailbot ARGS` to its end; with `check`, a non-zero exit fails with its stderr."""
    proc = subprocess.run([sys.executable, "-m", "mailbot", *args], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"mailbot {' '.join(args)} exited {proc.returncode}:\n"
                             f"{proc.stdout}\n{proc.stderr[-4000:]}")
    return proc


class Worker:
    """A `mailbot run` (or `run --once`) subprocess in its own process group; stderr to a file."""

    def __init__(self, env: dict[str, str], cwd: Path, *args: str) -> None:
        self.log_path = cwd / f"mailbot-{time.monotonic_ns()}.log"
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "mailbot", "run", *args], env=env, cwd=cwd,
            stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT,
            start_new_session=True)

    @property
    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def wait(self, timeout: float) -> int:
        try:
            return self.proc.wait(timeout=timeout)
        finally:
            self._log.close()

    def terminate(self, timeout: float = 15.0) -> int:
        """SIGTERM, then the exit code; fails (after a SIGKILL) when it does not stop in time."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"mailbot run did not stop within {timeout} s of SIGTERM:\n"
                                 f"{self.log[-3000:]}") from None

    def kill(self) -> None:
        """SIGKILL the worker's own process group (only what this object started)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)
        self._log.close()


@contextlib.contextmanager
def running_worker(env: dict[str, str], cwd: Path, *args: str) -> Iterator[Worker]:
    w = Worker(env, cwd, *args)
    try:
        yield w
    finally:
        if w.alive():
            w.kill()


# ---------------------------------------------------------------------------------------------
# waiting and looking

def wait_until(what: str, check: Callable[[], T], timeout: float = 10.0,
               interval: float = 0.02, log: Callable[[], str] | None = None) -> T:
    """Poll `check` until it returns something true; AssertionError naming `what` otherwise."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            tail = f"\n--- worker log ---\n{log()[-3000:]}" if log else ""
            raise AssertionError(f"timed out after {timeout} s waiting for {what}"
                                 f" (last value {value!r}){tail}")
        time.sleep(interval)


def sink_wait(sink: SmtpSink, n: int, timeout: float, worker: Worker | None = None
              ) -> list[SinkMessage]:
    """SmtpSink.wait_for, with the worker's log in the failure message."""
    try:
        return sink.wait_for(n, timeout=timeout)
    except AssertionError as exc:
        tail = f"\n--- worker log ---\n{worker.log[-4000:]}" if worker else ""
        raise AssertionError(f"{exc}{tail}") from None


def before_replies(sink: SmtpSink) -> list[Callable[[], None]]:
    """A queue of callbacks: the sink runs (and drops) the first one in each DATA before it
    answers, e.g. to APPEND a mail at the moment the worker is busy sending. Install it before
    the worker connects: aiosmtpd looks the hooks up once per connection."""
    queue: list[Callable[[], None]] = []
    original = sink.handle_DATA

    async def handle_DATA(server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        if queue:
            queue.pop(0)()
        return await original(server, session, envelope)

    sink.handle_DATA = handle_DATA  # type: ignore[method-assign]
    return queue


def recipients(msg: SinkMessage) -> list[str]:
    return [r.lower() for r in msg.rcpt_tos]


def to_header(msg: SinkMessage) -> str:
    import email

    parsed = email.message_from_bytes(msg.data)
    return ",".join(a.lower() for _, a in getaddresses(parsed.get_all("To", [])))


def confirmations_to(sink: SmtpSink, address: str) -> list[SinkMessage]:
    address = address.lower()
    return [m for m in list(sink.messages) if address in recipients(m)]


def sink_count_by_recipient(sink: SmtpSink) -> dict[str, int]:
    counts: dict[str, int] = {}
    for m in list(sink.messages):
        for r in recipients(m):
            counts[r] = counts.get(r, 0) + 1
    return counts


@dataclass
class DbView:
    """Read-only looks into the worker's database, through the project's own models."""

    db: Database

    @classmethod
    def open(cls, url: str) -> DbView:
        return cls(Database(url))

    def close(self) -> None:
        self.db.dispose()

    def registrations(self) -> list[tuple[str, str, str]]:
        """(email, event slug, state) of every registration row."""
        with self.db.session() as s:
            rows = s.execute(select(Person.email, Event.slug, Registration.state)
                             .join(Person, Registration.person_id == Person.id)
                             .join(Event, Registration.event_id == Event.id)).all()
            return [(e.lower(), slug, str(state)) for e, slug, state in rows]

    def inbound(self) -> list[InboundRecord]:
        with self.db.session() as s:
            return list(s.scalars(select(InboundRecord).order_by(InboundRecord.id)))

    def outbox(self) -> list[OutboxRow]:
        with self.db.session() as s:
            return list(s.scalars(select(OutboxRow).order_by(OutboxRow.id)))

    def count(self, model: Any) -> int:
        with self.db.session() as s:
            return int(s.scalar(select(func.count()).select_from(model)) or 0)


# ---------------------------------------------------------------------------------------------
# in-process worker on Dovecot and the sink, with our mail server's authentication results
# (tests/test_e2e_trust.py, tests/test_e2e_coordinator.py)

OUR_AUTHSERV = "mx.mitgen.example"


def authenticated_mail(sender: str, subject: str, body: str, mid: str, *, vouched: bool,
                       reply_to: str = "", in_reply_to: str = "") -> bytes:
    """A mail whose From: domain our server verified (`vouched`), or one a forger wrote."""
    domain = sender.rpartition("@")[2].strip(">")
    msg = EmailMessage()
    if vouched:  # what our mail server writes on top of a mail it verified
        msg["Authentication-Results"] = (f"{OUR_AUTHSERV}; dkim=pass header.d={domain};"
                                         f" dmarc=pass header.from={domain}")
    else:  # a forger can write anything, but only under someone else's authserv-id
        msg["Authentication-Results"] = f"mx.evil.example; dkim=pass header.d={domain}"
    msg["From"] = sender
    msg["To"] = TO
    msg["Subject"] = subject
    msg["Date"] = "Mon, 11 Jan 2027 09:00:00 +0100"
    msg["Message-ID"] = f"<{mid}@{domain}>"
    if reply_to:
        msg["Reply-To"] = reply_to
    if in_reply_to:
        msg["In-Reply-To"] = f"<{in_reply_to}>"
        msg["References"] = f"<{in_reply_to}>"
    msg.set_content(body)
    return msg.as_bytes()


@dataclass
class InProcess:
    """A runners.worker.Worker on Dovecot and the sink; `deliver()` takes in and sends once."""

    worker: Any
    sink: SmtpSink

    def deliver(self) -> list[SinkMessage]:
        before = len(self.sink.messages)
        self.worker.intake_pass()
        self.worker.delivery_pass()
        return list(self.sink.messages)[before:]

    def close(self) -> None:
        self.worker.mailbox.close()
        self.worker.transport.close()
        self.worker.db.dispose()


def werkstatt_event(capacity: int, venue: str | None = None) -> str:
    """events.toml text of the one workshop the end-to-end tests register for."""
    venue_line = "" if venue is None else f'venue = "{venue}"\n'
    return ('[[event]]\nslug = "werkstatt"\ntitle = "Werkstattgespräch Vernetzt"\n'
            "starts = 2027-02-25T14:00:00+01:00\nends = 2027-02-25T17:00:00+01:00\n"
            f'city = "Hannover"\n{venue_line}capacity = {capacity}\n'
            'aliases = ["Werkstattgespräch", "Werkstatt"]\n'
            'coordinators = ["koordination@mitgen.example"]\n')


@contextlib.contextmanager
def in_process(db_url: str, dovecot: Dovecot, sink: SmtpSink, events: str, directory: Path
               ) -> Iterator[InProcess]:
    """Our server's authserv-id trusted, `events` (events.toml text) imported, a fixed clock."""
    settings = load_settings(env={
        "MAILBOT_DATABASE_URL": db_url, "MAILBOT_FROM": FROM,
        "MAILBOT_TRUSTED_AUTHSERV": OUR_AUTHSERV})
    w = InProcessWorker(settings=settings, db=Database(db_url),
                        mailbox=ImapMailbox(dovecot.url, dovecot.password),
                        transport=open_transport(settings.__class__(smtp_url=sink.url).smtp()),
                        clock=lambda: datetime(2027, 1, 11, 9, 0, tzinfo=UTC))
    (directory / "events.toml").write_text(events, encoding="utf-8")
    with w.db.session() as s:
        import_events(s, w.mailer(s), load_events(directory / "events.toml"))
    run = InProcess(w, sink)
    try:
        yield run
    finally:
        run.close()


def parsed(m: SinkMessage) -> EmailMessage:
    return email.message_from_bytes(m.data, policy=policy.default)  # type: ignore[return-value]


def plain_text(m: SinkMessage) -> str:
    """The text part, whitespace folded."""
    return " ".join(parsed(m).get_body(("plain",)).get_content().split())  # type: ignore[union-attr]
