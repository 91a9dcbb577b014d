"""Participant lists: one row per attendee, read back with csv and openpyxl field by field."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pytest

from mailbot import cli
from mailbot.database import Database
from mailbot.models import Event, RegState
from mailbot.reports.export import Row, event_rows, to_csv, to_xlsx
from tests.digest_data import T0, busy_event, make_event, register

BERLIN = ZoneInfo("Europe/Berlin")

# (registration no. is left out: ids differ between backends)
EXPECTED = [
    # name, email, organisation, seats, state, registered at, waiting position, by, notes
    ["Maria Muster", "maria@verein.example", "Frauenberatung Celle e.V.", "2", "angemeldet",
     "10.01.2027 10:00", "", "", "Gibt es vegetarisches Essen?"],
    ["Schmidt, Anna", "", "Frauenberatung Celle e.V.", "", "angemeldet", "10.01.2027 10:00",
     "", "", ""],
    ["Ayşe Yılmaz", "ayse@migration.example", "Migrationsberatung", "1", "angemeldet",
     "10.01.2027 10:10", "", "", ""],
    ["Jörg Bäcker", "joerg@stadt.example", "Stadt Hannover", "0", "abgesagt",
     "10.01.2027 10:05", "", "", ""],
]


@pytest.fixture
def event_db(db_url: str) -> Database:
    db = Database(db_url)
    with db.session() as s:
        busy_event(s)
    return db


def rows_of(db: Database, slug: str = "werkstatt-2027") -> list[Row]:
    with db.session() as s:
        ev = s.query(Event).filter_by(slug=slug).one()
        return event_rows(s, ev)


def test_the_csv_opens_in_german_excel_with_umlauts_and_commas_intact(event_db: Database) -> None:
    data = to_csv(rows_of(event_db), "de", BERLIN)
    assert data.startswith(b"\xef\xbb\xbf")  # the BOM that makes Excel read UTF-8
    assert b"\r\n" in data
    table = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=";"))
    assert table[0][:3] == ["Anmeldung Nr.", "Name", "E-Mail"]
    assert [r[1:] for r in table[1:]] == EXPECTED


def test_the_xlsx_has_the_same_rows_with_real_dates(event_db: Database) -> None:
    data = to_xlsx(rows_of(event_db), "de", BERLIN, "Werkstatt")
    ws = openpyxl.load_workbook(io.BytesIO(data)).active
    assert ws is not None
    values = [list(r) for r in ws.iter_rows(values_only=True)]
    assert values[0][1] == "Name"
    got = [["" if v is None else v.strftime("%d.%m.%Y %H:%M") if isinstance(v, datetime)
            else str(v) for v in r[1:]] for r in values[1:]]
    assert got == EXPECTED
    assert ws.cell(row=2, column=7).number_format == "DD.MM.YYYY HH:MM"
    assert ws.freeze_panes == "A2"


def test_a_party_without_addresses_is_one_row_per_name_and_unnamed_seats_still_count(
        db_url: str) -> None:
    db = Database(db_url)
    with db.session() as s:
        ev = make_event(s, capacity=10)
        # the contact registers two colleagues and does not come herself, plus a third seat
        register(s, T0, ev, "chefin@amt.example", "Clara Chefin", seats=3,
                 names=["Dieter Dienst", "Emil Eins"])
    rows = rows_of(db)
    assert [(r.name, r.email, r.registered_by, r.seats) for r in rows] == [
        ("Dieter Dienst", "", "Clara Chefin <chefin@amt.example>", 3),
        ("Emil Eins", "", "Clara Chefin <chefin@amt.example>", None),
        ("", "", "Clara Chefin <chefin@amt.example>", None),
    ]


def test_the_waiting_list_keeps_its_order_and_positions(db_url: str) -> None:
    db = Database(db_url)
    with db.session() as s:
        ev = make_event(s, capacity=1)
        for i, name in enumerate(["Erste Eins", "Zweite Zwei", "Dritte Drei"]):
            register(s, T0 + timedelta(minutes=i), ev, f"p{i}@x.example", name)
    rows = rows_of(db)
    assert [(r.name, r.state, r.waiting_position) for r in rows] == [
        ("Erste Eins", RegState.REGISTERED, None), ("Zweite Zwei", RegState.WAITING, 1),
        ("Dritte Drei", RegState.WAITING, 2)]


def test_text_that_looks_like_a_formula_stays_text(db_url: str) -> None:
    db = Database(db_url)
    with db.session() as s:
        ev = make_event(s)
        register(s, T0, ev, "evil@x.example", "=HYPERLINK(\"http://x\";\"klick\")")
    rows = rows_of(db)
    table = list(csv.reader(io.StringIO(to_csv(rows, "de", BERLIN).decode("utf-8-sig")),
                            delimiter=";"))
    assert table[1][1] == "'=HYPERLINK(\"http://x\";\"klick\")"
    ws = openpyxl.load_workbook(io.BytesIO(to_xlsx(rows, "de", BERLIN))).active
    assert ws is not None
    cell = ws.cell(row=2, column=2)
    assert cell.data_type == "s" and cell.value == "=HYPERLINK(\"http://x\";\"klick\")"


def test_export_and_registrations_commands_write_and_print_the_list(
        event_db: Database, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MAILBOT_DATABASE_URL", db_url)
    assert cli.main(["export", "werkstatt-2027", "--format", "xlsx", "-o", "liste.xlsx"]) == 0
    assert openpyxl.load_workbook(tmp_path / "liste.xlsx").active.max_row == 5
    assert cli.main(["export", "werkstatt-2027", "-o", "liste.csv"]) == 0
    assert (tmp_path / "liste.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    capsys.readouterr()
    assert cli.main(["registrations", "werkstatt-2027", "--json"]) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [x["name"] for x in lines] == [r[0] for r in EXPECTED]
    assert lines[0]["registered_at"] == "2027-01-10T10:00:00+01:00"
    assert cli.main(["registrations", "werkstatt-2027"]) == 0
    out = capsys.readouterr().out
    assert "3 of 3 seats taken, 0 free" in out and "Schmidt, Anna" in out


def test_an_unknown_event_is_one_clear_line_and_exit_1(
        event_db: Database, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MAILBOT_DATABASE_URL", db_url)
    assert cli.main(["export", "nope", "-o", "x.csv"]) == 1
    err = capsys.readouterr().err.strip()
    assert err == "mailbot: no event 'nope' (known: werkstatt-2027)"
    assert not (tmp_path / "x.csv").exists()
