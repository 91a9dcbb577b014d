"""SmtpTransport against a real aiosmtpd server on loopback: reuse, retries, failures, TLS."""

from __future__ import annotations

import contextlib
import email
import shutil
import ssl
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import pytest

from mailbot.config import ServerUrl, parse_server_url
from mailbot.outbox.compose import make_message
from mailbot.outbox.transport import SendResult, open_transport
from mailbot.outbox.transport.smtp import SmtpTransport
from mailbot.types import LOOP_HEADER, OutgoingMail, SendStatus
from tests.servers import SmtpSink, free_port

BERLIN = ZoneInfo("Europe/Berlin")
FROM = "MitGeN Anmeldung <anmeldung@mitgen.example>"
SMTP_KINDS = {"smtps": ("implicit", 465), "smtp": ("starttls", 587),
              "smtp+plain": ("none", 25), "smtp+insecure": ("starttls", 587)}
EVENT = {"slug": "fachtag-2027", "title": "Fachtag „Geschlechtergleichstellung“",
         "starts": "2027-09-16T10:00:00+02:00", "ends": "2027-09-16T16:30:00+02:00",
         "city": "Hannover", "venue": "Kulturzentrum Pavillon, Lister Meile 4, 30161 Hannover",
         "language": "de"}


def url(text: str) -> ServerUrl:
    return parse_server_url(text, SMTP_KINDS, "MAILBOT_SMTP_URL", ("file",))


def message(n: int, to: str = "", ics: bool = False) -> EmailMessage:
    mail = OutgoingMail(
        template="confirmation", language="de", to=to or f"person{n}@verein.example",
        context={"name": f"Person {n}", "event": EVENT, "seats": 1, "attendees": [f"Person {n}"]},
        message_id=f"{n:04x}.fachtag-2027.mailbot@mitgen.example",
        ics={"uid": f"fachtag-2027-r{n}@mitgen.example", "sequence": 2, "method": "REQUEST",
             "summary": EVENT["title"], "starts": EVENT["starts"], "ends": EVENT["ends"],
             "location": EVENT["venue"], "description": "Anmeldung"} if ics else None,
    )
    return make_message(mail, FROM, BERLIN)


class Results:
    """Collects on_result calls, in order."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, SendResult]] = []

    def __call__(self, key: int, result: SendResult) -> None:
        self.calls.append((key, result))

    @property
    def statuses(self) -> list[SendStatus]:
        return [r.status for _, r in self.calls]


def send(transport: Any, *msgs: EmailMessage, first: int = 0) -> Results:
    results = Results()
    transport.deliver([(first + i, m) for i, m in enumerate(msgs)], results)
    return results


@dataclass
class CountingSink(SmtpSink):
    """The shared sink, counting the connections it accepts and optionally speaking TLS."""

    connections: int = 0
    starttls_context: ssl.SSLContext | None = None
    implicit_context: ssl.SSLContext | None = None

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        sink = self

        class _Counting(Controller):
            def factory(self) -> Any:
                sink.connections += 1
                return super().factory()

        self.port = self.port or free_port()
        kwargs: dict[str, Any] = {}
        if self.starttls_context:
            kwargs["tls_context"] = self.starttls_context
        self._controller = _Counting(
            self, hostname=self.host, port=self.port, ssl_context=self.implicit_context,
            auth_require_tls=False, authenticator=self._authenticate, ready_timeout=10, **kwargs)
        self._controller.start()
        self.connections = 0  # the controller's own start-up probe does not count


@contextlib.contextmanager
def running(s: CountingSink) -> Iterator[CountingSink]:
    s.start()
    try:
        yield s
    finally:
        s.stop()


@pytest.fixture(params=[True, False], ids=["pipelining", "one-at-a-time"])
def sink(request: pytest.FixtureRequest) -> Iterator[CountingSink]:
    """Each test twice: a server that offers PIPELINING (commands go out together) and one
    that does not (aiosmtplib's one command, one reply)."""
    with running(CountingSink(pipelining=request.param)) as s:
        yield s


@pytest.fixture
def transport(sink: CountingSink) -> Iterator[SmtpTransport]:
    t = SmtpTransport(url(f"smtp+plain://{sink.host}:{sink.port}"), timeout=5,
                      local_hostname="mailbot.test")
    yield t
    t.close()


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    if not shutil.which("openssl"):
        pytest.skip("openssl is needed to make a test certificate")
    d = tmp_path_factory.mktemp("tls")
    cert, key = d / "cert.pem", d / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-keyout", str(key), "-out", str(cert), "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                   check=True, capture_output=True)
    return cert, key


