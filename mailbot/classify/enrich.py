"""Chain rules that fill in the details of a human mail: event, people, seats, questions."""

from __future__ import annotations

import re

from mailbot.classify.event_match import match_event
from mailbot.classify.intents import question_sentences, strong_registrations
from mailbot.classify.party import accompanied_group, companions, group_size, listed_party
from mailbot.classify.people import (
    EMAIL,
    Person,
    as_attendees,
    clean_display_name,
    is_person,
    merge,
    org_in_text,
    people_in_text,
    signature_org,
    signature_person,
)
from mailbot.classify.reading import Context, Flow
from mailbot.parse.text import flowing, fold, prose_line
from mailbot.rulebook import Rules
from mailbot.types import IntentKind

_HUMAN = (IntentKind.REGISTER, IntentKind.CANCEL, IntentKind.QUESTION, IntentKind.ERASE)
_LIST_LINE = re.compile(r"^\s*(?:\d+[.)]|[-*•])\s+\S", re.M)



def closing_block(text: str, signature: str, ctx: Context) -> list[str]:
    """Lines from the closing ("Viele Grüße") to the end, with the cut-off signature."""
    lines = text.split("\n")
    start = _closing_at(lines, ctx)
    if start is None:
        # no closing: the last paragraph, if it is short lines only (name, organisation)
        para: list[str] = []
        for line in reversed(lines):
            if not line.strip():
                if para:
                    break
                continue
            para.insert(0, line)
        start_lines = para if len(para) <= 4 and all(len(x) <= 60 for x in para) else []
        return start_lines + signature.split("\n")
    return lines[start:] + signature.split("\n")


def text_without_closing(text: str, ctx: Context) -> str:
    lines = text.split("\n")
    start = _closing_at(lines, ctx)
    return text if start is None else "\n".join(lines[:start])


def _closing_at(lines: list[str], ctx: Context) -> int | None:
    """Index of the last closing line ("Viele Grüße") near the end, if any."""
    closing = ctx.rules.pattern("signature.closing")
    for i in range(len(lines) - 1, max(-1, len(lines) - 15), -1):
        if prose_line(lines[i]):
            return None  # a closing above running text opened the mail; it closes nothing
        if closing.match(lines[i]):
            return i
    return None


class EventRule:
    name = "event"
    description = "Which event: plus-address, our Message-ID, names, dates, city, venue, quote"

    def apply(self, ctx: Context) -> Flow:
        if ctx.kind not in _HUMAN:
            return Flow.CONTINUE
        text = ctx.body
        quoted = ctx.mail.quoted
        registers = ctx.kind == IntentKind.REGISTER
        if registers and not ctx.via_forward:
            # "Für Nürtingen ist es mir leider zu weit": a place the sender turns down is no
            # evidence for its event (a cancellation, though, names what it cancels)
            regs = set(strong_registrations(ctx))
            declined = [s for s in ctx.hits("event.declined") if s not in regs]
            if declined:
                text = "\n".join(s for s in ctx.sentences if s not in declined)
        if ctx.via_forward and ctx.forwarded:
            text, quoted = text + "\n" + ctx.forwarded.text, ""
        m = match_event(ctx.mail, ctx.events, ctx.now, ctx.subject, text, quoted,
                        text_may_override=registers)
        ctx.event, ctx.candidates, ctx.event_decided_by = m.event, m.candidates, m.decided_by
        ctx.reasons += [f"event: {r}" for r in m.reasons]
        return Flow.CONTINUE


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


def _sender(ctx: Context, block: list[str]) -> Person:
    rules = ctx.rules
    form = form_fields(ctx)
    if form:
        return Person(form.get("name", ""), form.get("email") or ctx.mail.reply_to or None)
    display = clean_display_name(ctx.mail.sender_name, rules)
    sig = signature_person(block, rules)
    if not sig and (not is_person(display, rules) or _INITIAL.search(display)):
        sig = _from_subject(ctx, display)
    name = ""
    if is_person(display, rules) and is_person(sig, rules) and \
            fold(display.split()[-1]) == fold(sig.split()[-1]):
        name = max(display, sig, key=len)
    elif is_person(display, rules):
        name = display
    elif is_person(sig, rules):
        name = sig
    elif is_person(display, rules, min_tokens=1):
        name = display
    else:
        name = sig
    return Person(name, ctx.mail.sender_email or None)


