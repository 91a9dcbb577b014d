"""outbox.wire writes the message make_message composes, straight to bytes: the same headers and
parts once parsed, valid line lengths and encodings; what it does not take goes the general way."""

from __future__ import annotations

import email
from email import policy
from email.message import EmailMessage, Message
from typing import Any

import icalendar
import pytest
import time_machine

from mailbot.outbox.compose import make_message
from mailbot.outbox.ics import make_ics
from mailbot.outbox.wire import fast_message, message_bytes
from tests.test_compose import BERLIN, EVENT, FROM, ICS, outgoing

CASES: list[dict[str, Any]] = [
    {},
    {"ics": ICS},
    {"ics": {**ICS, "method": "CANCEL", "sequence": 2}},
    {"language": "en", "ics": ICS},
    {"reply_to": "Koordination <koord@mitgen.example>"},
    {"in_reply_to": None, "references": ()},
    {"context": {"name": "Jörg Müller-Lüdenscheidt von und zu Hohenstein", "event": EVENT,
                 "original_subject": "Anmeldung für den sehr langen Betreff mit Umlauten äöü"
                                     " und noch viel mehr Text, damit er gefaltet wird"}},
    {"context": {"name": 'Dr. "Q" Smith, PhD', "event": EVENT, "original_subject": "=?x?="}},
    {"attachments": (("teilnehmende.csv", "text/csv", "a;b\nä;ö\n".encode()),)},
    {"attachments": (("liste.xlsx", "application/vnd.openxmlformats-officedocument"
                      ".spreadsheetml.sheet", bytes(range(256)) * 3),)},
]


def _parts(msg: Message) -> list[tuple[Any, ...]]:
    out: list[tuple[Any, ...]] = []
    for p in msg.walk():
        if p.is_multipart():
            out.append((p.get_content_type(),))
        else:
            out.append((p.get_content_type(), p.get_param("charset"), p.get_param("method"),
                        p.get_filename(), p.get_payload(decode=True)))
    return out


def _parsed(data: bytes) -> EmailMessage:
    msg = email.message_from_bytes(data, policy=policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


@pytest.mark.parametrize("case", CASES, ids=range(len(CASES)))
def test_the_written_message_reads_as_the_composed_one(case: dict[str, Any]) -> None:
    with time_machine.travel("2027-01-10 10:00:00+00:00", tick=False):
        composed = _parsed(make_message(outgoing(**case), FROM, BERLIN).as_bytes())
        data = message_bytes(outgoing(**case), FROM, BERLIN)
    assert data is not None
    written = _parsed(data)
    assert [(k, str(v)) for k, v in written.items() if k != "Content-Type"] == [
        (k, str(v)) for k, v in composed.items() if k != "Content-Type"]
    assert _parts(written) == _parts(composed)
    assert not written.defects and all(not p.defects for p in written.walk())
    lines = data.split(b"\r\n")
    assert max(len(line) for line in lines) <= 998  # a long MIME type alone passes 78
    assert max(len(line) for line in lines if not line.startswith(b"Content-Type:")) <= 78
    assert data.isascii() and b"\n" not in data.replace(b"\r\n", b"")


def test_the_fast_message_knows_its_envelope_and_headers() -> None:
    msg = fast_message(outgoing(context={"name": "Jörg Weiß", "event": EVENT}), FROM, BERLIN)
    assert msg is not None
    assert msg.envelope == ("anmeldung@mitgen.example", ["maria@verein.example"])
    assert str(msg["To"]) == "Jörg Weiß <maria@verein.example>"
    assert msg["Message-ID"] == "<1f2e3d4c5b6a.werkstatt-2027.mailbot@mitgen.example>"
    assert msg.as_bytes(policy=msg.policy) == msg.flat


@pytest.mark.parametrize("case", [
    {"to": "joerg@bücher.example"},  # SMTPUTF8: the transport's general way
    {"attachments": (("Teilnehmende äöü.csv", "text/csv", b"x"),)},  # RFC 2231 name
    {"context": {"name": "Ä" * 40, "event": EVENT}},  # a name longer than one encoded word
])
def test_what_it_does_not_take_goes_the_general_way(case: dict[str, Any]) -> None:
    assert message_bytes(outgoing(**case), FROM, BERLIN) is None
    make_message(outgoing(**case), FROM, BERLIN)  # which takes it


def test_the_calendar_entry_escapes_and_folds_its_text() -> None:
    ics = {**ICS, "location": "Pavillon, Lister Meile 4; Raum\\2\nHof",
           "description": "ö" * 80 + "\\" + "a,b" * 30}
    data = make_ics(ics, 'Org "Team" <o@mitgen.example>', "Ä^B <q@verein.example>")
    assert all(len(line) <= 75 for line in data.split(b"\r\n"))
    event = icalendar.Calendar.from_ical(data).walk("VEVENT")[0]
    assert str(event["LOCATION"]) == "Pavillon, Lister Meile 4; Raum\\2\nHof"
    assert str(event["DESCRIPTION"]) == ics["description"]
    assert event["ORGANIZER"].params["CN"] == "Org Team"
    assert event["ATTENDEE"].params["CN"] == "Ä^B"
    assert str(event["ATTENDEE"]) == "mailto:q@verein.example"


@pytest.mark.parametrize("shift", range(8))
def test_a_folded_calendar_line_never_cuts_a_character_or_an_escape(shift: int) -> None:
    # the shift moves every 75-octet boundary across 2-, 3- and 4-octet characters and escapes
    text = "a" * shift + ("ö€😀\\" + "b;c," * 3) * 30
    data = make_ics({**ICS, "description": text}, "Org <o@mitgen.example>",
                    "Q <q@verein.example>")
    lines = data.split(b"\r\n")
    assert all(len(line) <= 75 for line in lines)
    for line in lines:
        line.decode("utf-8")  # whole characters on every line
    folded = [a for a, b in zip(lines, lines[1:], strict=False) if b.startswith(b" ")]
    assert not any(a.endswith(b"\\") for a in folded)
    event = icalendar.Calendar.from_ical(data).walk("VEVENT")[0]
    assert str(event["DESCRIPTION"]) == text
