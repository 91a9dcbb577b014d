"""Coordinator commands by mail (issue 10): an event's trusted coordinator sets the venue, the
capacity, closes registration, asks for the list and resolves digest items by number; anyone
else's command lines are ordinary text. Through classify and the apply chain, on SQLite and
PostgreSQL."""

from __future__ import annotations

import base64
import io
from dataclasses import replace
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from mailbot.classify import classify
from mailbot.models import Event, InboundRecord, OutboxRow, PendingAction, Registration, RegState
from mailbot.rulebook import load_rules
from mailbot.runners.office import Office
from mailbot.types import IntentKind, Outcome
from tests.factories import NOW, World, event, intent, mail, while_another_worker_holds

RULES = load_rules(Path(__file__).resolve().parent.parent / "rules")
KOORD = "koordination@mitgen.example"
MARIA = "maria@verein.example"
BERIT = "berit@verein.example"
EVENTS = [event(capacity=1)]


@pytest.fixture
def world(db_url: str) -> World:
    w = World(db_url, EVENTS)
    w.office = Office(ZoneInfo("Europe/Berlin"), lambda: RULES, lambda: NOW)
    w.register(MARIA, "Maria Muster")
    w.register(BERIT, "Berit Brandt")  # waits: one seat only
    return w


def command(w: World, text: str, sender: str = KOORD, subject: str = "Werkstattgespräch",
            **kw: object) -> Outcome:
    m = mail(sender, "Koordination", text=text, subject=subject, **kw)
    return w.send(m, classify(m, EVENTS, RULES, now=NOW))


def rows(w: World, template: str | None = None) -> list[OutboxRow]:
    with w.db.session() as s:
        q = select(OutboxRow).order_by(OutboxRow.id)
        return list(s.scalars(q.where(OutboxRow.template == template) if template else q))


def werkstatt(w: World) -> Event:
    with w.db.session() as s:
        return s.scalars(select(Event).where(Event.slug == "werkstatt")).one()


def states(w: World) -> dict[str, RegState]:
    with w.db.session() as s:
        return {r.person.email: r.state for r in s.scalars(select(Registration))}


def last_record(w: World) -> InboundRecord:
    with w.db.session() as s:
        rec = s.scalars(select(InboundRecord).order_by(InboundRecord.id.desc())).first()
        assert rec is not None
        return rec


def done(w: World) -> list[dict]:
    [row] = rows(w, "coordinator_done") or rows(w, "coordinator_list")
    assert row.to_addr == KOORD
    return list(row.context["results"])


def test_the_command_lines_are_read_in_both_languages() -> None:
    m = mail(KOORD, text="Ort: Rathaus Hannover, Raum 101\nPlätze: 80\nAnmeldung schließen\n"
                         "Teilnehmendenliste\nCapacity: 90\nclose registration\n"
                         "participant list\n3 anmelden\nNr. 4 verwerfen\n5 assign werkstatt")
    got = [(c.verb, c.value, c.number) for c in classify(m, EVENTS, RULES, now=NOW).commands]
    assert got == [("venue", "Rathaus Hannover, Raum 101", None), ("capacity", "", 80),
                   ("close", "", None), ("list", "", None), ("capacity", "", 90),
                   ("close", "", None), ("list", "", None), ("register", "", 3),
                   ("dismiss", "", 4), ("assign", "werkstatt", 5)]


def test_a_verified_coordinator_sets_the_venue_and_the_notices_are_queued(world: World) -> None:
    assert command(world, "Ort: Rathaus Hannover, Raum 101") == Outcome.DONE
    assert werkstatt(world).venue == "Rathaus Hannover, Raum 101"
    assert [r.to_addr for r in rows(world, "venue_notice")] == [MARIA]
    assert [r.to_addr for r in rows(world, "venue_notice_waiting")] == [BERIT]
    assert rows(world, "venue_notice")[0].ics is not None
    [result] = done(world)
    assert result["verb"] == "venue" and result["ok"] and result["notices"] == 2
    assert last_record(world).intent == IntentKind.COORDINATOR_COMMAND


def test_more_capacity_moves_the_waiting_list_up(world: World) -> None:
    command(world, "Plätze: 2")
    assert werkstatt(world).capacity == 2
    assert states(world)[BERIT] == RegState.REGISTERED
    assert [r.to_addr for r in rows(world, "moved_up")] == [BERIT]
    [result] = done(world)
    assert (result["old"], result["number"], result["moved"], result["taken"]) == (1, 2, 1, 2)


def test_closing_registration_answers_later_registrations_with_closed(world: World) -> None:
    command(world, "Anmeldung schließen")
    assert werkstatt(world).registration_deadline == NOW
    world.register("neu@verein.example", "Nora Neu")
    assert [r.to_addr for r in rows(world, "closed")] == ["neu@verein.example"]
    assert "neu@verein.example" not in states(world)