def _event_names(ctx: Context) -> list[str]:
    return [n for e in ctx.events for n in (e.title, *e.aliases)]


def _organisation(ctx: Context, block: list[str], person: str, text: str) -> str | None:
    rules = ctx.rules
    form = form_fields(ctx)
    if form:
        return form.get("org")
    org = signature_org(block, rules, person)
    if org:
        return org
    display = clean_display_name(ctx.mail.sender_name, rules) or ctx.mail.sender_name
    if display and rules.pattern("names.org_word").search(display) and not ctx.via_forward:
        return display
    found = org_in_text(text, rules, _event_names(ctx))
    if found:
        return found
    if not rules.regex("forms.phone_line").sub("", text).strip():
        # an empty body (a phone footer at most): the subject may carry it ("… – Petra
        # Maier-Lutz, Caritas Fils-Neckar-Alb")
        skip = [fold(n) for n in _event_names(ctx)]
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


def _attending(text: str, ctx: Context) -> str:
    """The text without clauses that only mention someone ("Frau Y. hat mir Ihre
    Veranstaltung empfohlen – ich melde mich an"): a recommender is no attendee."""
    mentioned = ctx.rules.pattern("names.mentioned_only")
    if not mentioned.search(text):
        return text
    clause = ctx.rules.regex("people.mention_clause")
    return "\n".join(" – ".join(c for c in clause.split(line) if not mentioned.search(c))
                     for line in text.split("\n"))


def _cc_people(ctx: Context, text: str) -> list[Person]:
    """Colleagues in Cc whose name the text mentions ("Er steht in Kopie")."""
    from email.utils import getaddresses

    out: list[Person] = []
    raw = ctx.mail.headers.get("cc", "")
    if not raw:
        return out
    from mailbot.parse.mime import header_text

    folded = fold(text)
    for name, addr in getaddresses([raw]):
        name = clean_display_name(header_text(name), ctx.rules)
        if name and addr and fold(name.split()[-1]) in folded:
            out.append(Person(name, addr.lower()))
    return out


