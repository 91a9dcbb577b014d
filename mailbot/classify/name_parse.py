"""A person's name without titles, degrees and offices, parsed by nameparser (HumanName)
configured with the titles and degrees of the rule files."""

from __future__ import annotations

import re
from dataclasses import dataclass

from nameparser import HumanName
from nameparser.config import Constants

from mailbot.classify.name_lexicon import lexicon
from mailbot.rulebook import Rules


@dataclass(frozen=True)
class ParsedName:
    title: str
    first: str
    middle: str
    last: str
    suffix: str

    @property
    def bare(self) -> str:
        return " ".join(p for p in (self.first, self.middle, self.last) if p)


def _constants(rules: Rules) -> Constants:
    """nameparser's titles and suffixes, with the German ones of the rule files added and the
    words that are also given names taken out ("Sultan Demirci", "Imam Yusuf" are names)."""
    c = Constants()
    known = lexicon(rules).names
    ours = rules.words("names.title")
    degrees = rules.words("names.suffix")
    c.titles.remove(*[t for t in c.titles if t in known and t not in ours])
    c.suffix_acronyms.remove(*[t for t in c.suffix_acronyms if t in known and t not in degrees])
    c.suffix_not_acronyms.remove(*[t for t in c.suffix_not_acronyms
                                   if t in known and t not in degrees])
    c.titles.add(*ours)
    c.suffix_acronyms.add(*degrees)
    return c


class _Parser:
    """The configured constants and the names parsed so far (parsing costs ~0.15 ms)."""

    def __init__(self, rules: Rules) -> None:
        self.rules, self.constants = rules, _constants(rules)
        self.seen: dict[str, ParsedName] = {}

    def parse(self, raw: str) -> ParsedName:
        found = self.seen.get(raw)
        if found is None:
            if len(self.seen) > 20000:
                self.seen.clear()
            found = self.seen[raw] = _split(raw, self.rules, self.constants)
        return found


def parse_name(raw: str, rules: Rules) -> ParsedName:
    return rules.derived("names.parser", _Parser).parse(raw)


def _split(raw: str, rules: Rules, constants: Constants) -> ParsedName:
    degree = rules.regex("names.degree_token")
    # "Dipl.-Soz.Päd.", "Dr.-Ing.", "M.A.": degree tokens nameparser cannot know one by one
    words = [w for w in raw.replace(",", " , ").split() if not degree.fullmatch(w.strip(","))]
    text = re.sub(r"\s+,", ",", " ".join(words)).strip(" ,")
    text = rules.regex("names.title_words").sub("", text)  # offices: "Bürgermeisterin Dr. …"
    if not text:
        return ParsedName("", "", "", "", "")
    n = HumanName(text, constants=constants)
    return ParsedName(n.title, n.first, n.middle, n.last, n.suffix)


def bare_name(raw: str, rules: Rules) -> str:
    """"Dipl.-Soz.Päd. Annegret Wilkening" -> "Annegret Wilkening", "Prof. Dr.-Ing. Ulrich
    Wenzel" -> "Ulrich Wenzel", "Kwabena Osei-Tutu, PhD" -> "Kwabena Osei-Tutu"."""
    if not raw.strip():
        return ""
    return parse_name(raw, rules).bare
