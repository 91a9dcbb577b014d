"""classify(): who the attendees are: the sender, colleagues with and without addresses, titles,
roles and job titles, lists, tables, subjects, web forms, later corrections."""

from __future__ import annotations

from datetime import datetime

from mailbot.classify import classify
from mailbot.parse import parse
from mailbot.types import Attendee, IntentKind
from tests.understanding import EVENTS, RULES, TZ, city_intent, emails, from_text, intent, names


def test_the_sender_is_the_attendee_with_the_name_from_nachname_vorname():
    i = city_intent("cp1252_body.eml")
    assert i.attendees == (Attendee("Anne Große", "anne.grosse@frauenhaus-ol.example"),)
    assert i.organization == "Frauenhaus Oldenburg"

def test_a_colleague_with_her_own_address_is_registered_too():
    i = city_intent("colleagues_with_addresses.eml")
    assert emails(i) == ["dana.wolf@gleichstellung-cux.example",
                         "a.yilmaz@gleichstellung-cux.example"]
    assert i.attendees[1].name == "Aylin Yılmaz"
    assert i.party_size == 2

def test_an_office_registering_the_boss_registers_only_the_boss():
    i = city_intent("boss.eml")
    assert i.attendees == (Attendee("Emre Kaya", "e.kaya@paritaet-hb.example"),)
    assert i.organization == "Paritätischer Wohlfahrtsverband Bremen"

def test_two_colleagues_but_not_the_sender():
    i = city_intent("two_colleagues_not_sender.eml")
    assert i.attendees == (Attendee("Sara Haddad", "s.haddad@jobcenter-verden.example"),
                           Attendee("Julia Brenner", None))
    assert i.party_size == 2

def test_someone_who_only_recommended_the_event_is_no_attendee():
    i = intent("recommender.eml")
    assert names(i) == ["Nina Vogel"] and i.party_size == 1

def test_a_job_title_is_no_part_of_the_name_and_the_office_is_no_organisation():
    i = intent("job_title_office.eml")
    assert i.attendees == (Attendee("Ute Brinkmann", "ute.brinkmann@lk-nienburg.example"),)
    assert i.organization == "Landkreis Nienburg"

def test_titled_names_one_per_line_without_bullets_are_attendees():
    i = intent("names_one_per_line.eml")
    assert (i.kind, i.party_size) == (IntentKind.REGISTER, 3)
    assert names(i) == ["Mehmet Yıldız", "Derya Aslan", "Olga Petrenko"]

def test_a_club_office_before_a_name_makes_a_companion():
    i = from_text("We would like to register for the Forum Arbeit. There will be three of us: "
                  "myself, our treasurer Amara Diallo, and one volunteer.\n\nBest,\nAda Lim")
    assert names(i) == ["Ada Lim", "Amara Diallo"] and i.party_size == 3

def test_a_club_role_before_a_name_in_a_colon_list_is_not_part_of_the_name():
    body = ("wir melden uns für das Forum Arbeit an, wir kommen zu dritt: ich, unser "
            "Schriftführer Jonas Weber und unsere Kassenwartin Lea Brandt.\n\nAda Lim")
    i = from_text(body)
    assert i.kind is IntentKind.REGISTER and i.party_size == 3
    assert sorted(a.name for a in i.attendees) == ["Ada Lim", "Jonas Weber", "Lea Brandt"]

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

def test_the_names_of_wir_beide_in_brackets_or_after_a_colon_are_both_attendees():
    for body in ("wir beide (Ada Lim und Fatma Çelik) möchten uns für den Werkraum anmelden.",
                 "Bitte melden Sie uns zwei für den Werkraum an: Ada Lim und Fatma Çelik.",
                 "The two of us (Ada Lim and Fatma Celik) would like to attend the Werkraum."):
        i = from_text(body)
        assert len(names(i)) == 2 and i.party_size == 2, body

