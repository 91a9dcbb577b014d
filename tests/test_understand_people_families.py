"""classify(): attendees in the families that failed on unseen mail: companions named without an
address, one person counted once, who of sender and colleagues comes, titles and degrees, and
names of many origins (judged by the given-name lexicon, not by hand lists)."""

from __future__ import annotations

import pytest

from mailbot.classify import classify
from mailbot.parse import parse
from mailbot.types import Attendee, Intent, IntentKind
from tests.understanding import EVENTS, NOW, RULES, from_text


def mail(body: str, sender: str = "Jolanta Kowalczyk <j.kowalczyk@frauennetz-lg.example>",
         subject: str = "Netzwerktreffen", cc: str = "") -> Intent:
    raw = (f"From: {sender}\nTo: anmeldung@netzwerk-nord.example\n"
           + (f"Cc: {cc}\n" if cc else "")
           + f"Subject: {subject}\nMessage-ID: <p@frauennetz-lg.example>\nMIME-Version: 1.0\n"
           "Content-Type: text/plain; charset=utf-8\n\n" + body)
    return classify(parse(raw.encode("utf-8"), RULES), EVENTS, RULES, NOW)


def people(i: Intent) -> list[tuple[str, str | None]]:
    return [(a.name, a.email) for a in i.attendees]


ME = ("Jolanta Kowalczyk", "j.kowalczyk@frauennetz-lg.example")


# 1. companions named without an address

def test_a_colleague_called_by_the_given_name_alone_comes_along():
    i = mail("Hallo,\n\nich bin beim Netzwerktreffen in Lüneburg dabei und mein Kollege Bogdan "
             "kommt mit.\n\nGruß\nJolanta")
    assert people(i) == [ME, ("Bogdan", None)]


def test_a_husband_named_by_his_given_name_carries_the_family_name():
    i = mail("Guten Tag,\n\nzum Netzwerktreffen am 4. Mai komme ich gern mit meinem Mann "
             "Mirosław.\n\nViele Grüße\nJolanta Kowalczyk")
    assert people(i) == [ME, ("Mirosław Kowalczyk", None)]


def test_a_treasurer_named_in_the_sentence_after_the_registration():
    i = mail("Sehr geehrte Damen und Herren,\n\nfür das Netzwerktreffen in Lüneburg melden wir "
             "uns an. Wir sind zu zweit: unsere Schatzmeisterin Nkechi Obi-Eze und ich.\n\n"
             "Mit freundlichen Grüßen\nJolanta Kowalczyk")
    assert people(i) == [ME, ("Nkechi Obi-Eze", None)]


def test_names_after_a_label_in_a_form_like_mail():
    i = mail("Anmeldung Netzwerktreffen 04.05.2028\n\nPersonen: 2\nNamen: Jolanta Kowalczyk, "
             "Thi Hoa Pham\nVerein: Frauennetz Lüneburg\n\nGruß\nJolanta Kowalczyk")
    assert people(i) == [ME, ("Thi Hoa Pham", None)]


def test_a_group_named_right_after_wir():
    i = mail("Guten Tag,\n\nwir, Yonas Tesfamariam und Jolanta Kowalczyk, möchten uns zum "
             "Netzwerktreffen in Lüneburg anmelden.\n\nBeste Grüße\nJolanta Kowalczyk")
    assert sorted(people(i)) == sorted([ME, ("Yonas Tesfamariam", None)])


# 2. one person, counted once

def test_a_double_name_with_hyphen_and_with_space_is_one_person():
    i = mail("Hallo,\n\nich melde unsere Kollegin Frau Rima Abu-Ghazaleh zum Netzwerktreffen an. "
             "Ihre Adresse: Rima Abu Ghazaleh <r.abu-ghazaleh@frauennetz-lg.example>\n\n"
             "Danke\nJolanta Kowalczyk")
    assert people(i) == [("Rima Abu-Ghazaleh", "r.abu-ghazaleh@frauennetz-lg.example")]


def test_a_colleague_in_cc_called_by_the_given_name_is_registered_with_her_address():
    i = mail("Hello,\n\nplease register me for the Netzwerktreffen on 4 May, and my colleague "
             "Oksana (in cc) as well.\n\nThanks\nJolanta Kowalczyk",
             cc="Oksana Hnatiuk <o.hnatiuk@frauennetz-lg.example>")
    assert people(i) == [ME, ("Oksana Hnatiuk", "o.hnatiuk@frauennetz-lg.example")]


# 3. who of sender and colleagues comes

def test_an_office_registering_a_colleague_does_not_register_itself():
    i = mail("Guten Tag,\n\nich möchte unseren Kollegen Herrn Dariusz Nowak für das "
             "Netzwerktreffen am 4. Mai anmelden. Die Bestätigung bitte an "
             "d.nowak@frauennetz-lg.example\n\nMit freundlichen Grüßen\ni. A. Petra Loose\n"
             "Sekretariat", sender="Sekretariat Frauennetz <sekretariat@frauennetz-lg.example>")
    assert people(i) == [("Dariusz Nowak", "d.nowak@frauennetz-lg.example")]


