"""Organisations: in a signature block or named in running text, put in the nominative."""

from __future__ import annotations

import re
from collections.abc import Iterable

from mailbot.classify.names import is_person
from mailbot.classify.signature_block import block_organisation
from mailbot.parse.text import fold
from mailbot.rulebook import Rules
from mailbot.rulebook.matcher import Matcher


def signature_org(lines: list[str], rules: Rules, after: str) -> str:
    """The organisation of a signature block, below the person's name (by the kinds of its
    lines: carrier, organisation, department, role, address; see signature_block)."""
    start = 0
    strict = False
    if after:
        for i, line in enumerate(lines):
            if after in line:
                start = i + 1
                # "Ada Lim | Referentin | Stadt Peine": the fields after the name belong to it
                fields = line.split(after, 1)[1]
                if any(bar in fields for bar in "|·•"):
                    fields = fields.strip(" |·•")
                    lines = [*lines[:start], fields, *lines[start:]]
                break
        else:
            # without the person's line we cannot tell where the signature starts: only lines
            # with an organisation word count ("Stadt Laatzen" under "i. A. Sandra Wolter")
            strict = True
    closing = rules.pattern("signature.closing")

    def plain(s: str) -> bool:
        return not any(c.isdigit() for c in s) and len(s.split()) <= 8 and s[0].isupper() \
            and not closing.match(s)

    block = lines[start:]
    if strict:
        block = [x for x in block if not closing.match(x.strip())]
    org, _ = block_organisation(block, rules, strict, plain)
    return org


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
    found = [*(m for rx in rules.patterns("organisations.context") for m in _each(rx, text, rules)),
             *rules.regex("people.org_context").finditer(text)]
    for m in found:
        article = (m.group(1) or "").lower()
        cand = tail.sub("", tail.sub("", m.group(2).strip(" .,")))
        cand = re.sub(r"\s*\(\s*$", "", cand)
        cand = _SENTENCE_END.split(cand)[0]  # "… in July. I volunteer": the name ended
        if article in rules.words("people.genitive"):
            cand = _nominative_genitive(cand, rules)
        hit = org.search(cand)
        if hit and hit.span() == (0, len(cand)):
            continue  # "neu im Verein": the bare word names no organisation
        if hit and len(cand) <= 80 and len(cand.split()) <= 6 and \
                not any(n in fold(cand) for n in skip):
            return nominative(cand, article, rules)
    return ""


_SENTENCE_END = re.compile(r"(?<=[a-zäöüß]{2})\.\s+")


def _each(rx: Matcher, text: str, rules: Rules) -> list[re.Match[str]]:
    """Every match, and the further places its sentence names: "I work as officer for
    Ukrainian refugees in Ukrainisches Haus" is tried at "for Ukrainian" and at "in …"."""
    more = rules.regex("organisations.context_more")
    out = []
    for m in rx.finditer(text):
        out.append(m)
        end = min((i for i in (text.find(".", m.end(2)), text.find("\n", m.end(2))) if i >= 0),
                  default=len(text))
        out += more.finditer(text, m.end(2), end)
    return out


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
