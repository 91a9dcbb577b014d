"""classify() on the families of wordings behind the weaknesses the fifth hold-out corpus
showed: mailbox-login phishing behind an HTML button, long event names inside "nehme … teil",
registrations only considered, a substitute taking an ill colleague's seat, "would it be
possible to sign me up", totals that count the sender in."""

from __future__ import annotations

from mailbot.types import IntentKind
from tests.test_classify_families import from_text


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


def test_a_long_event_name_between_nehme_and_teil_still_registers():
    body = ("vielen Dank für die Einladung. Ich nehme sehr gerne an der Tagung zur beruflichen\n"
            "Teilhabe zugewanderter Frauen im ländlichen Raum teil.\n\nGrüße\nAda Lim")
    assert from_text(body).kind is IntentKind.REGISTER


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


def test_a_substitute_for_an_ill_colleague_registers_the_sender():
    body = ("mein Kollege Tom Berger ist krank und kann beim Forum Arbeit nicht dabei sein. "
            "Ich übernehme seinen Platz, tragen Sie bitte dafür mich ein.\n\nAda Lim")
    i = from_text(body)
    assert i.kind is IntentKind.REGISTER
    assert [a.email for a in i.attendees] == ["ada.lim@verein.example"]


def test_would_it_be_possible_to_put_me_on_the_list_is_a_registration_not_a_question():
    body = "Would it be possible to put me on the list for the Forum Arbeit in July?\n\nAda Lim"
    i = from_text(body)
    assert i.kind is IntentKind.REGISTER and not i.has_question


def test_a_total_of_people_including_the_sender_books_that_many_seats():
    for body, n in (("wir möchten am Forum Arbeit teilnehmen: insgesamt sechs Kolleginnen, "
                     "mich eingeschlossen.\n\nAda Lim", 6),
                    ("We would like to attend the Forum Arbeit, four volunteers in all, "
                     "myself included.\n\nAda Lim", 4)):
        i = from_text(body)
        assert i.kind is IntentKind.REGISTER and i.party_size == n, body


def test_a_club_role_before_a_name_in_a_colon_list_is_not_part_of_the_name():
    body = ("wir melden uns für das Forum Arbeit an, wir kommen zu dritt: ich, unser "
            "Schriftführer Jonas Weber und unsere Kassenwartin Lea Brandt.\n\nAda Lim")
    i = from_text(body)
    assert i.kind is IntentKind.REGISTER and i.party_size == 3
    assert sorted(a.name for a in i.attendees) == ["Ada Lim", "Jonas Weber", "Lea Brandt"]


def test_a_dutch_signature_takes_the_municipality_not_the_policy_role_as_organisation():
    body = ("I would like to register for the Forum Arbeit.\n\nKind regards,\n\nAda Lim\n"
            "Beleidsmedewerker Integratie\nGemeente Zwolle\n")
    i = from_text(body)
    assert i.kind is IntentKind.REGISTER and i.organization == "Gemeente Zwolle"
