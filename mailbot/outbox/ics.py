"""Calendar entries (.ics, iTIP REQUEST/CANCEL) for registrations."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parseaddr

from mailbot.outbox.i18n import TO_BE_ANNOUNCED, lang_or_default

PRODID = "-//mailbot//mailbot 1//DE"


@functools.lru_cache(maxsize=4096)
def _address(value: str) -> tuple[str, str]:
    """(CN, mailto: URI) of an address (remembered: the organiser is in every entry)."""
    name, addr = parseaddr(value)
    if "@" not in addr:
        raise ValueError(f"not an e-mail address: {value!r}")
    return " ".join(name.split()), f"mailto:{addr}"


def _text(value: str) -> str:
    """An RFC 5545 TEXT value: backslash, semicolon, comma and line breaks escaped."""
    return (value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n"))


def _param(value: str) -> str:
    """A quoted parameter value (a double quote cannot be escaped: it becomes a single one;
    RFC 6868 for ^ and line breaks)."""
    value = value.replace("^", "^^").replace("\n", "^n").replace('"', "'")
    return f'"{value}"'


def _fold(line: str) -> str:
    """RFC 5545 3.1: lines of at most 75 octets, continued after CRLF and a space; never
    inside a character, nor right after a backslash (some clients misread a split escape)."""
    if len(line) < 75 and line.isascii():
        return line
    data = line.encode("utf-8")
    if len(data) < 75:
        return line
    out, pos = [], 0
    while len(data) - pos >= 75:
        end = pos + 74
        while data[end] & 0xC0 == 0x80:  # a continuation byte: the cut goes before its character
            end -= 1
        if data[end - 1] == 0x5C:  # a backslash goes on with what it escapes
            end -= 1
        out.append(data[pos:end].decode("utf-8"))
        pos = end
    out.append(data[pos:].decode("utf-8"))
    return "\r\n ".join(out)


def _stamp(dt: datetime) -> str:
    return dt.strftime("%Y%m%dT%H%M%SZ")


def _when(value: object, key: str) -> datetime:
    dt = datetime.fromisoformat(value) if isinstance(value, str) else value
    if not isinstance(dt, datetime) or dt.tzinfo is None:
        raise ValueError(f"ics {key}: {value!r} is not an ISO 8601 date-time with offset")
    return dt.astimezone(UTC)


def make_ics(ics: Mapping[str, object], organizer: str, attendee: str,
             language: str = "de") -> bytes:
    """One VEVENT in a VCALENDAR with METHOD REQUEST or CANCEL.

    `ics` holds uid, sequence, method, summary, starts, ends, location, description; an empty
    location becomes the city (optional key `city`) plus "Ort wird noch bekannt gegeben".
    """
    method = str(ics.get("method") or "REQUEST").upper()
    if method not in ("REQUEST", "CANCEL"):
        raise ValueError(f"ics method {method!r} (use REQUEST or CANCEL)")
    uid = str(ics["uid"])
    starts = _when(ics["starts"], "starts")
    ends = _when(ics.get("ends") or ics["starts"], "ends")
    location = str(ics.get("location") or "").strip()
    if not location:
        tba = TO_BE_ANNOUNCED[lang_or_default(str(ics.get("language") or language))]
        city = str(ics.get("city") or "").strip()
        location = f"{city} ({tba})" if city else tba

    # Written directly (RFC 5545): building it with icalendar's objects cost more than
    # rendering the rest of the mail. tests/test_compose.py reads it back with icalendar.
    org_name, org_uri = _address(organizer)
    att_name, att_uri = _address(attendee)
    org = f"ORGANIZER;CN={_param(org_name)}:{org_uri}" if org_name else f"ORGANIZER:{org_uri}"
    # No RSVP: calendar "Accepted:" replies would only land in the registration mailbox.
    att = (f"ATTENDEE{';CN=' + _param(att_name) if att_name else ''}"
           f";PARTSTAT={'DECLINED' if method == 'CANCEL' else 'ACCEPTED'}"
           f";ROLE=REQ-PARTICIPANT;RSVP=FALSE:{att_uri}")
    lines = [
        "BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{PRODID}", "CALSCALE:GREGORIAN",
        f"METHOD:{method}", "BEGIN:VEVENT",
        f"SUMMARY:{_text(str(ics.get('summary') or ''))}",
        f"DTSTART:{_stamp(starts)}", f"DTEND:{_stamp(max(ends, starts))}",
        f"DTSTAMP:{_stamp(datetime.now(UTC))}", f"UID:{_text(uid)}",
        # Calendars replace an entry with the same UID only when SEQUENCE grows: the apply
        # stage raises it for every venue or time change and for the cancellation.
        f"SEQUENCE:{int(str(ics.get('sequence') or 0))}", att]
    if ics.get("description"):
        lines.append(f"DESCRIPTION:{_text(str(ics['description']))}")
    lines += [f"LOCATION:{_text(location)}", org,
              f"STATUS:{'CANCELLED' if method == 'CANCEL' else 'CONFIRMED'}", "TRANSP:OPAQUE",
              "END:VEVENT", "END:VCALENDAR", ""]
    return "\r\n".join(_fold(line) for line in lines).encode("utf-8")
