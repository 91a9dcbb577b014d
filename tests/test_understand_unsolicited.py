"""classify(): unsolicited commercial offers (catering, SEO, software, agencies, interpreters,
printers, photographers, venues, recruiters) are `other` and never answered, also when they ask
a question or end in an "Abmelden"/"unsubscribe" footer; a participant who registers, cancels or
asks about the catering is not caught (rule: mailbot/classify/offers_unsolicited.py, its words
and weights: rules/de|en/unsolicited.toml, rules/unsolicited.toml)."""

from __future__ import annotations

import pytest

from mailbot.classify import chain
from mailbot.classify.offers_unsolicited import UnsolicitedOffer
from mailbot.types import Intent, IntentKind
from tests.understanding import from_text, intent

OFFERS = [
    "offer_catering_de.eml",             # asks how many guests
    "offer_seo_en.eml",                  # asks for a call
    "offer_software_de_abmelden.eml",    # "Abmelden" footer, "Haben Sie Fragen?"
    "offer_interpreting_de.eml",         # asks about plans for 2028
    "offer_print_de.eml",                # asks about folders and give-aways
    "offer_photographer_en.eml",         # asks whether there is a photographer
    "offer_venue_de.eml",                # asks for a visit
    "offer_recruiter_en.eml",            # asks for a brief call
    "offer_agency_de.eml",               # asks when a meeting would suit
    "offer_catering_en_unsubscribe.eml",  # unsubscribe footer, asks to send the menu
]
GENUINE = {
    "genuine_register_with_question_de.eml": IntentKind.REGISTER,
    "genuine_register_company_signature.eml": IntentKind.REGISTER,
    "genuine_vegan_catering_question.eml": IntentKind.QUESTION,
    "genuine_cancel_de.eml": IntentKind.CANCEL,
    "genuine_invoice_en.eml": IntentKind.QUESTION,
    "genuine_danke_fuer_das_angebot.eml": IntentKind.REGISTER,
    "genuine_register_en_for_your_event.eml": IntentKind.REGISTER,
}


def _offer(i: Intent) -> bool:
    return any(r.startswith("unsolicited offer") for r in i.reasons)


@pytest.mark.parametrize("name", OFFERS)
def test_an_unsolicited_offer_is_other_and_never_a_question(name: str):
    i = intent(f"unsolicited/{name}")
    assert i.kind is IntentKind.OTHER, i.reasons
    assert _offer(i), i.reasons
    assert not i.has_question


@pytest.mark.parametrize(("name", "kind"), sorted(GENUINE.items()))
def test_a_participant_mentioning_offers_catering_or_prices_is_not_caught(name: str,
                                                                           kind: IntentKind):
    i = intent(f"unsolicited/{name}")
    assert i.kind is kind, i.reasons
    assert not _offer(i)


def test_the_reason_names_the_signals_that_were_found():
    i = intent("unsolicited/offer_software_de_abmelden.eml")
    reason = next(r for r in i.reasons if r.startswith("unsolicited offer"))
    assert "footer" in reason and "score" in reason


def test_one_signal_alone_is_no_offer_however_often_it_occurs():
    body = ("Hallo,\n\nwie ist das Catering beim Forum Arbeit geplant? Gibt es ein Buffet oder "
            "Fingerfood, und sind die Kaffeepausen im Preis enthalten?\n\nGruß\nAda")
    i = from_text(body, "Catering Forum")
    assert i.kind is IntentKind.QUESTION and not _offer(i)


def test_a_registration_for_oneself_is_never_an_offer_even_with_vendor_words():
    body = ("Sehr geehrte Damen und Herren,\n\nwir sind eine Eventagentur und bieten Catering "
            "und Fotografie für Ihre Veranstaltungen. Ich melde mich trotzdem privat für das "
            "Forum Arbeit an. Gibt es dort Kaffeepausen?\n\nLena Vogt")
    i = from_text(body, "Anmeldung Forum Arbeit")
    assert i.kind is IntentKind.REGISTER and not _offer(i)


def test_a_cancellation_of_ones_own_seat_is_not_an_offer():
    body = ("Hallo,\n\nich muss mich leider vom Forum Arbeit abmelden. Unsere Agentur hat an dem "
            "Tag einen Catering-Auftrag für eine andere Veranstaltung.\n\nViele Grüße\nLena Vogt")
    assert from_text(body, "Absage").kind is IntentKind.CANCEL


def test_an_abmelden_footer_alone_never_cancels():
    body = ("Liebe Freundinnen und Freunde,\n\nunser Sommerfest findet am 3. Juli im "
            "Stadtteilzentrum statt. Alle sind herzlich eingeladen.\n\nEuer Team vom "
            "Nachbarschaftsverein\n\nVom Newsletter abmelden: https://nachbarn.example/abmelden")
    i = from_text(body, "Sommerfest")
    assert i.kind is IntentKind.OTHER, i.reasons
    assert "marketing footer" in " ".join(i.reasons)


def test_without_the_rule_the_footer_would_read_as_a_cancellation(monkeypatch):
    """The regression the rule guards: the rules alone read "abmelden" in the footer as a
    cancellation (the learned model, when enabled, may only rescue it by chance)."""
    body = ("Liebe Freundinnen und Freunde,\n\nunser Sommerfest findet am 3. Juli statt.\n\n"
            "Vom Newsletter abmelden: https://nachbarn.example/abmelden")
    without = [r for r in chain.CHAIN if not isinstance(r, UnsolicitedOffer)]
    monkeypatch.setattr(chain, "CHAIN", without)
    assert "cancels" in from_text(body, "Sommerfest").reasons


def test_a_real_cancellation_with_a_company_footer_still_cancels():
    body = ("Hallo,\n\nich kann leider nicht am Forum Arbeit teilnehmen, bitte streichen Sie "
            "mich von der Liste.\n\nViele Grüße\nAda Lim\n\nNewsletter abbestellen: "
            "https://verein.example/nl")
    assert from_text(body, "Absage Forum Arbeit").kind is IntentKind.CANCEL


def test_the_offer_rule_stands_right_after_phishing_in_the_chain():
    names = [r.name for r in chain.CHAIN]
    assert names.index("unsolicited-offer") == names.index("phishing") + 1


def test_a_person_asking_to_be_unsubscribed_and_erased_is_no_footer():
    body = ("Hi,\n\nplease unsubscribe me and erase everything you have stored about me "
            "(GDPR).\n\nThanks\nAda")
    assert from_text(body, "Unsubscribe").kind is IntentKind.ERASE
