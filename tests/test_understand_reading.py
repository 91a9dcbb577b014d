"""classify() on what the new text of a mail is: lines wrapped by the mail client, thanks lines on
top that are no sign-off, web.de quote blocks."""

from __future__ import annotations

from mailbot.parse import parse
from mailbot.types import IntentKind
from tests.understanding import FIXTURES, RULES, intent, names


def test_a_registration_wrapped_over_two_lines_is_still_read():
    i = intent("wrapped_registration.eml")
    assert (i.kind, i.event, i.party_size) == (IntentKind.REGISTER, "treffen-2028", 2)
    assert names(i) == ["Heike Sommer", "Jana Kurz"]

def test_a_thanks_line_on_top_is_no_sign_off_and_the_registration_below_counts():
    i = intent("thanks_on_top_then_registration.eml")
    assert i.kind is IntentKind.REGISTER and i.event == "fachtag-2028"
    assert i.organization == "Landkreis Harburg"

def test_thanks_lines_on_top_in_both_languages_keep_the_text_below():
    for thanks in ("Danke für die Info!", "Vielen Dank für die Einladung.",
                   "Thanks for the quick reply!"):
        mail = parse((f"From: A <a@b.example>\nSubject: x\n\n{thanks}\n\nPlease sign me up "
                      "for the Forum Arbeit in July, together with\nmy colleague.\n\n"
                      "Best regards\nAda Lim\n").encode(), RULES)
        assert "sign me up" in mail.text, thanks

def test_a_webde_quote_block_with_gesendet_first_is_cut_whole():
    mail = parse((FIXTURES / "webde_quote_sent_first.eml").read_bytes(), RULES)
    assert "Gesendet" not in mail.text and "Betreff" in mail.quoted
    assert intent("webde_quote_sent_first.eml").organization == "Migrantinnenverein Celle e.V."
