"""The clause words of a language (rules/<language>/clauses.toml) and what a clause reads with
them: who the subject is (Subject) and what is wanted (Want).

Read by mailbot/classify/clauses.py; all words come from the rules, none are written here.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from mailbot.rulebook import Rules, Section, load_file

CLAUSE_FILE = "clauses.toml"  # in each language folder of the rules


class Subject(enum.Enum):
    """Who does what the clause says."""

    FIRST_SINGULAR = "1sg"
    FIRST_PLURAL = "1pl"
    ADDRESSEE = "2"  # the coordinators, without the sender as object: an instruction
    THIRD = "3"  # a colleague, a group, someone named
    GENERIC = "generic"  # nobody in particular
    NONE = "-"


class Want(enum.Enum):
    REGISTER = "register"
    CANCEL = "cancel"
    ERASE = "erase"


@dataclass(frozen=True)
class Tags:
    """Tag classes of one tagset, casefolded (prefixes or whole tags, as the rules say)."""

    verb: tuple[str, ...]
    auxiliary: tuple[str, ...]
    finite: frozenset[str]
    particle: frozenset[str]
    participle: frozenset[str]
    negation: frozenset[str]
    noun: tuple[str, ...]
    possessive: frozenset[str]
    asking: frozenset[str]
    zu_infinitive: frozenset[str]  # "teilzunehmen", "zu kommen": depends on another verb
    subordinate: frozenset[str] = frozenset()  # opens an inserted clause ("nachdem", "die")
    preposition: frozenset[str] = frozenset()  # a particle may stand before one ("an fürs")

    def is_verb(self, tag: str) -> bool:
        return tag.startswith(self.verb) or tag.startswith(self.auxiliary)


# eq=False: compared and hashed as the one object built per rules and language. It keys the
# clause caches, and a field-by-field hash (hundreds of verbs with their enums) was paid per
# sentence.
@dataclass(frozen=True, eq=False)
class ClauseWords:
    """The clause words of one language (the sections of rules/<language>/clauses.toml)."""

    language: str
    model: str
    unknown_noun: str
    min_unknown: int
    tags: Tags
    cues: tuple[str, ...]
    verbs: tuple[tuple[str, Want], ...]  # lemma (or phrase) → what it asks for
    cancel_negated: frozenset[str]
    erase_objects: frozenset[str]
    origin: frozenset[str]  # a register verb telling where someone comes from ("kommen aus")
    destination: frozenset[str]  # words that still make it a coming to ("zum", "nach")
    register_object: frozenset[str]  # "anzeigen teilnahme": a verb that registers with that noun
    onto_list: frozenset[str]  # verbs that register by putting someone onto a list
    list_noun: tuple[str, ...]  # heads of nouns for a list ("liste")
    into: frozenset[str]  # "auf", "in", "onto": before the list noun
    off_list: frozenset[str]  # verbs that cancel by taking someone off a list
    off: frozenset[str]  # "von", "off": before the list noun
    booking: frozenset[str]  # register verbs that may book something else ("buchen")
    booked_elsewhere: frozenset[str]  # what they then book (noun lemmas: "Hotel")
    negation: frozenset[str]
    emphatic: frozenset[str]  # "selbst", "myself": who stays away beside others registered
    modal: frozenset[str]
    condition: tuple[tuple[str, ...], ...]  # conjunctions, as token sequences
    indirect: tuple[tuple[str, ...], ...]  # openers of an indirect question ("ob", "whether")
    consequence: tuple[tuple[str, ...], ...]  # "dann" after a question: waits on the answer
    imperative: frozenset[str]  # words after which comes a verb the tagger may take for a noun
    imperative_tag: str  # the tag that verb gets ("VVB")
    split: frozenset[str]  # conjunctions before which a new clause starts ("but")
    hedge: frozenset[str]  # words that leave a clause open ("eventuell", "maybe")
    arrival: frozenset[str]  # "kommen": may only tell how someone arrives
    passive: frozenset[str]  # "werden": "… wird hiermit zurückgezogen" acts now
    past: frozenset[str]  # finite forms of the past ("waren", "attended"): told, not asked
    later: tuple[tuple[str, ...], ...]  # "beim nächsten Mal", "next time": not this event
    subjects: tuple[tuple[str, Subject], ...]  # nominative words → person
    person_forms: tuple[tuple[str, Subject], ...]  # verb forms that say who without a pronoun
    addressee: frozenset[str]
    objects: tuple[tuple[str, Subject], ...]  # the sender as object of a request
    reflexive: frozenset[str]  # the addressee's reflexive ("sich"): an instruction, no request
    reflexive_second: frozenset[str]  # "dich", "yourself": an addressee's, never a third's
    third_objects: frozenset[str]  # others as object of a request ("melden Sie sie an")
    own: tuple[tuple[str, Subject], ...]  # possessive lemmas of the sender ("mein", "my")

    @cached_property
    def verb_wants(self) -> dict[str, Want]:
        return dict(self.verbs)

    @cached_property
    def known_verbs(self) -> frozenset[str]:
        """The verbs (and phrases) the table knows, with those that cancel when negated."""
        return frozenset(self.verb_wants) | self.cancel_negated

    @cached_property
    def object_verbs(self) -> frozenset[str]:
        """The verbs of register_object ("anzeigen"), which register only with their noun."""
        return frozenset(v.split()[0] for v in self.register_object)


_PERSONS = ((Subject.FIRST_SINGULAR, "first_singular"), (Subject.FIRST_PLURAL, "first_plural"))
_loaded: dict[tuple[int, str], tuple[Rules, ClauseWords | None]] = {}


def load_words(rules: Rules, language: str) -> ClauseWords | None:
    """The clause words of `language`: rules/<language>/clauses.toml, read with the rule
    book's loader (validated like every rule file) once per rules; None without that file."""
    key = (id(rules), language)
    hit = _loaded.get(key)
    if hit is None or hit[0] is not rules:
        path = Path(rules.directory) / language / CLAUSE_FILE
        sections = load_file(path) if path.is_file() else {}
        hit = _loaded[key] = (rules, _read_words(sections, language) if sections else None)
    return hit[1]


