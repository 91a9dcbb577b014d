"""Dates, times and small phrases in German and English, without a locale database."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

LANGUAGES = ("de", "en")

_MONTHS = {
    "de": ("Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September",
           "Oktober", "November", "Dezember"),
    "en": ("January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December"),
}
_WEEKDAYS = {
    "de": ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}
TO_BE_ANNOUNCED = {"de": "Ort wird noch bekannt gegeben", "en": "venue to be announced"}
_AND = {"de": "und", "en": "and"}
_SEATS = {"de": ("Platz", "Plätze"), "en": ("seat", "seats")}


def lang_or_default(lang: str | None) -> str:
    return lang if lang in LANGUAGES else "de"


def local(value: str | datetime, tz: ZoneInfo) -> datetime:
    """An ISO 8601 string or aware datetime, in the configured time zone."""
    dt = datetime.fromisoformat(value) if isinstance(value, str) else value
    if dt.tzinfo is None:
        # A naive value can only come from a bug upstream; reading it as local time is the
        # least surprising choice for a mail text.
        dt = dt.replace(tzinfo=tz)
    return dt.astimezone(tz)


def format_date(dt: datetime, lang: str) -> str:
    """"Donnerstag, 25. Februar 2027" / "Thursday, 25 February 2027"."""
    lang = lang_or_default(lang)
    weekday, month = _WEEKDAYS[lang][dt.weekday()], _MONTHS[lang][dt.month - 1]
    if lang == "de":
        return f"{weekday}, {dt.day}. {month} {dt.year}"
    return f"{weekday}, {dt.day} {month} {dt.year}"


def format_time(dt: datetime, lang: str, *, suffix: bool = True) -> str:
    """"14:00 Uhr" / "2:00 pm"; `suffix=False` leaves out "Uhr" (for "14:00 bis 17:00 Uhr")."""
    if lang_or_default(lang) == "de":
        return f"{dt:%H:%M}" + (" Uhr" if suffix else "")
    hour = dt.hour % 12 or 12
    return f"{hour}:{dt:%M} {'am' if dt.hour < 12 else 'pm'}"


def format_datetime(dt: datetime, lang: str) -> str:
    """"Donnerstag, 25. Februar 2027, 14:00 Uhr" / "Thursday, 25 February 2027, 2:00 pm"."""
    return f"{format_date(dt, lang)}, {format_time(dt, lang)}"


def format_span(starts: datetime, ends: datetime | None, lang: str) -> str:
    """When an event takes place, with times: one day or several."""
    lang = lang_or_default(lang)
    if ends is None or ends <= starts:
        return format_datetime(starts, lang)
    to = "bis" if lang == "de" else "to"
    if starts.date() == ends.date():
        return (f"{format_date(starts, lang)}, {format_time(starts, lang, suffix=False)} {to} "
                f"{format_time(ends, lang)}")
    return f"{format_datetime(starts, lang)}, {to} {format_datetime(ends, lang)}"


def format_dates(starts: datetime, ends: datetime | None, lang: str) -> str:
    """Just the days, short: "25. Februar 2027", "6.–7. Mai 2027", "6–7 May 2027"."""
    lang = lang_or_default(lang)
    months = _MONTHS[lang]
    dot = "." if lang == "de" else ""
    end = f"{months[starts.month - 1]} {starts.year}"
    if ends is None or ends.date() <= starts.date():
        return f"{starts.day}{dot} {end}"
    last = f"{ends.day}{dot} {months[ends.month - 1]} {ends.year}"
    if (starts.year, starts.month) == (ends.year, ends.month):
        return f"{starts.day}{dot}–{last}"
    if starts.year == ends.year:
        return f"{starts.day}{dot} {months[starts.month - 1]} – {last}"
    return f"{starts.day}{dot} {end} – {last}"


def seats(n: int, lang: str) -> str:
    """"1 Platz" / "3 Plätze" / "1 seat"."""
    one, many = _SEATS[lang_or_default(lang)]
    return f"{n} {one if n == 1 else many}"


def join_names(names: Sequence[str], lang: str) -> str:
    """"A", "A und B", "A, B und C"."""
    items = [str(n) for n in names if n]
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {_AND[lang_or_default(lang)]} {items[-1]}"


def place(event: Mapping[str, object], lang: str) -> str:
    """The venue, or the city with a note that the venue will follow."""
    venue = str(event.get("venue") or "").strip()
    if venue:
        return venue
    city = str(event.get("city") or "").strip()
    tba = TO_BE_ANNOUNCED[lang_or_default(lang)]
    return f"{city} ({tba})" if city else tba
