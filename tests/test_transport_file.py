"""FileTransport: one .eml per message, written atomically, always reported as sent."""

from __future__ import annotations

import email
from email import policy
from pathlib import Path
from zoneinfo import ZoneInfo

from mailbot.config import parse_server_url
from mailbot.outbox.compose import make_message
from mailbot.outbox.transport import SendResult, open_transport
from mailbot.outbox.transport.file import FileTransport
from mailbot.types import OutgoingMail, SendStatus

BERLIN = ZoneInfo("Europe/Berlin")
EVENT = {"slug": "werkstatt-2027", "title": "Werkstattgespräch", "city": "Hannover", "venue": "",
         "starts": "2027-02-25T14:00:00+01:00", "ends": "2027-02-25T17:00:00+01:00"}


def message(n: int):
    mail = OutgoingMail(template="confirmation", language="de", to=f"p{n}@verein.example",
                        context={"name": "", "event": EVENT, "seats": 1},
                        message_id=f"{n:04x}.werkstatt-2027.mailbot@mitgen.example")
    return make_message(mail, "Anmeldung <anmeldung@mitgen.example>", BERLIN)


def test_each_message_becomes_one_eml_file_named_by_time_and_id(tmp_path: Path) -> None:
    out = tmp_path / "outbox"  # created on first use
    results: list[tuple[int, SendResult]] = []
    FileTransport(out).deliver([(1, message(1)), (2, message(2))],
                               lambda k, r: results.append((k, r)))
    files = sorted(out.iterdir())
    assert [p.name.split("-", 1)[1] for p in files] == [
        "0001.werkstatt-2027.mailbot@mitgen.example.eml",
        "0002.werkstatt-2027.mailbot@mitgen.example.eml"]
    assert [k for k, _ in results] == [1, 2]
    assert all(r.status is SendStatus.SENT for _, r in results)
    assert results[0][1].detail == str(files[0])


def test_the_files_parse_back_as_the_message_and_no_temporary_file_is_left(tmp_path: Path) -> None:
    FileTransport(tmp_path).deliver([(1, message(1))], lambda k, r: None)
    (path,) = list(tmp_path.iterdir())
    assert not path.name.startswith(".")
    msg = email.message_from_bytes(path.read_bytes(), policy=policy.default)
    assert msg["To"] == "p1@verein.example"
    body = msg.get_body(("plain",))
    assert body is not None and "Ort wird noch bekannt gegeben" in body.get_content()


def test_a_directory_that_cannot_be_written_means_retry(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    results: list[SendResult] = []
    FileTransport(blocker / "sub").deliver([(1, message(1))], lambda k, r: results.append(r))
    assert [r.status for r in results] == [SendStatus.RETRY]
    assert "cannot write" in results[0].detail


def test_open_transport_picks_files_for_a_file_url(tmp_path: Path) -> None:
    u = parse_server_url(f"file://{tmp_path}", {}, "MAILBOT_SMTP_URL", ("file",))
    t = open_transport(u)
    assert isinstance(t, FileTransport) and t.directory == tmp_path
    t.close()
