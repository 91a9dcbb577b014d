"""Intent read from clauses (mailbot/classify/clauses.py, rule clause_rule.ClauseIntent): the
verb with its separable particle at any distance, negation, modality, condition and subject."""

from __future__ import annotations

import pytest

from mailbot.classify import clauses as cl
from mailbot.types import IntentKind
from tests.understanding import RULES, from_text

DE = cl.load_words(RULES, "de")
EN = cl.load_words(RULES, "en")


def _wanted(sentence: str, words: cl.ClauseWords | None) -> list[cl.Clause]:
    assert words is not None
    return [c for c in cl.sentence_clauses(sentence, words) if c.want is not None]


def _clause_reason(reasons: tuple[str, ...]) -> str:
    return next((r for r in reasons if r.startswith("clause:")), "")


def test_a_long_event_name_between_verb_and_particle_registers() -> None:
    i = from_text("Sehr geehrte Damen und Herren,\n\nhiermit melde ich mich verbindlich zum "
                  "Fachtag „Geschlechtergleichstellung in Zeiten des gesellschaftlichen Wandels“ "
                  "am 12. September in Hannover an.\n\nMit freundlichen Grüßen\nAda Lim")
    assert i.kind is IntentKind.REGISTER
    assert _clause_reason(i.reasons) == "clause: anmelden, 1sg, not negated, not conditional"


def test_a_cancellation_with_its_verb_far_from_the_modal_cancels() -> None:
    i = from_text("Hallo,\n\nleider muss ich meine Teilnahme am Workshop zur Gleichstellung in "
                  "der Arbeitswelt am kommenden Dienstag in Hannover absagen.\n\nViele Grüße\nAda")
    assert i.kind is IntentKind.CANCEL
    [c] = _wanted("Leider muss ich meine Teilnahme am Workshop zur Gleichstellung in der "
                  "Arbeitswelt am kommenden Dienstag in Hannover absagen.", DE)
    assert (c.verb, c.modal, c.want) == ("absagen", "müssen", cl.Want.CANCEL)


def test_a_negated_registration_cancels() -> None:
    [c] = _wanted("ich nehme am Fachtag der Gleichstellungsbeauftragten in Hannover leider "
                  "nicht teil.", DE)
    assert (c.verb, c.negated, c.want) == ("teilnehmen", True, cl.Want.CANCEL)


def test_a_negated_registration_the_surface_rules_take_for_one_cancels() -> None:
    i = from_text("Hallo,\n\nich nehme am Fachtag der Gleichstellungsbeauftragten in Hannover "
                  "leider nicht teil.\n\nGruß Ada")
    assert i.kind is IntentKind.CANCEL


def test_a_registration_under_a_condition_is_conditional() -> None:
    clauses = _wanted("Falls noch Plätze frei sind, würde ich gern kommen.", DE)
    assert [(c.verb, c.conditional, c.modal) for c in clauses] == [("kommen", True, "werden")]
    # with a question in the mail the answer decides: a question (as intents.conditional_only)
    i = from_text("Hallo,\n\nfalls noch Plätze frei sind, würde ich gern zum Fachtag nach "
                  "Hannover kommen. Gibt es dort eine Kinderbetreuung?\n\nGruß Ada")
    assert i.kind is IntentKind.QUESTION


def test_a_condition_without_a_verb_is_no_condition() -> None:
    [c] = _wanted("ich melde mich an, wenn möglich mit veganem Essen", DE)
    assert not c.conditional


@pytest.mark.parametrize(("sentence", "verb", "want"), [
    ("I would like to sign up for the workshop on gender equality in Hanover.", "sign up",
     cl.Want.REGISTER),
    ("I'm afraid I can't make it to the workshop in Hanover.", "make it", cl.Want.CANCEL),
    ("Please register me for the event.", "register", cl.Want.REGISTER),
    ("We would like to withdraw our registration.", "withdraw", cl.Want.CANCEL),
    ("I won't be able to attend.", "attend", cl.Want.CANCEL),
])
def test_english_clauses(sentence: str, verb: str, want: cl.Want) -> None:
    [c] = _wanted(sentence, EN)
    assert (c.verb, c.want) == (verb, want)


def test_english_mails() -> None:
    reg = from_text("Dear team,\n\nI would like to sign up for the Forum Arbeit in Göttingen."
                    "\n\nBest regards\nAda Lim")
    assert reg.kind is IntentKind.REGISTER
    can = from_text("Dear team,\n\nI'm afraid I can't make it to the Forum Arbeit after all."
                    "\n\nBest regards\nAda Lim")
    assert can.kind is IntentKind.CANCEL


def test_the_subject_is_read() -> None:
    [c] = _wanted("Meine Kollegin meldet sich ebenfalls für den Fachtag in Hannover an.", DE)
    assert (c.verb, c.subject) == ("anmelden", cl.Subject.THIRD)
    [c] = _wanted("Wir sagen unsere Teilnahme ab.", DE)
    assert c.subject is cl.Subject.FIRST_PLURAL
    [c] = _wanted("Bitte melden Sie mich für den Fachtag an.", DE)
    assert (c.subject, c.request) == (cl.Subject.FIRST_SINGULAR, True)
    [c] = _wanted("I hope you can join us.", EN)
    assert c.subject is cl.Subject.FIRST_PLURAL and c.request


def test_an_instruction_to_the_reader_or_a_question_is_no_registration() -> None:
    [c] = _wanted("Bitte melden Sie sich bis zum 3. Mai an.", DE)
    assert c.subject is cl.Subject.ADDRESSEE and not c.request
    [c] = _wanted("Kann ich mich noch anmelden?", DE)
    assert c.question and c.modal == "können"
    [c] = _wanted("Ich habe mich schon angemeldet.", DE) or [None]  # type: ignore[list-item]
    assert c is None


def test_a_sentence_without_a_cue_is_not_tagged() -> None:
    assert DE is not None
    assert not cl.has_cue("Vielen Dank für die schöne Veranstaltung.", DE)
    assert cl.read(["Vielen Dank für die schöne Veranstaltung."], DE) == []


def test_machine_mails_stay_machine_mails() -> None:
    i = from_text("Ich bin bis zum 20. nicht im Büro. Ich nehme leider nicht teil.",
                  subject="Automatische Antwort: Forum")
    assert i.kind is not IntentKind.CANCEL or "clause:" not in " ".join(i.reasons)
