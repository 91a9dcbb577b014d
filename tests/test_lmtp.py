"""The LMTP intake with a real LMTP client (smtplib.LMTP) on loopback, on SQLite and PostgreSQL:
a 250 per recipient only after the commit, a retry recognised, 451 without a database, 550 for a
mail too large."""

from __future__ import annotations

import smtplib
import socket
from collections.abc import Iterator
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from mailbot.config import load_settings
from mailbot.database import Database
from mailbot.errors import ConfigError
from mailbot.models import InboundRecord
from mailbot.registrations.event_changes import import_events
from mailbot.registrations.events_file import load_events
from mailbot.runners.intake import Understood
from mailbot.runners.lmtp import LmtpIntake, LmtpService, enhanced, plain_path, start_lmtp
from mailbot.runners.sender import Sender
from mailbot.runners.worker import Worker
from mailbot.types import EventInfo
from tests.e2e import FROM, ROOT, TO, DbView, registration, wait_until, write_events
from tests.servers import SmtpSink, free_port

MAX_BYTES = 100_000


@dataclass
class Served:
    worker: Worker
    service: LmtpService
    view: DbView
    sink: SmtpSink

    def client(self) -> smtplib.LMTP:
        listen = self.worker.settings.lmtp()
        conn = (smtplib.LMTP(listen) if isinstance(listen, str)
                else smtplib.LMTP(*listen, timeout=30))
        conn.ehlo()
        return conn


def worker(db_url: str, tmp_path: Path, sink: SmtpSink, listen: str) -> Worker:
    settings = load_settings(env={
        "MAILBOT_DATABASE_URL": db_url, "MAILBOT_FROM": FROM,
        "MAILBOT_RULES_DIR": str(ROOT / "rules"), "MAILBOT_SMTP_URL": sink.url,
        "MAILBOT_LMTP_LISTEN": listen, "MAILBOT_LMTP_MAX_BYTES": str(MAX_BYTES)})
    w = Worker(settings=settings, db=Database(db_url))
    with w.db.session() as s:
        import_events(s, w.mailer(s), load_events(write_events(tmp_path)))
    return w


def serve(db_url: str, tmp_path: Path, sink: SmtpSink, listen: str) -> Iterator[Served]:
    w = worker(db_url, tmp_path, sink, listen)
    sender = Sender(w).start()  # the replies: sent by a process of its own, as under `run`
    service = start_lmtp(w, w.understand, sender.wake)
    view = DbView.open(db_url)
    try:
        yield Served(w, service, view, sink)
    finally:
        service.stop()
        sender.stop()
        view.close()
        w.db.dispose()


@pytest.fixture
def served(db_url: str, tmp_path: Path, smtp_sink: SmtpSink) -> Iterator[Served]:
    yield from serve(db_url, tmp_path, smtp_sink, f"127.0.0.1:{free_port()}")


def send(conn: smtplib.LMTP, sender: str, rcpts: list[str], data: bytes
         ) -> list[tuple[int, bytes]]:
    """One LMTP transaction without SIZE; the reply for each recipient (RFC 2033)."""
    conn.mail(sender)
    for r in rcpts:
        code, text = conn.rcpt(r)
        assert code == 250, text
    conn.putcmd("data")
    code, text = conn.getreply()
    assert code == 354, text
    conn.send(data.replace(b"\r\n.", b"\r\n..") + b"\r\n.\r\n")
    return [conn.getreply() for _ in rcpts]


def test_each_recipient_gets_250_only_after_the_registration_is_committed(
        served: Served) -> None:
    m = registration(1, tag="lmtp")
    conn = served.client()
    replies = send(conn, m.sender, [TO, "anmeldung@events.example"], m.data)
    # the 250s came back: the registration and its record are already in the database
    registered = served.view.registrations()
    conn.quit()

    assert [code for code, _ in replies] == [250, 250]
    assert [text.endswith(f"<{r}>".encode()) for (_, text), r in
            zip(replies, [TO, "anmeldung@events.example"], strict=True)] == [True, True]
    assert registered == [(m.sender, m.slug, "registered")]
    [rec] = served.view.inbound()
    assert rec.mailbox == f"lmtp://{served.worker.settings.lmtp_listen}"
    [confirmation] = served.sink.wait_for(1)
    assert confirmation.rcpt_tos == (m.sender,)


def test_a_retry_after_a_lost_answer_is_recognised_and_not_applied_twice(
        served: Served) -> None:
    m = registration(2, tag="lmtp")
    conn = served.client()
    conn.mail(m.sender)
    conn.rcpt(TO)
    conn.putcmd("data")
    assert conn.getreply()[0] == 354
    conn.send(m.data + b"\r\n.\r\n")
    conn.close()  # the answer is lost: the mail host will deliver the same mail again
    wait_until("the first delivery's record", lambda: served.view.count(InboundRecord))

    again = served.client()
    assert send(again, m.sender, [TO], m.data)[0][0] == 250
    assert again.sendmail(m.sender, [TO], m.data) == {}  # and once more, with SIZE
    again.quit()

    assert served.view.count(InboundRecord) == 1
    assert served.view.registrations() == [(m.sender, m.slug, "registered")]
    served.sink.wait_for(1)
    with pytest.raises(AssertionError):
        served.sink.wait_for(2, timeout=1.0)