def test_the_participant_list_comes_back_as_xlsx(world: World) -> None:
    command(world, "Teilnehmendenliste")
    [row] = rows(world, "coordinator_list")
    assert row.to_addr == KOORD
    [att] = row.attachments
    assert att["filename"].endswith(".xlsx") and "spreadsheetml" in att["mime"]
    sheet = load_workbook(io.BytesIO(base64.b64decode(att["b64"]))).active
    cells = [c.value for line in sheet.iter_rows() for c in line]
    assert "Maria Muster" in cells and "Berit Brandt" in cells


def test_a_digest_reply_registers_item_1(world: World) -> None:
    # a mail the chain was unsure about: in review, shown in the digest as "Nr. <id>"
    unsure = mail("nora@verein.example", "Nora Neu", text="Werkstatt, ich wäre dabei")
    assert world.send(unsure, replace(intent(), confidence=0.3)) == Outcome.REVIEW
    item = last_record(world).id
    command(world, f"{item} anmelden", subject="Re: Tagesübersicht")
    with world.db.session() as s:
        rec = s.get(InboundRecord, item)
        assert rec is not None and rec.resolved_at == NOW and "coordinator" in rec.reason
    assert states(world)["nora@verein.example"] == RegState.WAITING  # the one seat is taken
    assert [r.to_addr for r in rows(world, "waitlisted")][-1] == "nora@verein.example"
    [result] = done(world)
    assert result["ok"] and result["who"] == "nora@verein.example"


def test_a_digest_reply_dismisses_and_refuses_unknown_numbers(world: World) -> None:
    world.send(mail("spam@example.org", text="???"), replace(intent(), confidence=0.2))
    item = last_record(world).id
    command(world, f"{item} dismiss\n9999 register", subject="Re: Tagesübersicht")
    results = done(world)
    assert [(r["verb"], r["ok"], r["why"]) for r in results] == [
        ("dismiss", True, ""), ("register", False, "unknown")]
    with world.db.session() as s:
        rec = s.get(InboundRecord, item)
        assert rec is not None and rec.resolved_at is not None
    assert rows(world, "confirmation")[-1].to_addr != "spam@example.org"


def test_a_non_coordinator_venue_line_is_not_a_command(world: World) -> None:
    command(world, "Ort: Rathaus Hannover, Raum 101", sender=MARIA)
    assert werkstatt(world).venue == ""
    assert rows(world, "coordinator_done") == [] and rows(world, "venue_notice") == []
    assert last_record(world).intent != IntentKind.COORDINATOR_COMMAND


def test_an_unverified_coordinator_confirms_first(world: World) -> None:
    command(world, "Ort: Rathaus Hannover, Raum 101", authentication_results=())
    assert werkstatt(world).venue == ""
    [ask] = rows(world, "confirm_request")
    assert ask.to_addr == KOORD and ask.context["action"] == "coordinator"
    yes = mail(KOORD, text="Ja", in_reply_to=(ask.message_id,), authentication_results=())
    assert world.send(yes, intent(event=None, accepts_offer=True)) == Outcome.DONE
    assert werkstatt(world).venue == "Rathaus Hannover, Raum 101"
    assert len(rows(world, "venue_notice")) == 1 and done(world)[0]["ok"]
    with world.db.session() as s:
        assert s.scalars(select(PendingAction)).one().payload == {}


def test_an_item_another_coordinator_resolves_meanwhile_is_not_registered_twice(
        pg_url: str) -> None:
    w = World(pg_url, EVENTS)
    w.office = Office(ZoneInfo("Europe/Berlin"), lambda: RULES, lambda: NOW)
    unsure = mail("nora@verein.example", "Nora Neu", text="Werkstatt, ich wäre dabei")
    assert w.send(unsure, replace(intent(), confidence=0.3)) == Outcome.REVIEW
    item = last_record(w).id

    def dismiss_it(other: Session) -> None:  # a second coordinator's reply, on another worker
        rec = other.get(InboundRecord, item, with_for_update=True)
        assert rec is not None
        rec.resolved_at = NOW

    reply = mail(KOORD, "Koordination", text=f"{item} anmelden", subject="Re: Tagesübersicht")
    understood = classify(reply, EVENTS, RULES, now=NOW)  # before the race: it takes a while
    got = while_another_worker_holds(w.db, dismiss_it, lambda: w.send(reply, understood))
    assert got == Outcome.DONE
    [result] = done(w)
    assert (result["ok"], result["why"]) == (False, "resolved")
    assert "nora@verein.example" not in states(w)
    w.db.dispose()