class PeopleRule:
    name = "people"
    description = "Attendees (sender, colleagues, people registered by others) and organisation"

    def apply(self, ctx: Context) -> Flow:
        if ctx.kind not in _HUMAN:
            return Flow.CONTINUE
        mail, rules = ctx.mail, ctx.rules
        if ctx.via_forward and ctx.forwarded:
            fwd = ctx.forwarded
            block = closing_block(fwd.text, "", ctx)
            name = fwd.name if is_person(fwd.name, rules) else (
                signature_person(block, rules) or fwd.name)
            author = Person(name, fwd.email)
            # colleagues the original's author registers along ("mit meiner Kollegin Dilek Arslan")
            regs = strong_registrations(ctx, fwd.text)
            others = self._others(ctx, author, "\n".join(regs))[0] if regs else []
            ctx.attendees = as_attendees([author, *others])
            # the original's author rarely signs: the forwarder's own organisation (often the
            # same house, "Leitung Mehrgenerationenhaus Wietze") is the next best
            ctx.organization = signature_org(block, rules, name) or org_in_text(
                fwd.text, rules, _event_names(ctx)) or self._forwarder_org(ctx) or None
            return Flow.CONTINUE
        block = closing_block(ctx.body, mail.signature[:2000], ctx)
        sender = _sender(ctx, block)
        body = text_without_closing(ctx.body, ctx)
        ctx.organization = _organisation(ctx, block, sender.name, body)
        if ctx.kind == IntentKind.QUESTION:
            return Flow.CONTINUE
        if ctx.kind == IntentKind.ERASE:
            ctx.attendees = as_attendees([sender])
            return Flow.CONTINUE
        if ctx.kind == IntentKind.CANCEL:
            self._cancel(ctx, sender, body)
            return Flow.CONTINUE
        self._register(ctx, sender, body)
        return Flow.CONTINUE

    def _forwarder_org(self, ctx: Context) -> str | None:
        block = closing_block(ctx.body, ctx.mail.signature[:2000], ctx)
        sender = _sender(ctx, block)
        return _organisation(ctx, block, sender.name, text_without_closing(ctx.body, ctx))

    def _others(self, ctx: Context, sender: Person, focus: str) -> tuple[list[Person], bool]:
        people = merge(people_in_text(focus, ctx.rules, ctx.own_domains) +
                       _cc_people(ctx, focus))
        others, named_self = [], False
        for p in people:
            if (p.email and p.email == sender.email) or (
                    p.name and sender.name and fold(p.name) == fold(sender.name)):
                named_self = True
                continue
            others.append(p)
        return others, named_self

    def _register(self, ctx: Context, sender: Person, body: str) -> None:
        regs = strong_registrations(ctx) or ctx.hits("intent.substitute")
        lines = body.split("\n")
        focus = _attending("\n".join(regs + [x for x in lines
                                             if EMAIL.search(x) or _LIST_LINE.match(x)] +
                                      _name_lines(lines, ctx.rules)), ctx)
        others, named_self = self._others(ctx, sender, focus)
        correction = [s for s in regs[1:] if ctx.rules.regex("people.only").search(s)]
        if correction and others:
            # "Korrektur: … Bitte also nur Frau Lange und mich eintragen": the later sentence
            # that narrows the list wins; the people it names keep the full names given earlier
            last = fold(correction[-1])
            others = [p for p in others if (p.surname and re.search(rf"\b{re.escape(p.surname)}\b", last))
                      or (p.email and p.email in last)]
        self_in = named_self or any(ctx.rules.pattern("intent.self").search(s) for s in regs)
        absent = bool(ctx.hits("intent.self_absent"))
        if "substitute" in ctx.reasons and others:
            ctx.substitute = as_attendees(others[:1])[0]
            people = others[:1]
        elif not others:
            people = [sender]
        elif absent or not self_in:
            people = others
        else:
            people = [sender, *others]
        ctx.attendees = as_attendees(people)

    def _cancel(self, ctx: Context, sender: Person, body: str) -> None:
        sents = ctx.hits("intent.cancel")
        first_person = ctx.rules.regex("people.first_person")
        others, _ = self._others(ctx, sender, "\n".join(sents))
        partial = [s for s in sents if not first_person.search(s.split(",")[0])
                   or _named_first(s, others, first_person)]
        if partial and not others:
            # "meine Kollegin kommt doch nicht mit": her name stands where she was registered
            # ("ich hatte mich und meine Kollegin Ines Brandt angemeldet")
            named, _ = self._others(ctx, sender, body)
            if named and len(named) <= (someone_count(" ".join(partial), ctx) or 1):
                others = named
        if others and any(ctx.rules.regex("people.and_me").search(s) for s in sents):
            # "meine Kollegin Claudia Behrens und ich … absagen": "X und ich" adds the sender
            ctx.attendees = as_attendees([sender, *others])
            ctx.cancel_seats = len(others) + 1
            return
        if others and partial:
            ctx.attendees = as_attendees(others)
            ctx.cancel_seats = len(others)
            return
        before, now = group_size_change(body, ctx)
        if before and now is not None and before > now:
            ctx.cancel_seats = before - now
        elif partial:
            ctx.cancel_seats = someone_count(" ".join(partial), ctx)
        elif any(ctx.rules.regex("people.we").search(s) for s in sents):
            # "wir müssen die Anmeldung für alle drei zurückziehen": the whole group goes,
            # with the people named where it was registered ("Frau Gül Erdem, … und ich")
            named, _ = self._others(ctx, sender, body)
            group = max(group_size(body, ctx.rules) or 0, _all_of(sents, ctx), 1 + len(named))
            ctx.attendees = as_attendees([sender, *named])
            ctx.cancel_seats = group if group > 1 else None
            return
        ctx.attendees = as_attendees([sender])


def _name_lines(lines: list[str], rules: Rules) -> list[str]:
    """People listed one per line without bullets: titled name lines ("Frau Teresa Conti"),
    and the short lines of a block below a line ending in a colon ("… melden wir an:")."""
    out: list[str] = []
    block = False
    for line in lines:
        t = line.strip()
        if not t:
            block = block and not out  # the block ends at the first empty line after names
            continue
        if len(t) <= 80 and (block or rules.regex("names.title_line").match(t)):
            out.append(t)
        block = t.endswith(":") or (block and len(t) <= 80)
    return out


