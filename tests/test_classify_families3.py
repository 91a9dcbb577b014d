"""classify() on the families of wordings behind the weaknesses the third hold-out corpus
showed: groups of others with the sender going along, thanks lines on top, events already
running, cancellations for someone else, requests to act, ticket acknowledgements."""

from __future__ import annotations

from datetime import datetime

from mailbot.classify import classify
from mailbot.parse import parse
from mailbot.types import IntentKind
from tests.test_classify_families import from_text
from tests.test_classify_general import EVENTS, FIXTURES, RULES, TZ, intent, names


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


def test_a_thanks_line_on_top_is_no_sign_off_and_the_registration_below_counts():
    i = intent("thanks_on_top_then_registration.eml")
    assert i.kind is IntentKind.REGISTER and i.event == "fachtag-2028"
    assert i.organization == "Landkreis Harburg"


def test_thanks_lines_on_top_in_both_languages_keep_the_text_below():
    for thanks in ("Danke für die Info!", "Vielen Dank für die Einladung.",
                   "Thanks for the quick reply!"):
        mail = parse((f"From: A <a@b.example>\nSubject: x\n\n{thanks}\n\nPlease sign me up "
                      "for the Forum Arbeit in July, together with\nmy colleague.\n\n"
                      "Best regards\nAda Lim\n").encode(), RULES)
        assert "sign me up" in mail.text, thanks


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


def test_a_named_colleague_taken_off_the_list_is_the_one_cancelled():
    i = from_text("Unfortunately Dr. Ahmed Saleh will not be able to join us for the Forum "
                  "Arbeit, so please take him off the list – the other two of us are still "
                  "coming.\n\nKind regards,\nAda Lim")
    assert i.kind is IntentKind.CANCEL and names(i) == ["Ahmed Saleh"]
    assert i.party_size == 1


def test_an_office_cancelling_for_the_mayor_cancels_the_mayor():
    i = from_text("Herr Bürgermeister Tobias Renner muss seine Teilnahme am Forum Arbeit "
                  "leider absagen.\n\nMit freundlichen Grüßen\nIm Auftrag")
    assert i.kind is IntentKind.CANCEL and names(i) == ["Tobias Renner"]


def test_a_request_to_transfer_a_registration_is_no_question():
    i = from_text("I have to pull out of the Forum Arbeit. My colleague Priya Raman "
                  "(priya.raman@verein.example) will take my place – could you transfer my "
                  "registration to her?\n\nThanks,\nAda Lim")
    assert i.kind is IntentKind.REGISTER and not i.has_question


def test_a_ticket_system_acknowledgement_is_an_auto_reply():
    assert intent("ticket_acknowledgement.eml").kind is IntentKind.AUTO_REPLY


# --- names and organisations from structured or unusual places ------------------------------

def test_a_web_form_relayed_by_the_website_registers_the_person_in_its_fields():
    i = intent("webform_relay.eml")
    assert i.kind is IntentKind.REGISTER
    assert [(a.name, a.email) for a in i.attendees] == [
        ("Lena Vogt", "lena.vogt@frauenhaus-stade.example")]
    assert i.organization == "Frauenhaus Stade e.V." and i.party_size == 1


def test_surname_first_list_lines_are_turned_round():
    i = from_text("Für das Forum Arbeit melde ich folgende Kolleginnen an:\n\n"
                  "1) Brandt, Lea – lea.brandt@verein.example\n"
                  "2) Okafor, Chidi – chidi.okafor@verein.example\n\n"
                  "Ich selbst kann leider nicht.\n\nViele Grüße\nAda Lim\n"
                  "Fachbereichsleitung Soziales\nStadt Buxtehude")
    assert names(i) == ["Lea Brandt", "Chidi Okafor"]
    assert i.organization == "Stadt Buxtehude"


def test_a_club_office_before_a_name_makes_a_companion():
    i = from_text("We would like to register for the Forum Arbeit. There will be three of us: "
                  "myself, our treasurer Amara Diallo, and one volunteer.\n\nBest,\nAda Lim")
    assert names(i) == ["Ada Lim", "Amara Diallo"] and i.party_size == 3


def test_a_full_name_and_organisation_only_in_the_subject_are_used():
    raw = ("From: \"A. Lim-Berger\" <a.limberger@verein.example>\nTo: x@y.example\n"
           "Subject: Anmeldung Forum Arbeit – Ada Lim-Berger, Diakonie Stade\n\n"
           "Tel. 04141 12345\n").encode()
    i = classify(parse(raw, RULES), EVENTS, RULES, datetime(2028, 1, 10, 9, tzinfo=TZ))
    assert names(i) == ["Ada Lim-Berger"] and i.organization == "Diakonie Stade"


def test_a_webde_quote_block_with_gesendet_first_is_cut_whole():
    mail = parse((FIXTURES / "webde_quote_sent_first.eml").read_bytes(), RULES)
    assert "Gesendet" not in mail.text and "Betreff" in mail.quoted
    assert intent("webde_quote_sent_first.eml").organization == "Migrantinnenverein Celle e.V."


def test_automatic_wording_in_an_unsolicited_mail_is_other_but_never_answered():
    i = from_text("Bitte bestätigen Sie Ihre Anmeldung innerhalb von 24 Stunden: "
                  "http://login.example\n\nDiese Nachricht wurde automatisch erstellt.",
                  subject="Ihr Postfach wird gesperrt")
    assert i.kind is IntentKind.OTHER


def test_a_group_withdrawing_its_whole_registration_cancels_all_its_seats():
    for body, seats in (
            ("Leider müssen wir unsere Anmeldung für das Forum Arbeit (drei Personen aus "
             "unserem Team) komplett zurückziehen.", 3),
            ("We have to withdraw our whole registration for the Forum Arbeit (four people "
             "from our centre).", 4)):
        i = from_text(body + "\n\nViele Grüße\nAda Lim")
        assert i.kind is IntentKind.CANCEL and i.party_size == seats, body
