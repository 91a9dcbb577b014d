"""classify(): how many seats a mail asks for: numbers in words and digits, groups, people brought
along, totals that count the sender in, and what adds no seat."""

from __future__ import annotations

import pytest

from mailbot.types import IntentKind
from tests.understanding import city_intent, from_text, intent, names


@pytest.mark.parametrize("name, seats", [
    ("qp_utf8.eml", 3),  # "wir kommen zu dritt"
    ("seats_words.eml", 4),  # "insgesamt vier Personen"
    ("seats_plus_one.eml", 2),  # "für mich und eine weitere Person"
    ("colleagues_with_addresses.eml", 2),
    ("latin1_body.eml", 1),
])
def test_it_counts_seats_in_words_and_digits(name, seats):
    assert city_intent(name).party_size == seats

def test_it_counts_zu_dritt_as_three_seats():
    assert city_intent("qp_utf8.eml").party_size == 3

def test_there_will_be_four_of_us_registers_four_seats():
    i = intent("en_four_of_us.eml")
    assert (i.kind, i.event, i.party_size) == (IntentKind.REGISTER, "treffen-2028", 4)
    assert i.organization == "Women's Shelter Celle"

def test_seats_reserved_at_the_end_of_the_sentence_register_the_group():
    i = intent("verb_final_seats.eml")
    assert (i.kind, i.event, i.party_size) == (IntentKind.REGISTER, "werkraum-2028", 3)
    assert i.organization == "Elternnetz Walsrode"

def test_a_group_of_others_with_the_sender_going_along_registers_all_of_them():
    i = intent("group_accompanied_by_sender.eml")
    assert i.kind is IntentKind.REGISTER and i.event == "werkraum-2028"
    assert i.party_size == 4 and names(i) == ["Rana Aydin"]
    assert i.organization == "Nachbarschaftshaus Linden"

def test_group_subjects_register_in_german_and_english():
    for body in ("Drei Ehrenamtliche aus unserem Café würden gern am Forum Arbeit teilnehmen.",
                 "Unsere Kursgruppe möchte gern zum Forum Arbeit kommen.",
                 "Four women from our sewing circle would like to come to the Forum Arbeit, "
                 "and I'll accompany them."):
        assert from_text(body).kind is IntentKind.REGISTER, body
    assert from_text("Four women from our sewing circle would like to come to the Forum "
                     "Arbeit, and I'll accompany them.").party_size == 5

def test_one_unnamed_person_brought_along_adds_a_seat_in_german_and_english():
    for body in ("ich melde mich für den Werkraum an und bringe unsere Auszubildende mit.",
                 "Hiermit melde ich mich zum Werkraum an. Meine Tochter möchte mich gerne begleiten, "
                 "bitte melden Sie sie ebenfalls an.",
                 "Ich möchte mit meinem Mann zum Werkraum kommen.",
                 "I'd like to register for the Werkraum, and I'll bring my daughter.",
                 "Please register me for the Werkraum. My colleague will join me."):
        i = from_text(body)
        assert (i.kind, i.party_size) == (IntentKind.REGISTER, 2), body

def test_wir_beide_and_both_of_us_are_two_seats():
    for body in ("wir beide möchten uns für den Werkraum anmelden.",
                 "Bitte melden Sie uns zwei für den Werkraum an.",
                 "Both of us would like to attend the Werkraum."):
        assert from_text(body).party_size == 2, body

def test_talking_with_a_colleague_or_bringing_papers_adds_no_seat():
    for body in ("Ich habe mit meiner Chefin gesprochen und melde mich für den Werkraum an.",
                 "Ich melde mich für den Werkraum an und bringe meine Unterlagen mit.",
                 "Wir haben zwei Wochen Urlaub, danach melde ich mich für den Werkraum an."):
        assert from_text(body).party_size == 1, body

def test_an_enumeration_of_who_comes_with_the_sender_in_it_adds_up():
    for body, n in (("wir möchten gerne mit einer kleinen Gruppe zum Werkraum kommen: meine Kollegin, ich "
                     "und fünf Teilnehmerinnen aus unserem Deutschkurs (B1).", 7),
                    ("We'd love to come to the Werkraum: my colleague, me and three women from our "
                     "course.", 5)):
        i = from_text(body)
        assert (i.kind, i.party_size) == (IntentKind.REGISTER, n), body

def test_a_sentence_with_ich_and_commas_that_is_no_enumeration_counts_nothing_extra():
    i = from_text("Hallo, ich melde mich für den Werkraum an, und fünf Minuten später schreibe ich wieder.")
    assert i.party_size == 1

def test_a_total_of_people_including_the_sender_books_that_many_seats():
    for body, n in (("wir möchten am Forum Arbeit teilnehmen: insgesamt sechs Kolleginnen, "
                     "mich eingeschlossen.\n\nAda Lim", 6),
                    ("We would like to attend the Forum Arbeit, four volunteers in all, "
                     "myself included.\n\nAda Lim", 4)):
        i = from_text(body)
        assert i.kind is IntentKind.REGISTER and i.party_size == n, body
