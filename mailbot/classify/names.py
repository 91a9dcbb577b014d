"""Person names and addresses: what a name is, titles, display names, one entry per person."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from mailbot.classify.name_lexicon import is_given_name
from mailbot.classify.name_parse import bare_name
from mailbot.parse.text import LIST_MARK, fold
from mailbot.rulebook import Rules, load_default_rules
from mailbot.types import Attendee

EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}\b", re.I)
TOKEN = re.compile(r"[^\W\d_][\w'’.-]*", re.U)
PAREN = re.compile(r"\([^)]*\)|\[[^\]]*\]")
LIST_ITEM = re.compile(rf"^\s*{LIST_MARK}\s+(.+)$", re.M)
UMLAUT = re.compile(r"[äöüÄÖÜß]")  # a letter of the Latin script beyond ASCII that names use
PHONE = re.compile(r"\d[\d /().-]{5,}\d")
URL = re.compile(r"\b(?:https?://|www\.)", re.I)


@dataclass
class Person:
    name: str
    email: str | None

    def __post_init__(self) -> None:
        # "Frau Aylin Yılmaz", "Dipl.-Päd. Aylin Yılmaz" and "Aylin Yılmaz" are the same name
        # (the default rules: a Person is made where no rules are at hand)
        self.name = strip_titles(self.name.strip(), load_default_rules())

    @property
    def surname(self) -> str:
        parts = self.name.split()
        return fold(parts[-1]) if parts else ""


_PLAIN_NAME = re.compile(r"[^\W\d_][\w'’-]*(?:\s+[^\W\d_][\w'’-]*)*")


def strip_titles(name: str, rules: Rules) -> str:
    """The name without salutations, titles, offices and degrees, before or after it
    ("Frau Dr. phil. Anna Berg", "Kwabena Osei-Tutu, PhD"): nameparser splits the name."""
    name = " ".join(name.split())
    titles, suffixes = rules.words("names.title"), rules.words("names.suffix")
    if _PLAIN_NAME.fullmatch(name) and not any(
            w.casefold() in titles or w.casefold() in suffixes for w in name.split()):
        return name  # most names: nothing to take off, and parsing costs time
    return bare_name(name, rules)


def clean_display_name(raw: str, rules: Rules) -> str:
    """"Ehlers, Bianca" -> "Bianca Ehlers"; drops "(Stadt X)", quotes and titles."""
    name = PAREN.sub(" ", raw).strip(" \"'")
    if "@" in name:
        return ""
    if name.count(",") == 1:
        last, first = (p.strip() for p in name.split(","))
        if first and last and len(first.split()) <= 3 and len(last.split()) <= 3:
            name = f"{first} {last}"
    return _surname_last(" ".join(strip_titles(name, rules).split()), rules)


def _cap(word: str) -> str:
    return "-".join(p[:1].upper() + p[1:].lower() for p in word.split("-"))


def _surname_last(name: str, rules: Rules) -> str:
    """"OKONKWO Chinedu" -> "Chinedu Okonkwo": registry and passport style writes the surname
    in capitals, often first; one all-caps word among normal ones is the surname."""
    words = name.split()
    caps = [w for w in words if len(w) >= 3 and w.isupper() and w.replace("-", "").isalpha()]
    if len(words) < 2 or len(caps) != 1 or rules.pattern("names.org_word").search(name):
        return name
    if any(not (w[0].isupper() and w[1:].islower()) for w in words if w not in caps):
        return name
    return " ".join([w for w in words if w not in caps] + [_cap(caps[0])])


def is_person(name: str, rules: Rules, min_tokens: int = 2) -> bool:
    """A plausible person's name: 1–4 capitalised words, none of them an organisation word."""
    tokens = name.split()
    particles = rules.words("names.particle")
    # particles stand inside a name ("Ana Lúcia Ferreira da Silva", "Marisol de la Cruz") and
    # do not count as its words
    if tokens and (tokens[0] in particles or tokens[-1].casefold() in particles):
        return False
    words = [t for t in tokens if t not in particles]
    if not min_tokens <= len(words) <= 4 or any(c.isdigit() or c == "@" for c in name):
        return False
    # a known given name is no organisation word inside it ("Estelle": not "…stelle")
    if rules.pattern("names.org_word").search(
            " ".join(t for t in tokens if not is_given_name(t, rules))):
        return False
    not_name = rules.words("names.not_name")
    # a title is never part of the name itself ("Frau Dr", "Herr Dr Ulrich Wenzel"): the
    # name starts after it, so candidates that still hold one are cut further by the callers
    titles = rules.words("names.title")
    # after a known given name, a last word shaped like an office is a surname ("Ingrid
    # Hoffmeister", "Jana Schulmeister"), not "Bürgermeisterin"
    surname_at = len(tokens) - 1 if len(tokens) > 1 and is_given_name(tokens[0], rules) else -1
    for i, t in enumerate(tokens):
        low = t.casefold().strip(".,;:!")
        head, dash, rest = t.partition("-")
        if low in particles or (dash and head.casefold() in particles and rest[:1].isupper()):
            continue  # "bin", "al-Rawi"
        if low in not_name or low in titles or f"{low}." in titles:
            return False
        if not t[0].isupper() or not TOKEN.fullmatch(t):
            return False
        if i != surname_at and rules.regex("names.office").match(t):
            return False
    return True


