"""classify(): intents, people, seats, events and confidence, on hand-written .eml fixtures."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from mailbot.classify import CHAIN, classify, load_default_rules
from mailbot.parse import parse
from mailbot.types import Attendee, EventInfo, Intent, IntentKind

FIXTURES = Path(__file__).parent / "fixtures" / "mail"
RULES = load_default_rules()
TZ = ZoneInfo("Europe/Berlin")
EVENTS = (
    EventInfo(slug="vernetzungstag-2028", title="Vernetzungstag „Gemeinsam stark in Bremen“",
              starts=datetime(2028, 3, 9, 10, tzinfo=TZ), ends=datetime(2028, 3, 9, 16, tzinfo=TZ),
              city="Bremen", aliases=("Vernetzungstag", "Gemeinsam stark")),
    EventInfo(slug="fachforum-2028", title="Fachforum Gewaltschutz",
              starts=datetime(2028, 6, 15, 10, tzinfo=TZ),
              ends=datetime(2028, 6, 15, 16, tzinfo=TZ), city="Oldenburg",
              venue="Kulturetage, Bahnhofstraße 11, 26122 Oldenburg",
              aliases=("Fachforum", "Gewaltschutz")),
    EventInfo(slug="sommerakademie-2028", title="Sommerakademie Teilhabe",
              starts=datetime(2028, 8, 24, 10, tzinfo=TZ),
              ends=datetime(2028, 8, 25, 15, tzinfo=TZ), city="Hannover",
              aliases=("Sommerakademie",)),
)
JANUARY = datetime(2028, 1, 10, 9, tzinfo=TZ)


def intent(name: str, now: datetime | None = JANUARY, events=EVENTS) -> Intent:
    return classify(parse((FIXTURES / name).read_bytes(), RULES), events, RULES, now)


def emails(i: Intent) -> list[str | None]:
    return [a.email for a in i.attendees]


def test_the_chain_is_one_ordered_list_of_named_described_rules():
    names = [r.name for r in CHAIN]
    assert len(names) == len(set(names))
    assert all(r.description for r in CHAIN)
    assert names.index("bounce") < names.index("register") < names.index("event")


@pytest.mark.parametrize("name, kind", [
    ("latin1_body.eml", IntentKind.REGISTER), ("html_only.eml", IntentKind.REGISTER),
    ("outlook_de_reply.eml", IntentKind.CANCEL), ("gmail_en_reply.eml", IntentKind.CANCEL),
    ("erase.eml", IntentKind.ERASE), ("question_only.eml", IntentKind.QUESTION),
    ("dsn_mixed.eml", IntentKind.BOUNCE), ("dsn_delayed.eml", IntentKind.BOUNCE),
    ("qmail_bounce.eml", IntentKind.BOUNCE), ("auto_submitted.eml", IntentKind.AUTO_REPLY),
    ("list_mail.eml", IntentKind.OTHER), ("own_loop.eml", IntentKind.OTHER),
])
def test_it_recognises_the_intent(name, kind):
    assert intent(name).kind is kind


def test_an_out_of_office_without_headers_quoting_anmeldung_is_an_auto_reply():
    assert intent("ooo_no_headers.eml").kind is IntentKind.AUTO_REPLY


def test_an_abwesenheitsnotiz_is_an_auto_reply():
    assert intent("abwesenheitsnotiz.eml").kind is IntentKind.AUTO_REPLY


def test_a_registration_that_asks_is_registered_and_flagged():
    i = intent("outlook_en_reply.eml")
    assert i.kind is IntentKind.REGISTER and i.has_question
    assert "wheelchair" in i.question


def test_a_plain_registration_has_no_question():
    assert not intent("latin1_body.eml").has_question


def test_the_sender_is_the_attendee_with_the_name_from_nachname_vorname():
    i = intent("cp1252_body.eml")
    assert i.attendees == (Attendee("Anne Große", "anne.grosse@frauenhaus-ol.example"),)
    assert i.organization == "Frauenhaus Oldenburg"


def test_a_colleague_with_her_own_address_is_registered_too():
    i = intent("colleagues_with_addresses.eml")
    assert emails(i) == ["dana.wolf@gleichstellung-cux.example",
                         "a.yilmaz@gleichstellung-cux.example"]
    assert i.attendees[1].name == "Aylin Yılmaz"
    assert i.party_size == 2


def test_an_office_registering_the_boss_registers_only_the_boss():
    i = intent("boss.eml")
    assert i.attendees == (Attendee("Emre Kaya", "e.kaya@paritaet-hb.example"),)
    assert i.organization == "Paritätischer Wohlfahrtsverband Bremen"


def test_two_colleagues_but_not_the_sender():
    i = intent("two_colleagues_not_sender.eml")
    assert i.attendees == (Attendee("Sara Haddad", "s.haddad@jobcenter-verden.example"),
                           Attendee("Julia Brenner", None))
    assert i.party_size == 2


def test_the_original_author_of_a_german_forward_is_the_attendee():
    i = intent("forward_de.eml")
    assert i.kind is IntentKind.REGISTER
    assert i.attendees == (Attendee("Amina Yusuf", "amina.yusuf@afrika-verein-stade.example"),)
    assert i.organization == "Afrika-Verein Stade e.V."
    assert i.event == "fachforum-2028"


def test_the_original_author_of_an_english_forward_is_the_attendee():
    i = intent("forward_en.eml")
    assert emails(i) == ["mia.lopez@example.net"]
    assert i.event == "sommerakademie-2028"


@pytest.mark.parametrize("name, seats", [
    ("qp_utf8.eml", 3),  # "wir kommen zu dritt"
    ("seats_words.eml", 4),  # "insgesamt vier Personen"
    ("seats_plus_one.eml", 2),  # "für mich und eine weitere Person"
    ("colleagues_with_addresses.eml", 2),
    ("latin1_body.eml", 1),
])
def test_it_counts_seats_in_words_and_digits(name, seats):
    assert intent(name).party_size == seats


def test_it_counts_zu_dritt_as_three_seats():
    assert intent("qp_utf8.eml").party_size == 3


def test_meine_kollegin_kommt_doch_nicht_cancels_one_seat():
    i = intent("partial_cancel.eml")
    assert i.kind is IntentKind.CANCEL
    assert i.cancel_seats == 1 and i.party_size == 1


def test_statt_mir_kommt_registers_the_substitute():
    i = intent("substitute.eml")
    assert i.kind is IntentKind.REGISTER
    assert i.substitute == Attendee("Lea Schulz", "lea.schulz@stadt-syke.example")
    assert i.attendees == (i.substitute,)


def test_the_plus_address_decides_the_event():
    i = intent("plus_address.eml")
    assert i.kind is IntentKind.REGISTER and i.event == "fachforum-2028"


def test_a_reply_to_our_message_id_decides_the_event():
    i = intent("reply_to_own_id.eml")
    assert i.kind is IntentKind.CANCEL and i.event == "sommerakademie-2028"


def test_the_city_in_the_new_text_beats_the_quoted_newsletter():
    assert intent("apple_de_reply.eml").event == "fachforum-2028"


def test_with_several_open_events_and_no_hint_it_asks_instead_of_guessing():
    i = intent("ambiguous.eml")
    assert i.kind is IntentKind.REGISTER and i.event is None
    assert set(i.candidate_events) == {e.slug for e in EVENTS}
    assert i.confidence < 0.9


def test_closed_events_are_no_candidates():
    i = intent("ambiguous.eml", now=datetime(2028, 5, 1, tzinfo=TZ))
    assert set(i.candidate_events) == {"fachforum-2028", "sommerakademie-2028"}


def test_the_only_open_event_is_taken_when_nothing_points_elsewhere():
    i = intent("ambiguous.eml", now=datetime(2028, 7, 1, tzinfo=TZ))
    assert i.event == "sommerakademie-2028"


def test_now_defaults_to_the_date_of_the_mail():
    assert set(intent("ambiguous.eml", now=None).candidate_events) == {e.slug for e in EVENTS}


def test_a_short_ja_accepts_a_waiting_list_offer():
    i = intent("offer_yes.eml")
    assert i.accepts_offer is True and i.event == "fachforum-2028"


def test_machines_get_no_event_and_no_attendees():
    for name in ("dsn_mixed.eml", "ooo_no_headers.eml", "list_mail.eml"):
        i = intent(name)
        assert i.kind.is_machine or i.kind is IntentKind.OTHER
        assert i.attendees == () and i.party_size == 0


def test_confidence_is_a_fraction_and_lower_when_unsure():
    sure, unsure = intent("latin1_body.eml"), intent("plus_address.eml")
    assert 0 <= unsure.confidence < sure.confidence <= 1
    assert intent("ambiguous.eml").reasons
