"""The fifth held-out corpus: 40 labelled mails written independently of the rules.

tests/fixtures/holdout5/ holds mails/s001.eml … s040.eml, labels.jsonl and events.toml, in
the format and with the scoring of tests/test_holdout_corpus.py (same helpers).

Figures before it was used (commit a5bae3b, shared score_corpus.py):

    SCORE intent=0.875 event=0.964 attendees=0.900 party=0.893 organization=0.917
          question=0.958 unsafe=1 n=40

Figures after the general fixes it showed the need for (mailbox-login phishing whose link
hides behind an HTML button, long event names between "nehme" and "teil", registrations only
considered or waiting on whether the event suits, free-seat and deadline questions, a
substitute taking an ill colleague's seat, "would it be possible to sign me up", totals that
count the sender in, club roles before names in a colon list, Dutch signature roles and
municipalities):

    SCORE intent=1.000 event=1.000 attendees=1.000 party=1.000 organization=1.000
          question=1.000 missing=0 unsafe=0 n=40

Since then it is no longer independent. The floors are the figures reached;
zero machine or `other` mails may come out as register/cancel/question/erase.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.test_holdout_corpus import check_consistent, report, score

HERE = Path(__file__).parent / "fixtures" / "holdout5"
MIN_INTENT = 40 / 40
MIN_EVENT = 28 / 28
MIN_ATTENDEES = 30 / 30
MIN_PARTY = 28 / 28
MIN_ORGANIZATION = 24 / 24


@pytest.fixture(scope="module")
def scored() -> dict[str, Any]:
    return score(HERE)


def test_the_fifth_holdout_corpus_is_complete_and_consistent() -> None:
    check_consistent(HERE, size=40)


def test_no_machine_or_other_mail_of_the_fifth_holdout_would_be_answered(
        scored: dict[str, Any]) -> None:
    assert scored["unsafe"] == [], report(scored)


@pytest.mark.parametrize(("field", "floor"), [
    ("intent", MIN_INTENT), ("event", MIN_EVENT), ("attendees", MIN_ATTENDEES),
    ("party", MIN_PARTY), ("organization", MIN_ORGANIZATION)])
def test_the_fifth_holdout_accuracy_holds_its_floor(scored: dict[str, Any], field: str,
                                                    floor: float) -> None:
    assert scored["rate"][field] >= floor - 1e-9, report(scored)
