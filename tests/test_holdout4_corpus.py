"""The fourth held-out corpus: 50 labelled mails written independently of the rules.

tests/fixtures/holdout4/ holds mails/r001.eml … r050.eml, labels.jsonl and events.toml, in
the format and with the scoring of tests/test_holdout_corpus.py (same helpers).

Figures before it was used (commit 8b0f5d5, shared score_corpus.py):

    SCORE intent=0.940 event=0.912 attendees=0.722 party=0.706 organization=0.897
          question=1.000 missing=0 unsafe=1 n=50

Figures after the general fixes it showed the need for (phishing that mentions registrations,
question marks inside links, casual registrations without a registration verb, one person
brought along, "wir beide (A und B)", titles inside names, addresses in "Name, Function –
address" items, all-caps surnames first, colleagues in forwarded registrations, "X und ich"
cancelling, carriers below service lines, English signature organisations, later corrections
that narrow the list, every colleague after a plural role, "zu Punkt 2" under a quoted list,
enumerations of who comes with the sender in them):

    SCORE intent=1.000 event=1.000 attendees=1.000 party=1.000 organization=1.000
          question=1.000 missing=0 unsafe=0 n=50

Since then it is no longer independent. The floors are the figures reached; zero machine or
`other` mails may come out as register/cancel/question/erase (the bot would answer them).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.test_holdout_corpus import check_consistent, report, score

HERE = Path(__file__).parent / "fixtures" / "holdout4"
MIN_INTENT = 50 / 50
MIN_EVENT = 34 / 34
MIN_ATTENDEES = 36 / 36
MIN_PARTY = 34 / 34
MIN_ORGANIZATION = 29 / 29


@pytest.fixture(scope="module")
def scored() -> dict[str, Any]:
    return score(HERE)


def test_the_fourth_holdout_corpus_is_complete_and_consistent() -> None:
    check_consistent(HERE, size=50)


def test_no_machine_or_other_mail_of_the_fourth_holdout_would_be_answered(
        scored: dict[str, Any]) -> None:
    assert scored["unsafe"] == [], report(scored)


@pytest.mark.parametrize(("field", "floor"), [
    ("intent", MIN_INTENT), ("event", MIN_EVENT), ("attendees", MIN_ATTENDEES),
    ("party", MIN_PARTY), ("organization", MIN_ORGANIZATION)])
def test_the_fourth_holdout_accuracy_holds_its_floor(scored: dict[str, Any], field: str,
                                                     floor: float) -> None:
    assert scored["rate"][field] >= floor - 1e-9, report(scored)
