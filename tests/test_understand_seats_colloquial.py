"""classify(): party size from colloquial totals and counted phrases ("+1", "zu fünft", "mich +
1 Kollegin", "me plus two colleagues", "a party of four"), with the sender counted in or not,
and totals reconciled with the people named."""

from __future__ import annotations

import pytest

from mailbot.classify.headcount import about_coming, headcount
from mailbot.types import IntentKind
from tests.understanding import RULES, from_text


@pytest.mark.parametrize("body, seats", [
    ("Hallo, ich bin beim Forum Arbeit dabei, +1.", 2),
    ("Ich komme gern zum Forum Arbeit, plus eins.", 2),
    ("Anmeldung Forum Arbeit für mich + 1 Kollegin, Name folgt.", 2),
    ("Anmeldung zum Forum Arbeit: ich + 2.", 3),
    ("Wir kommen zu fünft zum Forum Arbeit.", 5),
    ("Wir sind zu dritt und würden gern am Forum Arbeit teilnehmen.", 3),
    ("Ich melde mich zum Forum Arbeit an und bringe eine Begleitperson mit.", 2),
    ("Ich melde mich mit Begleitung zum Forum Arbeit an.", 2),
    ("Zum Forum Arbeit melden sich ich und zwei Kolleginnen aus der Beratung an.", 3),
    ("Ich möchte drei Personen aus unserem Team zum Forum Arbeit anmelden.", 3),
    ("Für mich und zwei weitere Personen bitte Plätze beim Forum Arbeit reservieren.", 3),
    ("Hiermit melde ich mich sowie meine Kollegin zum Forum Arbeit an.", 2),
    ("Ich melde mich zum Forum Arbeit an und bringe zwei Frauen aus dem Vorstand mit.", 3),
    ("Please register me plus two colleagues for the Forum Arbeit.", 3),
    ("There will be three of us at the Forum Arbeit, please register us.", 3),
    ("Please book a party of four for the Forum Arbeit.", 4),
    ("Please register myself and one colleague for the Forum Arbeit.", 2),
    ("I'll come to the Forum Arbeit with my husband.", 2),
    ("I'd like to sign up for the Forum Arbeit, me and my colleague.", 2),
])
def test_colloquial_totals_and_counted_phrases(body, seats):
    i = from_text(body)
    assert (i.kind, i.party_size) == (IntentKind.REGISTER, seats), (body, i.reasons)


@pytest.mark.parametrize("body", [
    "Ich melde mich zum Forum Arbeit an. Ich arbeite seit 2 Jahren mit drei Kolleginnen im Team.",
    "Ich melde mich zum Forum Arbeit an. Wir haben 20 Mitglieder im Verein.",
    "Ich melde mich zum Forum Arbeit an, am 6. Juli bin ich ab 10 Uhr da.",
    "Meine Kollegin hat mir den Hinweis weitergeleitet – ich melde mich für das Forum Arbeit an.",
    "Ich melde mich für das Forum Arbeit an, meine Kollegin kann leider nicht mitkommen.",
    "Ich habe mit meinem Chef gesprochen und melde mich für das Forum Arbeit an.",
])
def test_people_who_are_only_mentioned_add_no_seat(body):
    assert from_text(body).party_size == 1, body


def test_a_stated_total_wins_over_phrases_that_seem_to_add_up_to_more():
    i = from_text("Aus unserem Nähcafé würden insgesamt vier Frauen gern am Forum Arbeit "
                  "teilnehmen, mich eingeschlossen.")
    assert i.party_size == 4


def test_named_people_are_a_lower_bound_and_their_names_are_no_extra_seats():
    i = from_text("Hiermit melde ich mich und meine Kollegin Frau Dr. Selma Aksoy "
                  "(selma.aksoy@verein.example) zum Forum Arbeit an.")
    assert i.party_size == 2
    i = from_text("Zum Forum Arbeit melde ich unseren Mitarbeiter Herrn Jonas Weber sowie "
                  "Frau Mira Lenz an.")
    assert i.party_size >= 2 and any(r.startswith("seats: ") for r in i.reasons)


