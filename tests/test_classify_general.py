"""classify() on wordings beyond the dev corpus: one test per general weakness fixed
(English phrasings, wrapped lines, cancel vs register, conditions, bounces, event hints,
people in roles, organisations)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from mailbot.classify import classify, load_default_rules
from mailbot.parse import parse
from mailbot.types import Attendee, EventInfo, Intent, IntentKind

FIXTURES = Path(__file__).parent / "fixtures" / "mail"
RULES = load_default_rules()
TZ = ZoneInfo("Europe/Berlin")


def _event(slug: str, title: str, day: datetime, city: str, *aliases: str) -> EventInfo:
    return EventInfo(slug=slug, title=title, starts=day, ends=day.replace(hour=16), city=city,
                     aliases=aliases)


# Two events share Hannover, so only a month or season can tell them apart.
EVENTS = (
    _event("werkraum-2028", "Werkraum Vielfalt", datetime(2028, 3, 2, 10, tzinfo=TZ),
           "Hannover", "Werkraum"),
    _event("fachtag-2028", "Fachtag Teilhabe", datetime(2028, 10, 12, 10, tzinfo=TZ),
           "Hannover", "Fachtag"),
    _event("treffen-2028", "Netzwerktreffen Nord", datetime(2028, 5, 4, 10, tzinfo=TZ),
           "Lüneburg", "Netzwerktreffen"),
    _event("forum-2028", "Forum Arbeit", datetime(2028, 7, 6, 10, tzinfo=TZ),
           "Göttingen", "Forum Arbeit"),
)
NOW = datetime(2028, 1, 10, 9, tzinfo=TZ)


def intent(name: str) -> Intent:
    return classify(parse((FIXTURES / name).read_bytes(), RULES), EVENTS, RULES, NOW)


def names(i: Intent) -> list[str]:
    return [a.name for a in i.attendees]


def test_there_will_be_four_of_us_registers_four_seats():
    i = intent("en_four_of_us.eml")
    assert (i.kind, i.event, i.party_size) == (IntentKind.REGISTER, "treffen-2028", 4)
    assert i.organization == "Women's Shelter Celle"


def test_taking_my_name_off_the_attendee_list_cancels():
    assert intent("en_take_name_off.eml").kind == IntentKind.CANCEL


def test_erase_everything_you_hold_about_me_under_the_gdpr_is_an_erasure():
    assert intent("en_erase_everything.eml").kind == IntentKind.ERASE


def test_being_interested_in_attending_is_a_question_not_a_registration():
    assert intent("en_interested.eml").kind == IntentKind.QUESTION


def test_ill_take_one_of_the_last_free_spots_registers():
    assert intent("en_remaining_seat.eml").kind == IntentKind.REGISTER


def test_a_registration_wrapped_over_two_lines_is_still_read():
    i = intent("wrapped_registration.eml")
    assert (i.kind, i.event, i.party_size) == (IntentKind.REGISTER, "treffen-2028", 2)
    assert names(i) == ["Heike Sommer", "Jana Kurz"]


def test_a_named_colleague_who_does_not_come_after_all_is_cancelled_alone():
    i = intent("cancel_named_colleague.eml")
    assert i.kind == IntentKind.CANCEL
    assert names(i) == ["Tobias Okafor"]
    assert i.cancel_seats == 1


def test_a_sender_who_cannot_come_but_sends_a_colleague_registers_the_colleague():
    i = intent("absent_registers_colleague.eml")
    assert i.kind == IntentKind.REGISTER
    assert i.attendees == (Attendee("Mira Jansen", "mira.jansen@stadt-nienburg.example"),)


def test_falls_ja_after_a_question_makes_the_registration_a_question():
    assert intent("conditional_de.eml").kind == IntentKind.QUESTION


def test_if_it_is_after_a_question_makes_the_registration_a_question():
    i = intent("conditional_en.eml")
    assert i.kind == IntentKind.QUESTION and i.has_question


def test_a_sender_named_mail_administrator_without_bounce_wording_is_no_bounce():
    i = intent("phishing_admin_name.eml")
    assert i.kind not in (IntentKind.BOUNCE, IntentKind.REGISTER)


def test_a_season_tells_apart_two_events_in_the_same_city():
    assert intent("season_hint.eml").event == "fachtag-2028"


def test_a_place_the_sender_turns_down_is_no_evidence_for_its_event():
    i = intent("declined_city.eml")
    assert (i.kind, i.event) == (IntentKind.REGISTER, "treffen-2028")


def test_someone_who_only_recommended_the_event_is_no_attendee():
    i = intent("recommender.eml")
    assert names(i) == ["Nina Vogel"] and i.party_size == 1


def test_a_job_title_is_no_part_of_the_name_and_the_office_is_no_organisation():
    i = intent("job_title_office.eml")
    assert i.attendees == (Attendee("Ute Brinkmann", "ute.brinkmann@lk-nienburg.example"),)
    assert i.organization == "Landkreis Nienburg"


def test_an_organisation_in_running_text_is_put_back_in_the_nominative():
    i = intent("org_in_running_text.eml")
    assert i.organization == "Interkultureller Frauenverein Celle"
    assert i.party_size == 2


def test_a_signature_line_with_treff_is_the_organisation():
    assert intent("org_signature_treff.eml").organization == "Stadtteiltreff Kronsberg"


def test_a_calendar_reply_is_automatic_mail():
    i = intent("calendar_reply.eml")
    assert i.kind == IntentKind.AUTO_REPLY


def test_english_cancel_yes_and_no_replies_work_like_the_german_words():
    assert intent("en_cancel_reply.eml").kind == IntentKind.CANCEL
    yes, no = intent("en_yes_reply.eml"), intent("en_no_reply.eml")
    assert (yes.kind, yes.accepts_offer) == (IntentKind.REGISTER, True)
    assert (no.kind, no.accepts_offer) == (IntentKind.CANCEL, False)


def test_a_forward_of_ones_own_mail_without_an_address_registers_the_sender():
    i = intent("own_forward_no_address.eml")
    assert (i.kind, i.event) == (IntentKind.REGISTER, "forum-2028")
    assert i.attendees == (Attendee("Karin Lutz", "karin.lutz@stadt-uelzen.example"),)
    assert i.organization == "Stadt Uelzen"


def test_an_english_colleague_instead_of_me_is_a_substitute_with_name_and_address():
    i = intent("en_instead_of_me.eml")
    assert i.kind == IntentKind.REGISTER
    assert i.substitute == Attendee("Sara Lindqvist", "sara.lindqvist@council-celle.example")