def test_without_a_database_each_recipient_gets_451_and_the_retry_is_taken_in(
        served: Served, db_url: str, tmp_path: Path) -> None:
    good = served.worker.db
    gone = (f"sqlite:///{tmp_path}/no-such-dir/mailbot.db" if db_url.startswith("sqlite")
            else f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/test")
    served.worker.db = Database(gone, auto_migrate=False)
    m = registration(3, tag="lmtp")
    conn = served.client()
    try:
        replies = send(conn, m.sender, [TO, "second@events.example"], m.data)
    finally:
        served.worker.db.dispose()
        served.worker.db = good
    assert [(code, text[:5]) for code, text in replies] == [(451, b"4.3.0")] * 2
    assert served.view.count(InboundRecord) == 0

    assert send(conn, m.sender, [TO], m.data)[0][0] == 250  # the mail host's retry
    conn.quit()
    assert served.view.registrations() == [(m.sender, m.slug, "registered")]
    served.sink.wait_for(1)


def test_a_mail_too_large_gets_550_for_each_recipient_and_the_connection_goes_on(
        served: Served) -> None:
    m = registration(4, tag="lmtp")
    big = m.data + b"x" * 76 + (b"\r\n" + b"x" * 76) * (MAX_BYTES // 78 + 10)
    conn = served.client()

    replies = send(conn, m.sender, [TO, "second@events.example"], big)
    assert [(code, text[:5]) for code, text in replies] == [(550, b"5.3.4")] * 2
    with pytest.raises(smtplib.SMTPSenderRefused) as refused:  # announced with SIZE: at once
        conn.sendmail(m.sender, [TO], big)
    assert refused.value.smtp_code == 550
    conn.rset()
    assert send(conn, m.sender, [TO], m.data)[0][0] == 250
    conn.quit()
    assert served.view.count(InboundRecord) == 1


def replies_of(sock: socket.socket, n: int) -> list[list[str]]:
    """The next n replies (each its lines) read off a plain socket."""
    f = sock.makefile("rb")
    out: list[list[str]] = []
    for _ in range(n):
        lines = [f.readline().decode().rstrip("\r\n")]
        while lines[-1][3:4] == "-":
            lines.append(f.readline().decode().rstrip("\r\n"))
        out.append(lines)
    return out


def test_it_offers_pipelining_and_enhanced_status_codes_and_keeps_to_both(
        served: Served) -> None:
    """RFC 2033: an LMTP server MUST offer PIPELINING and ENHANCEDSTATUSCODES. A mail host
    then writes MAIL, every RCPT and DATA at once; each reply comes in order, with its code."""
    m = registration(6, tag="lmtp")
    host, port = served.worker.settings.lmtp()
    with socket.create_connection((host, port), timeout=30) as sock:
        sock.sendall(b"LHLO mailhost.example\r\n")
        greeting, lhlo = replies_of(sock, 2)
        assert greeting[0].startswith("220 ")
        assert {"250-PIPELINING", "250-ENHANCEDSTATUSCODES"} <= set(lhlo)
        assert lhlo[-1].startswith("250 ")

        sock.sendall(f"MAIL FROM:<{m.sender}>\r\nRCPT TO:<{TO}>\r\n"
                     "RCPT TO:<anmeldung@events.example>\r\nDATA\r\n".encode())
        envelope = [r[0] for r in replies_of(sock, 4)]
        assert [r[:10] for r in envelope[:3]] == ["250 2.0.0 ", "250 2.1.5 ", "250 2.1.5 "]
        assert envelope[3].startswith("354 ")
        sock.sendall(m.data.replace(b"\r\n.", b"\r\n..") + b"\r\n.\r\n")
        done = [r[0] for r in replies_of(sock, 2)]
        assert [r[:10] for r in done] == ["250 2.0.0 "] * 2
        assert served.view.registrations() == [(m.sender, m.slug, "registered")]

        sock.sendall(b"RCPT TO:<late@events.example>\r\nXYZZY\r\nQUIT\r\n")
        assert [r[0][:10] for r in replies_of(sock, 3)] == \
            ["503 5.5.1 ", "500 5.5.2 ", "221 2.0.0 "]


@pytest.mark.parametrize(("reply", "expected"), [
    ("250 OK", "250 2.0.0 OK"),
    ("250 2.1.5 OK", "250 2.1.5 OK"),
    ("503 Error: need MAIL command", "503 5.5.1 Error: need MAIL command"),
    ("552 Error: Too much mail data", "552 5.3.4 Error: Too much mail data"),
    ("421 closing", "421 4.0.0 closing"),
    ("221", "221 2.0.0"),
    ("354 End data with <CR><LF>.<CR><LF>", "354 End data with <CR><LF>.<CR><LF>"),
    ("220 host ready", "220 host ready"),
    ("not a reply", "not a reply"),
])
def test_a_reply_without_an_enhanced_code_gets_the_one_of_its_class(reply: str,
                                                                   expected: str) -> None:
    assert enhanced(reply) == expected


@pytest.mark.parametrize("arg", [
    "<a.b@c.example> SIZE=100", "<a@b.example>", "<a@b.example>BODY=8BITMIME",
    "  <x+tag@sub.b-c.example>   SIZE=1 BODY=7BIT", "<A.B@EXAMPLE.ORG>", "<>", "< a@b.example >",
    '<"x y"@b.example>', "<a..b@c.example>", "<.a@b.example>", "<a@b..c>", "<a@[1.2.3.4]>",
    "<a@b.example> (comment) SIZE=1", "a@b.example", "<a@b.example", "<@route:a@b.example>",
    "<jörg@b.example>", "<a@b.example> ", "<" + "x" * 65 + "@b.example>",
])
def test_a_plain_path_is_read_as_aiosmtpd_reads_it_and_any_other_left_to_it(arg: str) -> None:
    from email._header_value_parser import get_addr_spec, get_angle_addr
    from email.errors import HeaderParseError

    fast = plain_path(arg, local_limit=64)
    if fast is None:
        return  # aiosmtpd reads it itself
    parse = get_angle_addr if arg.lstrip().startswith("<") else get_addr_spec
    try:
        address, rest = parse(arg)
    except HeaderParseError:
        raise AssertionError(f"{arg!r} read as {fast!r}, which aiosmtpd refuses") from None
    assert fast == (address.addr_spec, rest)


def test_what_mail_hosts_write_takes_the_plain_path_and_odd_forms_do_not() -> None:
    assert plain_path("<Ana.Lima+x@verein-a.example> SIZE=591 BODY=8BITMIME") == \
        ("Ana.Lima+x@verein-a.example", "SIZE=591 BODY=8BITMIME")
    assert [plain_path(a) for a in ("<>", '<"x y"@b.example>', "<a@b> (c)")] == [None] * 3
    assert plain_path("<" + "x" * 65 + "@b.example>", local_limit=64) is None


def test_it_listens_on_a_unix_socket(db_url: str, tmp_path: Path, smtp_sink: SmtpSink) -> None:
    path = tmp_path / "lmtp.sock"
    for served in serve(db_url, tmp_path, smtp_sink, str(path)):
        m = registration(5, tag="lmtp")
        conn = served.client()
        assert send(conn, m.sender, [TO], m.data)[0][0] == 250
        conn.quit()
        assert served.view.registrations() == [(m.sender, m.slug, "registered")]
        assert served.worker.settings.lmtp() == str(path)
    assert not path.exists()


@pytest.mark.parametrize("value", ["2424", "localhost", "127.0.0.1:99999", "relative/lmtp.sock"])
def test_a_listen_value_that_is_neither_host_port_nor_a_socket_path_is_refused(
        value: str) -> None:
    with pytest.raises(ConfigError, match="MAILBOT_LMTP_LISTEN: .* neither host:port"):
        load_settings(env={"MAILBOT_LMTP_LISTEN": value})


def test_a_mail_read_on_arrival_is_taken_as_read_unless_the_events_changed_meanwhile(
        db_url: str, tmp_path: Path, smtp_sink: SmtpSink) -> None:
    w = worker(db_url, tmp_path, smtp_sink, f"127.0.0.1:{free_port()}")
    read_in_batch: list[bytes] = []
    read_ahead: list[bytes] = []

    def read(data: bytes, events: list[EventInfo]) -> Understood:
        read_in_batch.append(data)
        return w.understand(data, events)

    def ahead(data: bytes, events: list[EventInfo]) -> Future[Understood]:
        read_ahead.append(data)
        done: Future[Understood] = Future()
        done.set_result(w.understand(data, events))
        return done

    intake = LmtpIntake(w, read, "lmtp://test", MAX_BYTES, read_ahead=ahead)
    first, second, third, fourth = (registration(n, tag="ahead") for n in range(10, 14))
    try:
        assert intake._start_reading(first.data) is None  # no batch yet: no events to read with
        assert intake.take_in(first.data).startswith("250")

        started = intake._start_reading(second.data)
        assert started is not None and read_ahead == [second.data]
        assert intake.take_in_many([second.data], [started])[0].startswith("250")
        assert read_in_batch == [first.data]  # the second was not read again

        events, reading = intake._start_reading(third.data) or ([], Future())
        stale = ([*events, replace(events[0], slug="since-removed")], reading)
        failed: Future[Understood] = Future()
        failed.set_exception(BrokenProcessPool("a reader died"))
        replies = intake.take_in_many([third.data, fourth.data], [stale, (events, failed)])
        assert [r[:3] for r in replies] == ["250", "250"]
        assert read_in_batch == [first.data, third.data, fourth.data]  # both read again
        with w.db.session() as s:
            assert s.query(InboundRecord).count() == 4
        view = DbView.open(db_url)
        assert sorted(e for e, _, state in view.registrations() if state == "registered") == \
            sorted(m.sender.lower() for m in (first, second, third, fourth))
        view.close()
    finally:
        w.db.dispose()
