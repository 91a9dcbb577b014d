"""The third held-out corpus: 50 labelled mails written independently of the rules.

tests/fixtures/holdout3/ holds mails/q001.eml … q050.eml, labels.jsonl and events.toml, in
the format and with the scoring of tests/test_holdout_corpus.py (same helpers).

Figures before it was used (commit 94374ad, shared score_corpus.py):

    SCORE intent=0.920 event=0.909 attendees=0.771 party=0.879 organization=0.786
          question=0.964 missing=0 unsafe=0 n=50

Figures after the general fixes it showed the need for (groups of others with the sender going
along, thanks lines on top taken for a sign-off, events that had already started, cancels for a
named colleague or for the boss, requests to act, surname-first lists, role lines above the
organisation, web forms relayed by the website, names only in the subject, web.de quote blocks
starting with "Gesendet:", ticket acknowledgements, automatic wording in unsolicited mail):

    SCORE intent=1.000 event=1.000 attendees=1.000 party=1.000 organization=1.000
          question=1.000 missing=0 unsafe=0 n=50

Since then it is no longer independent (tests/test_holdout4_corpus.py is the next one).
The floors are the figures reached; zero machine or `other` mails may come out as
register/cancel/question/erase (the bot would answer them).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.test_holdout_corpus import check_consistent, report, score

HERE = Path(__file__).parent / "fixtures" / "holdout3"
MIN_INTENT = 50 / 50
MIN_EVENT = 33 / 33
MIN_ATTENDEES = 35 / 35
MIN_PARTY = 33 / 33
MIN_ORGANIZATION = 28 / 28


@pytest.fixture(scope="module")
def scored() -> dict[str, Any]:
    return score(HERE)


def test_the_third_holdout_corpus_is_complete_and_consistent() -> None:
    check_consistent(HERE, size=50)


def test_no_machine_or_other_mail_of_the_third_holdout_would_be_answered(
        scored: dict[str, Any]) -> None:
    assert scored["unsafe"] == [], report(scored)


@pytest.mark.parametrize(("field", "floor"), [
    ("intent", MIN_INTENT), ("event", MIN_EVENT), ("attendees", MIN_ATTENDEES),
    ("party", MIN_PARTY), ("organization", MIN_ORGANIZATION)])
def test_the_third_holdout_accuracy_holds_its_floor(scored: dict[str, Any], field: str,
                                                    floor: float) -> None:
    assert scored["rate"][field] >= floor - 1e-9, report(scored)
