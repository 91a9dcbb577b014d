"""Who: the people a mail text and a signature name (the name primitives are in names.py,
organisations in organisations.py; both re-exported here)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from mailbot.classify.name_lexicon import is_given_name
from mailbot.classify.names import (
    EMAIL,
    LIST_ITEM,
    PAREN,
    PHONE,
    TOKEN,
    Person,
    as_attendees,
    clean_display_name,
    has_given_name,
    is_person,
    local_matches,
    merge,
    same_person,
    strip_titles,
)
from mailbot.classify.organisations import nominative, org_in_text, signature_org
from mailbot.parse.text import fold
from mailbot.rulebook import Rules

__all__ = ["EMAIL", "Person", "as_attendees", "clean_display_name", "is_person", "merge",
           "nominative", "org_in_text", "people_in_text", "same_person", "signature_org",
           "signature_person", "strip_titles"]


_PIECE = re.compile(r"([^\s,;:()<>\[\]\"“”„–—]+)|([\s,;:()<>\[\]\"“”„–—]+)")


def _runs(text: str, particles: frozenset[str] = frozenset()) -> list[str]:
    """Maximal runs of capitalised words (name candidates), left to right. A run ends at
    punctuation or a tab ("… am 29. May: Ama Serwaa" is two runs) and keeps hyphenated words whole
    ("Nadia El-Khoury") and `particles` inside it ("Ana Lúcia Ferreira da Silva")."""
    out: list[str] = []
    cur: list[str] = []

    def close() -> None:
        while cur and cur[-1] in particles:
            cur.pop()
        if cur:
            out.append(" ".join(cur))
        cur.clear()

    for m in _PIECE.finditer(text):
        if m.group(2) is not None:
            if m.group(2).strip(" "):  # punctuation, a tab between table cells
                close()
            continue
        t = m.group(1).strip(" .")
        if t and t[0].isupper() and TOKEN.fullmatch(t) or cur and t in particles:
            cur.append(t)
        else:
            close()
    close()
    return out


# "Schütte, Ole – ole.schuette@…": surname first, as lists and spreadsheets write it
# (a particle may lead the surname: "El Idrissi, Samira"; the rules' particles decide)
_SURNAME_FIRST = re.compile(r"(?:^|[\s:)])((?:[A-ZÄÖÜa-zäöü][\w'’]*[ \t]+)?"
                            r"[A-ZÄÖÜÁÉÓÚÇŞŠŽĆČŁ][\w'’-]+),[ \t]*"
                            r"([A-ZÄÖÜÁÉÓÚÇŞŠŽĆČŁ][\w'’-]+(?:[ \t]+[A-ZÄÖÜÁÉÓÚÇŞŠŽĆČŁ][\w'’-]+)?)"
                            r"[ \t]*(?:[–—:,-]|\(|<)?[ \t]*$")


def _best_name_before(line: str, email: str, rules: Rules) -> str:
    before = PAREN.sub(" ", line[: line.find(email)])
    m = _SURNAME_FIRST.search(before)
    lead = m.group(1).split()[0].casefold() if m and " " in m.group(1) else ""
    if m and (not lead or lead in rules.words("names.particle")):
        swapped = f"{m.group(2)} {m.group(1)}"
        # only when the address agrees that the second part is the first name
        if is_person(swapped, rules) and fold(email.split("@")[0]).startswith(
                fold(m.group(2).split()[0])[:3]):
            return swapped
    cands = []
    for run in _runs(before, rules.words("names.particle")):
        words = run.split()
        # drop leading non-name words ("Kollegin Sabine Ohlendorf" -> "Sabine Ohlendorf")
        while words and not is_person(words[0] + " X", rules) and len(words) > 2:
            words = words[1:]
        for k in range(min(6, len(words)), 1, -1):  # particles do not count as words
            cand = " ".join(words[-k:])
            if is_person(cand, rules):
                cands.append(cand)
                break
    matching = [c for c in cands if local_matches(c, email)]
    if matching:
        return matching[-1]
    # "Herr Dr. Ulrich Wenzel, Referatsleiter Internationale Zusammenarbeit – ulrich.wenzel@…":
    # the address belongs to the name it spells, wherever in the run that name stands
    for run in _runs(before):
        words = run.split()
        for k in (3, 2):
            for i in range(len(words) - k + 1):
                cand = " ".join(words[i:i + k])
                if local_matches(cand, email) and is_person(cand, rules):
                    return cand
    return cands[-1] if cands else ""


def people_in_text(text: str, rules: Rules, own_domains: Iterable[str],
                   household: str = "", loose: bool = False) -> list[Person]:
    """People a mail text names: with their address, after a title, as colleagues, in lists.
    `household` is the sender's family name, which a family member named by the given name
    alone carries ("mit meinem Mann Tarık"); `loose` (for sentences about coming): any run of
    capitalised words that starts with a known given name ("zusammen mit Mahmoud Al-Khatib")."""
    own = {d.lower() for d in own_domains}
    greeting, list_split = rules.regex("people.greeting"), rules.regex("people.list_split")
    people: list[Person] = []
    lines = text.split("\n")
    # a greeting names the reader; what follows it on the same line is text ("Hi, bin dabei,
    # +1 (mein Kollege Serkan kommt mit)")
    lines = [_after_greeting(x, greeting) for x in lines]
    for line in lines:
        for m in EMAIL.finditer(line):
            addr = m.group(0).lower()
            if addr.split("@")[1] in own:
                continue
            people.append(Person(_best_name_before(line, m.group(0), rules), addr))
    body = "\n".join(lines)
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
    people += _one_name_after_role(body, rules, household)
    groups = [b.group(1) or b.group(2) for b in rules.regex("people.both").finditer(body)]
    groups += [a.group(1) for a in rules.regex("people.apposition").finditer(body)]
    for group in groups:
        for piece in list_split.split(group.strip(" .")):
            if is_person(piece, rules):
                people.append(Person(piece, None))
    for colon in re.finditer(r":\s*([^\n]+)", body):
        # "- Herr Mehmet Öztürk, Sachgebiet Bürgerservice, mehmet.oeztuerk@…": beside an
        # address, the other pieces are the person's unit or role unless a given name says
        # otherwise
        addressed = bool(EMAIL.search(colon.group(1)))
        for piece in list_split.split(PAREN.sub(" ", colon.group(1)).rstrip(" .!")):
            words = [w for w in piece.split() if w.casefold() not in rules.words("names.not_name")]
            cand = " ".join(words)
            if (role := role_named.search(cand)) is not None:
                cand = role.group(1)  # "unsere Kassenwartin Fatou Diallo": the role is no name
            if cand and is_person(cand, rules) and (not addressed or has_given_name(cand, rules)):
                people.append(Person(cand, None))
    people += [Person(n, None) for n in first_names_beside_self(body, rules)]
    for m in LIST_ITEM.finditer(body):
        first = re.split(r"\s*(?:,|\(|–| - |:)\s*", m.group(1))[0].strip()
        if is_person(first, rules):
            people.append(Person(first, None))
    if loose:
        people += [Person(n, None) for line in lines for n in given_name_runs(line, rules)]
    # a part of a name found with its address is that person ("Ana Lúcia Ferreira" of "Ana
    # Lúcia Ferreira da Silva (…)", "El Idrissi" of "El Idrissi, Samira (…)")
    full = [fold(p.name) for p in people if p.email and p.name]
    people = [p for p in people if p.email or not any(
        fold(p.name) in f and fold(p.name) != f for f in full)]
    return merge(people)


_LIST_SPAN = re.compile(r":\s*([^\n.!?]+)|\(([^)\n]+)\)")


def first_names_beside_self(body: str, rules: Rules) -> list[str]:
    """Given names alone in a list that holds the sender ("wir kommen zu viert: ich, Lena,
    Sami und Petra", "(me, Kofi and Ama)"): people, though named by the given name only."""
    me = rules.words("seats.self_object") | rules.words("seats.self_subject")
    split = rules.regex("people.list_split")
    out = []
    for m in _LIST_SPAN.finditer(body):
        items = [x.strip(" .") for x in split.split(m.group(1) or m.group(2)) if x.strip(" .")]
        mine = [x for x in items if x.casefold() in me]
        rest = [x for x in items if x.casefold() not in me]
        if mine and rest and all(is_person(x, rules, min_tokens=1) and
                                 (" " in x or is_given_name(x, rules)) for x in rest):
            out += [x for x in rest if " " not in x]
    # "Hatice und ich müssen absagen": not after a family or colleague word ("my husband
    # Kofi and I": named with the family name elsewhere)
    kin = rules.regex("names.role_one")
    for m in rules.regex("people.self_pair").finditer(body):
        name = m.group(1) or m.group(2)
        start = m.start(1) if m.group(1) else m.start(2)
        before = body[:start].split()[-1:]
        if before and kin.match(f"{before[0]} {name}"):
            continue
        if is_given_name(name, rules) and is_person(name, rules, min_tokens=1):
            out.append(name)
    return out


def given_name_runs(line: str, rules: Rules) -> list[str]:
    """Runs of two or three capitalised words that start with a known given name and have a
    person's shape ("Fatima Zahra Benali", "Ewa Zielińska"): the lexicon judges the run."""
    out = []
    # words that are given names too but stand here as a role, particle or title ("mein Mann
    # Tarık", "Zu Punkt 3", "Frau Dr."): a name does not start with them
    role = rules.regex("names.role_one")
    never = rules.words("names.not_name") | rules.words("names.particle") | rules.words("names.title")
    place = rules.words("names.place_before")
    text = PAREN.sub(" ", EMAIL.sub(" ", line))
    for run in _runs(text, rules.words("names.particle")):
        before = text[:text.find(run)].split()[-1:]
        if before and before[0].casefold() in place:
            continue  # "from North Rhine-Westphalia": a place
        words = run.split()
        for i, w in enumerate(words):
            if w.casefold() in never or role.match(f"{w} Xy") or not is_given_name(w, rules):
                continue
            cand = next((" ".join(words[i:i + k]) for k in (5, 4, 3, 2) if i + k <= len(words)
                         and is_person(" ".join(words[i:i + k]), rules)), "")
            if cand:
                out.append(cand)
                break
    return out


def _after_greeting(line: str, greeting: re.Pattern[str]) -> str:
    m = greeting.match(line)
    if not m:
        return line
    head, sep, rest = line.partition(",")
    if sep and len(head.split()) <= 5:  # "Liebe Frau Dr. Lange, …"
        return rest if len(rest.split()) > 3 else ""
    # "hallo ich komm mit meinem mann jonas", "Hi 👋 ich und meine kollegin …": no comma
    # after the greeting, and no name of the reader follows
    first = next((w for w in line[m.end():].split() if w[:1].isalpha()), "")
    return line[m.end():] if first.islower() else ""


def _one_name_after_role(body: str, rules: Rules, household: str) -> list[Person]:
    """"mein Kollege Serkan", "mit meinem Mann Tarık": one word after a colleague's or a
    family member's word is a person when the lexicon knows it as a given name."""
    family = rules.regex("names.family_noun")
    more = rules.regex("names.and_one")
    out = []
    for m in rules.regex("names.role_one").finditer(body):
        role, names, end = m.group(1), [m.group(2)], m.end()
        while (n := more.match(body, end)) is not None:  # "Kolleginnen Olena und Iryna"
            names, end = [*names, n.group(1)], n.end()
        for name in names:
            if not is_given_name(name, rules) or not is_person(name, rules, min_tokens=1):
                break
            if household and family.fullmatch(role):
                name = f"{name} {household}"
            out.append(Person(name, None))
    # a mail written all in lower case: "mit meinem mann jonas"
    ordinary = rules.words("names.lower_not_name")
    for line in body.split("\n"):
        if line == line.lower():
            for m in rules.regex("names.role_one_lower").finditer(line):
                name = m.group(2)[:1].upper() + m.group(2)[1:]
                if name.casefold() in ordinary or not is_given_name(name, rules):
                    continue
                if household and family.fullmatch(m.group(1).capitalize()):
                    name = f"{name} {household}"
                out.append(Person(name, None))
    return out


def labelled_names(lines: list[str], rules: Rules) -> list[str]:
    """Lines of a form-like mail that name people after a label ("Namen: Heike Brammer,
    Selin Çelik", "Teilnehmerin: Agnieszka Wróbel (a.wrobel@…)"): every item is a person's
    name with a known given name."""
    label = rules.regex("people.label_line")
    split = rules.regex("people.list_split")
    out = []
    for line in lines:
        m = label.match(line)
        if not m or EMAIL.search(m.group(1)):
            continue
        items = [x.strip(" .") for x in split.split(PAREN.sub(" ", EMAIL.sub(" ", m.group(2))))]
        items = [x for x in items if x]
        if items and all(is_person(x, rules) and has_given_name(x, rules) for x in items):
            out.append(line)
    return out


def signature_person(lines: list[str], rules: Rules, email: str | None = None) -> str:
    """The first line below a closing that is a person's name ("Sigrid Hauschild"). A line
    with a known given name, or that spells the sender's address, wins over an earlier line
    that only has the shape of a name ("Senior Researcher" below "Kwabena Osei-Tutu, PhD")."""
    role = rules.pattern("names.role")
    closing = rules.pattern("signature.closing")
    shaped = ""
    for line in lines[:8]:
        s = line.strip(" -–—/").strip()
        # "i. A. Sandra Wolter": she signs for someone, by name
        s = rules.regex("people.on_behalf").sub("", s)
        if not s or role.match(s) or EMAIL.search(s) or PHONE.search(s):
            continue
        if closing.match(s):
            # "LG Sarah", "liebe Grüsse Natascha Wolff": a name on the closing line itself
            words = s.split()
            for k in (3, 2):
                cand = " ".join(words[-k:]).strip(" ,!.")
                if len(words) > k and is_person(cand, rules):
                    return strip_titles(cand, rules)
            continue
        cand = strip_titles(PAREN.sub(" ", s), rules)
        if is_person(cand, rules, min_tokens=1):
            if has_given_name(cand, rules) or (email and local_matches(cand, email)):
                return _fuller(cand, lines[:8], rules)
            shaped = shaped or cand
    return shaped


def _fuller(name: str, lines: list[str], rules: Rules) -> str:
    """"Ada" signed below the closing, "Ada Lim" in the block under it: the full name."""
    if " " in name:
        return name
    for line in lines:
        cand = strip_titles(PAREN.sub(" ", line.strip()), rules)
        if cand.split()[:1] == [name] and len(cand.split()) > 1 and is_person(cand, rules):
            return cand
    return name
