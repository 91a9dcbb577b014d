"""classify(): a cancel for one named colleague of a group cancels that one seat, not the whole
registration."""

from __future__ import annotations

from mailbot.types import IntentKind
from tests.understanding import city_intent, from_text, intent, names


def test_meine_kollegin_kommt_doch_nicht_cancels_one_seat():
    i = city_intent("partial_cancel.eml")
    assert i.kind is IntentKind.CANCEL
    assert i.cancel_seats == 1 and i.party_size == 1

def test_a_named_colleague_who_does_not_come_after_all_is_cancelled_alone():
    i = intent("cancel_named_colleague.eml")
    assert i.kind == IntentKind.CANCEL
    assert names(i) == ["Tobias Okafor"]
    assert i.cancel_seats == 1

def test_a_colleague_named_at_registration_who_drops_out_is_cancelled_alone():
    i = intent("partial_cancel_named_earlier.eml")
    assert (i.kind, i.party_size) == (IntentKind.CANCEL, 1)
    assert [(a.name, a.email) for a in i.attendees] == [("Malte Hinrichs", None)]

def test_a_named_colleague_taken_off_the_list_is_the_one_cancelled():
    i = from_text("Unfortunately Dr. Ahmed Saleh will not be able to join us for the Forum "
                  "Arbeit, so please take him off the list – the other two of us are still "
                  "coming.\n\nKind regards,\nAda Lim")
    assert i.kind is IntentKind.CANCEL and names(i) == ["Ahmed Saleh"]
    assert i.party_size == 1
