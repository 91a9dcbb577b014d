"""make_message: headers, structure, calendar part, and no way to inject headers."""

from __future__ import annotations

import email
from email import policy
from email.message import EmailMessage
from email.utils import getaddresses, parsedate_to_datetime
from zoneinfo import ZoneInfo

import icalendar
import pytest
import time_machine

from mailbot.outbox.compose import loop_value, make_message, reply_subject
from mailbot.outbox.ics import make_ics
from mailbot.types import LOOP_HEADER, OutgoingMail

BERLIN = ZoneInfo("Europe/Berlin")
FROM = "MitGeN Anmeldung <anmeldung@mitgen.example>"
EVENT = {
    "slug": "werkstatt-2027", "title": "Werkstattgespräch „Vernetzt in Niedersachsen 2027“",
    "starts": "2027-02-25T14:00:00+01:00", "ends": "2027-02-25T17:00:00+01:00",
    "city": "Hannover", "venue": "", "language": "de",
}
ICS = {
    "uid": "werkstatt-2027-r17@mitgen.example", "sequence": 0, "method": "REQUEST",
    "summary": EVENT["title"], "starts": EVENT["starts"], "ends": EVENT["ends"],
    "location": "", "description": "Angemeldet: 2 Plätze. Abmeldung: Antwort mit „Abmeldung“.",
}


def outgoing(**kw: object) -> OutgoingMail:
    base: dict[str, object] = dict(
        template="confirmation", language="de", to="maria@verein.example",
        context={"name": "Maria Muster", "event": EVENT, "seats": 2, "waiting_seats": 0,
                 "position": None, "attendees": ["Maria Muster", "Hans Beispiel"],
                 "original_subject": "Anmeldung Werkstattgespräch", "organization": None},
        message_id="1f2e3d4c5b6a.werkstatt-2027.mailbot@mitgen.example",
        in_reply_to="CAF=abc123@mail.verein.example",
        references=("older@mail.verein.example",),
    )
    base.update(kw)
    return OutgoingMail(**base)  # type: ignore[arg-type]