def has_given_name(name: str, rules: Rules) -> bool:
    """Some word of the name is a known given name (of any origin): evidence that a run of
    capitalised words is a person ("Ama Serwaa") rather than a role ("Senior Researcher")."""
    return any(is_given_name(t, rules) for t in name.split())


def local_matches(name: str, email: str) -> bool:
    local = fold(email.split("@")[0])
    parts = [fold(p) for p in name.split() if len(p) > 2]
    return any(p in local for p in parts)


def _key(name: str) -> str:
    """A name compared without case, accents and the hyphen-or-space of double names."""
    return " ".join(fold(name).replace("-", " ").split())


def same_person(p: Person, q: Person) -> bool:
    if p.email and q.email:
        return p.email == q.email
    if p.name and q.name and p.surname == q.surname:
        # "Frau Otte" and "Svenja Otte" are one person; "Anna Otte" and "Bernd Otte" are not;
        # "Ada Lim" and "Ada Mei Lim" are, one with her middle name
        return min(len(p.name.split()), len(q.name.split())) == 1 or \
            _key(p.name).split()[0] == _key(q.name).split()[0]
    if p.name and q.name and _key(p.name) == _key(q.name):
        return True  # "Nadia El-Khoury" and "Nadia El Khoury"
    short, full = sorted((p, q), key=lambda x: len(x.name.split()))
    if len(short.name.split()) == 1 and len(full.name.split()) > 1 and full.email and \
            fold(short.name) == fold(full.name.split()[0]):
        return True  # "my colleague Kwame (cc'd)" is the Kwame Asante-Boateng in Cc
    addr, named = (p, q) if p.email else (q, p)
    return bool(addr.email and not addr.name and named.name and
                local_matches(named.name, addr.email))


def merge(people: Iterable[Person]) -> list[Person]:
    """One entry per person: same address, or same surname with one side lacking details."""
    out: list[Person] = []
    for p in people:
        same = next((q for q in out if same_person(p, q)), None)
        if same is None:
            out.append(Person(p.name, p.email))
            continue
        same.email = same.email or p.email
        if p.name and _key(p.name) == _key(same.name):
            if same.email and _spelt(p.name, same.email) > _spelt(same.name, same.email):
                same.name = p.name
        elif len(p.name.split()) > len(same.name.split()):
            same.name = p.name
    return out


def _spelt(name: str, email: str) -> int:
    """How long a piece of the name the address spells as written ("abu-ghazaleh" in
    r.abu-ghazaleh@…): of two spellings of one name, the address's wins."""
    local = fold(email.split("@")[0])
    return max((len(w) for w in fold(name).split() if w in local), default=0)


def as_attendees(people: Iterable[Person]) -> tuple[Attendee, ...]:
    return tuple(Attendee(p.name, p.email) for p in people)
