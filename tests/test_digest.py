"""The coordinators' digest: its facts in both languages, once a day, at the local hour."""

from __future__ import annotations

import base64
import csv
import email
import email.policy
import io
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from mailbot import cli
from mailbot.database import Database
from mailbot.models import DigestRun, OutboxRow
from mailbot.outbox.compose import render
from mailbot.reports.digest import build_digest, digest_job, local_day, send_one
from tests.digest_data import T0, Clock, busy_event, make_event, make_worker, register
from tests.servers import SmtpSink

BERLIN = ZoneInfo("Europe/Berlin")
COORD = "koordination@mitgen.example"


def digest_of(db_url: str, language: str, now: datetime) -> tuple[str, str, str]:
    db = Database(db_url)
    with db.session() as s:
        busy_event(s, language=language)
    with db.session() as s:
        d = build_digest(s, COORD, local_day(now, BERLIN), now)
        r = render("digest", d.language, d.context(), BERLIN)
    db.dispose()
    return r.subject, r.text, r.html


@pytest.mark.parametrize("part", ["text", "html"])
def test_the_german_digest_tells_seats_changes_and_what_needs_a_human(db_url: str,
                                                                      part: str) -> None:
    subject, text, html = digest_of(db_url, "de", T0 + timedelta(days=1))
    body = text if part == "text" else html
    assert "3 neu, 1 abgesagt" in subject
    assert "3 von 3 Plätzen" in body
    assert "Maria Muster, Frauenberatung Celle e.V.: 2 Plätze" in body
    assert "Abgesagt (1)" in body and "Jörg Bäcker" in body
    assert "Von der Warteliste nachgerückt (1)" in body and "Ayşe Yılmaz" in body
    # needs you: the question with a reply link, quarantine and review with their reasons
    assert "Gibt es vegetarisches Essen?" in body
    assert "mailto:maria@verein.example?subject=Re%3A%20Werkstattgespr%C3%A4ch" in body
    assert "kaputt@example.org" in body and "broken MIME" in body and "Quarantäne" in body
    assert "unsure@example.org" in body and "confidence 0.30" in body
    # bounces: Maria's confirmation came back, another address was refused by the server
    assert "maria@verein.example (Maria Muster)" in body
    assert "nobody@nowhere.example" in body and "550 5.1.1" in body
    assert "robot@auto.example" in body and "Antwortgrenze" in body
    if part == "html":
        assert 'width="100%" style="background: #c62828' in html  # the full bar, in red
    else:
        assert "[####################] 100 %" in text


def test_the_english_digest_tells_the_same_facts_in_english(db_url: str) -> None:
    subject, text, html = digest_of(db_url, "en", T0 + timedelta(days=1))
    assert subject.startswith("Registrations on Monday, 11 January 2027: 3 new, 1 cancelled")
    for body in (text, html):
        assert "3 of 3 seats" in body
        assert "Moved up from the waiting list (1)" in body
        assert "Gibt es vegetarisches Essen?" in body
        assert "Mails to review (2)" in body
        assert "Could not be delivered (2)" in body
        assert "Belegt" not in body


def test_the_html_digest_escapes_what_senders_wrote(db_url: str) -> None:
    db = Database(db_url)
    with db.session() as s:
        ev = make_event(s)
        register(s, T0, ev, "x@evil.example", "<script>alert(1)</script>")
        d = build_digest(s, COORD, "2027-01-11", T0 + timedelta(days=1))
    r = render("digest", "de", d.context(), BERLIN)
    assert "<script>" not in r.html and "&lt;script&gt;" in r.html


def test_a_second_digest_only_tells_what_changed_since_the_first(db_url: str) -> None:
    clock = Clock(datetime(2027, 1, 11, 6, 30, tzinfo=UTC))  # 07:30 in Berlin
    w = make_worker(db_url, clock)
    with w.db.session() as s:
        ev = make_event(s, capacity=10)
        register(s, T0, ev, "maria@verein.example", "Maria Muster")
    assert digest_job(w)
    clock.now += timedelta(days=1)
    with w.db.session() as s:
        register(s, clock.now - timedelta(hours=1), s.merge(ev), "neu@verein.example",
                 "Nina Neu")
        d = build_digest(s, COORD, local_day(clock.now, BERLIN), clock.now)
    names = [c.name for e in d.events for c in e.new]
    assert names == ["Nina Neu"]
    assert d.since == datetime(2027, 1, 11, 6, 30, tzinfo=UTC)


def test_it_sends_once_a_day_even_after_a_restart(db_url: str) -> None:
    clock = Clock(datetime(2027, 1, 11, 7, 0, tzinfo=UTC))
    w = make_worker(db_url, clock)
    with w.db.session() as s:
        busy_event(s)
    assert digest_job(w) is True
    clock.now += timedelta(minutes=1)
    assert digest_job(w) is False
    w.db.dispose()
    # a new process on the same database, later the same day
    w2 = make_worker(db_url, Clock(datetime(2027, 1, 11, 15, 0, tzinfo=UTC)))
    assert digest_job(w2) is False
    assert send_one(w2, COORD) == "done"
    with w2.db.session() as s:
        rows = s.scalars(select(OutboxRow).where(OutboxRow.template == "digest")).all()
        assert [r.dedupe_key for r in rows] == [f"digest:{COORD}:2027-01-11"]
        assert rows[0].auto_submitted == "auto-generated"
        assert s.scalars(select(DigestRun)).one().day == "2027-01-11"
    # the next day it goes again
    w2.clock = Clock(datetime(2027, 1, 12, 7, 0, tzinfo=UTC))
    assert digest_job(w2) is True


