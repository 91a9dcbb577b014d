"""classify() on the families of wordings behind the weaknesses the fourth hold-out corpus
showed: phishing that mentions registrations, casual registrations without a registration
verb, companions, titles in names, later corrections, surname-first display names."""

from __future__ import annotations

from mailbot.types import IntentKind
from tests.test_classify_families import from_text
from tests.test_classify_general import intent, names


def test_a_phishing_mail_asking_to_confirm_the_account_via_a_link_is_other_not_a_question():
    i = intent("phishing_confirm_account.eml")
    assert i.kind is IntentKind.OTHER and not i.has_question


def test_account_verification_calls_with_a_link_are_other_in_german_and_english():
    for body in ("Ihr Postfach ist fast voll. Konto jetzt bestätigen: https://x.example/verify?u=1",
                 "Please verify your account within 24 hours: https://x.example/login?id=2",
                 "Bitte verifizieren Sie Ihr Passwort hier: http://x.example/?p=3"):
        assert from_text(body, "Wichtig").kind is IntentKind.OTHER, body


def test_a_question_mark_inside_a_link_asks_nothing():
    i = from_text("Hier die Fotos vom letzten Mal: https://cloud.example/s?id=42\n\nViele Grüße\nAda")
    assert i.kind is IntentKind.OTHER


def test_a_casual_spoken_registration_from_a_phone_registers_the_sender():
    i = intent("casual_komm_gern.eml")
    assert i.kind is IntentKind.REGISTER and i.event == "werkraum-2028"
    assert i.party_size == 1 and names(i) == ["Julia Brandes"]


def test_coming_to_a_named_event_registers_without_a_registration_verb():
    for body in ("ich komm gern zum Werkraum im März.",
                 "wir kommen zum Forum Arbeit.",
                 "Beim Werkraum schaue ich gern vorbei.",
                 "ich schau beim Werkraum vorbei!",
                 "wir möchten gerne mit einer kleinen Gruppe aus unserem Sprachkurs zur Veranstaltung "
                 "„Werkraum Vielfalt“ am 2. März kommen.",
                 "Count me in for the Werkraum!",
                 "I'll come to the Werkraum in March.",
                 "We'd love to come to the Werkraum."):
        assert from_text(body).kind is IntentKind.REGISTER, body


def test_one_unnamed_person_brought_along_adds_a_seat_in_german_and_english():
    for body in ("ich melde mich für den Werkraum an und bringe unsere Auszubildende mit.",
                 "Hiermit melde ich mich zum Werkraum an. Meine Tochter möchte mich gerne begleiten, "
                 "bitte melden Sie sie ebenfalls an.",
                 "Ich möchte mit meinem Mann zum Werkraum kommen.",
                 "I'd like to register for the Werkraum, and I'll bring my daughter.",
                 "Please register me for the Werkraum. My colleague will join me."):
        i = from_text(body)
        assert (i.kind, i.party_size) == (IntentKind.REGISTER, 2), body


def test_wir_beide_and_both_of_us_are_two_seats():
    for body in ("wir beide möchten uns für den Werkraum anmelden.",
                 "Bitte melden Sie uns zwei für den Werkraum an.",
                 "Both of us would like to attend the Werkraum."):
        assert from_text(body).party_size == 2, body


def test_talking_with_a_colleague_or_bringing_papers_adds_no_seat():
    for body in ("Ich habe mit meiner Chefin gesprochen und melde mich für den Werkraum an.",
                 "Ich melde mich für den Werkraum an und bringe meine Unterlagen mit.",
                 "Wir haben zwei Wochen Urlaub, danach melde ich mich für den Werkraum an."):
        assert from_text(body).party_size == 1, body


def test_titles_are_never_names_and_a_listed_address_belongs_to_the_name_at_the_item_start():
    i = intent("titled_list_with_functions.eml")
    assert i.kind is IntentKind.REGISTER and i.party_size == 3
    assert sorted((a.name, a.email) for a in i.attendees) == [
        ("Jörg Mehnert", "joerg.mehnert@leipzig.example"),
        ("Katrin Wollny", "katrin.wollny@leipzig.example"),
        ("Rana Haddad", "rana.haddad@beirat-leipzig.example")]  # sorted: the sender comes first


def test_a_colleague_with_title_in_running_text_is_one_attendee():
    i = from_text("Für den Werkraum melde ich mich und meine Kollegin Frau Dr. Annette Stübe "
                  "(annette.stuebe@verein.example) an.")
    assert names(i) == ["Ada Lim", "Annette Stübe"] and i.party_size == 2


def test_an_all_caps_surname_first_in_the_display_name_is_turned_round():
    i = intent("caps_surname_display_name.eml")
    assert names(i) == ["Chinedu Okonkwo"]


def test_an_all_caps_surname_after_the_first_name_is_only_recased():
    from mailbot.classify.people import clean_display_name
    from tests.test_classify_general import RULES
    assert clean_display_name("Anna MÜLLER-LÜDENSCHEIDT", RULES) == "Anna Müller-Lüdenscheidt"
    assert clean_display_name("AWO Kreisverband", RULES) == "AWO Kreisverband"


