"""classify(): unsolicited mail that talks of logins, accounts or "Anmeldung" is `other` (never
answered), while a real confirmation of a registration still registers."""

from __future__ import annotations

from mailbot.types import IntentKind
from tests.understanding import from_text, intent


def test_a_sender_named_mail_administrator_without_bounce_wording_is_no_bounce():
    i = intent("phishing_admin_name.eml")
    assert i.kind not in (IntentKind.BOUNCE, IntentKind.REGISTER)

def test_a_phishing_mail_asking_to_confirm_the_account_via_a_link_is_other_not_a_question():
    i = intent("phishing_confirm_account.eml")
    assert i.kind is IntentKind.OTHER and not i.has_question

def test_account_verification_calls_with_a_link_are_other_in_german_and_english():
    for body in ("Ihr Postfach ist fast voll. Konto jetzt bestätigen: https://x.example/verify?u=1",
                 "Please verify your account within 24 hours: https://x.example/login?id=2",
                 "Bitte verifizieren Sie Ihr Passwort hier: http://x.example/?p=3"):
        assert from_text(body, "Wichtig").kind is IntentKind.OTHER, body

def test_automatic_wording_in_an_unsolicited_mail_is_other_but_never_answered():
    i = from_text("Bitte bestätigen Sie Ihre Anmeldung innerhalb von 24 Stunden: "
                  "http://login.example\n\nDiese Nachricht wurde automatisch erstellt.",
                  subject="Ihr Postfach wird gesperrt")
    assert i.kind is IntentKind.OTHER

def test_a_mailbox_login_confirmation_with_a_shouting_button_is_phishing_not_a_registration():
    body = ("Sehr geehrter Nutzer,\n\nIhr Webmail-Zugang läuft ab. Verifizieren Sie jetzt Ihre "
            "Anmeldung, sonst wird Ihr Konto gesperrt.\n\nHIER ANMELDEN\n\nIhr IT-Team")
    i = from_text(body, "Sicherheitshinweis")
    assert i.kind is IntentKind.OTHER and not i.has_question

def test_a_full_mailbox_asking_to_confirm_the_login_is_phishing_even_without_a_visible_link():
    body = ("Ihre Mailbox hat das Speicherlimit erreicht.\n\nBitte bestätigen Sie Ihre Anmeldung "
            "innerhalb von 48 Stunden, damit Ihr Postfach aktiv bleibt.")
    assert from_text(body, "Postfach").kind is IntentKind.OTHER

def test_confirming_a_registration_for_an_event_is_not_phishing():
    i = from_text("ich bestätige hiermit meine Anmeldung zum Forum Arbeit.\n\nViele Grüße\nAda Lim")
    assert i.kind is IntentKind.REGISTER