def _named_first(sentence: str, others: list[Person], first_person: re.Pattern[str]) -> bool:
    """Someone named stands before the sender's own words ("Dr. Ahmed Saleh will not be able
    to join us, so please take him off the list"): the cancellation is hers or his."""
    first = first_person.search(sentence)
    at = first.start() if first else len(sentence)
    return any(p.name and 0 <= sentence.find(p.name.split()[-1]) < at for p in others)


def _all_of(sents: list[str], ctx: Context) -> int:
    """"für alle drei", "all four of us": the size of a group that withdraws together."""
    for s in sents:
        m = ctx.rules.regex("people.all_of").search(s)
        if m:
            word = m.group(1).casefold()
            return int(word) if word.isdigit() else ctx.rules.numbers("seats.number").get(word, 0)
    return 0


def group_size_change(body: str, ctx: Context) -> tuple[int | None, int | None]:
    """("zu dritt angemeldet", "nur noch zu zweit") -> (3, 2); "statt zu dritt" counts too."""
    m = ctx.rules.regex("people.seats_now").search(body)
    if not m:
        return None, None
    now = group_size(m.group(0)[:30], ctx.rules)
    rest = body[:m.start()] + " " + body[m.start() + 30:]
    before = group_size(rest, ctx.rules)
    return before, now


def someone_count(text: str, ctx: Context) -> int | None:
    """How many of a group drop out: "meine Kollegin" = 1, "zwei Kolleginnen" = 2."""
    for rx in ctx.rules.patterns("seats.someone"):
        m = rx.search(text)
        if m:
            n = m.group("n")
            return (ctx.rules.numbers("seats.number").get(n.casefold(), 1) if n and
                    not n.isdigit() else int(n) if n else 1)
    return None


class SeatsRule:
    name = "seats"
    description = "Party size: totals ('zu dritt', '3 Plätze') or the sender plus companions"

    def apply(self, ctx: Context) -> Flow:
        if ctx.kind in (IntentKind.REGISTER, IntentKind.CANCEL):
            ctx.party_size = self._count(ctx)
        return Flow.CONTINUE

    def _count(self, ctx: Context) -> int:
        n = len(ctx.attendees)
        if ctx.kind == IntentKind.CANCEL:
            return ctx.cancel_seats or max(1, n)
        if ctx.via_forward or ctx.substitute:
            return max(1, n)
        text = text_without_closing(ctx.body, ctx)
        total = group_size(text, ctx.rules)
        listed = listed_party(text, ctx.rules)
        if listed > (total or 0):
            total = listed
        along = accompanied_group(flowing(text), ctx.rules)
        if along > (total or 0):
            return max(along, n)
        if total:
            return max(total, n)
        extra = companions(text, ctx.rules)
        if extra:
            sender_in = any(a.email == ctx.mail.sender_email for a in ctx.attendees)
            return max(n, extra + (1 if sender_in else 0))
        return max(1, n)


class QuestionFlag:
    name = "question-flag"
    description = "Marks mails that ask something (childcare, access, food, travel, language)"

    def apply(self, ctx: Context) -> Flow:
        if ctx.kind not in _HUMAN or ctx.via_forward:
            return Flow.CONTINUE
        asks = question_sentences(ctx)
        if ctx.kind == IntentKind.QUESTION and not asks:
            asks = ctx.hits("intent.registration_question")
        ctx.has_question = bool(asks)
        ctx.question = " ".join(asks)[:1000]
        return Flow.CONTINUE


class Confidence:
    name = "confidence"
    description = "Lowers the confidence where event or people remain unsure"

    def apply(self, ctx: Context) -> Flow:
        if ctx.kind in (IntentKind.REGISTER, IntentKind.CANCEL):
            if ctx.event is None:
                ctx.confidence *= 0.85 if ctx.candidates else 0.6
            elif ctx.event_decided_by == "only-open":
                ctx.confidence *= 0.9
            if any(not a.name for a in ctx.attendees):
                ctx.confidence *= 0.9
        ctx.confidence = round(max(0.0, min(1.0, ctx.confidence)), 2)
        return Flow.CONTINUE