def server_context(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(*certificate)
    return ctx


# ------------------------------------------------------------------------- delivery


def test_a_batch_of_ten_goes_over_one_connection(sink: CountingSink,
                                                  transport: SmtpTransport) -> None:
    results = send(transport, *(message(i) for i in range(10)))
    assert results.statuses == [SendStatus.SENT] * 10
    assert [k for k, _ in results.calls] == list(range(10))
    assert len(sink.wait_for(10)) == 10
    assert sink.connections == 1


def test_the_connection_is_kept_for_the_next_batch(sink: CountingSink,
                                                    transport: SmtpTransport) -> None:
    send(transport, message(1), message(2))
    send(transport, message(3))
    assert len(sink.wait_for(3)) == 3
    assert sink.connections == 1


def test_a_large_batch_goes_over_several_connections_in_order_per_recipient(
        sink: CountingSink) -> None:
    # 36 messages: 30 people, one of whom gets seven (e.g. answers to several mails)
    msgs = [message(i) for i in range(30)] + [message(100 + i, to="viel@verein.example")
                                              for i in range(6)]
    msgs.insert(3, message(99, to="viel@verein.example"))
    with SmtpTransport(url(f"smtp+plain://{sink.host}:{sink.port}"), timeout=5,
                       local_hostname="mailbot.test", connections=4) as t:
        results = send(t, *msgs)
        assert sorted(k for k, _ in results.calls) == list(range(len(msgs)))
        assert set(results.statuses) == {SendStatus.SENT}
        assert sink.connections == 4  # one per 8 messages, at most 4
        got = sink.wait_for(len(msgs))
        send(t, *(message(200 + i) for i in range(20)))  # the connections are kept
        assert len(sink.wait_for(len(msgs) + 20)) == len(msgs) + 20
        assert sink.connections == 4
    to_one = [m.data for m in got if m.rcpt_tos == ("viel@verein.example",)]
    expected = [f"{n:04x}.fachtag-2027".encode() for n in (99, *range(100, 106))]
    assert [next(e for e in expected if e in data) for data in to_one] == expected


def test_a_temporary_failure_on_one_connection_keeps_what_is_left_for_later(
        sink: CountingSink) -> None:
    sink.respond_with([421])
    with SmtpTransport(url(f"smtp+plain://{sink.host}:{sink.port}"), timeout=5,
                       local_hostname="mailbot.test", connections=2) as t:
        results = send(t, *(message(i) for i in range(24)))
    sent = results.statuses.count(SendStatus.SENT)
    retry = [r for _, r in results.calls if r.status == SendStatus.RETRY]
    assert len(results.calls) == 24 and sent + len(retry) == 24
    assert any(r.code == 421 for r in retry)
    assert sum("not tried after" in r.detail for r in retry) == len(retry) - 1 > 0
    assert len(sink.messages) == sent  # none is reported sent that the server did not take


@dataclass
class LimitedSink(CountingSink):
    """A server that takes two connections at a time and greets a third with 421, as
    providers do that limit the connections per client."""

    limit: int = 2
    open_now: int = 0

    def start(self) -> None:
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import SMTP

        sink = self

        class _Limited(SMTP):
            async def _handle_client(self) -> None:
                if sink.open_now >= sink.limit:
                    await self.push("421 4.7.0 Too many connections, try again later")
                    assert self.transport is not None
                    self.transport.close()
                    return
                sink.open_now += 1
                try:
                    await super()._handle_client()
                finally:
                    sink.open_now -= 1

        class _Controller(Controller):
            def factory(self) -> Any:
                sink.connections += 1
                return _Limited(self.handler, hostname=self.hostname)

        self.port = self.port or free_port()
        self._controller = _Controller(self, hostname=self.host, port=self.port,
                                       ready_timeout=10)
        self._controller.start()
        self.connections = 0


def test_a_server_that_allows_fewer_connections_gets_all_mail_over_those(
        caplog: pytest.LogCaptureFixture) -> None:
    with running(LimitedSink()) as sink, SmtpTransport(
            url(f"smtp+plain://{sink.host}:{sink.port}"), timeout=5,
            local_hostname="mailbot.test", connections=4) as t:
        first = send(t, *(message(i) for i in range(40)))
        assert set(first.statuses) == {SendStatus.SENT}
        assert "took only 2 connection(s) at once" in caplog.text
        assert t.max_connections == 2
        tried = sink.connections
        caplog.clear()
        assert set(send(t, *(message(100 + i) for i in range(40))).statuses) == {
            SendStatus.SENT}
        assert sink.connections == tried  # the two kept: no knocking again
        assert "took only" not in caplog.text
        assert len(sink.wait_for(80)) == 80


def test_one_connection_when_the_setting_says_so(sink: CountingSink) -> None:
    with SmtpTransport(url(f"smtp+plain://{sink.host}:{sink.port}"), timeout=5,
                       local_hostname="mailbot.test", connections=1) as t:
        assert set(send(t, *(message(i) for i in range(30))).statuses) == {SendStatus.SENT}
    assert sink.connections == 1


def test_delivered_messages_parse_back_with_headers_and_calendar(
        sink: CountingSink, transport: SmtpTransport) -> None:
    results = send(transport, message(7, to="Maria Muster <maria@verein.example>", ics=True))
    assert results.statuses == [SendStatus.SENT]
    assert results.calls[0][1].code == 250
    (got,) = sink.wait_for(1)
    assert got.mail_from == "anmeldung@mitgen.example"
    assert got.rcpt_tos == ("maria@verein.example",)
    msg = email.message_from_bytes(got.data, policy=policy.default)
    assert msg["Message-ID"] == "<0007.fachtag-2027.mailbot@mitgen.example>"
    assert msg["Auto-Submitted"] == "auto-replied" and msg[LOOP_HEADER].startswith("mailbot/1")
    assert msg["Subject"] == "Anmeldebestätigung: Fachtag „Geschlechtergleichstellung“"
    (cal_part,) = [p for p in msg.walk() if p.get_content_type() == "text/calendar"]
    data = cal_part.get_payload(decode=True)
    assert isinstance(data, bytes)
    ev = icalendar.Calendar.from_ical(data).walk("VEVENT")[0]
    assert str(ev["UID"]) == "fachtag-2027-r7@mitgen.example" and ev.decoded("SEQUENCE") == 2


def test_each_result_is_reported_as_soon_as_the_server_took_the_message(
        sink: CountingSink, transport: SmtpTransport) -> None:
    seen: list[int] = []
    transport.deliver([(i, message(i)) for i in range(3)],
                      lambda key, result: seen.append(len(sink.messages)))
    # When the caller hears about message i, the server already holds i+1 messages, not more.
    assert seen == [1, 2, 3]


def test_the_envelope_sender_can_be_set_apart_from_the_from_header(sink: CountingSink) -> None:
    with SmtpTransport(url(f"smtp+plain://{sink.host}:{sink.port}"), timeout=5,
                       envelope_from="bounces@mitgen.example",
                       local_hostname="mailbot.test") as t:
        send(t, message(1))
    assert sink.wait_for(1)[0].mail_from == "bounces@mitgen.example"


def test_open_transport_picks_smtp_for_smtp_urls(sink: CountingSink) -> None:
    t = open_transport(url(f"smtp+plain://{sink.host}:{sink.port}"), timeout=5)
    try:
        assert isinstance(t, SmtpTransport)
        assert send(t, message(1)).statuses == [SendStatus.SENT]
    finally:
        t.close()


def test_the_shared_smtp_sink_fixture_receives_our_mail(smtp_sink: SmtpSink) -> None:
    with SmtpTransport(url(smtp_sink.url), timeout=5, local_hostname="mailbot.test") as t:
        assert send(t, message(1), message(2)).statuses == [SendStatus.SENT] * 2
    assert len(smtp_sink.wait_for(2)) == 2


# ------------------------------------------------------------------------- temporary trouble


def test_421_and_451_are_retried_and_then_sent(sink: CountingSink,
                                               transport: SmtpTransport) -> None:
    sink.respond_with([421, 451])
    first = send(transport, message(1))
    assert first.statuses == [SendStatus.RETRY] and first.calls[0][1].code == 421
    second = send(transport, message(1))
    assert second.statuses == [SendStatus.RETRY] and second.calls[0][1].code == 451
    assert "451" in second.calls[0][1].detail
    third = send(transport, message(1))
    assert third.statuses == [SendStatus.SENT]
    assert len(sink.wait_for(1)) == 1
    # Every temporary failure gives up the connection: three batches, three connections.
    assert sink.connections == 3


def test_a_temporary_failure_keeps_the_rest_of_the_batch_for_later(
        sink: CountingSink, transport: SmtpTransport) -> None:
    sink.respond_with([250, 451])
    results = send(transport, *(message(i) for i in range(4)))
    assert results.statuses == [SendStatus.SENT, SendStatus.RETRY, SendStatus.RETRY,
                                SendStatus.RETRY]
    assert "not tried" in results.calls[2][1].detail
    assert len(sink.attempts) == 2


def test_a_server_that_is_down_means_retry_and_no_exception() -> None:
    port = free_port()
    with SmtpTransport(url(f"smtp+plain://127.0.0.1:{port}"), timeout=2,
                       local_hostname="mailbot.test") as t:
        results = send(t, message(1), message(2))
    assert results.statuses == [SendStatus.RETRY, SendStatus.RETRY]
    assert f"127.0.0.1:{port}" in results.calls[0][1].detail


def test_a_connection_the_server_dropped_is_replaced(sink: CountingSink,
                                                     transport: SmtpTransport) -> None:
    send(transport, message(1))
    sink.stop()
    sink.start()  # same port; the old connection is gone
    assert send(transport, message(2)).statuses == [SendStatus.SENT]
    assert sink.connections == 1  # counted since the restart


def test_a_server_that_does_not_answer_in_time_means_retry(tmp_path: Path) -> None:
    import socket

    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        started = time.monotonic()
        with SmtpTransport(url(f"smtp+plain://127.0.0.1:{port}"), timeout=0.5,
                           local_hostname="mailbot.test") as t:
            results = send(t, message(1))
    assert results.statuses == [SendStatus.RETRY]
    assert "within 0.5 s" in results.calls[0][1].detail
    assert time.monotonic() - started < 5


# ------------------------------------------------------------------------- permanent failures


def test_550_fails_that_message_and_the_batch_goes_on(sink: CountingSink,
                                                      transport: SmtpTransport) -> None:
    sink.respond_with([550])
    results = send(transport, message(1), message(2))
    assert results.statuses == [SendStatus.FAILED, SendStatus.SENT]
    failed = results.calls[0][1]
    assert failed.code == 550 and "Mailbox unavailable" in failed.detail
    assert sink.connections == 1


def test_a_refused_recipient_fails_only_that_message(sink: CountingSink,
                                                     transport: SmtpTransport) -> None:
    sink.reject_recipient("gone@verein.example", 550)
    results = send(transport, message(1, to="gone@verein.example"), message(2))
    assert results.statuses == [SendStatus.FAILED, SendStatus.SENT]
    assert "recipient refused: 550" in results.calls[0][1].detail


def test_a_recipient_greylisted_with_4xx_is_retried_without_stopping_the_batch(
        sink: CountingSink, transport: SmtpTransport) -> None:
    sink.reject_recipient("busy@verein.example", 450)
    results = send(transport, message(1, to="busy@verein.example"), message(2))
    assert results.statuses == [SendStatus.RETRY, SendStatus.SENT]


# ------------------------------------------------------------------------- TLS and login


def test_smtp_url_will_not_send_when_starttls_is_not_offered(sink: CountingSink) -> None:
    with SmtpTransport(url(f"smtp://{sink.host}:{sink.port}"), timeout=5,
                       local_hostname="mailbot.test") as t:
        results = send(t, message(1))
    assert results.statuses == [SendStatus.RETRY]
    assert "does not offer STARTTLS" in results.calls[0][1].detail
    assert sink.attempts == []


def test_starttls_is_used_and_the_certificate_checked(certificate: tuple[Path, Path]) -> None:
    with running(CountingSink(starttls_context=server_context(certificate))) as s:
        where = f"{s.host}:{s.port}"
        with SmtpTransport(url(f"smtp://{where}"), timeout=5, local_hostname="mailbot.test") as t:
            refused = send(t, message(1))
        assert refused.statuses == [SendStatus.RETRY]
        assert "certificate" in refused.calls[0][1].detail
        with SmtpTransport(url(f"smtp://{where}"), timeout=5, local_hostname="mailbot.test",
                           cert_bundle=str(certificate[0])) as t:
            assert send(t, message(2)).statuses == [SendStatus.SENT]
        with SmtpTransport(url(f"smtp+insecure://{where}"), timeout=5,
                           local_hostname="mailbot.test") as t:
            assert send(t, message(3)).statuses == [SendStatus.SENT]
        assert len(s.wait_for(2)) == 2


def test_smtps_speaks_tls_from_the_first_byte(certificate: tuple[Path, Path]) -> None:
    with running(CountingSink(implicit_context=server_context(certificate))) as s:
        with SmtpTransport(url(f"smtps://{s.host}:{s.port}"), timeout=5,
                           local_hostname="mailbot.test", cert_bundle=str(certificate[0])) as t:
            assert send(t, message(1), message(2)).statuses == [SendStatus.SENT] * 2
        assert len(s.wait_for(2)) == 2 and s.connections == 1


def test_it_logs_in_when_the_url_names_a_user(certificate: tuple[Path, Path]) -> None:
    with running(CountingSink(starttls_context=server_context(certificate))) as s:
        u = url(f"smtp+insecure://anmeldung%40mitgen.example:geheim@{s.host}:{s.port}")
        with SmtpTransport(u, timeout=5, local_hostname="mailbot.test") as t:
            assert send(t, message(1)).statuses == [SendStatus.SENT]
        assert s.logins == [("anmeldung@mitgen.example", "geheim")]


def test_a_closed_transport_refuses_more_work(transport: SmtpTransport) -> None:
    transport.close()
    transport.close()  # twice is fine
    with pytest.raises(RuntimeError):
        send(transport, message(1))


# ------------------------------------------------------------------------- pipelining (RFC 2920)


class ScriptedServer:
    """A bare SMTP server on loopback that offers PIPELINING, records each chunk it reads and
    answers each command line by `answer(line) -> reply or None` (None: the usual reply)."""

    def __init__(self, answer: Any = None, hang_up_after: str | None = None,
                 data_replies: list[str] | None = None) -> None:
        import socket
        import threading

        self.answer = answer or (lambda line: None)
        self.data_replies = list(data_replies or [])  # to the ends of data, in turn; then 250
        self.hang_up_after = hang_up_after
        self.chunks: list[bytes] = []
        self.messages: list[bytes] = []
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.port = self._sock.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            # a client may hang up with replies still to come (that is what a connection given
            # up with commands unanswered does): the next connection is served all the same
            with conn, contextlib.suppress(OSError):
                self._session(conn)

    def _session(self, conn: Any) -> None:
        conn.sendall(b"220 scripted ESMTP\r\n")
        buf, in_data, body = b"", False, b""
        while True:
            chunk = conn.recv(65536)
            if not chunk:
                return
            self.chunks.append(chunk)
            buf += chunk
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                if in_data:
                    if line.rstrip(b"\r") == b".":
                        in_data = False
                        self.messages.append(body)
                        end = self.data_replies.pop(0) if self.data_replies else "250 2.0.0 queued"
                        conn.sendall(end.encode() + b"\r\n")
                    else:
                        body += line + b"\n"
                    continue
                text = line.decode().rstrip("\r")
                verb = text.split(":")[0].split(" ")[0].upper()
                reply = self.answer(text)
                if reply is None:
                    reply = {"EHLO": "250-scripted\r\n250-PIPELINING\r\n250 8BITMIME",
                             "DATA": "354 go ahead", "QUIT": "221 bye"}.get(verb, "250 ok")
                if reply:  # "": no answer at all
                    conn.sendall(reply.encode() + b"\r\n")
                if verb == "DATA" and reply.startswith("354"):
                    in_data, body = True, b""
                if verb == "QUIT" or verb == self.hang_up_after:
                    return

    def close(self) -> None:
        self._sock.close()


@contextlib.contextmanager
def scripted(**kwargs: Any) -> Iterator[ScriptedServer]:
    server = ScriptedServer(**kwargs)
    try:
        yield server
    finally:
        server.close()


def plain(server: ScriptedServer) -> SmtpTransport:
    return SmtpTransport(url(f"smtp+plain://127.0.0.1:{server.port}"), timeout=5,
                         local_hostname="mailbot.test")


def test_with_pipelining_a_message_s_data_and_the_next_envelope_go_out_in_one_write() -> None:
    with scripted() as server, plain(server) as t:
        assert send(t, message(1), message(2), message(3)).statuses == [SendStatus.SENT] * 3
    together = [c for c in server.chunks if b"MAIL FROM:" in c]
    assert len(together) == 3
    assert together[0].startswith(b"MAIL FROM:<anmeldung@mitgen.example>\r\nRCPT TO:<person")
    assert all(c.endswith(b"\r\nDATA\r\n") for c in together)
    # the data of message 1 (2), its final dot, then the commands of message 2 (3)
    assert all(b"\r\n.\r\nMAIL FROM:<anmeldung@mitgen.example>\r\nRCPT TO:<person" in c
               for c in together[1:])
    assert len(server.messages) == 3 and b"Person 2" in server.messages[1].replace(b"=\r\n", b"")


def test_a_message_refused_after_its_data_leaves_the_next_one_pipelined_behind_it_alone() -> None:
    # the transaction ends with the reply to the data: no RSET, which would clear the next
    # message's envelope, already sent
    with scripted(data_replies=["554 5.7.1 content rejected"]) as server, plain(server) as t:
        results = send(t, message(1), message(2), message(3))
    assert results.statuses == [SendStatus.FAILED, SendStatus.SENT, SendStatus.SENT]
    assert "554 5.7.1 content rejected" in results.calls[0][1].detail
    assert b"RSET" not in b"".join(server.chunks) and len(server.messages) == 3


def test_a_451_after_the_data_closes_the_connection_whose_next_envelope_is_unanswered() -> None:
    with scripted(data_replies=["451 4.3.0 try later"]) as server, plain(server) as t:
        results = send(t, message(1), message(2))
        assert results.statuses == [SendStatus.RETRY, SendStatus.RETRY]
        assert "not tried after: 451 4.3.0 try later" in results.calls[1][1].detail
        assert t.connections == 1
        assert send(t, message(2)).statuses == [SendStatus.SENT]
        assert t.connections == 2  # a new connection: the old one was out of step
    assert len(server.messages) == 2  # message 1 (refused) and message 2 once


def test_pipelined_data_taken_though_every_recipient_was_refused_ends_empty() -> None:
    # RFC 2920: the client cannot know before DATA's reply; a lone dot ends that message
    with scripted(answer=lambda line: "550 5.1.1 no such user"
                  if line.startswith("RCPT TO:<person1@") else None) as server, \
            plain(server) as t:
        results = send(t, message(1), message(2))
    assert results.statuses == [SendStatus.FAILED, SendStatus.SENT]
    assert "recipient refused: 550 5.1.1 no such user" in results.calls[0][1].detail
    assert server.messages[0] == b""  # the empty one; the next message went on as usual
    assert b"RSET\r\n" in b"".join(server.chunks)


def test_a_421_to_a_pipelined_mail_from_is_retried_with_the_servers_reason() -> None:
    with scripted(answer=lambda line: "421 4.7.0 too busy, closing" if line.startswith(
            "MAIL") else None, hang_up_after="MAIL") as server, plain(server) as t:
        results = send(t, message(1), message(2))
    assert results.statuses == [SendStatus.RETRY, SendStatus.RETRY]
    assert results.calls[0][1].code == 421 and "too busy" in results.calls[0][1].detail
    assert "not tried after" in results.calls[1][1].detail


def test_a_pipelined_exchange_without_an_answer_in_time_closes_the_connection() -> None:
    with scripted(answer=lambda line: "" if line.startswith("RCPT") else None) as server, \
            SmtpTransport(url(f"smtp+plain://127.0.0.1:{server.port}"), timeout=0.5,
                          local_hostname="mailbot.test") as t:
        results = send(t, message(1))
        assert results.statuses == [SendStatus.RETRY]
        assert t.connections == 1
        # the next batch does not reuse a connection whose replies are out of step
        assert send(t, message(2)).statuses == [SendStatus.RETRY]
        assert t.connections == 2


@pytest.mark.parametrize("address", [
    "aylin.muster@integrationsrat-hildesheim.example", "a+tag@x.de", "o'neil@x.de", "a..b@x.de",
    "Name <a@b.de>", '"q q"@x.de', "ä@x.de", "", "a@b.de\r\nRCPT TO:<evil@x.de>"])
def test_an_envelope_address_is_quoted_as_aiosmtplib_quotes_it(address: str) -> None:
    from aiosmtplib.email import quote_address

    from mailbot.outbox.transport.smtp_pipeline import _quoted

    assert _quoted(address) == quote_address(address)
