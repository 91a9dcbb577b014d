"""The organisation of a signature block, read from the kinds of its lines.

A signature below the person's name is a small structure: role lines ("Sachbearbeiterin"),
department lines ("Fachbereich 3 – Ordnung", "Integrationsbüro", "Der Oberbürgermeister"), the
carrier ("Hansestadt Lüneburg", "Caritasverband Bremen-Nord e.V.", "Refugee Council Leeds"),
other organisation lines ("Frauenzentrum Weimar"), then the address, contact lines and legal
footers. Each line gets one kind; the organisation is the carrier, else an organisation line,
else a department, else what a role line names after the role ("Leitung Familienzentrum
Soltau"), else a capitalised line where an organisation would stand. An address ends the block
once a candidate was seen; a footer ("Besuchen Sie uns", a disclaimer) always ends it. The
patterns of each kind are in rules/<language>/organisations.toml and rules/names.toml.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable
from dataclasses import dataclass

from mailbot.classify.names import EMAIL, PHONE, UMLAUT, URL, has_given_name, is_person
from mailbot.rulebook import Rules

_LONGEST = 90  # a longer line is prose or a footer, never an organisation's name
_FOOTER_LENGTH = 120
_REACH = 12  # lines below the name that can still belong to the signature
_PARTS = re.compile(r"\s*,\s+")  # "Stadt Celle, Markt 1, 29221 Celle"
_BAR = re.compile(r"\s+[|·•/]\s+")  # "WomenWork e.V. | Programme Coordinator"
_ACRONYM = re.compile(r"^[A-ZÄÖÜ]{3,}\b")  # "HAWK Hildesheim", "WIWA – Women in …"


class Kind(enum.Enum):
    EMPTY = enum.auto()
    FOOTER = enum.auto()
    CONTACT = enum.auto()
    ADDRESS = enum.auto()
    CLOSING = enum.auto()
    ROLE = enum.auto()
    CARRIER = enum.auto()
    ORG = enum.auto()
    DEPARTMENT = enum.auto()
    NAME = enum.auto()
    OTHER = enum.auto()
    FOREIGN = enum.auto()  # a line in another script


# the organisation kinds, best first
_RANK = (Kind.CARRIER, Kind.ORG, Kind.DEPARTMENT)


@dataclass(frozen=True)
class Line:
    text: str
    kind: Kind
    rest: str = ""  # on a role line: what follows the role ("der Stadt Celle" -> "Stadt Celle")
    rest_kind: Kind | None = None


def _org_kind(s: str, rules: Rules) -> Kind | None:
    if rules.pattern("organisations.unit").match(s):
        return Kind.DEPARTMENT  # "Fakultät V – Diakonie, …": a unit, whatever its name holds
    if rules.pattern("organisations.carrier").search(s) or \
            rules.pattern("names.org_strong").search(s):
        return Kind.CARRIER
    if rules.pattern("organisations.department").match(s):
        return Kind.DEPARTMENT
    if rules.pattern("names.org_word").search(s) or _ACRONYM.match(s):
        return Kind.ORG
    return None


def line_kind(line: str, rules: Rules) -> Line:
    """The kind of one signature line (and, for a role line, the organisation it names)."""
    s = line.strip(" -–—|").strip()
    s = rules.regex("organisations.label").sub("", s)  # "Organisation: Frauentreff e.V."
    if not s:
        return Line(s, Kind.EMPTY)
    if len(s) > _FOOTER_LENGTH or rules.pattern("signature.disclaimer").match(s) or \
            rules.pattern("organisations.footer").match(s):
        return Line(s, Kind.FOOTER)
    if EMAIL.search(s) or URL.search(s) or rules.pattern("signature.mobile").match(s) or \
            rules.pattern("organisations.contact").match(s):
        return Line(s, Kind.CONTACT)
    if not any(c.isalpha() and c.isascii() or UMLAUT.match(c) for c in s):
        return Line(s, Kind.FOREIGN)
    parts = _BAR.split(s)
    if len(parts) > 1:
        # one line of several fields: the organisation is one of them, wherever it stands
        reads = [line_kind(p, rules) for p in parts]
        # the best kind among the fields: "Ada Lim | Equality Office | City of Celle" is Celle's
        found = next((r for kind in _RANK for r in reads if r.kind is kind or r.rest_kind is kind),
                     None)
        if found:
            return found
        if any(r.kind is Kind.ROLE for r in reads):
            # "Programme Manager | Migrant Voice Birmingham": beside a role, the other field
            # is where the organisation stands
            other = next((r for r in reads if r.kind in (Kind.NAME, Kind.OTHER)), None)
            if other:
                return Line(other.text, Kind.OTHER)
        return next((r for r in reads if r.kind is Kind.ADDRESS), reads[0])
    first = _PARTS.split(s)[0].strip()
    if rules.pattern("organisations.address").search(s):
        # "Verein X e.V. · Markt 1 · 12345 Y": the first part may still be the name
        kind = _org_kind(first, rules) if first != s else None
        return Line(first, kind) if kind and len(first) <= _LONGEST else Line(s, Kind.ADDRESS)
    if PHONE.search(s) and not rules.pattern("names.org_word").search(s):
        return Line(s, Kind.CONTACT)
    if rules.pattern("signature.closing").match(s):
        return Line(s, Kind.CLOSING)
    pieces = _PARTS.split(s)
    if len(pieces) > 1 and _is_role(pieces[0], rules):
        # "President, Cameroonian Women's Network NRW": the role, then where it is held
        rest = ", ".join(pieces[1:])
        if (rest_kind := _org_kind(rest, rules)) is not None:
            return Line(s, Kind.ROLE, rest, rest_kind)
    if _is_role(s, rules):
        role = rules.pattern("names.role").match(s) or rules.pattern("organisations.role").match(s)
        rest = s[role.end():] if role else ""
        rest = rules.regex("people.role_rest").sub("", rest).strip(" ,:-–")
        rest_kind = _org_kind(rest, rules) if rest[:1].isupper() else None
        return Line(s, Kind.ROLE, rest.strip(" ,") if rest_kind else "", rest_kind)
    kind = _org_kind(s, rules)
    # an authority's full name may be long ("Senatsverwaltung für Arbeit, Soziales, …")
    if kind and (len(s) <= _LONGEST or kind is Kind.CARRIER):
        return Line(s, kind)
    if is_person(s, rules, min_tokens=1) and len(s.split()[0]) < 13 and has_given_name(s, rules):
        # first names are short, compounds long ("Nachbarschaftstreff Sahlkamp"), and a
        # person's line holds a given name ("SprInt-Pool Westpfalz" has the shape, not the name)
        return Line(s, Kind.NAME)
    return Line(s, Kind.OTHER)


def _is_role(s: str, rules: Rules) -> bool:
    return bool(rules.pattern("names.role").match(s) or rules.pattern("organisations.role").search(s))


def read_block(lines: list[str], rules: Rules) -> list[Line]:
    """The signature's lines with their kinds, up to the first footer."""
    out: list[Line] = []
    seen = False
    for line in lines[:_REACH]:
        read = line_kind(line, rules)
        if read.kind is Kind.FOOTER or (read.kind is Kind.ADDRESS and seen):
            break
        seen = seen or read.kind in _RANK or read.rest_kind in _RANK
        out.append(read)
    return out


def block_organisation(lines: list[str], rules: Rules, strict: bool,
                       plain: Callable[[str], bool]) -> tuple[str, Kind | None]:
    """(organisation, the kind of line it came from: ROLE when named after a role) of a
    signature block below the name. `strict`: the name was not found, so only lines of an
    organisation kind count; `plain` says whether a line may stand for an organisation
    without any organisation word."""
    read = read_block(lines, rules)
    for kind in _RANK:
        for line in read:
            if line.kind is kind:
                return line.text.strip(" ,"), kind
        for line in read:
            if line.rest_kind is kind:
                return line.rest, Kind.ROLE
    if strict:
        return "", None
    for line in read:
        if line.kind is Kind.OTHER and plain(line.text):
            return line.text.strip(" ,"), Kind.OTHER
    return "", None
