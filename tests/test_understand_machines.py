"""classify(): auto-replies and absence notices (with or without headers), calendar and ticket
acknowledgements, our own mail quoted back: never answered, no event, no attendees."""

from __future__ import annotations

from mailbot.types import IntentKind
from tests.understanding import auto, city_intent, intent


def test_an_out_of_office_without_headers_quoting_anmeldung_is_an_auto_reply():
    assert city_intent("ooo_no_headers.eml").kind is IntentKind.AUTO_REPLY

def test_an_abwesenheitsnotiz_is_an_auto_reply():
    assert city_intent("abwesenheitsnotiz.eml").kind is IntentKind.AUTO_REPLY

def test_a_thanks_line_at_the_top_does_not_hide_a_maternity_leave_notice():
    assert intent("ooo_thanks_first_mutterschutz.eml").kind is IntentKind.AUTO_REPLY

def test_no_longer_with_the_organisation_is_an_auto_reply():
    assert intent("ooo_en_no_longer_with.eml").kind is IntentKind.AUTO_REPLY

def test_ill_and_back_at_work_on_a_date_is_an_auto_reply():
    assert intent("ooo_sick_back_on.eml").kind is IntentKind.AUTO_REPLY

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
        assert auto(text), text

def test_a_person_who_is_away_on_the_day_or_asks_is_no_machine():
    for text in (
        "Ich bin an dem Tag leider im Urlaub und muss absagen.",
        "I am on leave that day, so I must cancel.",
        "Wird der Fachtag gestreamt? Ich bin an dem Tag auf Dienstreise.",
        "Ich bin nicht mehr für das Projekt zuständig, daher melde ich meine Nachfolgerin an.",
        "Falls ich krank werde – kann ich meinen Platz übertragen?",
    ):
        assert not auto(text), text

def test_a_calendar_reply_is_automatic_mail():
    i = intent("calendar_reply.eml")
    assert i.kind == IntentKind.AUTO_REPLY

def test_a_ticket_system_acknowledgement_is_an_auto_reply():
    assert intent("ticket_acknowledgement.eml").kind is IntentKind.AUTO_REPLY

def test_our_own_subject_quoted_back_is_no_registration():
    assert intent("own_subject_thanks.eml").kind is IntentKind.OTHER

def test_machines_get_no_event_and_no_attendees():
    for name in ("dsn_mixed.eml", "ooo_no_headers.eml", "list_mail.eml"):
        i = city_intent(name)
        assert i.kind.is_machine or i.kind is IntentKind.OTHER
        assert i.attendees == () and i.party_size == 0
