"""parse(): charsets, HTML, quote styles of German and English clients, signatures, breakage."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from mailbot.classify import load_default_rules
from mailbot.parse import parse
from mailbot.types import InboundMail

FIXTURES = Path(__file__).parent / "fixtures" / "mail"
RULES = load_default_rules()


def mail(name: str) -> InboundMail:
    return parse((FIXTURES / name).read_bytes(), RULES)


def test_it_decodes_a_latin1_body():
    m = mail("latin1_body.eml")
    assert "für den Vernetzungstag" in m.text
    assert m.sender_name == "Jörg Müller"


def test_a_single_latin1_umlaut_in_plain_text_is_not_taken_for_broken_utf8():
    m = mail("latin1_sparse_plain.eml")
    assert m.text.endswith("Ortrud Krämer")
    assert "\ufffd" not in m.text + m.signature
    assert m.sender_name == "Ortrud Krämer"


def test_an_html_only_latin1_mail_keeps_its_umlauts():
    m = mail("latin1_html_only.eml")
    assert "Hans-Peter Schönfeld" in m.text
    assert "\ufffd" not in m.text + m.signature


def test_mostly_valid_utf8_with_one_broken_byte_stays_utf8():
    from mailbot.parse.mime import decode_bytes

    raw = "Grüße aus Köln – Müller".encode() + b"\xe4"
    assert decode_bytes(raw, "utf-8").startswith("Grüße aus Köln – Müller")
    assert decode_bytes("Schäfer".encode("latin-1"), "utf-8") == "Schäfer"
    assert decode_bytes("Schäfer".encode("latin-1"), None) == "Schäfer"


def test_it_decodes_windows_1252_quotes_and_an_encoded_nachname_vorname_sender():
    m = mail("cp1252_body.eml")
    assert "„Gewaltschutz“" in m.text
    assert m.subject == "Teilnahme Fachforum – Gewaltschutz"
    assert m.sender_name == "Große, Anne"


def test_it_decodes_base64_utf8_bodies_and_encoded_subjects():
    m = mail("base64_utf8.eml")
    assert m.subject == "Anmeldung – Vernetzungstag"
    assert "Nilüfer Şahin" in m.text


def test_it_decodes_quoted_printable():
    assert "wir kommen zu dritt" in mail("qp_utf8.eml").text


def test_an_unknown_charset_falls_back_and_is_recorded_as_a_defect():
    m = mail("unknown_charset.eml")
    assert "Grüße" in m.text
    assert any("x-fantasy-8" in d for d in m.defects)


def test_it_turns_an_html_only_mail_into_text():
    m = mail("html_only.eml")
    assert "ich möchte gern am Fachforum in Oldenburg teilnehmen." in m.text
    assert "<p>" not in m.full_text and "margin" not in m.full_text


def test_it_cuts_an_outlook_german_quote_and_keeps_the_name_below_the_closing():
    m = mail("outlook_de_reply.eml")
    assert m.text.startswith("Guten Tag,")
    assert "Ute Berger" in m.text
    assert "Ursprüngliche Nachricht" not in m.text and "Ihre Anmeldung ist" not in m.text
    assert m.quoted.startswith("-----Ursprüngliche Nachricht-----")
    assert m.signature == "Stadt Verden"


def test_it_cuts_an_outlook_english_header_block():
    m = mail("outlook_en_reply.eml")
    assert "wheelchair" in m.text
    assert "Invitation Fachforum" not in m.text
    assert m.quoted.startswith("From: Netzwerk Nord")


def test_it_cuts_a_gmail_german_header_wrapped_over_two_lines():
    m = mail("gmail_de_reply.eml")
    assert m.text == "Ich bin dabei!\n\nTim"
    assert "schrieb" in m.quoted


def test_it_cuts_a_gmail_english_on_wrote_header():
    m = mail("gmail_en_reply.eml")
    assert "cancel my registration" in m.text
    assert "wrote" not in m.text and "confirmed" not in m.text


def test_it_cuts_an_apple_mail_quote():
    m = mail("apple_de_reply.eml")
    assert m.text == "Für Oldenburg melde ich mich an.\n\nLG Lena"


def test_it_cuts_a_thunderbird_quote():
    m = mail("thunderbird_de_reply.eml")
    assert "Plätze frei" not in m.text and "ich melde mich hiermit an." in m.text


def test_it_keeps_the_answers_between_quoted_lines():
    m = mail("interleaved.eml")
    assert "Da komme ich gern." in m.text and "Da nicht." in m.text
    assert "Fachforum Gewaltschutz" not in m.text
    assert "> Fachforum Gewaltschutz" in m.quoted


def test_it_cuts_a_legal_disclaimer_and_a_mobile_footer():
    data = (b"From: a@b.example\r\nSubject: x\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
            b"Ich melde mich an.\r\n\r\nVon meinem iPhone gesendet\r\n\r\n"
            b"Der Inhalt dieser E-Mail ist ausschlie\xc3\x9flich f\xc3\xbcr den Adressaten.\r\n")
    m = parse(data, RULES)
    assert m.text == "Ich melde mich an."
    assert "iPhone" in m.signature and "Inhalt dieser E-Mail" in m.signature


def test_a_forwarded_mail_keeps_the_original_in_quoted():
    m = mail("forward_de.eml")
    assert "anbei eine Anmeldung" in m.text
    assert "Amina Yusuf <amina.yusuf@afrika-verein-stade.example>" in m.quoted


def test_words_in_the_quoted_invitation_stay_out_of_the_text():
    assert "Anmeldung" not in mail("gmail_en_reply.eml").text


def test_broken_mime_degrades_instead_of_raising():
    m = mail("broken_mime.eml")
    assert m.sender_email == "broken@example.org"
    assert m.defects


@pytest.mark.parametrize("seed", range(20))
def test_it_never_raises_on_random_bytes(seed):
    rnd = random.Random(seed)
    data = bytes(rnd.randrange(256) for _ in range(rnd.randrange(0, 3000)))
    assert isinstance(parse(data, RULES), InboundMail)


def test_it_never_raises_on_a_mangled_fixture():
    data = bytearray((FIXTURES / "dsn_mixed.eml").read_bytes())
    rnd = random.Random(7)
    for _ in range(50):
        data[rnd.randrange(len(data))] = rnd.randrange(256)
    assert isinstance(parse(bytes(data), RULES), InboundMail)


def test_a_missing_message_id_is_synthesised_from_the_bytes():
    data = b"From: a@b.example\r\nSubject: Anmeldung\r\n\r\nIch melde mich an.\r\n"
    first, second = parse(data, RULES), parse(data, RULES)
    assert first.message_id == second.message_id
    assert first.message_id != parse(data + b"!", RULES).message_id


def test_it_collects_reply_ids_and_recipients():
    m = mail("reply_to_own_id.eml")
    assert m.in_reply_to == ("4f2a9c1b3d.sommerakademie-2028.mailbot@netzwerk-nord.example",)
    assert mail("plus_address.eml").to == ("anmeldung+fachforum-2028@netzwerk-nord.example",)


def test_it_guesses_the_language():
    assert mail("gmail_en_reply.eml").language == "en"
    assert mail("latin1_body.eml").language == "de"
