"""Who: person names from display names, signatures and text; addresses; organisations."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from mailbot.parse.text import fold
from mailbot.rulebook import Rules, load_default_rules
from mailbot.types import Attendee

EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}\b", re.I)
_TOKEN = re.compile(r"[^\W\d_][\w'’.-]*", re.U)
_PAREN = re.compile(r"\([^)]*\)|\[[^\]]*\]")
_LIST_ITEM = re.compile(r"^\s*(?:\d+[.)]|[-*•])\s+(.+)$", re.M)
_UMLAUT = re.compile(r"[äöüÄÖÜß]")  # a letter of the Latin script beyond ASCII that names use
_PHONE = re.compile(r"\d[\d /().-]{5,}\d")
_URL = re.compile(r"\b(?:https?://|www\.)", re.I)


@dataclass
class Person:
    name: str
    email: str | None

    def __post_init__(self) -> None:
        # "Frau Aylin Yılmaz" and "Aylin Yılmaz" are the same name
        # (the default rules: a Person is made where no rules are at hand)
        self.name = load_default_rules().regex("names.title_words").sub("", self.name.strip())

    @property
    def surname(self) -> str:
        parts = self.name.split()
        return fold(parts[-1]) if parts else ""


def strip_titles(name: str, rules: Rules) -> str:
    titles = rules.words("names.title")
    words = [w for w in name.split() if w.casefold() not in titles]
    return " ".join(words)


def clean_display_name(raw: str, rules: Rules) -> str:
    """"Ehlers, Bianca" -> "Bianca Ehlers"; drops "(Stadt X)", quotes and titles."""
    name = _PAREN.sub(" ", raw).strip(" \"'")
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
    if not min_tokens <= len(tokens) <= 4 or any(c.isdigit() or c == "@" for c in name):
        return False
    if rules.pattern("names.org_word").search(name):
        return False
    not_name = rules.words("names.not_name")
    # a title is never part of the name itself ("Frau Dr", "Herr Dr Ulrich Wenzel"): the
    # name starts after it, so candidates that still hold one are cut further by the callers
    titles = rules.words("names.title")
    particles = rules.words("names.particle")
    for t in tokens:
        low = t.casefold().strip(".,;:!")
        if low in particles:
            continue
        if low in not_name or low in titles or f"{low}." in titles:
            return False
        if not t[0].isupper() or not _TOKEN.fullmatch(t) or rules.regex("names.office").match(t):
            return False
    return True


def _runs(text: str) -> list[str]:
    """Maximal runs of capitalised words (name candidates), left to right."""
    out, cur = [], []
    for raw in re.split(r"[\s,;:()<>\[\]\"“”„–-]+(?=\S)|[,;:()<>\[\]\"“”„]", text):
        t = raw.strip(" .")
        if t and t[0].isupper() and _TOKEN.fullmatch(t):
            cur.append(t)
        else:
            if cur:
                out.append(" ".join(cur))
            cur = []
    if cur:
        out.append(" ".join(cur))
    return out


def _local_matches(name: str, email: str) -> bool:
    local = fold(email.split("@")[0])
    parts = [fold(p) for p in name.split() if len(p) > 2]
    return any(p in local for p in parts)


# "Schütte, Ole – ole.schuette@…": surname first, as lists and spreadsheets write it
_SURNAME_FIRST = re.compile(r"(?:^|[\s:)])([A-ZÄÖÜÁÉÓÚÇŞŠŽĆČŁ][\w'’-]+),[ \t]*"
                            r"([A-ZÄÖÜÁÉÓÚÇŞŠŽĆČŁ][\w'’-]+(?:[ \t]+[A-ZÄÖÜÁÉÓÚÇŞŠŽĆČŁ][\w'’-]+)?)"
                            r"[ \t]*(?:[–—:,-]|\(|<)?[ \t]*$")


def _best_name_before(line: str, email: str, rules: Rules) -> str:
    before = _PAREN.sub(" ", line[: line.find(email)])
    m = _SURNAME_FIRST.search(before)
    if m:
        swapped = f"{m.group(2)} {m.group(1)}"
        # only when the address agrees that the second part is the first name
        if is_person(swapped, rules) and fold(email.split("@")[0]).startswith(
                fold(m.group(2).split()[0])[:3]):
            return swapped
    cands = []
    for run in _runs(before):
        words = run.split()
        # drop leading non-name words ("Kollegin Sabine Ohlendorf" -> "Sabine Ohlendorf")
        while words and not is_person(words[0] + " X", rules) and len(words) > 2:
            words = words[1:]
        for k in range(min(4, len(words)), 1, -1):
            cand = " ".join(words[-k:])
            if is_person(cand, rules):
                cands.append(cand)
                break
    matching = [c for c in cands if _local_matches(c, email)]
    if matching:
        return matching[-1]
    # "Herr Dr. Ulrich Wenzel, Referatsleiter Internationale Zusammenarbeit – ulrich.wenzel@…":
    # the address belongs to the name it spells, wherever in the run that name stands
    for run in _runs(before):
        words = run.split()
        for k in (3, 2):
            for i in range(len(words) - k + 1):
                cand = " ".join(words[i:i + k])
                if _local_matches(cand, email) and is_person(cand, rules):
                    return cand
    return cands[-1] if cands else ""


def people_in_text(text: str, rules: Rules, own_domains: Iterable[str]) -> list[Person]:
    """People a mail text names: with their address, after a title, as colleagues, in lists."""
    own = {d.lower() for d in own_domains}
    greeting, list_split = rules.regex("people.greeting"), rules.regex("people.list_split")
    people: list[Person] = []
    lines = text.split("\n")
    for line in lines:
        if greeting.match(line):
            continue
        for m in EMAIL.finditer(line):
            addr = m.group(0).lower()
            if addr.split("@")[1] in own:
                continue
            people.append(Person(_best_name_before(line, m.group(0), rules), addr))
    body = "\n".join(x for x in lines if not greeting.match(x))
    for m in rules.regex("names.titled").finditer(body):
        name = m.group(1)
        if name and is_person(name, rules, min_tokens=1):
            people.append(Person(name, None))
    role_named = rules.regex("names.role_named")
    for m in role_named.finditer(body):
        name = m.group(1)
        if is_person(name, rules):
            people.append(Person(name, None))
        # "meine Kolleginnen Regina Koch und Petra Lange": the plural role names them all
        at = m.end()
        while (more := rules.regex("names.and_name").match(body, at)) and is_person(more.group(1), rules):
            people.append(Person(more.group(1), None))
            at = more.end()
    for both in rules.regex("people.both").finditer(body):
        for piece in list_split.split((both.group(1) or both.group(2)).strip(" .")):
            if is_person(piece, rules):
                people.append(Person(piece, None))
    for colon in re.finditer(r":\s*([^\n]+)", body):
        for piece in list_split.split(_PAREN.sub(" ", colon.group(1)).rstrip(" .!")):
            words = [w for w in piece.split() if w.casefold() not in rules.words("names.not_name")]
            cand = " ".join(words)
            if (role := role_named.search(cand)) is not None:
                cand = role.group(1)  # "unsere Kassenwartin Fatou Diallo": the role is no name
            if cand and is_person(cand, rules):
                people.append(Person(cand, None))
    for m in _LIST_ITEM.finditer(body):
        first = re.split(r"\s*(?:,|\(|–| - |:)\s*", m.group(1))[0].strip()
        if is_person(first, rules):
            people.append(Person(first, None))
    return merge(people)


def _same_person(p: Person, q: Person) -> bool:
    if p.email and q.email:
        return p.email == q.email
    if p.name and q.name and p.surname == q.surname:
        # "Frau Otte" and "Svenja Otte" are one person; "Anna Otte" and "Bernd Otte" are not
        return min(len(p.name.split()), len(q.name.split())) == 1 or fold(p.name) == fold(q.name)
    addr, named = (p, q) if p.email else (q, p)
    return bool(addr.email and not addr.name and named.name and
                _local_matches(named.name, addr.email))


def merge(people: Iterable[Person]) -> list[Person]:
    """One entry per person: same address, or same surname with one side lacking details."""
    out: list[Person] = []
    for p in people:
        same = next((q for q in out if _same_person(p, q)), None)
        if same is None:
            out.append(Person(p.name, p.email))
            continue
        same.email = same.email or p.email
        if len(p.name.split()) > len(same.name.split()):
            same.name = p.name
    return out


def signature_person(lines: list[str], rules: Rules) -> str:
    """The first line below a closing that is a person's name ("Sigrid Hauschild")."""
    role = rules.pattern("names.role")
    closing = rules.pattern("signature.closing")
    for line in lines[:8]:
        s = line.strip(" -–—/").strip()
        # "i. A. Sandra Wolter": she signs for someone, by name
        s = rules.regex("people.on_behalf").sub("", s)
        if not s or role.match(s) or EMAIL.search(s) or _PHONE.search(s):
            continue
        if closing.match(s):
            # "LG Sarah", "liebe Grüsse Natascha Wolff": a name on the closing line itself
            words = s.split()
            for k in (3, 2):
                cand = " ".join(words[-k:]).strip(" ,!.")
                if len(words) > k and is_person(cand, rules):
                    return strip_titles(cand, rules)
            continue
        cand = strip_titles(_PAREN.sub(" ", s), rules)
        if is_person(cand, rules, min_tokens=1):
            return cand
    return ""


