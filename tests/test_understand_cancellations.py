"""classify(): cancellations in German and English, of the sender, of someone named, of two people
or of a whole group."""

from __future__ import annotations

from mailbot.types import IntentKind
from tests.understanding import from_text, intent, names


def test_taking_my_name_off_the_attendee_list_cancels():
    assert intent("en_take_name_off.eml").kind == IntentKind.CANCEL

def test_a_person_away_on_the_day_of_the_event_cancels():
    i = intent("away_that_day_cancels.eml")
    assert (i.kind, i.event) == (IntentKind.CANCEL, "werkraum-2028")

def test_a_cancel_in_a_dass_clause_and_zu_streichen_cancels():
    i = intent("verb_final_cancel.eml")
    assert (i.kind, i.event) == (IntentKind.CANCEL, "forum-2028")

def test_an_office_cancelling_for_the_mayor_cancels_the_mayor():
    i = from_text("Herr Bürgermeister Tobias Renner muss seine Teilnahme am Forum Arbeit "
                  "leider absagen.\n\nMit freundlichen Grüßen\nIm Auftrag")
    assert i.kind is IntentKind.CANCEL and names(i) == ["Tobias Renner"]

def test_x_und_ich_cancelling_cancels_both_in_german_and_english():
    for body in ("leider müssen meine Kollegin Claudia Behrens und ich unsere Teilnahme am Werkraum "
                 "absagen.",
                 "Unfortunately my colleague Sam Brook and I have to cancel our places for the Werkraum."):
        i = from_text(body, "Absage")
        assert i.kind is IntentKind.CANCEL, body
        assert len(i.attendees) == 2 and i.party_size == 2, body

def test_a_group_withdrawing_for_all_four_cancels_everyone_named_in_brackets():
    i = intent("group_cancel_brackets.eml")
    assert (i.kind, i.party_size) == (IntentKind.CANCEL, 4)
    assert names(i) == ["Ilona Freitag", "Aylin Kaya", "Jonas Berg", "Mia Wendt"]

def test_a_group_withdrawing_its_whole_registration_cancels_all_its_seats():
    for body, seats in (
            ("Leider müssen wir unsere Anmeldung für das Forum Arbeit (drei Personen aus "
             "unserem Team) komplett zurückziehen.", 3),
            ("We have to withdraw our whole registration for the Forum Arbeit (four people "
             "from our centre).", 4)):
        i = from_text(body + "\n\nViele Grüße\nAda Lim")
        assert i.kind is IntentKind.CANCEL and i.party_size == seats, body
