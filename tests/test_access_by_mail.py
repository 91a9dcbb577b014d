"""Access by mail (DSGVO Art. 15): "Welche Daten haben Sie über mich gespeichert?" gets the
sender's own data as text and JSON; unverified senders confirm first (issue 10), on SQLite and
PostgreSQL."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from sqlalchemy import select

from mailbot.classify import classify
from mailbot.models import InboundRecord, OutboxRow, PendingAction, PendingState
from mailbot.rulebook import load_rules
from mailbot.types import Attendee, IntentKind, Outcome
from tests.factories import World, event, intent, mail

RULES = load_rules(Path(__file__).resolve().parent.parent / "rules")
MARIA = "maria@verein.example"
BERIT = "berit@verein.example"


@pytest.fixture
def world(db_url: str) -> World:
    w = World(db_url, [event(capacity=1), event("netzwerk", capacity=5, title="Netzwerktreffen")])
    w.register(MARIA, "Maria Muster", organization="Frauenberatung Celle e.V.")
    # Berit waits for Maria's seat, and Maria also registered her colleague for the network
    w.register(BERIT, "Berit Brandt")
    w.send(mail(MARIA, "Maria Muster", text="Ich melde mich und Herrn Kaya an."),
           intent(event="netzwerk", party_size=2, attendees=(
               Attendee("Maria Muster", MARIA), Attendee("Deniz Kaya", "deniz@verein.example"))))
    return w


def asks(w: World, text: str = "Guten Tag,\nwelche Daten haben Sie über mich gespeichert?",
         sender: str = MARIA, **kw: object) -> Outcome:
    m = mail(sender, "Maria Muster", text=text, subject="Datenschutz", **kw)
    found = classify(m, [], RULES)
    assert found.kind == IntentKind.ACCESS
    return w.send(m, found)


def rows(w: World, template: str) -> list[OutboxRow]:
    with w.db.session() as s:
        return list(s.scalars(select(OutboxRow).where(OutboxRow.template == template)
                              .order_by(OutboxRow.id)))


def attached(row: OutboxRow) -> dict:
    [att] = row.attachments
    assert att["mime"] == "application/json" and att["filename"].endswith(".json")
    return json.loads(base64.b64decode(att["b64"]))


@pytest.mark.parametrize("text", ["Welche Daten haben Sie über mich gespeichert?",
                                  "Hello, what data do you hold about me?",
                                  "Ich bitte um Auskunft nach Art. 15 DSGVO."])
def test_both_languages_ask_for_access(text: str) -> None:
    assert classify(mail(text=text), [], RULES).kind == IntentKind.ACCESS


def test_a_request_to_delete_stays_an_erasure() -> None:
    m = mail(text="Bitte löschen Sie alle Daten über mich (Art. 15 und 17 DSGVO).")
    assert classify(m, [], RULES).kind == IntentKind.ERASE


def test_a_verified_sender_gets_the_data_at_once_as_text_and_json(world: World) -> None:
    assert asks(world, reply_to="elsewhere@evil.example") == Outcome.DONE
    [row] = rows(world, "access_data")
    assert row.to_addr == MARIA  # the From: address, never a Reply-To
    data = attached(row)
    assert data["person"]["name"] == "Maria Muster"
    assert data["person"]["organization"] == "Frauenberatung Celle e.V."
    regs = {r["event_slug"]: r for r in data["registrations"]}
    assert regs["werkstatt"]["state"] == "registered" and regs["werkstatt"]["seats"] == 1
    assert regs["netzwerk"]["seats"] == 1 and regs["netzwerk"]["starts"].startswith("2027-02-25")
    assert len(data["mails_received"]) == 2  # her two registrations; not this request itself
    assert {m["kind"] for m in data["mails_sent"]} >= {"confirmation"}
    assert row.context["data"]["email"] == MARIA


def test_nothing_about_other_people_leaks(world: World) -> None:
    asks(world)
    [row] = rows(world, "access_data")
    blob = json.dumps(attached(row)) + json.dumps(row.context)
    for other in ("berit", "Brandt", "deniz", "Kaya"):
        assert other not in blob
    # Deniz (registered by Maria) is a person of his own: his data are not hers to see
    assert BERIT not in blob


def test_an_unverified_sender_confirms_first_then_gets_the_data(world: World) -> None:
    assert asks(world, authentication_results=()) == Outcome.DONE
    assert rows(world, "access_data") == []
    [ask] = rows(world, "confirm_request")
    assert ask.to_addr == MARIA and ask.context["action"] == "access"
    yes = mail(MARIA, text="Ja", in_reply_to=(ask.message_id,), authentication_results=())
    assert world.send(yes, intent(event=None, accepts_offer=True)) == Outcome.DONE
    [row] = rows(world, "access_data")
    assert row.to_addr == MARIA and attached(row)["person"]["email"] == MARIA
    with world.db.session() as s:
        assert s.scalars(select(PendingAction)).one().state == PendingState.DONE


def test_someone_unknown_learns_that_nothing_is_stored(world: World) -> None:
    asks(world, sender="nobody@example.org", text="What data do you hold about me?")
    [row] = rows(world, "access_data")
    data = attached(row)
    assert data["person"] is None and data["registrations"] == []
    assert "Maria" not in json.dumps(data)


def test_the_request_is_recorded_as_access(world: World) -> None:
    asks(world)
    with world.db.session() as s:
        rec = s.scalars(select(InboundRecord).order_by(InboundRecord.id.desc())).first()
        assert rec is not None and "access" in rec.reason
