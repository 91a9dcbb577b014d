"""The new text of a mail as clauses: sentences → tokens → tags and lemmas → Clause values.

Pure: text in, clauses out. Tokens come from syntok (MIT), tags and lemmas from the Hanover
Tagger HanTa (LGPL; German STTS, English CLAWS C5). Sentences are the ones every chain rule
reads (mailbot.parse.text.sentences), which keeps "am 12. September" in one sentence where
syntok's own segmenter splits it.

A sentence is cut into segments at clause punctuation and before a conjunction of condition.
In each segment the verb that says what someone wants is read with its separable particle
joined ("melde … an" → anmelden, "sign … up" → sign up), together with negation, the modal
verb, the condition, the subject and whether it asks. All words come from
rules/<language>/clauses.toml (ClauseWords, read by mailbot/classify/clause_words.py); none are
written here.

Cost: the tagger loads once per process (lazily, ~0.3 s per language), and a sentence holding
none of the cue words of its language is never tagged; clauses are cached per sentence.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

# The clause words and their loading live in clause_words; importable from here as before.
from mailbot.classify import clause_segments as cs
from mailbot.classify.clause_words import CLAUSE_FILE as CLAUSE_FILE
from mailbot.classify.clause_words import ClauseWords as ClauseWords
from mailbot.classify.clause_words import Subject as Subject
from mailbot.classify.clause_words import Tags as Tags
from mailbot.classify.clause_words import Want as Want
from mailbot.classify.clause_words import load_words as load_words

_MAX_TOKENS = 80  # a longer "sentence" (a list without stops) is read in windows of this size
_PHRASE_REACH = 4  # an English phrasal verb's particle or object follows within this many words


@dataclass(frozen=True)
class Clause:
    """One segment of a sentence, read for what someone wants."""

    sentence: str
    verb: str  # lemma, particle joined ("anmelden"); "" when the segment has no verb
    want: Want | None  # what the clause asks for, negation applied (None: nothing we act on)
    negated: bool
    modal: str  # lemma of the modal verb ("mögen", "will"), or ""
    conditional: bool  # stands under a condition, or is the condition
    subject: Subject
    request: bool  # the coordinators are asked to do it for the sender ("melden Sie mich an")
    question: bool

    def describe(self) -> str:
        return ", ".join((
            self.verb, self.subject.value + (" (request)" if self.request else ""),
            "negated" if self.negated else "not negated",
            *((f"modal {self.modal}",) if self.modal else ()),
            "conditional" if self.conditional else "not conditional",
            *(("question",) if self.question else ()),
        ))


# --- the libraries, loaded once per process ------------------------------------------------

@lru_cache(maxsize=4)
def _tagger(model: str) -> Any:
    from HanTa import HanoverTagger

    return HanoverTagger.HanoverTagger(model)


@lru_cache(maxsize=1)
def _tokenizer() -> Any:
    from syntok.tokenizer import Tokenizer

    return Tokenizer(replace_not_contraction=True)  # "can't" → "ca" "not"


@lru_cache(maxsize=4096)
def _lemma(model: str, word: str, tag: str) -> str:
    return str(_tagger(model).analyze(word, pos=tag)[0]).casefold()


def tokens(sentence: str) -> list[str]:
    out: list[str] = []
    for t in _tokenizer().tokenize(sentence):
        if t.value == "-" and out and not t.spacing:
            out[-1] += "-"  # "Frauen- und Mädchennotruf": a word cut short, no dash
        else:
            out.append(t.value)
    return out


def tag(words: ClauseWords, toks: Sequence[str]) -> list[str]:
    """The tags of `toks` as the model writes them ("VV(FIN)", "VVI"). A long capitalised word
    the model does not know (past the first token) is tagged as the stand-in noun."""
    tagger = _tagger(words.model)
    known = tagger.cache
    stand_in = words.unknown_noun
    shown = [t if not stand_in or i == 0 or len(t) < words.min_unknown or not t[0].isupper()
             or t.lower() in known else stand_in for i, t in enumerate(toks)]
    tags = [str(t) for t in tagger.tag_sent(shown, taglevel=0)]
    if words.imperative_tag:  # "Kindly reserve a seat", "Please count us in": a verb
        for i in range(1, len(toks)):
            if toks[i - 1].casefold() in words.imperative and toks[i].isalpha():
                tags[i] = words.imperative_tag
    return tags


def _plain(tag: str) -> str:
    """"VV(FIN)" → "vvfin": the tag as the rules write it, casefolded."""
    return tag.replace("(", "").replace(")", "").casefold()


# --- clauses --------------------------------------------------------------------------------

@lru_cache(maxsize=4096)  # a sentence is asked about by several rules of one mail
def has_cue(sentence: str, words: ClauseWords) -> bool:
    low = sentence.casefold()
    return any(c in low for c in words.cues)


def read(sentences: Iterable[str], words: ClauseWords) -> list[Clause]:
    """The clauses of every sentence that holds a cue word (in order)."""
    out: list[Clause] = []
    after_question = False
    for s in sentences:
        if has_cue(s, words):
            out += sentence_clauses(s, words, after_question)
        after_question = s.rstrip().endswith("?")
    return out


@lru_cache(maxsize=2048)
def sentence_clauses(sentence: str, words: ClauseWords,
                     after_question: bool = False) -> tuple[Clause, ...]:
    """The clauses of one sentence. `after_question`: the sentence before asked, so a bare
    "if so" / "wenn ja" makes this one wait on the answer."""
    toks = tokens(sentence)
    out: list[Clause] = []
    for start in range(0, len(toks), _MAX_TOKENS):
        window = toks[start:start + _MAX_TOKENS]
        raw = tag(words, window)
        out += _window_clauses(sentence, window, raw, words, after_question)
    return tuple(out)


def _window_clauses(sentence: str, toks: Sequence[str], raw: Sequence[str],
                    words: ClauseWords, after_question: bool) -> list[Clause]:
    low = [t.casefold() for t in toks]
    tags = [_plain(t) for t in raw]
    asks = sentence.rstrip().endswith("?") or "?" in toks
    segs = cs.segments(toks, words)
    conditions = []
    for a, b in segs:
        if cs.starts_condition(low, a, words):
            has_verb = any(words.tags.is_verb(tags[i]) for i in range(a, b))
            conditions.append(has_verb or after_question)
        else:
            conditions.append(False)
    # "Gibt es …? Dann würde ich mich anmelden": the whole sentence waits on the answer
    conditional = any(conditions) or (after_question and cs.starts(low, 0, words.consequence))
    units = cs.units(segs, low, tags, words)

    @cache
    def nouns() -> frozenset[str]:
        """The noun lemmas of the whole window: a verb's object may stand at the head of the
        sentence, before inserted clauses ("den Termin …, auf den Sie …, nehme ich – … –
        an beiden Tagen wahr")."""
        return frozenset(_lemma(words.model, toks[i], raw[i]) for i in range(len(toks))
                         if tags[i].startswith(words.tags.noun))

    out = []
    for n, idx in enumerate(units):
        pick = [low[i] for i in idx], [toks[i] for i in idx], [raw[i] for i in idx]
        c = _clause(*pick, [tags[i] for i in idx], 0, len(idx), words, nouns)
        if c is None:
            continue
        first = idx[0]
        indirect = cs.starts(low, first, words.indirect)
        question = indirect or (asks and (n == len(units) - 1 or words.tags.is_verb(tags[first])
                                          or tags[first] in words.tags.asking))
        hedged = not c[5] and any(low[i] in words.hedge for i in idx)  # not "Könnten Sie …"
        if c[1] is Want.CANCEL and c[2] and cs.starts_condition(low, first, words):
            # "Wenn ich nicht kann, sage ich Bescheid", "I'll tell you if I can't come": the
            # condition of a later message, no cancellation now
            c = (c[0], None, *c[2:])
        out.append(Clause(
            sentence=sentence, verb=c[0], want=c[1], negated=c[2], modal=c[3],
            conditional=conditional or hedged, subject=c[4], request=c[5], question=question))
    return out


def _clause(low: Sequence[str], toks: Sequence[str], raw: Sequence[str], tags: Sequence[str],
            a: int, b: int, words: ClauseWords, nouns: Callable[[], frozenset[str]]
            ) -> tuple[str, Want | None, bool, str, Subject, bool] | None:
    t = words.tags
    verbs = [i for i in range(a, b) if t.is_verb(tags[i])]
    if not verbs:
        return None
    table = words.verb_wants
    lemmas = {i: _lemma(words.model, toks[i], raw[i]) for i in verbs}
    chosen, verb = verbs[-1], lemmas[verbs[-1]]
    # a verb with its particle or adverb joined outranks a bare one: in "für „Chancen
    # schaffen“ melden wir uns an" the clause is "anmelden", not the title's "schaffen"
    found = [(i, v) for i in verbs
             if (v := _verb_phrase(i, lemmas[i], low, toks, tags, a, b, words))]
    if found:
        # … and one the table knows outranks one that registers only with its object
        # ("I am writing to confirm that I will attend": "attend")
        chosen, verb = max(found, key=lambda f: (f[1] != lemmas[f[0]], f[1] in words.known_verbs,
                                                 -f[0]))
    negated = any(low[i] in words.negation or tags[i] in t.negation for i in range(a, b))
    modal = next((lemmas[i] for i in verbs if i != chosen and lemmas[i] in words.modal), "")
    subject, request = _subject(low, toks, raw, tags, a, b, verbs, chosen, words)
    if tags[chosen] in t.participle and not any(low[i] in words.passive for i in verbs):
        return verb, None, False, modal, subject, request  # "angemeldet", "joined": done, not asked
    want = table.get(verb)
    if want is None and verb in words.object_verbs and any(
            f"{verb} {n}" in words.register_object for n in nouns()):
        want = Want.REGISTER  # "Hiermit zeige ich meine Teilnahme … an"
    if want is None and verb in words.onto_list and _on_list(low, a, b, words, words.into,
                                                             onto=True):
        want = Want.REGISTER  # "setzen Sie mich auf die Teilnehmendenliste"
    elif want is None and verb in words.off_list and _on_list(low, a, b, words, words.off):
        want = Want.CANCEL  # "nehmen Sie mich von der Teilnehmerliste"
    if want is Want.ERASE and not any(
            _lemma(words.model, toks[i], raw[i]) in words.erase_objects or
            low[i] in words.erase_objects for i in range(a, b) if tags[i].startswith(t.noun)):
        want = None
    if want is Want.REGISTER and any(f"{verb} {low[j]}" in words.origin
                                     for j in range(chosen + 1, min(b, chosen + 3))) \
            and not any(low[i] in words.destination for i in range(a, b)):
        want = None  # "wir kommen aus Wilhelmshaven": where from, not where to
    if want is Want.REGISTER and verb in words.booking and any(
            _lemma(words.model, toks[i], raw[i]) in words.booked_elsewhere
            for i in range(a, b) if tags[i].startswith(t.noun)):
        want = None  # "ein Hotel buchen": booked, but not with us
    zu = t.zu_infinitive
    if want is not None and not request and not any(tags[i] in t.finite for i in verbs) and (
            tags[chosen] in zu or (chosen > a and tags[chosen - 1] in zu)):
        want = None  # "…, am Fachtag teilzunehmen": the verb it hangs on decides, elsewhere
    if negated:
        want = Want.CANCEL if want is Want.REGISTER or verb in words.cancel_negated else None
    elif verb in words.cancel_negated:
        want = None
    if low[chosen] in words.past or any(cs.starts(low, i, words.later) for i in range(a, b)):
        want = None  # "… dabei waren", "Beim nächsten Mal nehme ich gern teil": not now
    return verb, want, negated, modal, subject, request


def _on_list(low: Sequence[str], a: int, b: int, words: ClauseWords,
             preps: frozenset[str], onto: bool = False) -> bool:
    """The clause moves someone onto or off a list: a noun with a list head
    ("Teilnehmerliste") within two words after one of `preps` ("auf", "onto"; "von", "off").
    `onto`: someone must be named just before ("setzen Sie mich auf die Liste"), since "bitte
    in die Liste aufnehmen" under a forwarded mail puts its author there, not the sender."""
    if not words.list_noun:
        return False
    people = words.third_objects | {w for w, _ in words.objects}  # "mich", "uns", "sie"
    for j in range(a, b):
        if not low[j].endswith(words.list_noun):
            continue
        for k in range(max(a, j - 2), j):
            named = any(low[m] in people for m in range(max(a, k - 3), k))
            if low[k] in preps and (named or not onto):
                return True
    return False


def _verb_phrase(i: int, lemma: str, low: Sequence[str], toks: Sequence[str],
                 tags: Sequence[str], a: int, b: int, words: ClauseWords) -> str:
    """The verb at `i` as the table knows it: particle joined, with a word before or after it
    ("dabei sein", "ich bin … dabei") or a particle or object after it ("sign up", "make
    it"); "" when not known."""
    wanted = words.known_verbs | words.object_verbs
    if tags[i] in words.tags.finite:
        # a separable particle closes the clause: tagged as one, or a word the clause ends
        # with or that stands before punctuation ("melde mich … an (beide in Cc).")
        for j in range(i + 1, b):
            # … or before a preposition that goes on with the sentence ("an fürs Forum")
            closes = j + 1 >= b or not toks[j + 1][:1].isalnum() or (
                j > i + 1 and tags[j + 1] in words.tags.preposition)
            if (tags[j] in words.tags.particle or closes) and low[j] + lemma in wanted:
                return low[j] + lemma
        # the adverb after the verb, when the clause says who: "wir sind … gern dabei"
        said = dict(words.subjects) | dict(words.person_forms)
        for j in range(i + 1, b):
            if f"{low[j]} {lemma}" in wanted and any(w in said for w in low[a:b]):
                return f"{low[j]} {lemma}"
    for j in range(i + 1, min(b, i + 1 + _PHRASE_REACH)):
        if f"{lemma} {low[j]}" in wanted:
            return f"{lemma} {low[j]}"
    for j in range(a, i):
        if f"{low[j]} {lemma}" in wanted:
            two = f"{low[j - 1]} {low[j]} {lemma}" if j > a else ""
            return two if two in wanted else f"{low[j]} {lemma}"
    return lemma if lemma in wanted else ""


def _subject(low: Sequence[str], toks: Sequence[str], raw: Sequence[str], tags: Sequence[str],
             a: int, b: int, verbs: Sequence[int], verb: int,
             words: ClauseWords) -> tuple[Subject, bool]:
    """Who does what the verb at `verb` says, and whether the coordinators are asked to act
    for the sender ("Bitte melden Sie mich an", "Please register me", "stornieren Sie meine …").
    Of several subjects in the segment ("I hope you can join") the one nearest the verb."""
    subjects, objects, own = dict(words.subjects), dict(words.objects), dict(words.own)
    t = words.tags
    found: list[tuple[int, Subject]] = []
    for i in range(a, b):
        # a word that may also be a third person ("Sie": "she", "they") addresses the
        # coordinators only when capitalised inside the clause
        if low[i] in words.addressee and (
                low[i] not in subjects or (i > a and toks[i][:1].isupper())):
            found.append((i, Subject.ADDRESSEE))
        elif low[i] in subjects and not (  # "one colleague": a numeral, not "one" = anybody
                subjects[low[i]] is Subject.GENERIC and i + 1 < b
                and tags[i + 1].startswith(t.noun)):
            found.append((i, subjects[low[i]]))
    possessives = [i for i in range(a, b) if tags[i] in t.possessive]
    obj = next((objects[low[i]] for i in range(a, b) if low[i] in objects), None)
    mine = obj or next(
        (own[w] for w in (_lemma(words.model, toks[i], raw[i]) for i in possessives)
         if w in own), None)
    if found:
        who = min(found, key=lambda f: (abs(f[0] - verb), f[0] > verb))[1]
        if any(w is Subject.ADDRESSEE and i == verbs[0] + 1 for i, w in found):
            who = Subject.ADDRESSEE  # "Können Sie sie noch dazunehmen?": "sie" is the object
        if who is Subject.ADDRESSEE and any(low[i] in words.reflexive for i in range(a, b)):
            return who, False  # "Melden Sie sich … an": an instruction to the reader
        if who is Subject.ADDRESSEE and mine is not None:
            return mine, True
        if who is Subject.ADDRESSEE and any(  # "bitte melden Sie folgende Kolleginnen an"
                low[i] in words.third_objects and toks[i].islower() for i in range(a, b)):
            return Subject.THIRD, True
        return who, False
    if any(low[i] in words.reflexive_second for i in range(a, b)):
        return Subject.ADDRESSEE, False  # "Meld dich doch auch an!": an instruction to a reader
    person = dict(words.person_forms).get(low[verb])
    if person is not None:  # "Bin beim Fachtag dabei": the pronoun left out
        return person, False
    if obj is not None:  # "…, mich für den Fachtag anzumelden": the sender as the object
        return obj, True
    first = verbs[0]
    if any(tags[i].startswith(t.noun) or tags[i] in t.possessive for i in range(a, first)):
        return Subject.THIRD, False  # a noun or name before the verb: "meine Kollegin meldet …"
    if mine is not None:  # "bitte für mich anmelden", "register me", "cancel my booking"
        return mine, True
    return (Subject.THIRD, False) if possessives else (Subject.NONE, False)