def _read_words(sections: Mapping[str, Section], language: str) -> ClauseWords | None:
    def words(name: str) -> frozenset[str]:
        found = sections.get(f"clause.{name}")
        return found.words if found else frozenset()

    def persons(group: str) -> tuple[tuple[str, Subject], ...]:
        return tuple((w, who) for who, key in _PERSONS for w in sorted(words(f"{group}.{key}")))

    model = words("tagger")
    if not model:
        return None
    numbers = sections["clause.tagger"].numbers
    noun = min(words("unknown_noun"), default="")

    def tags(name: str) -> tuple[str, ...]:
        return tuple(sorted(words(f"tags.{name}")))

    return ClauseWords(
        language=language, model=min(model),
        # German nouns are written capitalised, and the tagger reads case
        unknown_noun=noun[:1].upper() + noun[1:], min_unknown=numbers.get("min_unknown", 0),
        tags=Tags(verb=tags("verb"), auxiliary=tags("auxiliary"),
                  finite=frozenset(tags("finite")), particle=frozenset(tags("particle")),
                  participle=frozenset(tags("participle")),
                  negation=frozenset(tags("negation")), noun=tags("noun"),
                  possessive=frozenset(tags("possessive")), asking=frozenset(tags("asking")),
                  zu_infinitive=frozenset(tags("zu_infinitive")),
                  subordinate=frozenset(tags("subordinate")),
                  preposition=frozenset(tags("preposition"))),
        cues=tuple(sorted(words("cue"))),
        verbs=tuple((w, want) for want in Want for w in sorted(words(want.value))),
        cancel_negated=words("cancel_negated"), erase_objects=words("erase_object"),
        origin=words("origin"), destination=words("destination"),
        register_object=words("register_object"), onto_list=words("onto_list"),
        list_noun=tuple(sorted(words("list_noun"))),
        into=words("into"), off_list=words("off_list"), off=words("off"),
        booking=words("booking"), booked_elsewhere=words("booked_elsewhere"),
        negation=words("negation"), emphatic=words("emphatic"), modal=words("modal"),
        condition=tuple(tuple(w.split()) for w in sorted(words("condition"))),
        indirect=tuple(tuple(w.split()) for w in sorted(words("indirect"))),
        consequence=tuple(tuple(w.split()) for w in sorted(words("consequence"))),
        hedge=words("hedge"), imperative=words("imperative"), split=words("split"),
        arrival=words("arrival"), passive=words("passive"), past=words("past"),
        later=tuple(tuple(w.split()) for w in sorted(words("later"))),
        imperative_tag=min(words("imperative_tag"), default="").upper(),
        subjects=persons("subject") + tuple(
            (w, who) for who, key in ((Subject.THIRD, "third"), (Subject.GENERIC, "generic"))
            for w in sorted(words(f"subject.{key}"))),
        person_forms=persons("person_form"),
        addressee=words("subject.addressee"), objects=persons("object"),
        third_objects=words("object.third"), reflexive=words("object.reflexive"),
        reflexive_second=words("object.reflexive_second"),
        own=persons("possessive"),
    )
