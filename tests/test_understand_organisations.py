"""classify(): the organisation of a registration, from running text (put back in the nominative)
and from signatures (without roles, offices or service lines)."""

from __future__ import annotations

from mailbot.types import IntentKind
from tests.understanding import RULES, from_text, intent


def test_an_organisation_in_running_text_is_put_back_in_the_nominative():
    i = intent("org_in_running_text.eml")
    assert i.organization == "Interkultureller Frauenverein Celle"
    assert i.party_size == 2

def test_an_organisation_inflected_in_running_text_is_put_back_in_the_nominative():
    i = from_text("ich komme mit meiner Kollegin vom Türkischen Frauenverein Linden zum Werkraum.")
    assert i.organization == "Türkischer Frauenverein Linden" and i.party_size == 2

def test_an_organisation_after_a_role_in_the_genitive_is_put_in_the_nominative():
    assert intent("org_after_role_genitive.eml").organization == "Landkreis Heidekreis"

def test_compound_organisations_after_beim_and_vom_are_found():
    from mailbot.classify.people import org_in_text

    assert org_in_text("Ich bin Ehrenamtliche beim Frauennotruf Verden.", RULES) == \
        "Frauennotruf Verden"
    assert org_in_text("Wir kommen vom Türkischen Frauenstammtisch Celle.", RULES) == \
        "Türkischer Frauenstammtisch Celle"
    assert org_in_text("I run a group at Welcome Centre Lüneburg.", RULES) == \
        "Welcome Centre Lüneburg"

def test_an_english_org_after_with_the_is_found_and_an_event_title_is_no_organisation():
    i = intent("org_at_en_running_text.eml")
    assert (i.kind, i.organization) == (IntentKind.REGISTER, "Refugee Law Clinic Göttingen")

def test_a_signature_line_with_treff_is_the_organisation():
    assert intent("org_signature_treff.eml").organization == "Stadtteiltreff Kronsberg"

def test_a_role_word_in_front_of_the_signature_organisation_is_dropped():
    assert intent("org_role_line_signature.eml").organization == "Familienzentrum Soltau"

def test_the_carrier_below_a_service_line_is_the_organisation():
    assert intent("service_line_above_carrier.eml").organization == "Caritasverband Hannover"
    i = from_text("ich melde mich für den Werkraum an.\n\nViele Grüße\nAda Lim\nFachbereich Soziales\n"
                  "Landkreis Harburg")
    assert i.organization == "Landkreis Harburg"

def test_an_english_signature_organisation_without_german_words_is_found():
    i = from_text("I would like to register for the Werkraum.\n\nBest wishes,\nAda Lim\n"
                  "Expat Women Mentoring Esslingen")
    assert i.organization == "Expat Women Mentoring Esslingen"

def test_a_dutch_signature_takes_the_municipality_not_the_policy_role_as_organisation():
    body = ("I would like to register for the Forum Arbeit.\n\nKind regards,\n\nAda Lim\n"
            "Beleidsmedewerker Integratie\nGemeente Zwolle\n")
    i = from_text(body)
    assert i.kind is IntentKind.REGISTER and i.organization == "Gemeente Zwolle"