def test_the_names_of_wir_beide_in_brackets_or_after_a_colon_are_both_attendees():
    for body in ("wir beide (Ada Lim und Fatma Çelik) möchten uns für den Werkraum anmelden.",
                 "Bitte melden Sie uns zwei für den Werkraum an: Ada Lim und Fatma Çelik.",
                 "The two of us (Ada Lim and Fatma Celik) would like to attend the Werkraum."):
        i = from_text(body)
        assert len(names(i)) == 2 and i.party_size == 2, body


def test_a_colleague_named_in_a_forwarded_registration_comes_along_with_its_author():
    i = intent("forwarded_with_colleague.eml")
    assert i.kind is IntentKind.REGISTER and i.event == "werkraum-2028"
    assert names(i) == ["Gülşen Toprak", "Dilek Arslan"] and i.party_size == 2


def test_x_und_ich_cancelling_cancels_both_in_german_and_english():
    for body in ("leider müssen meine Kollegin Claudia Behrens und ich unsere Teilnahme am Werkraum "
                 "absagen.",
                 "Unfortunately my colleague Sam Brook and I have to cancel our places for the Werkraum."):
        i = from_text(body, "Absage")
        assert i.kind is IntentKind.CANCEL, body
        assert len(i.attendees) == 2 and i.party_size == 2, body


def test_the_carrier_below_a_service_line_is_the_organisation():
    assert intent("service_line_above_carrier.eml").organization == "Caritasverband Hannover"
    i = from_text("ich melde mich für den Werkraum an.\n\nViele Grüße\nAda Lim\nFachbereich Soziales\n"
                  "Landkreis Harburg")
    assert i.organization == "Landkreis Harburg"


def test_an_english_signature_organisation_without_german_words_is_found():
    i = from_text("I would like to register for the Werkraum.\n\nBest wishes,\nAda Lim\n"
                  "Expat Women Mentoring Esslingen")
    assert i.organization == "Expat Women Mentoring Esslingen"


def test_a_later_correction_narrowing_the_list_wins_and_keeps_full_names():
    i = intent("later_correction_narrows.eml")
    assert i.kind is IntentKind.REGISTER
    assert names(i) == ["Ulrike Brandt", "Petra Lange"] and i.party_size == 2


def test_a_plural_role_names_every_colleague_of_the_list():
    i = from_text("Ich melde mich und meine Kolleginnen Regina Koch, Petra Lange und Dr. Eva Roth "
                  "für den Werkraum an.")
    assert sorted(names(i)) == ["Ada Lim", "Eva Roth", "Petra Lange", "Regina Koch"] and i.party_size == 4


def test_an_english_correction_narrows_too():
    i = from_text("Please register me and my colleagues Sam Brook and Lee Park for the Werkraum. "
                  "Sorry, correction: please register only Lee Park and me.")
    assert names(i) == ["Ada Lim", "Lee Park"] and i.party_size == 2


def test_a_numbered_item_of_a_quoted_list_names_the_event():
    i = intent("numbered_item_in_quote.eml")
    assert i.kind is IntentKind.REGISTER and i.event == "werkraum-2028"


def test_an_enumeration_of_who_comes_with_the_sender_in_it_adds_up():
    for body, n in (("wir möchten gerne mit einer kleinen Gruppe zum Werkraum kommen: meine Kollegin, ich "
                     "und fünf Teilnehmerinnen aus unserem Deutschkurs (B1).", 7),
                    ("We'd love to come to the Werkraum: my colleague, me and three women from our "
                     "course.", 5)):
        i = from_text(body)
        assert (i.kind, i.party_size) == (IntentKind.REGISTER, n), body


def test_a_sentence_with_ich_and_commas_that_is_no_enumeration_counts_nothing_extra():
    i = from_text("Hallo, ich melde mich für den Werkraum an, und fünf Minuten später schreibe ich wieder.")
    assert i.party_size == 1


def test_every_row_of_a_tab_separated_table_pairs_its_name_with_its_address():
    i = from_text("hiermit melde ich folgende Personen für den Werkraum an:\n\nName\tFunktion\tE-Mail\n"
                  "Anja Pfeiffer\tLeitung\tanja.pfeiffer@wob.example\n"
                  "Markus Thiel\tReferent\tmarkus.thiel@wob.example\n"
                  "Selin Acar\tPraktikantin\tselin.acar@wob.example\n\nViele Grüße\nAda Lim")
    assert [(a.name, a.email) for a in i.attendees] == [
        ("Anja Pfeiffer", "anja.pfeiffer@wob.example"), ("Markus Thiel", "markus.thiel@wob.example"),
        ("Selin Acar", "selin.acar@wob.example")] and i.party_size == 3


def test_an_organisation_inflected_in_running_text_is_put_back_in_the_nominative():
    i = from_text("ich komme mit meiner Kollegin vom Türkischen Frauenverein Linden zum Werkraum.")
    assert i.organization == "Türkischer Frauenverein Linden" and i.party_size == 2