def signature_org(lines: list[str], rules: Rules, after: str) -> str:
    """The first organisation-like line of a signature block, below the person's name."""
    org = rules.pattern("names.org_word")
    role = rules.pattern("names.role")
    mobile = rules.pattern("signature.mobile")
    closing = rules.pattern("signature.closing")
    strong = rules.pattern("names.org_strong")
    start = 0
    fallback = ""
    strict = False
    role_org = ""
    if after:
        for i, line in enumerate(lines):
            if after in line:
                start = i + 1
                break
        else:
            # without the person's line we cannot tell where the signature starts: only lines
            # with an organisation word count ("Stadt Laatzen" under "i. A. Sandra Wolter")
            strict = True
    for k, line in enumerate(lines[start:start + (12 if strict else 8)], start):
        s = line.strip(" -–—|").strip()
        if not s or EMAIL.search(s) or _URL.search(s) or mobile.match(s):
            continue
        if _PHONE.search(s) and not org.search(s):
            continue
        if not any(c.isalpha() and c.isascii() or _UMLAUT.match(c) for c in s):
            continue  # a name in another script
        rm = role.match(s)
        if rm:
            # "Leitung Mehrgenerationenhaus Wietze": the office is no part of the name; but
            # "Teamleitung Markt & Integration" names a team, and the organisation line
            # below it wins
            rest = rules.regex("people.role_rest").sub("", s[rm.end():]).strip(" ,:-–")
            if org.search(rest) and rest[:1].isupper() and not role_org:
                role_org = rest.strip(" ,")
            continue
        if org.search(s) and len(s) <= 90 and not (strict and closing.match(s)):
            # a service or department line ("Migrationsberatung für Erwachsene") gives way to
            # the carrier on the line right below it ("Caritas Fils-Neckar-Alb")
            below = next((x.strip(" -–—|").strip() for x in lines[k + 1:k + 2] if x.strip()), "")
            if below and strong.search(below) and not strong.search(s) and len(below) <= 90 \
                    and not EMAIL.search(below) and not _PHONE.search(below):
                return below.strip(" ,")
            return s.strip(" ,")
        if strict:
            continue
        if not fallback and not any(c.isdigit() for c in s) and len(s.split()) <= 8 and \
                s[0].isupper() and not _looks_like_name(s, rules) and not closing.match(s):
            fallback = s.strip(" ,")  # no organisation word, but where one would stand
    return role_org or fallback


