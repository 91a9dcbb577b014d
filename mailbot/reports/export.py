"""Participant lists: one row per attendee, as CSV for German Excel/LibreOffice, XLSX or JSON."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailbot.models import Event, Registration, RegState
from mailbot.registrations.seats import waiting_list

COLUMNS = ("registration", "name", "email", "organization", "seats", "state", "registered_at",
           "waiting_position", "registered_by", "notes")

HEADERS = {
    "de": ("Anmeldung Nr.", "Name", "E-Mail", "Organisation", "Plätze", "Status",
           "Angemeldet am", "Wartelistenplatz", "Angemeldet durch", "Hinweise / Frage"),
    "en": ("Registration no.", "Name", "E-mail", "Organisation", "Seats", "State",
           "Registered at", "Waiting position", "Registered by", "Notes / question"),
}

STATE_LABELS = {
    "de": {RegState.REGISTERED: "angemeldet", RegState.WAITING: "Warteliste",
           RegState.OFFERED: "Platz angeboten", RegState.CANCELLED: "abgesagt"},
    "en": {RegState.REGISTERED: "registered", RegState.WAITING: "waiting list",
           RegState.OFFERED: "seat offered", RegState.CANCELLED: "cancelled"},
}

DATE_FORMATS = {"de": ("%d.%m.%Y %H:%M", "DD.MM.YYYY HH:MM"),
                "en": ("%Y-%m-%d %H:%M", "YYYY-MM-DD HH:MM")}

# Order of the list: who comes first, then the waiting list in its order, then who cancelled.
_GROUP = {RegState.REGISTERED: 0, RegState.OFFERED: 1, RegState.WAITING: 2, RegState.CANCELLED: 3}

# A cell starting with one of these is run as a formula by spreadsheet programs: names come
# from strangers' mails, so such text is defused (OWASP "CSV injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Row:
    """One attendee. `seats` is set on the first row of a registration only, so a sum counts
    every seat once; further attendees of the same registration have no address of their own."""

    registration: int
    name: str
    email: str
    organization: str
    seats: int | None
    state: RegState
    registered_at: datetime
    waiting_position: int | None
    registered_by: str
    notes: str

    def as_json(self, tz: ZoneInfo) -> dict[str, Any]:
        return {"registration": self.registration, "name": self.name, "email": self.email,
                "organization": self.organization, "seats": self.seats,
                "state": self.state.value,
                "registered_at": self.registered_at.astimezone(tz).isoformat(timespec="seconds"),
                "waiting_position": self.waiting_position, "registered_by": self.registered_by,
                "notes": self.notes}


def lang_of(event: Event) -> str:
    return event.language if event.language in HEADERS else "de"


def _attends(reg: Registration, names: list[str]) -> bool:
    """Whether the registration's person is one of its attendees: register puts their name
    first when they come; no names at all means the person registered only themselves."""
    return not names or names[0].casefold().strip() == (reg.person.name or "").casefold().strip()


def registration_rows(reg: Registration, position: int | None) -> list[Row]:
    """Split one registration into one row per attendee (unnamed seats get an empty name)."""
    names = [str(n).strip() for n in reg.attendees or [] if str(n).strip()]
    person = reg.person
    attends = _attends(reg, names)
    if attends:
        people = [(names[0] if names else person.name, person.email), *((n, "") for n in names[1:])]
        contact = reg.registered_by or ""
    else:
        people = [(n, "") for n in names]
        contact = person.email if not person.name else f"{person.name} <{person.email}>"
    total = reg.seats + reg.waiting_seats
    while len(people) < max(total, 1):
        people.append(("", ""))
    notes = []
    if reg.has_question and reg.question:
        notes.append(" ".join(reg.question.split()))
    org = reg.organization or person.organization or ""
    rows = []
    for i, (name, email) in enumerate(people):
        if reg.state == RegState.CANCELLED:
            state = RegState.CANCELLED
        elif i < reg.seats:
            state = reg.state  # registered, or offered while the offer runs
        else:
            state = RegState.WAITING
        rows.append(Row(
            registration=reg.id, name=name, email=email, organization=org,
            seats=total if i == 0 else None, state=state, registered_at=reg.created_at,
            waiting_position=position if state == RegState.WAITING else None,
            registered_by=contact, notes="; ".join(notes) if i == 0 else ""))
    return rows


def event_rows(s: Session, event: Event) -> list[Row]:
    """Every attendee of `event`: registered, offered, waiting (in order), cancelled."""
    positions = {r.id: i for i, r in enumerate(waiting_list(s, event), start=1)}
    regs = s.scalars(select(Registration).where(Registration.event_id == event.id)
                     .order_by(Registration.created_at, Registration.id)).all()
    rows = [row for reg in regs for row in registration_rows(reg, positions.get(reg.id))]
    return sorted(rows, key=lambda r: (_GROUP[r.state], r.waiting_position or 0,
                                       r.registered_at, r.registration))


def find_event(s: Session, slug: str) -> Event:
    from mailbot.errors import UserError

    event = s.scalars(select(Event).where(Event.slug == slug)).first()
    if event is None:
        known = ", ".join(s.scalars(select(Event.slug).order_by(Event.starts))) or "none yet"
        raise UserError(f"no event {slug!r} (known: {known})")
    return event


def _cells(row: Row, lang: str, tz: ZoneInfo) -> list[Any]:
    return [row.registration, row.name, row.email, row.organization, row.seats,
            STATE_LABELS[lang][row.state], row.registered_at.astimezone(tz).replace(tzinfo=None),
            row.waiting_position, row.registered_by, row.notes]


def _defuse(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_START) else value


def to_csv(rows: list[Row], lang: str, tz: ZoneInfo) -> bytes:
    """CSV as German Excel and LibreOffice open it by double-click: UTF-8 with BOM (else Excel
    reads cp1252 and breaks umlauts), ';' between fields (',' is the decimal separator there),
    CRLF line ends, German dates."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    writer.writerow(HEADERS[lang])
    fmt = DATE_FORMATS[lang][0]
    for row in rows:
        writer.writerow(["" if v is None else v.strftime(fmt) if isinstance(v, datetime)
                         else _defuse(v) if isinstance(v, str) else v
                         for v in _cells(row, lang, tz)])
    return out.getvalue().encode("utf-8-sig")


def to_xlsx(rows: list[Row], lang: str, tz: ZoneInfo, title: str = "") -> bytes:
    """An .xlsx workbook: bold frozen header, filters, real date cells in local time."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Teilnehmende" if lang == "de" else "Participants"
    if title:
        wb.properties.title = title[:250]
    ws.append(list(HEADERS[lang]))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    date_fmt = DATE_FORMATS[lang][1]
    for r, row in enumerate(rows, start=2):
        for c, value in enumerate(_cells(row, lang, tz), start=1):
            cell = ws.cell(row=r, column=c, value=value)
            if isinstance(value, datetime):
                cell.number_format = date_fmt
            elif isinstance(value, str) and value.startswith("="):
                cell.data_type = "s"  # text from a mail, never a formula
    widths = [len(h) for h in HEADERS[lang]]
    for row in rows:
        for i, value in enumerate(_cells(row, lang, tz)):
            widths[i] = max(widths[i], 16 if isinstance(value, datetime) else len(str(value or "")))
    for i, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = min(60, width + 2)
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(COLUMNS))}{max(1, len(rows) + 1)}"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
