"""Every template renders in German and English; dates and places read the way people write them."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from jinja2 import UndefinedError

from mailbot.outbox import i18n
from mailbot.outbox.compose import render, template_names
from mailbot.outbox.i18n import local

BERLIN = ZoneInfo("Europe/Berlin")
TEMPLATES = Path(__file__).resolve().parent.parent / "mailbot" / "templates"

WERKSTATT = {
    "slug": "werkstatt-2027", "title": "Werkstattgespräch „Vernetzt in Niedersachsen 2027“",
    "starts": "2027-02-25T14:00:00+01:00", "ends": "2027-02-25T17:00:00+01:00",
    "city": "Hannover", "venue": "", "language": "de",
}
NETZWERK = {
    "slug": "netzwerktreffen-7",
    "title": "7. Bundesweites Netzwerktreffen Migration und Entwicklung auf kommunaler Ebene",
    "starts": "2027-05-06T10:00:00+02:00", "ends": "2027-05-07T13:00:00+02:00",
    "city": "Osnabrück", "venue": "Lagerhalle, Rolandsmauer 26, 49074 Osnabrück", "language": "de",
}

# Every key any template reads: the common ones plus each template's own.
FULL_CONTEXT: dict[str, object] = {
    "name": "Maria Muster", "event": WERKSTATT, "seats": 2, "waiting_seats": 1, "position": 3,
    "attendees": ["Maria Muster", "Hans Beispiel"], "original_subject": "Anmeldung Werkstatt",
    "organization": "Frauenberatung Celle e.V.",
    "old_seats": 3, "seats_free": 1, "cancelled_seats": 1, "remaining_seats": 1,
    "offer_until": "2027-02-20T12:00:00+01:00", "old_venue": "Rathaus Hannover",
    "changed": ["venue", "time"], "reason": "deadline", "events": [WERKSTATT, NETZWERK],
    "asker_name": "Maria Muster", "asker_email": "maria@verein.example",
    "question": "Gibt es vor Ort Parkplätze?", "text": "Hallo,\nGibt es vor Ort Parkplätze?\nDanke",
    "count": 2, "substitute_name": "Hans Beispiel",
}


# The templates this context covers; others (the coordinators' digest) bring their own tests.
REPLY_TEMPLATES = [
    "confirmation", "already_registered", "seats_changed", "waitlisted", "partly_waitlisted",
    "cancelled", "not_registered", "moved_up", "offer", "offer_expired", "offer_declined",
    "venue_notice", "venue_notice_waiting", "reminder", "closed", "which_event",
    "question_ack", "question_forward", "erased", "substituted",
]


def rendered(template: str, lang: str = "de", **ctx: object):
    return render(template, lang, {**FULL_CONTEXT, **ctx}, BERLIN, "MitGeN Anmeldung", False)


def test_there_are_templates_for_every_mail_apply_can_queue() -> None:
    assert set(template_names()) >= set(REPLY_TEMPLATES)


@pytest.mark.parametrize("template", template_names())
def test_each_template_has_subject_text_and_html_in_german_and_english(template: str) -> None:
    for lang in ("de", "en"):
        for part in ("subject", "txt", "html"):
            assert (TEMPLATES / f"{template}.{lang}.{part}").is_file()


@pytest.mark.parametrize("lang", ["de", "en"])
@pytest.mark.parametrize("template", REPLY_TEMPLATES)
def test_each_template_renders_without_errors_with_a_full_context(template: str, lang: str) -> None:
    r = rendered(template, lang)
    assert r.language == lang
    assert r.subject and "\n" not in r.subject
    assert r.text.endswith("\n") and "\n\n\n" not in r.text
    assert r.html.startswith("<!DOCTYPE html>") and f'<html lang="{lang}">' in r.html
    for part in (r.subject, r.text, r.html):
        assert "{{" not in part and "{%" not in part
        assert "None" not in part


@pytest.mark.parametrize("template", REPLY_TEMPLATES)
def test_each_template_copes_with_no_name_and_no_organisation(template: str) -> None:
    r = rendered(template, "de", name="", organization=None, attendees=[], position=None)
    assert r.text.startswith("Guten Tag,")


def test_the_german_confirmation_gives_date_time_place_and_how_to_cancel() -> None:
    text = rendered("confirmation", waiting_seats=0).text
    assert "Hallo Maria Muster," in text
    assert "Donnerstag, 25. Februar 2027, 14:00 bis 17:00 Uhr" in text
    assert "Hannover (Ort wird noch bekannt gegeben)" in text
    assert "2 (Maria Muster und Hans Beispiel)" in text
    assert "„Abmeldung“" in text
    assert "Viele Grüße\nMitGeN Anmeldung" in text


def test_the_english_confirmation_uses_english_dates_and_times() -> None:
    text = rendered("confirmation", "en").text
    assert "Thursday, 25 February 2027, 2:00 pm to 5:00 pm" in text
    assert "Hannover (venue to be announced)" in text


def test_a_known_venue_is_named_and_not_announced_as_missing() -> None:
    text = rendered("confirmation", event=NETZWERK).text
    assert "Lagerhalle, Rolandsmauer 26, 49074 Osnabrück" in text
    assert "bekannt gegeben" not in text


def test_a_two_day_event_shows_both_days_with_times() -> None:
    text = rendered("reminder", event=NETZWERK).text
    assert "Donnerstag, 6. Mai 2027, 10:00 Uhr, bis Freitag, 7. Mai 2027, 13:00 Uhr" in text
    assert rendered("reminder", event=NETZWERK).subject.endswith("am 6.–7. Mai 2027")


def test_times_are_shown_in_the_configured_time_zone() -> None:
    utc = {**WERKSTATT, "starts": "2027-02-25T13:00:00+00:00", "ends": "2027-02-25T16:00:00Z"}
    assert "14:00 bis 17:00 Uhr" in rendered("confirmation", event=utc).text


def test_an_unknown_language_falls_back_to_german() -> None:
    r = rendered("confirmation", "fr")
    assert r.language == "de" and "Veranstaltung:" in r.text


def test_html_is_escaped_and_text_is_not() -> None:
    r = rendered("confirmation", name="<b>Ärger & Söhne</b>")
    assert "&lt;b&gt;Ärger &amp; Söhne&lt;/b&gt;" in r.html and "<b>Ärger" not in r.html
    assert "Hallo <b>Ärger & Söhne</b>," in r.text


def test_a_missing_template_specific_key_is_an_error_not_an_empty_gap() -> None:
    ctx = {k: v for k, v in FULL_CONTEXT.items() if k != "offer_until"}
    with pytest.raises(UndefinedError):
        render("offer", "de", ctx, BERLIN)


def test_the_waiting_list_mail_says_whether_the_event_is_full() -> None:
    assert "ausgebucht" in rendered("waitlisted", seats_free=0).text
    assert "Es ist nur noch 1 Platz frei" in rendered("waitlisted", seats_free=1).text


def test_a_full_cancellation_and_a_partial_one_read_differently() -> None:
    full = rendered("cancelled", cancelled_seats=2, remaining_seats=0)
    part = rendered("cancelled", cancelled_seats=1, remaining_seats=1)
    assert full.subject.startswith("Abmeldung bestätigt") and "storniert" in full.text
    assert "Für Sie bleibt 1 Platz reserviert" in part.text


def test_a_first_venue_announcement_is_not_called_a_change() -> None:
    first = rendered("venue_notice", old_venue="", changed=["venue"], event=NETZWERK)
    assert first.subject.startswith("Veranstaltungsort steht fest")
    moved = rendered("venue_notice", changed=["venue"], event=NETZWERK)
    assert moved.subject.startswith("Änderung") and "(bisher:       Rathaus Hannover)" in moved.text


def test_which_event_lists_the_candidates_without_an_event_key() -> None:
    ctx = {k: v for k, v in FULL_CONTEXT.items() if k != "event"}
    r = render("which_event", "de", ctx, BERLIN)
    assert "  - Werkstattgespräch „Vernetzt in Niedersachsen 2027“, 25. Februar 2027, Hannover" \
        in r.text
    assert "6.–7. Mai 2027, Osnabrück" in r.text


def test_a_forwarded_question_quotes_the_askers_text() -> None:
    text = rendered("question_forward").text
    assert "> Gibt es vor Ort Parkplätze?" in text and "maria@verein.example" in text


@pytest.mark.parametrize(("starts", "ends", "lang", "expected"), [
    ("2027-05-06T10:00+02:00", "2027-05-07T13:00+02:00", "de", "6.–7. Mai 2027"),
    ("2027-04-30T10:00+02:00", "2027-05-02T13:00+02:00", "de", "30. April – 2. Mai 2027"),
    ("2027-12-30T10:00+01:00", "2028-01-02T13:00+01:00", "en",
     "30 December 2027 – 2 January 2028"),
    ("2027-02-25T14:00+01:00", "2027-02-25T17:00+01:00", "en", "25 February 2027"),
])
def test_date_ranges_are_short_and_unambiguous(starts: str, ends: str, lang: str,
                                               expected: str) -> None:
    assert i18n.format_dates(local(starts, BERLIN), local(ends, BERLIN), lang) == expected


def test_english_times_use_am_and_pm_and_german_ones_uhr() -> None:
    noon, midnight = local("2027-02-25T12:05+01:00", BERLIN), local("2027-02-25T00:30+01:00", BERLIN)
    assert (i18n.format_time(noon, "en"), i18n.format_time(midnight, "en")) == ("12:05 pm", "12:30 am")
    assert i18n.format_time(noon, "de") == "12:05 Uhr"


def test_names_are_joined_with_und_or_and() -> None:
    assert i18n.join_names(["A", "B", "C"], "de") == "A, B und C"
    assert i18n.join_names(["A", "B"], "en") == "A and B"
    assert i18n.join_names([], "de") == ""
