"""Given names of many origins (rules/names/given_names.txt, distilled from nomquamgender by
bench/build_name_lexicon.py): is a capitalised word someone's given name?"""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from pathlib import Path

from mailbot.parse.text import fold
from mailbot.rulebook import Rules

LEXICON_FILE = Path("names") / "given_names.txt"
_WORDS_KEPT = 20_000


def plain(word: str) -> str:
    """The source's spelling: romanised, accents and umlauts dropped ("Tarık" -> "tarik",
    "Jürgen" -> "jurgen"), as unidecode wrote the names it was built from."""
    return fold("".join(_base(c) for c in word))


def _base(char: str) -> str:
    """The letter without its accents ("ü" -> "u", "ş" -> "s"), by canonical decomposition."""
    if char.isascii():
        return char
    parts = unicodedata.decomposition(char).split()
    if not parts or parts[0].startswith("<"):
        return char
    return _base(chr(int(parts[0], 16)))


class Lexicon:
    def __init__(self, names: frozenset[str]) -> None:
        self.names = names
        # the answer for each word asked (mails repeat their words: greetings, closings,
        # the sender's name), emptied when full so that a long-running process stays bounded
        self._known: dict[str, bool] = {}

    def knows(self, word: str) -> bool:
        """A given name, in any of its parts ("Anna-Lena", "Jean-Pierre")."""
        known = self._known.get(word)
        if known is None:
            if len(self._known) >= _WORDS_KEPT:
                self._known.clear()
            known = self._known[word] = self._knows(word)
        return known

    def _knows(self, word: str) -> bool:
        w = word.strip(".,;:!?()\"'’")
        if len(w) < 2 or not w[:1].isupper():
            return False
        parts = [p for p in w.split("-") if p]
        return bool(parts) and all(plain(p) in self.names or fold(p) in self.names
                                   for p in parts)

    def __len__(self) -> int:
        return len(self.names)


def load_lexicon(path: Path) -> Lexicon:
    if not path.is_file():
        return Lexicon(frozenset())  # without the list, names are judged by their shape only
    lines = path.read_text(encoding="utf-8").splitlines()
    return Lexicon(frozenset(x.strip() for x in lines if x.strip() and not x.startswith("#")))


@lru_cache(maxsize=4)
def _cached(path: Path) -> Lexicon:
    return load_lexicon(path)


def lexicon(rules: Rules) -> Lexicon:
    # asked for every capitalised word: found once per rule set, not by its path each time
    return rules.derived("names.lexicon", lambda r: _cached(r.directory / LEXICON_FILE))


def is_given_name(word: str, rules: Rules) -> bool:
    return lexicon(rules).knows(word)
