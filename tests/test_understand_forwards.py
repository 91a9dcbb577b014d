"""classify(): in a forwarded registration the original author (and whoever the author names) is
the attendee, not the person forwarding."""

from __future__ import annotations

from mailbot.types import Attendee, IntentKind
from tests.understanding import city_intent, emails, intent, names


def test_the_original_author_of_a_german_forward_is_the_attendee():
    i = city_intent("forward_de.eml")
    assert i.kind is IntentKind.REGISTER
    assert i.attendees == (Attendee("Amina Yusuf", "amina.yusuf@afrika-verein-stade.example"),)
    assert i.organization == "Afrika-Verein Stade e.V."
    assert i.event == "fachforum-2028"

def test_the_original_author_of_an_english_forward_is_the_attendee():
    i = city_intent("forward_en.eml")
    assert emails(i) == ["mia.lopez@example.net"]
    assert i.event == "sommerakademie-2028"

def test_a_forward_of_ones_own_mail_without_an_address_registers_the_sender():
    i = intent("own_forward_no_address.eml")
    assert (i.kind, i.event) == (IntentKind.REGISTER, "forum-2028")
    assert i.attendees == (Attendee("Karin Lutz", "karin.lutz@stadt-uelzen.example"),)
    assert i.organization == "Stadt Uelzen"

def test_a_colleague_named_in_a_forwarded_registration_comes_along_with_its_author():
    i = intent("forwarded_with_colleague.eml")
    assert i.kind is IntentKind.REGISTER and i.event == "werkraum-2028"
    assert names(i) == ["Gülşen Toprak", "Dilek Arslan"] and i.party_size == 2