def test_a_plus_one_explained_in_brackets_is_one_companion():
    i = from_text("Bin beim Forum Arbeit dabei, +1 (meine Kollegin Jana kommt mit).")
    assert i.party_size == 2


def _count(text: str) -> tuple[int, bool]:
    h = headcount(about_coming([text], RULES), RULES)
    return h.others, h.self_out


@pytest.mark.parametrize("text, seats", [
    ("Ich melde für das Forum zwei Kolleginnen an (ich selbst nicht).", 2),
    ("Please register two of my colleagues for the forum; I won't attend myself.", 2),
])
def test_the_sender_who_stays_away_is_not_counted(text, seats):
    assert _count(text) == (seats, True)


def test_a_phone_number_after_a_plus_is_no_companion():
    assert _count("Ich melde mich an, erreichbar unter +49 511 123456.")[0] == 0


def test_what_is_left_of_a_group_is_the_first_total_after_nur_noch():
    i = from_text("Wir kommen nur noch zu zweit statt zu viert zum Forum Arbeit.")
    assert (i.kind, i.party_size) == (IntentKind.CANCEL, 2)
    i = from_text("Wir hatten uns zu fünft für das Forum Arbeit angemeldet, kommen jetzt aber nur "
                  "noch zu dritt.")
    assert (i.kind, i.party_size) == (IntentKind.CANCEL, 2)


@pytest.mark.parametrize("text", [
    "Ich melde mich zum Forum an, unser Verein hat 20 Mitglieder.",
    "Wie mit Frau Özkan besprochen, melde ich mich für das Forum an.",
    "Please register me for the forum – my manager asked me to attend.",
])
def test_people_outside_the_clause_about_coming_are_not_counted(text):
    assert _count(text)[0] == 0


def test_a_list_of_titled_names_counts_from_its_first_item():
    assert _count("Wir teilen mit, dass aus unserem Team Frau Jana Wolff und Herr Ole Brandt "
                  "am Forum teilnehmen.")[0] == 2


@pytest.mark.parametrize("body, seats", [
    ("Meine Kollegin und ich möchten am Forum Arbeit teilnehmen.", 2),
    ("My colleague and I would like to attend the Forum Arbeit.", 2),
    ("Ich würde gern mit einer Kollegin und einem Kollegen zum Forum Arbeit kommen.", 3),
    ("Hiermit melde ich mich + Begleitung für das Forum Arbeit an.", 2),
    ("Ich nehme am Forum Arbeit teil, meine Praktikantin möchte auch mitkommen.", 2),
    ("Bitte melden Sie für das Forum Arbeit drei Mitarbeiterinnen unseres Hauses an.", 3),
])
def test_first_items_of_lists_and_the_sender_only_when_a_clause_says_so(body, seats):
    assert from_text(body).party_size == seats, body


@pytest.mark.parametrize("body, kind, seats, names_in", [
    ("Ich melde mich zum Forum Arbeit an, zusammen mit meinem Sohn (16).\n\nAda Lim",
     IntentKind.REGISTER, 2, []),
    ("Count me and my two colleagues in for the Forum Arbeit!\n\nAda", IntentKind.REGISTER, 3, []),
    ("Forum Arbeit: ich und meine Kolleginnen Olena und Iryna kommen gern.\n\nAda Lim",
     IntentKind.REGISTER, 3, ["Olena", "Iryna"]),
    ("Leider können zwei von uns doch nicht zum Forum Arbeit kommen, wir sind also nur zu "
     "dritt.\n\nAda Lim", IntentKind.CANCEL, 2, []),
])
def test_companions_anywhere_in_a_sentence_about_coming_and_part_of_a_group(
        body, kind, seats, names_in):
    i = from_text(body)
    got = i.party_size if kind is IntentKind.REGISTER else i.cancel_seats
    assert (i.kind, got) == (kind, seats), (body, i.reasons)
    assert all(n in [a.name for a in i.attendees] for n in names_in)