def reparsed(msg: EmailMessage) -> EmailMessage:
    parsed = email.message_from_bytes(msg.as_bytes(), policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def calendar_of(msg: EmailMessage) -> tuple[EmailMessage, icalendar.Calendar]:
    parts = [p for p in msg.walk() if p.get_content_type() == "text/calendar"]
    assert len(parts) == 1
    data = parts[0].get_payload(decode=True)
    assert isinstance(data, bytes)
    return parts[0], icalendar.Calendar.from_ical(data)


@time_machine.travel("2027-02-01T09:30:00+01:00", tick=False)
def test_an_answer_carries_all_the_headers_a_mail_client_and_mailbot_need() -> None:
    msg = reparsed(make_message(outgoing(reply_to="koordination@mitgen.example"), FROM, BERLIN))
    assert msg["From"].addresses[0].display_name == "MitGeN Anmeldung"
    assert msg["From"].addresses[0].addr_spec == "anmeldung@mitgen.example"
    assert getaddresses([str(msg["To"])]) == [("Maria Muster", "maria@verein.example")]
    assert msg["Subject"] == "Re: Anmeldung Werkstattgespräch"
    assert parsedate_to_datetime(msg["Date"]).isoformat() == "2027-02-01T09:30:00+01:00"
    assert msg["Message-ID"] == "<1f2e3d4c5b6a.werkstatt-2027.mailbot@mitgen.example>"
    assert msg["In-Reply-To"] == "<CAF=abc123@mail.verein.example>"
    assert msg["References"] == "<older@mail.verein.example> <CAF=abc123@mail.verein.example>"
    assert msg["Reply-To"] == "koordination@mitgen.example"
    assert msg["Auto-Submitted"] == "auto-replied"
    assert msg["X-Auto-Response-Suppress"] == "All"
    assert msg[LOOP_HEADER] == loop_value("1f2e3d4c5b6a.werkstatt-2027.mailbot@mitgen.example")
    assert msg[LOOP_HEADER].startswith("mailbot/1 ")
    assert msg["Content-Language"] == "de"


def test_the_body_is_text_and_html_alternatives() -> None:
    msg = reparsed(make_message(outgoing(), FROM, BERLIN))
    assert msg.get_content_type() == "multipart/alternative"
    text = msg.get_body(("plain",))
    html = msg.get_body(("html",))
    assert text is not None and html is not None
    assert "Donnerstag, 25. Februar 2027, 14:00 bis 17:00 Uhr" in text.get_content()
    assert "Ort wird noch bekannt gegeben" in html.get_content()


def test_a_notice_nobody_asked_for_gets_the_template_subject() -> None:
    mail = outgoing(template="reminder", in_reply_to=None, references=(),
                    auto_submitted="auto-generated")
    msg = reparsed(make_message(mail, FROM, BERLIN))
    assert msg["Subject"] == "Erinnerung: Werkstattgespräch „Vernetzt in Niedersachsen 2027“ " \
        "am 25. Februar 2027"
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg["In-Reply-To"] is None and msg["References"] is None


def test_an_answer_to_an_empty_subject_uses_the_template_subject() -> None:
    ctx = {**outgoing().context, "original_subject": ""}
    msg = make_message(outgoing(context=ctx), FROM, BERLIN)
    assert str(msg["Subject"]).startswith("Anmeldebestätigung:")


def test_reply_prefixes_do_not_pile_up() -> None:
    assert reply_subject("AW: Re: Anmeldung") == "Re: Anmeldung"
    assert reply_subject("WG: Einladung") == "Re: WG: Einladung"


def test_english_mail_says_so_and_an_unknown_language_becomes_german() -> None:
    assert make_message(outgoing(language="en"), FROM, BERLIN)["Content-Language"] == "en"
    assert make_message(outgoing(language="tr"), FROM, BERLIN)["Content-Language"] == "de"


def test_the_whole_message_is_7bit_so_any_relay_takes_it() -> None:
    raw = make_message(outgoing(ics=ICS), FROM, BERLIN).as_bytes()
    raw.decode("ascii")
    assert max(len(line) for line in raw.split(b"\r\n")) <= 998


def test_a_calendar_invitation_is_attached_with_uid_sequence_and_method() -> None:
    msg = reparsed(make_message(outgoing(ics={**ICS, "sequence": 3}), FROM, BERLIN))
    assert msg.get_content_type() == "multipart/mixed"
    part, cal = calendar_of(msg)
    assert part.get_param("method") == "REQUEST" and part.get_content_charset() == "utf-8"
    assert part.get_filename() == "invite.ics"
    assert str(cal["METHOD"]) == "REQUEST"
    ev = cal.walk("VEVENT")[0]
    assert str(ev["UID"]) == "werkstatt-2027-r17@mitgen.example"
    assert ev.decoded("SEQUENCE") == 3
    assert ev.decoded("DTSTART").isoformat() == "2027-02-25T13:00:00+00:00"
    assert ev.decoded("DTEND").isoformat() == "2027-02-25T16:00:00+00:00"
    assert str(ev["LOCATION"]) == "Hannover (Ort wird noch bekannt gegeben)"
    assert str(ev["STATUS"]) == "CONFIRMED"
    assert str(ev["SUMMARY"]) == EVENT["title"]
    assert str(ev["ORGANIZER"]) == "mailto:anmeldung@mitgen.example"
    assert str(ev["ATTENDEE"]) == "mailto:maria@verein.example"
    assert ev["ATTENDEE"].params["CN"] == "Maria Muster"
    assert "DTSTAMP" in ev and "Abmeldung" in str(ev["DESCRIPTION"])


def test_a_cancellation_cancels_the_calendar_entry() -> None:
    msg = make_message(outgoing(template="cancelled", ics={**ICS, "method": "CANCEL",
                                                           "sequence": 4},
                                context={**outgoing().context, "cancelled_seats": 2,
                                         "remaining_seats": 0}), FROM, BERLIN)
    part, cal = calendar_of(reparsed(msg))
    assert part.get_param("method") == "CANCEL"
    ev = cal.walk("VEVENT")[0]
    assert (str(cal["METHOD"]), str(ev["STATUS"]), ev.decoded("SEQUENCE")) == (
        "CANCEL", "CANCELLED", 4)


def test_a_known_venue_goes_into_the_calendar_location() -> None:
    data = make_ics({**ICS, "location": "Kulturzentrum Pavillon, Lister Meile 4"}, FROM,
                    "maria@verein.example")
    ev = icalendar.Calendar.from_ical(data).walk("VEVENT")[0]
    assert str(ev["LOCATION"]) == "Kulturzentrum Pavillon, Lister Meile 4"


def test_english_calendar_entries_say_venue_to_be_announced() -> None:
    _, cal = calendar_of(reparsed(make_message(outgoing(language="en", ics=ICS), FROM, BERLIN)))
    assert str(cal.walk("VEVENT")[0]["LOCATION"]) == "Hannover (venue to be announced)"


def test_other_attachments_are_attached_as_given() -> None:
    csv = "Name;E-Mail\nMaria Müller;maria@verein.example\n".encode()
    msg = reparsed(make_message(outgoing(attachments=(("teilnehmende.csv", "text/csv", csv),)),
                                FROM, BERLIN))
    (att,) = list(msg.iter_attachments())
    assert att.get_filename() == "teilnehmende.csv" and att.get_content_type() == "text/csv"
    assert att.get_payload(decode=True) == csv


def test_a_name_with_a_line_break_cannot_inject_a_header() -> None:
    ctx = {**outgoing().context, "name": "Maria\r\nBcc: victim@evil.example",
           "original_subject": "Anmeldung\r\nBcc: victim@evil.example\r\n\r\nbody"}
    raw = make_message(outgoing(context=ctx), FROM, BERLIN).as_bytes()
    header_block = raw.split(b"\r\n\r\n", 1)[0]
    msg = reparsed(make_message(outgoing(context=ctx), FROM, BERLIN))
    assert msg["Bcc"] is None
    assert b"\nBcc:" not in header_block
    assert [a for _, a in getaddresses([str(msg["To"])])] == ["maria@verein.example"]
    assert msg["Subject"] == "Re: Anmeldung Bcc: victim@evil.example body"


@pytest.mark.parametrize("field", ["to", "reply_to"])
def test_an_address_with_a_line_break_is_refused(field: str) -> None:
    with pytest.raises(ValueError, match="line break"):
        make_message(outgoing(**{field: "maria@verein.example\r\nBcc: victim@evil.example"}),
                     FROM, BERLIN)


def test_a_broken_in_reply_to_is_left_out_rather_than_copied() -> None:
    msg = make_message(outgoing(in_reply_to="<not an id>\r\nBcc: x@y.example",
                                references=("<ok@host.example>", "junk")), FROM, BERLIN)
    assert msg["In-Reply-To"] is None
    assert msg["References"] == "<ok@host.example>"


def test_a_bad_own_message_id_is_a_bug_and_raises() -> None:
    with pytest.raises(ValueError):
        make_message(outgoing(message_id="no at sign"), FROM, BERLIN)


@pytest.mark.parametrize("value", [
    "ana.lima@verein-a.example", "x+tag@sub.b-c.example", "O'Neil@b.example", "a@b",
    "Ana Lima <ana@verein.example>", '"Lima, Ana" <ana@verein.example>', "a..b@c.example",
    ".a@b.example", "a@b_c.example", '"x y"@b.example', "jörg@b.example", "a@[1.2.3.4]",
])
@pytest.mark.parametrize("shown", ["", "Ana Lima", "Jörg Müller"])
def test_an_address_is_the_same_whether_read_the_short_way_or_by_the_parser(
        value: str, shown: str) -> None:
    """A bare dot-atom address is taken as written; anything else goes through the standard
    library's parser. Both give the same Address (and the same header text)."""
    from email.headerregistry import Address
    from email.utils import parseaddr

    from mailbot.outbox.headers import one_line, parse_address

    name, addr = parseaddr(value)
    try:
        slow = Address(display_name=one_line(name or shown), addr_spec=addr)
    except Exception:
        with pytest.raises(Exception):  # noqa: B017 - refused as the parser refuses it
            parse_address(value, shown)
        return
    fast = parse_address(value, shown)
    assert (fast.display_name, fast.username, fast.domain, fast.addr_spec, str(fast)) == \
        (slow.display_name, slow.username, slow.domain, slow.addr_spec, str(slow))