def test_a_sender_who_registers_a_colleague_and_comes_too():
    i = mail("Guten Tag,\n\nFrau Dr. Amani Yousef wird am Netzwerktreffen in Lüneburg "
             "teilnehmen. Ich werde sie begleiten, bitte also zwei Plätze.\n\n"
             "Mit freundlichen Grüßen\nJolanta Kowalczyk")
    assert people(i) == [ME, ("Amani Yousef", None)]


def test_a_colleague_cancels_while_the_sender_keeps_her_place():
    i = mail("Dear team,\n\nunfortunately my colleague Eleni Papadopoulou will not be able to join "
             "us at the Netzwerktreffen after all. I'm still coming, so please just free up "
             "her seat.\n\nBest regards\nJolanta Kowalczyk")
    assert i.kind == IntentKind.CANCEL
    assert people(i) == [("Eleni Papadopoulou", None)]


# 4. titles, degrees and roles are no part of a name

def test_degrees_before_and_after_a_name_are_taken_off():
    i = mail("Sehr geehrte Damen und Herren,\n\nhiermit melde ich mich zum Netzwerktreffen am "
             "4. Mai in Lüneburg an.\n\nMit freundlichen Grüßen\n\nDipl.-Soz.Päd. Jolanta "
             "Kowalczyk\nFachbereichsleitung Integration",
             sender='"Dipl.-Soz.Päd. Jolanta Kowalczyk" <j.kowalczyk@frauennetz-lg.example>')
    assert people(i) == [ME]


def test_a_name_only_in_the_signature_wins_over_the_role_line_below_it():
    i = mail("Dear Sir or Madam,\n\nI'd like to book a place for the Netzwerktreffen in "
             "Lüneburg on 4 May.\n\nYours faithfully,\n\nOluwaseun Adeyemi-Bello, PhD\n"
             "Senior Lecturer\nInstitute for Migration Studies",
             sender="o.adeyemi-bello@frauennetz-lg.example")
    assert people(i) == [("Oluwaseun Adeyemi-Bello", "o.adeyemi-bello@frauennetz-lg.example")]


def test_a_surname_shaped_like_an_office_after_a_given_name_is_a_surname():
    i = mail("Hallo,\n\nich melde mich für das Netzwerktreffen in Lüneburg an.\n\nGruß\n"
             "Dr. Helga Baumeister", sender='"Dr. Helga Baumeister" <h.baumeister@lg.example>')
    assert i.attendees == (Attendee("Helga Baumeister", "h.baumeister@lg.example"),)


# 5. names of many origins

def test_names_of_many_origins_are_known_given_names():
    from mailbot.classify.names import has_given_name

    for name in ("Tarık Şimşek", "Mahmoud Al-Khatib", "Małgorzata Wróbel", "Dimitra Kostopoulou",
                 "Kwame Asante", "Oksana Melnyk", "Semhar Tesfay", "Nguyễn Thị Lan",
                 "Parisa Ahmadi", "Chinedu Okafor", "Mariama Diallo"):
        assert has_given_name(name, RULES), name
    for words in ("Senior Researcher", "Personalabteilung Nord", "Geschäftsstelle Mitte"):
        assert not has_given_name(words, RULES), words


# a capitalised run that starts with a known given name, in a sentence about coming

def test_a_companion_after_zusammen_mit_without_role_or_title():
    i = mail("Hallo,\n\nich komme zum Netzwerktreffen in Lüneburg, zusammen mit Abdoulaye Traoré "
             "aus unserem Vorstand.\n\nGruß\nJolanta Kowalczyk")
    assert people(i) == [ME, ("Abdoulaye Traoré", None)]


def test_an_english_registration_together_with_someone_counts_both():
    i = mail("Hi,\n\nI'd like to register for the Netzwerktreffen on 4 May together with "
             "Fatemeh Karimi Nasab.\n\nBest\nJolanta Kowalczyk")
    assert people(i) == [ME, ("Fatemeh Karimi Nasab", None)]


def test_the_event_name_is_nobody_even_when_it_starts_like_a_given_name():
    i = mail("Hello,\n\nI will attend the Netzwerktreffen Nord in Lüneburg with my colleague "
             "Anh Thu Vo.\n\nKind regards\nJolanta Kowalczyk")
    assert people(i) == [ME, ("Anh Thu Vo", None)]


