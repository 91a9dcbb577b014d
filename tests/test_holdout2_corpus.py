"""The second held-out corpus: 60 labelled mails written independently of the rules.

tests/fixtures/holdout2/ holds mails/k001.eml … k060.eml, labels.jsonl and events.toml, in
the format and with the scoring of tests/test_holdout_corpus.py (same helpers).

Figures before it was used (commit b5fe66e, shared score_corpus.py):

    SCORE intent=0.917 event=0.973 attendees=0.897 party=0.946 organization=0.793
          question=1.000 missing=0 unsafe=1 n=60

Figures after the general fixes it showed the need for (absence notices under a thanks line,
our own subjects quoted back, registrations waiting on a question, verb-final wordings, names
one per line, group and partial cancels, organisations in running text, Latin-1 decoding):

    SCORE intent=1.000 event=1.000 attendees=1.000 party=1.000 organization=1.000
          question=1.000 missing=0 unsafe=0 n=60

Since then it is no longer independent: tests/fixtures/holdout3 (and then holdout4) is the next unseen check.
The floors are the figures reached; zero machine or `other` mails may come out as
register/cancel/question/erase (the bot would answer them).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.test_holdout_corpus import check_consistent, report, score

HERE = Path(__file__).parent / "fixtures" / "holdout2"
MIN_INTENT = 60 / 60
MIN_EVENT = 37 / 37
MIN_ATTENDEES = 39 / 39
MIN_PARTY = 37 / 37
MIN_ORGANIZATION = 29 / 29


@pytest.fixture(scope="module")
def scored() -> dict[str, Any]:
    return score(HERE)


def test_the_second_holdout_corpus_is_complete_and_consistent() -> None:
    check_consistent(HERE)


def test_no_machine_or_other_mail_of_the_second_holdout_would_be_answered(
        scored: dict[str, Any]) -> None:
    assert scored["unsafe"] == [], report(scored)


@pytest.mark.parametrize(("field", "floor"), [
    ("intent", MIN_INTENT), ("event", MIN_EVENT), ("attendees", MIN_ATTENDEES),
    ("party", MIN_PARTY), ("organization", MIN_ORGANIZATION)])
def test_the_second_holdout_accuracy_holds_its_floor(scored: dict[str, Any], field: str,
                                                     floor: float) -> None:
    assert scored["rate"][field] >= floor - 1e-9, report(scored)
