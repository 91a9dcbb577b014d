"""The event commands and `parse` reading events from the database, through the real CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mailbot.cli import main

EVENTS = """
[[event]]
slug = "werkstatt"
title = "Werkstattgespräch „Vernetzt in Niedersachsen“"
starts = 2099-02-25T14:00:00+01:00
ends = 2099-02-25T17:00:00+01:00
city = "Hannover"
venue = ""
capacity = 25
aliases = ["Werkstattgespräch", "Werkstatt"]
coordinators = ["koordination@mitgen.example"]

[[event]]
slug = "fachtag"
title = "Fachtag Gleichstellung"
starts = 2099-09-16T10:00:00+02:00
ends = 2099-09-16T16:30:00+02:00
city = "Osnabrück"
venue = "Lagerhalle"
capacity = 120
aliases = ["Fachtag"]
"""


@pytest.fixture
def cfg(tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for var in ("MAILBOT_DATABASE_URL", "MAILBOT_MAILBOX_URL", "MAILBOT_SMTP_URL"):
        monkeypatch.delenv(var, raising=False)
    c = tmp_path / "mailbot.toml"
    c.write_text(f'database_url = "{db_url}"\n')
    (tmp_path / "events.toml").write_text(EVENTS, encoding="utf-8")
    return c


def run(cfg: Path, *args: str) -> int:
    return main(["--config", str(cfg), *args])


def test_import_then_list_shows_seats_and_the_venue_to_be_announced(
        cfg: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(cfg, "events", "import", "events.toml") == 0
    assert "2 created" in capsys.readouterr().out
    assert run(cfg, "events", "list", "--json") == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["slug"], r["free"], r["venue"]) for r in rows] == [
        ("werkstatt", 25, ""), ("fachtag", 120, "Lagerhalle")]
    assert run(cfg, "events", "import", "events.toml") == 0
    assert "0 created, 2 updated, 0 notice(s)" in capsys.readouterr().out


def test_set_venue_on_an_unknown_event_is_one_clear_line(
        cfg: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(cfg, "events", "import", "events.toml") == 0
    capsys.readouterr()
    assert run(cfg, "events", "set-venue", "nope", "Rathaus") == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "nope" in err[0]
    assert run(cfg, "events", "set-venue", "werkstatt", "Rathaus, Saal 2") == 0
    assert "0 notice(s)" in capsys.readouterr().out  # nobody registered yet


def test_parse_without_an_events_file_uses_the_events_in_the_database(
        cfg: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    mail = tmp_path / "m.eml"
    mail.write_bytes(b"From: Maria <maria@verein.example>\r\nTo: anmeldung@mitgen.example\r\n"
                     b"Subject: Anmeldung Werkstattgespraech\r\nMessage-ID: <x1@verein.example>\r\n"
                     b"\r\nHiermit melde ich mich zum Werkstattgespraech an.\r\n\r\nMaria\r\n")
    assert run(cfg, "events", "import", "events.toml") == 0
    capsys.readouterr()
    assert run(cfg, "parse", "--json", str(mail)) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["intent"] == "register" and out["event"] == "werkstatt"


def test_purge_dry_run_deletes_nothing(cfg: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(cfg, "events", "import", "events.toml") == 0
    assert run(cfg, "purge", "--dry-run") == 0
    assert "nothing to purge" in capsys.readouterr().out
