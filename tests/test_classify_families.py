"""classify() on whole families of wordings (German and English) behind the weaknesses the
second hold-out corpus showed: absence notices, conditional registrations, verb-final seat
requests, companions without bullets, partial cancels, organisations in running text."""

from __future__ import annotations

from mailbot.classify import classify
from mailbot.parse import parse
from mailbot.parse.machine import text_markers
from mailbot.rulebook import Rules
from mailbot.types import Intent, IntentKind
from tests.test_classify_general import EVENTS, NOW, RULES, intent


def from_text(body: str, subject: str = "Forum") -> Intent:
    raw = ("From: Ada Lim <ada.lim@verein.example>\nTo: anmeldung@netzwerk-nord.example\n"
           f"Subject: {subject}\nMessage-ID: <x@verein.example>\nMIME-Version: 1.0\n"
           "Content-Type: text/plain; charset=utf-8\n\n" + body)
    return classify(parse(raw.encode("utf-8"), RULES), EVENTS, RULES, NOW)


def _auto(text: str, rules: Rules = RULES) -> bool:
    return bool(text_markers("", text, rules, False))


# --- absence notices and auto-replies without headers ---------------------------------------

def test_a_thanks_line_at_the_top_does_not_hide_a_maternity_leave_notice():
    assert intent("ooo_thanks_first_mutterschutz.eml").kind is IntentKind.AUTO_REPLY


def test_no_longer_with_the_organisation_is_an_auto_reply():
    assert intent("ooo_en_no_longer_with.eml").kind is IntentKind.AUTO_REPLY


def test_ill_and_back_at_work_on_a_date_is_an_auto_reply():
    assert intent("ooo_sick_back_on.eml").kind is IntentKind.AUTO_REPLY


def test_a_person_away_on_the_day_of_the_event_cancels():
    i = intent("away_that_day_cancels.eml")
    assert (i.kind, i.event) == (IntentKind.CANCEL, "werkraum-2028")


def test_our_own_subject_quoted_back_is_no_registration():
    assert intent("own_subject_thanks.eml").kind is IntentKind.OTHER


def test_absence_wordings_of_auto_responders_are_machine_signals():
    for text in (
        "Ich befinde mich bis voraussichtlich Juli 2028 in Elternzeit.",
        "Ich bin heute auf einer Fortbildung.",
        "Ich bin nicht mehr für die Gleichstellungsarbeit zuständig.",
        "Ab dem 1. Juli bin ich nicht mehr bei der Stadt Celle tätig.",
        "Ich bin ab Montag, den 4.3., wieder erreichbar.",
        "Während meiner Abwesenheit wird Ihre E-Mail nicht weitergeleitet.",
        "I'm on parental leave until March.",
        "I am away until 5 May.",
        "Please note that I have left the organisation.",
        "I am attending a conference and will reply when I return.",
    ):
        assert _auto(text), text


def test_a_person_who_is_away_on_the_day_or_asks_is_no_machine():
    for text in (
        "Ich bin an dem Tag leider im Urlaub und muss absagen.",
        "I am on leave that day, so I must cancel.",
        "Wird der Fachtag gestreamt? Ich bin an dem Tag auf Dienstreise.",
        "Ich bin nicht mehr für das Projekt zuständig, daher melde ich meine Nachfolgerin an.",
        "Falls ich krank werde – kann ich meinen Platz übertragen?",
    ):
        assert not _auto(text), text


# --- registrations that wait on an answer -----------------------------------------------------

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


# --- verb-final word order ----------------------------------------------------------------------

def test_seats_reserved_at_the_end_of_the_sentence_register_the_group():
    i = intent("verb_final_seats.eml")
    assert (i.kind, i.event, i.party_size) == (IntentKind.REGISTER, "werkraum-2028", 3)
    assert i.organization == "Elternnetz Walsrode"


def test_a_cancel_in_a_dass_clause_and_zu_streichen_cancels():
    i = intent("verb_final_cancel.eml")
    assert (i.kind, i.event) == (IntentKind.CANCEL, "forum-2028")


# --- companions and partial cancels --------------------------------------------------------------

def names(i: Intent) -> list[str]:
    return [a.name for a in i.attendees]


def test_titled_names_one_per_line_without_bullets_are_attendees():
    i = intent("names_one_per_line.eml")
    assert (i.kind, i.party_size) == (IntentKind.REGISTER, 3)
    assert names(i) == ["Mehmet Yıldız", "Derya Aslan", "Olga Petrenko"]


def test_a_group_withdrawing_for_all_four_cancels_everyone_named_in_brackets():
    i = intent("group_cancel_brackets.eml")
    assert (i.kind, i.party_size) == (IntentKind.CANCEL, 4)
    assert names(i) == ["Ilona Freitag", "Aylin Kaya", "Jonas Berg", "Mia Wendt"]


def test_a_colleague_named_at_registration_who_drops_out_is_cancelled_alone():
    i = intent("partial_cancel_named_earlier.eml")
    assert (i.kind, i.party_size) == (IntentKind.CANCEL, 1)
    assert [(a.name, a.email) for a in i.attendees] == [("Malte Hinrichs", None)]


# --- organisations in running text and after roles -------------------------------------------------

def test_an_organisation_after_a_role_in_the_genitive_is_put_in_the_nominative():
    assert intent("org_after_role_genitive.eml").organization == "Landkreis Heidekreis"


def test_an_english_org_after_with_the_is_found_and_an_event_title_is_no_organisation():
    i = intent("org_at_en_running_text.eml")
    assert (i.kind, i.organization) == (IntentKind.REGISTER, "Refugee Law Clinic Göttingen")


def test_a_role_word_in_front_of_the_signature_organisation_is_dropped():
    assert intent("org_role_line_signature.eml").organization == "Familienzentrum Soltau"


def test_compound_organisations_after_beim_and_vom_are_found():
    from mailbot.classify.people import org_in_text

    assert org_in_text("Ich bin Ehrenamtliche beim Frauennotruf Verden.", RULES) == \
        "Frauennotruf Verden"
    assert org_in_text("Wir kommen vom Türkischen Frauenstammtisch Celle.", RULES) == \
        "Türkischer Frauenstammtisch Celle"
    assert org_in_text("I run a group at Welcome Centre Lüneburg.", RULES) == \
        "Welcome Centre Lüneburg"
