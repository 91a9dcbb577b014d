"""`mailbot parse`: one JSON object per line per file, errors included, exit code 0."""

from __future__ import annotations

import json
from pathlib import Path

from mailbot.cli import main

FIXTURES = Path(__file__).parent / "fixtures" / "mail"
KEYS = {"file", "intent", "event", "attendees", "organization", "party_size", "has_question",
        "language", "auto_generated", "bounced_recipients", "text", "confidence"}
EVENTS = """
[[event]]
slug = "fachforum-2028"
title = "Fachforum Gewaltschutz"
starts = 2028-06-15T10:00:00+02:00
city = "Oldenburg"
aliases = ["Fachforum"]
"""


def run(capsys, *argv: str) -> tuple[int, list[dict]]:
    code = main(["parse", *argv])
    out = capsys.readouterr().out
    return code, [json.loads(line) for line in out.splitlines()]


def test_it_prints_one_json_line_per_file_in_the_documented_shape(capsys, tmp_path):
    events = tmp_path / "events.toml"
    events.write_text(EVENTS)
    files = [str(FIXTURES / "html_only.eml"), str(FIXTURES / "dsn_mixed.eml")]
    code, lines = run(capsys, "--events", str(events), "--json", *files)
    assert code == 0 and len(lines) == 2
    reg, bounce = lines
    assert set(reg) >= KEYS
    assert reg["file"] == files[0]
    assert reg["intent"] == "register" and reg["event"] == "fachforum-2028"
    assert reg["attendees"] == [{"name": "Katrin Vogt", "email": "k.vogt@landkreis-diepholz.example"}]
    assert reg["party_size"] == 1 and reg["auto_generated"] is False
    assert isinstance(reg["confidence"], float) and 0 <= reg["confidence"] <= 1
    assert bounce["intent"] == "bounce" and bounce["auto_generated"] is True
    assert bounce["bounced_recipients"] == ["gone@kreis.example"]


def test_without_events_nothing_is_matched(capsys):
    _, (line,) = run(capsys, "--json", str(FIXTURES / "html_only.eml"))
    assert line["event"] is None and line["candidate_events"] == []


def test_an_unreadable_file_still_gets_a_line_and_exit_0(capsys, tmp_path):
    code, (line,) = run(capsys, "--json", str(tmp_path / "missing.eml"))
    assert code == 0
    assert line["intent"] == "other" and "error" in line


def test_line_separator_characters_in_a_mail_stay_inside_one_line(capsys, tmp_path):
    eml = tmp_path / "odd.eml"
    eml.write_bytes("From: a@b.example\r\nSubject: x\r\nContent-Type: text/plain; charset=utf-8"
                    "\r\n\r\nIch melde mich an.\u2028Zweite Zeile\x85\r\n".encode())
    out_code = main(["parse", "--json", str(eml)])
    out = capsys.readouterr().out
    assert out_code == 0 and len(out.splitlines()) == 1
    assert "Zweite Zeile" in json.loads(out)["text"]


def test_without_json_it_prints_a_short_summary(capsys):
    assert main(["parse", str(FIXTURES / "partial_cancel.eml")]) == 0
    out = capsys.readouterr().out
    assert "partial_cancel.eml: cancel" in out and "seats=1" in out
