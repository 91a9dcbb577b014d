"""classify(): which event a mail is for: plus address, reply to our message, city, month or
season, quoted lists; open and closed events; asking instead of guessing."""

from __future__ import annotations

from datetime import datetime

from mailbot.classify import classify
from mailbot.parse import parse
from mailbot.types import IntentKind
from tests.understanding import CITY_EVENTS, EVENTS, FIXTURES, RULES, TZ, city_intent, intent


def test_the_plus_address_decides_the_event():
    i = city_intent("plus_address.eml")
    assert i.kind is IntentKind.REGISTER and i.event == "fachforum-2028"

def test_a_reply_to_our_message_id_decides_the_event():
    i = city_intent("reply_to_own_id.eml")
    assert i.kind is IntentKind.CANCEL and i.event == "sommerakademie-2028"

def test_the_city_in_the_new_text_beats_the_quoted_newsletter():
    assert city_intent("apple_de_reply.eml").event == "fachforum-2028"

def test_a_season_tells_apart_two_events_in_the_same_city():
    assert intent("season_hint.eml").event == "fachtag-2028"

def test_a_place_the_sender_turns_down_is_no_evidence_for_its_event():
    i = intent("declined_city.eml")
    assert (i.kind, i.event) == (IntentKind.REGISTER, "treffen-2028")

def test_a_numbered_item_of_a_quoted_list_names_the_event():
    i = intent("numbered_item_in_quote.eml")
    assert i.kind is IntentKind.REGISTER and i.event == "werkraum-2028"

def test_with_several_open_events_and_no_hint_it_asks_instead_of_guessing():
    i = city_intent("ambiguous.eml")
    assert i.kind is IntentKind.REGISTER and i.event is None
    assert set(i.candidate_events) == {e.slug for e in CITY_EVENTS}
    assert i.confidence < 0.9

def test_closed_events_are_no_candidates():
    i = city_intent("ambiguous.eml", now=datetime(2028, 5, 1, tzinfo=TZ))
    assert set(i.candidate_events) == {"fachforum-2028", "sommerakademie-2028"}

def test_the_only_open_event_is_taken_when_nothing_points_elsewhere():
    i = city_intent("ambiguous.eml", now=datetime(2028, 7, 1, tzinfo=TZ))
    assert i.event == "sommerakademie-2028"

def test_now_defaults_to_the_date_of_the_mail():
    assert set(city_intent("ambiguous.eml", now=None).candidate_events) == {e.slug for e in CITY_EVENTS}

def test_an_event_that_has_already_started_is_matched_when_named():
    raw = (FIXTURES / "thanks_on_top_then_registration.eml").read_bytes()
    during = datetime(2028, 10, 12, 20, tzinfo=TZ)  # evening of the Fachtag
    i = classify(parse(raw, RULES), EVENTS, RULES, during)
    assert i.event == "fachtag-2028"

def test_a_vague_reference_does_not_match_a_closed_event():
    raw = ("From: A <a@b.example>\nSubject: Anmeldung\n\nIch melde mich für Hannover an.\n"
           "\nViele Grüße\nAda Lim\n").encode()
    after_werkraum = datetime(2028, 3, 5, 9, tzinfo=TZ)
    assert classify(parse(raw, RULES), EVENTS, RULES, after_werkraum).event == "fachtag-2028"