def _looks_like_name(line: str, rules: Rules) -> bool:
    """A person's name line; "Nachbarschaftstreff Sahlkamp" is capitalised too, but first
    names are short and compounds long."""
    return is_person(line, rules, min_tokens=1) and len(line.split()[0]) < 13


def org_in_text(text: str, rules: Rules, not_orgs: Iterable[str] = ()) -> str:
    """An organisation named in running text ("beim Frauennotruf Stade", "at Welcome Centre
    Hannover"); names in `not_orgs` (the events' titles: "for the Forum Arbeit") never are."""
    org = rules.pattern("names.org_word")
    skip = [fold(n) for n in not_orgs if n]
    tail = rules.regex("people.org_tail")
    for m in rules.regex("people.org_context").finditer(text):
        cand = tail.sub("", tail.sub("", m.group(2).strip(" .,")))
        cand = re.sub(r"\s*\(\s*$", "", cand)
        cand = _SENTENCE_END.split(cand)[0]  # "… in July. I volunteer": the name ended
        if m.group(1).lower() == "des":
            cand = _nominative_genitive(cand, rules)
        if org.search(cand) and len(cand) <= 80 and len(cand.split()) <= 6 and \
                not any(n in fold(cand) for n in skip):
            return nominative(cand, m.group(1).lower(), rules)
    return ""


_SENTENCE_END = re.compile(r"(?<=[a-zäöüß]{2})\.\s+")


def _nominative_genitive(name: str, rules: Rules) -> str:
    """"Landkreises Heidekreis" after "des" -> "Landkreis Heidekreis"."""
    first, _, rest = name.partition(" ")
    org = rules.pattern("names.org_word")
    # masculine and neuter heads take -(e)s in the genitive; feminine ones do not change
    heads = tuple(fold(w) for w in rules.words("names.masculine_head") | rules.words(
        "names.neuter_head"))
    for cut in (2, 1):
        stem = first[:-cut]
        if first.endswith("es"[2 - cut:]) and len(stem) > 3 and org.search(stem) and \
                fold(stem).endswith(heads):
            return f"{stem} {rest}".strip()
    return name


def nominative(name: str, article: str, rules: Rules) -> str:
    """"Internationalen Elterncafé" after "vom" -> "Internationales Elterncafé": adjectives
    of a dative name get the ending of the head noun's gender."""
    words = name.split()
    if article in rules.words("people.dative_feminine"):
        ending = "e"
    elif article in rules.words("people.dative"):
        head = fold(next((w for w in words[1:] if not w.lower().endswith("en")), words[-1]))
        masculine = rules.words("names.masculine_head")
        ending = "er" if any(head.endswith(fold(w)) for w in masculine) else "es"
    else:
        return name
    out = []
    for i, w in enumerate(words):
        if i < len(words) - 1 and w[0].isupper() and w.endswith("en") and len(w) > 4 and \
                words[i + 1][0].isupper():
            w = w[:-2] + ending
        else:
            break
        out.append(w)
    return " ".join(out + words[len(out):])


def as_attendees(people: Iterable[Person]) -> tuple[Attendee, ...]:
    return tuple(Attendee(p.name, p.email) for p in people)
