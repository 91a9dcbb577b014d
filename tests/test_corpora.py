"""Every labelled corpus under tests/fixtures/corpora/<name>/ holds: it is consistent, no machine
or `other` mail in it would be answered, and each field reaches the floor in its floors.toml.

A corpus folder without a valid floors.toml fails test_the_corpus_states_its_floors: a new
corpus must state its floors. The history of each corpus is in the README.md beside it.
"""

from __future__ import annotations

from fractions import Fraction
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from tests.corpus_scoring import FIELDS, check_consistent, read_floors, report, score

CORPORA = Path(__file__).parent / "fixtures" / "corpora"
NAMES = sorted(p.name for p in CORPORA.iterdir() if p.is_dir())


def _floors_or_none(name: str) -> dict[str, Any] | None:
    try:
        return read_floors(CORPORA / name)
    except (ValueError, OSError):  # reported by test_the_corpus_states_its_floors
        return None


def _floor_params() -> list[Any]:
    params = []
    for name in NAMES:
        floors = _floors_or_none(name)
        for field in FIELDS:
            if floors and field in floors["floors"]:
                params.append(pytest.param(name, field, id=f"{name}-{field}"))
    return params


@cache
def _scored(name: str) -> dict[str, Any]:
    return score(CORPORA / name)


@pytest.mark.parametrize("corpus", NAMES)
def test_the_corpus_states_its_floors(corpus: str) -> None:
    read_floors(CORPORA / corpus)


@pytest.mark.parametrize("corpus", NAMES)
def test_the_corpus_is_complete_and_consistent(corpus: str) -> None:
    floors = _floors_or_none(corpus)
    check_consistent(CORPORA / corpus, size=floors["mails"] if floors else None)


@pytest.mark.parametrize("corpus", NAMES)
def test_no_machine_or_other_mail_of_the_corpus_would_be_answered(corpus: str) -> None:
    scored = _scored(corpus)
    assert scored["unsafe"] == [], report(scored)


@pytest.mark.parametrize(("corpus", "field"), _floor_params())
def test_the_corpus_accuracy_holds_its_floor(corpus: str, field: str) -> None:
    floor: Fraction = read_floors(CORPORA / corpus)["floors"][field]
    scored = _scored(corpus)
    assert scored["tot"][field], f"{corpus}: no mail is scored for {field}"
    assert Fraction(scored["hits"][field], scored["tot"][field]) >= floor, report(scored)
