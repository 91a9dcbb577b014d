"""classify(): when a mail asks, when a question only comes along with a firm registration, and
when a registration waits on an answer (then it is a question)."""

from __future__ import annotations

import pytest

from mailbot.types import IntentKind
from tests.understanding import city_intent, from_text, intent


def test_a_registration_that_asks_is_registered_and_flagged():
    i = city_intent("outlook_en_reply.eml")
    assert i.kind is IntentKind.REGISTER and i.has_question
    assert "wheelchair" in i.question

def test_a_plain_registration_has_no_question():
    assert not city_intent("latin1_body.eml").has_question

def test_being_interested_in_attending_is_a_question_not_a_registration():
    assert intent("en_interested.eml").kind == IntentKind.QUESTION

def test_falls_ja_after_a_question_makes_the_registration_a_question():
    assert intent("conditional_de.eml").kind == IntentKind.QUESTION

def test_if_it_is_after_a_question_makes_the_registration_a_question():
    i = intent("conditional_en.eml")
    assert i.kind == IntentKind.QUESTION and i.has_question

def test_if_yes_after_a_question_about_interpreting_is_a_question():
    i = intent("if_yes_after_question.eml")
    assert (i.kind, i.has_question) == (IntentKind.QUESTION, True)

def test_before_i_sign_up_with_a_question_is_a_question():
    assert intent("before_i_sign_up_en.eml").kind is IntentKind.QUESTION

def test_offering_to_leave_the_seat_to_someone_else_is_a_question():
    assert intent("leave_early_or_give_seat.eml").kind is IntentKind.QUESTION

def test_a_firm_registration_with_a_side_question_stays_a_registration():
    i = from_text("I'd like to register for the Forum Arbeit. Is there parking near the venue, "
                  "or should I rather come by train?\n\nBest regards,\nAda Lim")
    assert (i.kind, i.has_question) == (IntentKind.REGISTER, True)
    i = from_text("Hiermit melde ich mich zum Forum Arbeit an. Wenn es Verpflegung gibt: ist sie "
                  "auch vegan?\n\nGruß\nAda Lim")
    assert i.kind is IntentKind.REGISTER

def test_a_question_mark_inside_a_link_asks_nothing():
    i = from_text("Hier die Fotos vom letzten Mal: https://cloud.example/s?id=42\n\nViele Grüße\nAda")
    assert i.kind is IntentKind.OTHER

def test_a_registration_that_waits_until_the_programme_suits_is_a_question():
    body = ("ich überlege noch, zum Forum Arbeit zu kommen. Gibt es ein Programm? Wenn das "
            "Programm für mich passt, würde ich mich gern anmelden.\n\nAda Lim")
    i = from_text(body)
    assert i.kind is IntentKind.QUESTION and i.has_question

def test_a_maybe_group_that_must_still_agree_internally_is_a_question():
    body = ("sind beim Forum Arbeit noch freie Plätze? Wir würden eventuell mit drei Leuten "
            "teilnehmen, das müssen wir im Team noch abstimmen. Bis wann sollten wir uns "
            "anmelden?\n\nAda Lim")
    i = from_text(body)
    assert i.kind is IntentKind.QUESTION and i.has_question

def test_would_it_be_possible_to_put_me_on_the_list_is_a_registration_not_a_question():
    body = "Would it be possible to put me on the list for the Forum Arbeit in July?\n\nAda Lim"
    i = from_text(body)
    assert i.kind is IntentKind.REGISTER and not i.has_question



_REG_DE = "Hallo,\n\nich melde mich für das Forum Arbeit an. {}\n\nViele Grüße\nAda Lim"
_REG_EN = "Hello,\n\nI'd like to register for the Forum Arbeit. {}\n\nBest regards,\nAda Lim"


@pytest.mark.parametrize("asks, mail, sentence", [
 (False, _REG_DE, "Für Rückfragen stehe ich gern zur Verfügung."),
 (False, _REG_DE, "Bitte lassen Sie mich wissen, falls Sie noch etwas von mir brauchen."),
 (False, _REG_DE, "Über eine kurze Bestätigung würde ich mich freuen."),
 (False, _REG_DE, "Könnten Sie mir bitte eine Anmeldebestätigung schicken?"),
 (False, _REG_DE, "Melden Sie sich gern, wenn noch etwas fehlt."),
 (False, _REG_DE, "Ich freue mich auf den Austausch!"),
 (False, _REG_DE, "Sollten Sie noch Fragen haben, erreichen Sie mich unter 0123 45678."),
 (True, _REG_DE, "Gibt es vor Ort eine Kinderbetreuung?"),
 (True, _REG_DE, "Außerdem wüsste ich gern, ob es eine Teilnahmebescheinigung gibt."),
 (True, _REG_DE, "Ist der Raum barrierefrei zugänglich?"),
 (False, _REG_EN, "Please let me know if you need any further information."),
 (False, _REG_EN, "Could you please send me a short confirmation?"),
 (False, _REG_EN, "Feel free to contact me if anything is missing."),
 (False, _REG_EN, "Looking forward to it!"),
 (False, _REG_EN, "Don't hesitate to reach out with any questions."),
 (True, _REG_EN, "Will there be a vegetarian option for lunch?"),
 (True, _REG_EN, "I was also wondering whether the slides will be shared afterwards."),
 (False, "Liebe Organisatorinnen,\n\nwäre es möglich, mich für das Forum Arbeit anzumelden? "
         "Vielen Dank im Voraus!\n\nAda Lim", ""),
 (False, "Hallo,\n\nkönnten Sie mich bitte für das Forum Arbeit eintragen?\n\nDanke, Ada Lim", ""),
 (False, "Hi,\n\ncould you please sign me up for the Forum Arbeit?\n\nThanks, Ada", ""),
])
def test_a_request_an_offer_of_help_or_an_indirect_question(asks, mail, sentence):
    """Only a question for the coordinators is flagged: not a registration asked as a
    question, not the confirmation mailbot sends anyway, not an offer of help; an indirect
    question without a question mark is one."""
    i = from_text(mail.format(sentence))
    assert bool(i.has_question) is asks, (sentence or mail, i.question)
