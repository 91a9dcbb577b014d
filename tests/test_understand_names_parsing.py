"""Names without titles, degrees, offices and suffixes (nameparser, configured from the rule
files), and the given-name lexicon (rules/names/given_names.txt)."""

from __future__ import annotations

import pytest

from mailbot.classify.name_lexicon import Lexicon, is_given_name, lexicon, load_lexicon, plain
from mailbot.classify.name_parse import bare_name
from mailbot.classify.names import clean_display_name, strip_titles
from tests.understanding import RULES


@pytest.mark.parametrize(("raw", "bare"), [
    ("Dipl.-Soz.Päd. Annegret Wilkening", "Annegret Wilkening"),
    ("Dipl. Soz.-Päd. Ayşe Kaya", "Ayşe Kaya"),
    ("Prof. Dr.-Ing. Ulrich Wenzel", "Ulrich Wenzel"),
    ("Dr. rer. nat. Petra Huber", "Petra Huber"),
    ("Mag. Petra Huber", "Petra Huber"),
    ("Frau Bürgermeisterin Dr. Kerstin Hasselbach", "Kerstin Hasselbach"),
    ("Kwabena Osei-Tutu, PhD", "Kwabena Osei-Tutu"),
    ("Anna Berg M.A.", "Anna Berg"),
    ("Herrn Dr. Emmanuel Nkemelu", "Emmanuel Nkemelu"),
])
def test_titles_degrees_and_offices_come_off(raw: str, bare: str) -> None:
    assert bare_name(raw, RULES) == bare
    assert strip_titles(raw, RULES) == bare


@pytest.mark.parametrize("name", [
    "Sultan Demirci", "Imam Yusuf", "Mahmoud Al-Khatib", "Kouadio N'Guessan", "Nadia El-Khoury",
    "Hanneke van der Berg", "Ahmad bin Yusuf",
])
def test_names_stay_whole_even_when_a_word_is_also_a_title_elsewhere(name: str) -> None:
    assert strip_titles(name, RULES) == name


def test_a_display_name_written_surname_first_is_turned_round_without_titles():
    assert clean_display_name("Siebert, Dr. Barbara", RULES) == "Barbara Siebert"


def test_the_lexicon_is_folded_as_its_source_was():
    assert [plain(w) for w in ("Tarık", "Jürgen", "Małgorzata", "Nguyễn", "Şimşek")] == [
        "tarik", "jurgen", "malgorzata", "nguyen", "simsek"]
    assert len(lexicon(RULES)) > 50000
    assert is_given_name("Anna-Lena", RULES) and is_given_name("Gülcan", RULES)
    assert not is_given_name("anna", RULES)  # a given name is written with a capital
    assert not is_given_name("Geschäftsstelle", RULES)


def test_without_the_list_names_are_judged_by_their_shape_only(tmp_path):
    empty = load_lexicon(tmp_path / "missing.txt")
    assert isinstance(empty, Lexicon) and not empty.knows("Anna")