def test_a_colleague_in_cc_pointed_at_but_not_named():
    i = mail("Hallo,\n\nich melde mich zum Netzwerktreffen in Lüneburg an. Meine Kollegin "
             "(in Kopie) kommt auch mit.\n\nGruß\nJolanta Kowalczyk",
             cc="Hanna Ostrowska <h.ostrowska@frauennetz-lg.example>")
    assert people(i) == [ME, ("Hanna Ostrowska", "h.ostrowska@frauennetz-lg.example")]


def test_the_sender_who_cannot_come_herself_registers_only_her_colleague():
    i = mail("Guten Tag,\n\nhiermit melde ich meine Kollegin Svitlana Koval zum Netzwerktreffen "
             "an. Ich selbst kann leider nicht.\n\nGruß\nJolanta Kowalczyk")
    assert people(i) == [("Svitlana Koval", None)]


def test_a_numbered_list_with_degrees_and_roles_and_the_sender_as_an_item():
    i = mail("Guten Tag,\n\nfür das Netzwerktreffen melde ich an:\n\n1. Dipl.-Päd. Halyna Bondar\n"
             "2. Kofi Mensah-Bonsu – Ehrenamt\n3. mich selbst\n\nGruß\nJolanta Kowalczyk")
    assert people(i) == [ME, ("Halyna Bondar", None), ("Kofi Mensah-Bonsu", None)]


def test_bullets_with_salutations_and_roles_name_only_the_people():
    i = mail("Dear team,\n\nwe would like to register the following people for the "
             "Netzwerktreffen:\n• Mr Tunde Bakare\n• Ms Aisha Bello, project lead\n\n"
             "Kind regards\nJolanta Kowalczyk")
    assert people(i) == [("Tunde Bakare", None), ("Aisha Bello", None)]


# an eighth round: the sender named again in a list, places, bare organisation words, a role line
# above the organisation, a surname written first with its particle
PEOPLE_AND_ORGANISATIONS = [
    (
        'Hallo,\n\nfür das Forum Arbeit melde ich mich selbst sowie Frau Ewa Nowak und Frau Dilek '
        'Şahin an.\n\nGruß\nAda Lim',
        ('register', 3, ['Ada Lim', 'Ewa Nowak', 'Dilek Şahin'], None)),
    (
        'Hi,\n\nplease register two people for the Forum Arbeit: myself, Ada Mei Lim, and my '
        'colleague Jonas Weber.\n\nBest,\nAda Lim',
        ('register', 2, ['Ada Lim', 'Jonas Weber'], None)),
    (
        "Hi,\n\nI'd like to sign up for the Forum Arbeit +1 (my colleague Yasmin).\n\nCheers,\nAda "
        'Lim',
        ('register', 2, ['Ada Lim', 'Yasmin'], None)),
    (
        "Hello,\n\nI'm a social worker from North Rhine-Westphalia and I would like to attend the "
        'Forum Arbeit.\n\nBest,\nAda Lim',
        ('register', 1, ['Ada Lim'], None)),
    (
        'Hallo,\n\nich bin neu im Verein und würde gern am Forum Arbeit teilnehmen.\n\nViele '
        'Grüße\nAda Lim',
        ('register', 1, ['Ada Lim'], None)),
    (
        'Guten Tag,\n\nich melde mich zum Forum Arbeit an.\n\nMit freundlichen Grüßen\nAda '
        'Lim\nKoordination\nSprInt-Pool Westpfalz\nMusterstraße 5, 67655 Kaiserslautern',
        ('register', 1, ['Ada Lim'], 'SprInt-Pool Westpfalz')),
    (
        'Guten Tag,\n\nfolgende Person möchte ich zum Forum Arbeit anmelden: El Idrissi, Samira '
        '(samira.elidrissi@verein.example).\n\nGruß\nAda Lim',
        ('register', 1, ['Samira El Idrissi'], None)),
    (
        'Hallo,\n\nich melde mich zum Forum Arbeit an, zusammen mit meiner Kollegin Frau Dr. Olga '
        'Petrenko.\n\nGruß\nAda Lim',
        ('register', 2, ['Ada Lim', 'Olga Petrenko'], None)),
    (
        'Hallo,\n\nwir melden uns zu zweit zum Forum Arbeit an: Ada Lim und Kwame '
        'Boateng.\n\nGruß\nAda Lim',
        ('register', 2, ['Ada Lim', 'Kwame Boateng'], None)),
    (
        'Hello,\n\nI am registering on behalf of our director, Dr. Fatima Al-Sayed, for the Forum '
        'Arbeit. She will attend alone.\n\nKind regards,\nAda Lim\nOffice Manager',
        ('register', 1, ['Fatima Al-Sayed'], None)),
]


@pytest.mark.parametrize("mail, want", PEOPLE_AND_ORGANISATIONS)
def test_who_comes_and_for_which_organisation(mail: str, want: tuple) -> None:
    i = from_text(mail)
    got = (i.kind.value, i.party_size, [a.name for a in i.attendees], i.organization)
    assert got == want, (mail, i.reasons)
