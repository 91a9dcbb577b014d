"""classify(): someone who cannot come sends a colleague instead (a substitute), or takes over an
ill colleague's seat."""

from __future__ import annotations

from mailbot.types import Attendee, IntentKind
from tests.understanding import city_intent, from_text, intent


def test_statt_mir_kommt_registers_the_substitute():
    i = city_intent("substitute.eml")
    assert i.kind is IntentKind.REGISTER
    assert i.substitute == Attendee("Lea Schulz", "lea.schulz@stadt-syke.example")
    assert i.attendees == (i.substitute,)

def test_an_english_colleague_instead_of_me_is_a_substitute_with_name_and_address():
    i = intent("en_instead_of_me.eml")
    assert i.kind == IntentKind.REGISTER
    assert i.substitute == Attendee("Sara Lindqvist", "sara.lindqvist@council-celle.example")

def test_a_sender_who_cannot_come_but_sends_a_colleague_registers_the_colleague():
    i = intent("absent_registers_colleague.eml")
    assert i.kind == IntentKind.REGISTER
    assert i.attendees == (Attendee("Mira Jansen", "mira.jansen@stadt-nienburg.example"),)

def test_a_request_to_transfer_a_registration_is_no_question():
    i = from_text("I have to pull out of the Forum Arbeit. My colleague Priya Raman "
                  "(priya.raman@verein.example) will take my place – could you transfer my "
                  "registration to her?\n\nThanks,\nAda Lim")
    assert i.kind is IntentKind.REGISTER and not i.has_question

def test_a_substitute_for_an_ill_colleague_registers_the_sender():
    body = ("mein Kollege Tom Berger ist krank und kann beim Forum Arbeit nicht dabei sein. "
            "Ich übernehme seinen Platz, tragen Sie bitte dafür mich ein.\n\nAda Lim")
    i = from_text(body)
    assert i.kind is IntentKind.REGISTER
    assert [a.email for a in i.attendees] == ["ada.lim@verein.example"]
