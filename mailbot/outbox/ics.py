"""Calendar entries (.ics, iTIP REQUEST/CANCEL) for registrations, built with icalendar."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parseaddr

from icalendar import Calendar, Event, vCalAddress, vText

from mailbot.outbox.i18n import TO_BE_ANNOUNCED, lang_or_default

PRODID = "-//mailbot//mailbot 1//DE"


def _address(value: str, role: str | None = None) -> vCalAddress:
    name, addr = parseaddr(value)
    if "@" not in addr:
        raise ValueError(f"not an e-mail address: {value!r}")
    cal = vCalAddress(f"mailto:{addr}")
    if name:
        cal.params["CN"] = vText(" ".join(name.split()))
    if role:
        cal.params["ROLE"] = role
    return cal


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

    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", method)

    ev = Event()
    ev.add("uid", uid)
    # Calendars replace an entry with the same UID only when SEQUENCE grows: the apply stage
    # raises it for every venue or time change and for the cancellation.
    ev.add("sequence", int(str(ics.get("sequence") or 0)))
    ev.add("dtstamp", datetime.now(UTC).replace(microsecond=0))
    ev.add("dtstart", starts)
    ev.add("dtend", max(ends, starts))
    ev.add("summary", str(ics.get("summary") or ""))
    ev.add("location", location)
    if ics.get("description"):
        ev.add("description", str(ics["description"]))
    ev.add("status", "CANCELLED" if method == "CANCEL" else "CONFIRMED")
    ev.add("transp", "OPAQUE")
    ev.add("organizer", _address(organizer))
    person = _address(attendee, role="REQ-PARTICIPANT")
    person.params["PARTSTAT"] = "DECLINED" if method == "CANCEL" else "ACCEPTED"
    # No RSVP: calendar "Accepted:" replies would only land in the registration mailbox.
    person.params["RSVP"] = "FALSE"
    ev.add("attendee", person)
    cal.add_component(ev)
    return cal.to_ical()