def test_a_plural_role_names_every_colleague_of_the_list():
    i = from_text("Ich melde mich und meine Kolleginnen Regina Koch, Petra Lange und Dr. Eva Roth "
                  "für den Werkraum an.")
    assert sorted(names(i)) == ["Ada Lim", "Eva Roth", "Petra Lange", "Regina Koch"] and i.party_size == 4

def test_surname_first_list_lines_are_turned_round():
    i = from_text("Für das Forum Arbeit melde ich folgende Kolleginnen an:\n\n"
                  "1) Brandt, Lea – lea.brandt@verein.example\n"
                  "2) Okafor, Chidi – chidi.okafor@verein.example\n\n"
                  "Ich selbst kann leider nicht.\n\nViele Grüße\nAda Lim\n"
                  "Fachbereichsleitung Soziales\nStadt Buxtehude")
    assert names(i) == ["Lea Brandt", "Chidi Okafor"]
    assert i.organization == "Stadt Buxtehude"

def test_every_row_of_a_tab_separated_table_pairs_its_name_with_its_address():
    i = from_text("hiermit melde ich folgende Personen für den Werkraum an:\n\nName\tFunktion\tE-Mail\n"
                  "Anja Pfeiffer\tLeitung\tanja.pfeiffer@wob.example\n"
                  "Markus Thiel\tReferent\tmarkus.thiel@wob.example\n"
                  "Selin Acar\tPraktikantin\tselin.acar@wob.example\n\nViele Grüße\nAda Lim")
    assert [(a.name, a.email) for a in i.attendees] == [
        ("Anja Pfeiffer", "anja.pfeiffer@wob.example"), ("Markus Thiel", "markus.thiel@wob.example"),
        ("Selin Acar", "selin.acar@wob.example")] and i.party_size == 3

def test_an_all_caps_surname_first_in_the_display_name_is_turned_round():
    i = intent("caps_surname_display_name.eml")
    assert names(i) == ["Chinedu Okonkwo"]

def test_an_all_caps_surname_after_the_first_name_is_only_recased():
    from mailbot.classify.people import clean_display_name
    assert clean_display_name("Anna MÜLLER-LÜDENSCHEIDT", RULES) == "Anna Müller-Lüdenscheidt"
    assert clean_display_name("AWO Kreisverband", RULES) == "AWO Kreisverband"

def test_a_full_name_and_organisation_only_in_the_subject_are_used():
    raw = ("From: \"A. Lim-Berger\" <a.limberger@verein.example>\nTo: x@y.example\n"
           "Subject: Anmeldung Forum Arbeit – Ada Lim-Berger, Diakonie Stade\n\n"
           "Tel. 04141 12345\n").encode()
    i = classify(parse(raw, RULES), EVENTS, RULES, datetime(2028, 1, 10, 9, tzinfo=TZ))
    assert names(i) == ["Ada Lim-Berger"] and i.organization == "Diakonie Stade"

def test_a_web_form_relayed_by_the_website_registers_the_person_in_its_fields():
    i = intent("webform_relay.eml")
    assert i.kind is IntentKind.REGISTER
    assert [(a.name, a.email) for a in i.attendees] == [
        ("Lena Vogt", "lena.vogt@frauenhaus-stade.example")]
    assert i.organization == "Frauenhaus Stade e.V." and i.party_size == 1

def test_a_later_correction_narrowing_the_list_wins_and_keeps_full_names():
    i = intent("later_correction_narrows.eml")
    assert i.kind is IntentKind.REGISTER
    assert names(i) == ["Ulrike Brandt", "Petra Lange"] and i.party_size == 2

def test_an_english_correction_narrows_too():
    i = from_text("Please register me and my colleagues Sam Brook and Lee Park for the Werkraum. "
                  "Sorry, correction: please register only Lee Park and me.")
    assert names(i) == ["Ada Lim", "Lee Park"] and i.party_size == 2
