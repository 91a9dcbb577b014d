"""classify(): the ordered rule chain, the intent of a mail (register, cancel, question, erase,
machine, other), registrations without the usual verb, yes/no answers to waiting-list offers,
confidence."""

from __future__ import annotations

import pytest

from mailbot.classify import CHAIN
from mailbot.types import IntentKind
from tests.understanding import city_intent, from_text, intent, names


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
    assert city_intent(name).kind is kind

def test_erase_everything_you_hold_about_me_under_the_gdpr_is_an_erasure():
    assert intent("en_erase_everything.eml").kind == IntentKind.ERASE

def test_ill_take_one_of_the_last_free_spots_registers():
    assert intent("en_remaining_seat.eml").kind == IntentKind.REGISTER

def test_a_casual_spoken_registration_from_a_phone_registers_the_sender():
    i = intent("casual_komm_gern.eml")
    assert i.kind is IntentKind.REGISTER and i.event == "werkraum-2028"
    assert i.party_size == 1 and names(i) == ["Julia Brandes"]

def test_coming_to_a_named_event_registers_without_a_registration_verb():
    for body in ("ich komm gern zum Werkraum im März.",
                 "wir kommen zum Forum Arbeit.",
                 "Beim Werkraum schaue ich gern vorbei.",
                 "ich schau beim Werkraum vorbei!",
                 "wir möchten gerne mit einer kleinen Gruppe aus unserem Sprachkurs zur Veranstaltung "
                 "„Werkraum Vielfalt“ am 2. März kommen.",
                 "Count me in for the Werkraum!",
                 "I'll come to the Werkraum in March.",
                 "We'd love to come to the Werkraum."):
        assert from_text(body).kind is IntentKind.REGISTER, body

def test_a_long_event_name_between_nehme_and_teil_still_registers():
    body = ("vielen Dank für die Einladung. Ich nehme sehr gerne an der Tagung zur beruflichen\n"
            "Teilhabe zugewanderter Frauen im ländlichen Raum teil.\n\nGrüße\nAda Lim")
    assert from_text(body).kind is IntentKind.REGISTER

def test_a_short_ja_accepts_a_waiting_list_offer():
    i = city_intent("offer_yes.eml")
    assert i.accepts_offer is True and i.event == "fachforum-2028"

def test_english_cancel_yes_and_no_replies_work_like_the_german_words():
    assert intent("en_cancel_reply.eml").kind == IntentKind.CANCEL
    yes, no = intent("en_yes_reply.eml"), intent("en_no_reply.eml")
    assert (yes.kind, yes.accepts_offer) == (IntentKind.REGISTER, True)
    assert (no.kind, no.accepts_offer) == (IntentKind.CANCEL, False)

def test_confidence_is_a_fraction_and_lower_when_unsure():
    sure, unsure = city_intent("latin1_body.eml"), city_intent("plus_address.eml")
    assert 0 <= unsure.confidence < sure.confidence <= 1
    assert city_intent("ambiguous.eml").reasons