def test_the_digest_carries_the_participant_list_as_csv(db_url: str) -> None:
    w = make_worker(db_url, Clock(datetime(2027, 1, 11, 7, 0, tzinfo=UTC)))
    with w.db.session() as s:
        busy_event(s)
    digest_job(w)
    with w.db.session() as s:
        row = s.scalars(select(OutboxRow).where(OutboxRow.template == "digest")).one()
    (att,) = row.attachments
    assert att["mime"] == "text/csv" and att["filename"].endswith(".csv")
    data = base64.b64decode(att["b64"]).decode("utf-8-sig")
    names = [r[1] for r in csv.reader(io.StringIO(data), delimiter=";")][1:]
    assert names[:3] == ["Maria Muster", "Schmidt, Anna", "Ayşe Yılmaz"]
    msg = w.compose(row)  # and the outbox can render it
    assert "Anmeldungen am Montag, 11. Januar 2027" in str(msg["Subject"])


def test_nothing_is_sent_on_a_day_with_nothing_new_unless_configured(db_url: str) -> None:
    clock = Clock(datetime(2027, 1, 11, 7, 0, tzinfo=UTC))
    w = make_worker(db_url, clock)
    with w.db.session() as s:
        make_event(s)
    assert digest_job(w) is False
    with w.db.session() as s:
        assert s.scalars(select(OutboxRow)).all() == []
        assert s.scalars(select(DigestRun)).one().day == "2027-01-11"  # checked, not again today
    w2 = make_worker(db_url, Clock(datetime(2027, 1, 12, 7, 0, tzinfo=UTC)),
                     digest_when_empty=True)
    assert digest_job(w2) is True
    with w2.db.session() as s:
        row = s.scalars(select(OutboxRow)).one()
    assert "nichts geändert" in w2.compose(row).get_body(("plain",)).get_content()  # type: ignore[union-attr]


@pytest.mark.parametrize(("utc", "due"), [
    (datetime(2027, 3, 27, 6, 29, tzinfo=UTC), False),  # Saturday, CET: 07:29
    (datetime(2027, 3, 27, 6, 30, tzinfo=UTC), True),   # 07:30 CET
    (datetime(2027, 3, 28, 5, 29, tzinfo=UTC), False),  # Sunday, summer time began: 07:29 CEST
    (datetime(2027, 3, 28, 5, 30, tzinfo=UTC), True),   # 07:30 CEST
    (datetime(2027, 10, 31, 6, 29, tzinfo=UTC), False),  # back to CET: 07:29
    (datetime(2027, 10, 31, 6, 30, tzinfo=UTC), True),
])
def test_the_digest_goes_at_half_past_seven_berlin_time_across_daylight_saving(
        db_url: str, utc: datetime, due: bool) -> None:
    w = make_worker(db_url, Clock(utc), digest_time=time(7, 30))
    with w.db.session() as s:
        ev = make_event(s, starts=datetime(2027, 12, 1, 9, 0, tzinfo=UTC))
        register(s, utc - timedelta(hours=2), ev, "maria@verein.example", "Maria Muster")
    assert digest_job(w) is due


def test_only_the_coordinators_of_an_event_hear_about_it(db_url: str) -> None:
    db = Database(db_url)
    with db.session() as s:
        busy_event(s)
        other = make_event(s, "fachtag-2027", title="Fachtag", coordinators=("fach@x.example",))
        register(s, T0, other, "fritz@fach.example", "Fritz Fach")
        d = build_digest(s, "fach@x.example", "2027-01-11", T0 + timedelta(days=1))
    assert [e.slug for e in d.events] == ["fachtag-2027"]
    assert [c.name for c in d.events[0].new] == ["Fritz Fach"]
    whos = {i.who for i in d.needs_you}
    assert "maria@verein.example" not in whos  # Maria's question and bounce are not theirs
    assert "unsure@example.org" in whos  # a mail naming no event: everybody should see it


def test_digest_print_shows_it_and_send_delivers_it_with_the_csv(
        db_url: str, smtp_sink: SmtpSink, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MAILBOT_DATABASE_URL", db_url)
    monkeypatch.setenv("MAILBOT_FROM", "Anmeldung <anmeldung@mitgen.example>")
    db = Database(db_url)
    with db.session() as s:
        busy_event(s)
    db.dispose()
    assert cli.main(["digest", "--print"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"To: {COORD}\nSubject: Anmeldungen am ")
    assert "Maria Muster, Frauenberatung Celle e.V.: 2 Plätze" in out
    monkeypatch.setenv("MAILBOT_SMTP_URL", smtp_sink.url)
    assert cli.main(["digest", "--send"]) == 0
    assert "1 mail(s) sent" in capsys.readouterr().out
    sent = [m for m in smtp_sink.wait_for(1) if COORD in m.rcpt_tos]
    msg = email.message_from_bytes(sent[0].data, policy=email.policy.default)
    assert msg["Auto-Submitted"] == "auto-generated"
    (att,) = [p for p in msg.iter_attachments() if (p.get_filename() or "").endswith(".csv")]
    data = att.get_payload(decode=True)
    assert isinstance(data, bytes) and "Ayşe Yılmaz" in data.decode("utf-8-sig")
