"""The sender of a human mail: name, address and organisation (also of web-form mails), and people in Cc."""

from __future__ import annotations

import re

from mailbot.classify.people import (
    EMAIL,
    Person,
    clean_display_name,
    is_person,
    org_in_text,
    signature_org,
    signature_person,
)
from mailbot.classify.reading import Context
from mailbot.parse.text import fold, sentences

_INITIAL = re.compile(r"(?:^|\s)[A-ZÄÖÜ]\.(?:\s|$)")


def form_fields(ctx: Context) -> dict[str, str]:
    """The person's fields of a web-form mail ("name", "email", "org"), when the sender only
    relays the form (the website's own or a no-reply address)."""
    sender = ctx.mail.sender_email
    relay = ctx.rules.regex("forms.relay_sender")
    if not sender or not (relay.match(sender) or sender.split("@")[-1] in ctx.own_domains):
        return {}
    out: dict[str, str] = {}
    for m in ctx.rules.regex("forms.field").finditer(ctx.body):
        key, value = m.group(1).lower(), m.group(2).strip()
        kind = "email" if "mail" in key else "name" if "name" in key else "org"
        if kind == "email":
            found = EMAIL.search(value)
            value = found.group(0).lower() if found else ""
        if value and kind not in out:
            out[kind] = value
    return out if "name" in out or "email" in out else {}


def _from_subject(ctx: Context, display: str) -> str:
    """A full name in the subject ("Anmeldung – Petra Maier-Lutz, Caritas …") for a sender
    whose display name has only an initial ("P. Maier-Lutz")."""
    if not display:
        return ""
    surname = fold(display.split()[-1])
    for piece in re.split(r"\s*[,;:|–—/(]\s*|\s+-\s+", ctx.subject):
        words = piece.split()
        for k in (3, 2):
            cand = " ".join(words[-k:])
            if len(words) >= k and fold(words[-1]) == surname and is_person(cand, ctx.rules):
                return cand
    return ""


def sender_person(ctx: Context, block: list[str]) -> Person:
    rules = ctx.rules
    form = form_fields(ctx)
    if form:
        return Person(form.get("name", ""), form.get("email") or ctx.mail.reply_to or None)
    display = clean_display_name(ctx.mail.sender_name, rules)
    sig = signature_person(block, rules, ctx.mail.sender_email)
    if not sig and (not is_person(display, rules) or _INITIAL.search(display)):
        sig = _from_subject(ctx, display)
    name = ""
    shown, signed = is_person(display, rules), is_person(sig, rules)
    if shown and signed and sorted(fold(display).split()) == sorted(fold(sig).split()):
        name = sig  # "Lim Ada (SozA)" as the directory writes it; she signs "Ada Lim"
    elif shown and signed and fold(sig).startswith(fold(display) + " "):
        name = sig  # the display name cut short: "Senait Tesfamariam" signs "… Ghebre"
    elif shown and signed and fold(display.split()[-1]) == fold(sig.split()[-1]):
        name = max(display, sig, key=len)
    elif shown:
        name = display
    elif signed:
        name = sig
    elif is_person(display, rules, min_tokens=1):
        name = display
    else:
        name = sig
    return Person(_introduced(ctx, name) or name, ctx.mail.sender_email or None)


def _introduced(ctx: Context, name: str) -> str:
    """The full name the sender gives for themself ("ich bin Hodan Warsame von …") when the
    display name and signature give less ("hodan w", "Hodan")."""
    for m in ctx.rules.regex("people.self_intro").finditer(ctx.body):
        words = m.group(1).split()
        while len(words) > 2 and not is_person(" ".join(words), ctx.rules):
            words.pop()  # "Hodan Warsame Frauenverein": the name ends before the organisation
        cand = " ".join(words)
        if not is_person(cand, ctx.rules):
            continue
        if not name or (len(cand.split()) > len(name.split()) and
                        fold(cand.split()[0]) == fold(name.split()[0])):
            return cand
    return ""


def event_names(ctx: Context) -> list[str]:
    return [n for e in ctx.events for n in (e.title, *e.aliases)]


def organisation(ctx: Context, block: list[str], person: str, text: str) -> str | None:
    rules = ctx.rules
    form = form_fields(ctx)
    if form:
        return form.get("org")
    org = signature_org(block, rules, person)
    if org:
        return org
    display = clean_display_name(ctx.mail.sender_name, rules) or ctx.mail.sender_name
    if display and rules.pattern("names.org_word").search(display) and not ctx.via_forward \
            and not is_person(display, rules):
        return display
    found = org_in_text(text, rules, event_names(ctx))
    if found:
        return found
    if not rules.regex("forms.phone_line").sub("", text).strip():
        # an empty body (a phone footer at most): the subject may carry it ("… – Petra
        # Maier-Lutz, Caritas Fils-Neckar-Alb")
        skip = [fold(n) for n in event_names(ctx)]
        for piece in re.split(r"\s*[,;|–—/]\s*|\s+-\s+", ctx.subject)[1:]:
            if rules.pattern("names.org_word").search(piece) and \
                    not any(n in fold(piece) for n in skip):
                return piece.strip(" .")
    for line in text.split("\n"):  # "1) Sabine Röttger (ich), Kreis Gütersloh, sabine@…"
        if person and person in line:
            for seg in line.split(","):
                seg = seg.strip()
                if seg and person not in seg and not EMAIL.search(seg) and \
                        rules.pattern("names.org_word").search(seg):
                    return seg
    return None


def attending(text: str, ctx: Context) -> str:
    """The text without clauses that only mention someone ("Frau Y. hat mir Ihre
    Veranstaltung empfohlen – ich melde mich an"): a recommender is no attendee."""
    mentioned = ctx.rules.pattern("names.mentioned_only")
    if not mentioned.search(text):
        return text
    clause = ctx.rules.regex("people.mention_clause")
    return "\n".join(" – ".join(c for c in clause.split(line) if not mentioned.search(c))
                     for line in text.split("\n"))


def cc_people(ctx: Context, text: str) -> list[Person]:
    """Colleagues in Cc whose name the text mentions ("Er steht in Kopie")."""
    from email.utils import getaddresses

    out: list[Person] = []
    raw = ctx.mail.headers.get("cc", "")
    if not raw:
        return out
    from mailbot.parse.mime import header_text

    copied = [(clean_display_name(header_text(n), ctx.rules), a.lower())
              for n, a in getaddresses([raw]) if "@" in a]
    copied = [(n, a) for n, a in copied if a != (ctx.mail.sender_email or "").lower()]
    # "meine Kollegin (in Kopie) kommt auch mit": the one colleague in Cc, unnamed in the text
    # ("Meine Kollegin in Cc kann leider nicht" points at her, but she does not come)
    pointer, negated = ctx.rules.pattern("people.cc_cue"), ctx.rules.pattern("people.negated")
    sents = [(x, fold(x)) for x in sentences(text)]
    cue = len(copied) == 1 and any(pointer.search(x) and not negated.search(x)
                                   for x, _ in sents)
    for name, addr in copied:
        # by surname, or by the given name a colleague is called by ("Kwame (cc'd)")
        said = [x for x, folded in sents if name and any(
            re.search(rf"\b{re.escape(fold(w))}\b", folded)
            for w in {name.split()[0], name.split()[-1]} if len(w) > 2)]
        # "Frau Schröder (in Cc) kann leider nicht": named, but not coming
        if cue or any(not negated.search(x) for x in said):
            out.append(Person(name, addr))
    return out
