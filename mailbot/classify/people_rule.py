"""The chain rule that fills in attendees and organisation of a human mail."""

from __future__ import annotations

import re

from mailbot.classify.clause_sentences import in_order
from mailbot.classify.closing import closing_block, text_without_closing
from mailbot.classify.intents import cancellations, strong_registrations
from mailbot.classify.party import group_size
from mailbot.classify.people import (
    EMAIL,
    Person,
    as_attendees,
    is_person,
    labelled_names,
    merge,
    org_in_text,
    people_in_text,
    same_person,
    signature_org,
    signature_person,
)
from mailbot.classify.reading import Context, Flow
from mailbot.classify.seats_rule import all_of, group_size_change, someone_count
from mailbot.classify.sender import attending, cc_people, event_names, organisation, sender_person
from mailbot.parse.text import LIST_MARK, flowing, fold, sentences
from mailbot.rulebook import Rules
from mailbot.types import IntentKind

_HUMAN = (IntentKind.REGISTER, IntentKind.CANCEL, IntentKind.QUESTION, IntentKind.ERASE)
_LIST_LINE = re.compile(rf"^\s*{LIST_MARK}\s+\S", re.M)


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
                signature_person(block, rules, fwd.email) or fwd.name)
            author = Person(name, fwd.email)
            # colleagues the original's author registers along ("mit meiner Kollegin Dilek Arslan")
            regs = strong_registrations(ctx, fwd.text)
            others = self._others(ctx, author, "\n".join(regs))[0] if regs else []
            ctx.attendees = as_attendees([author, *others])
            # the original's author rarely signs: the forwarder's own organisation (often the
            # same house, "Leitung Mehrgenerationenhaus Wietze") is the next best
            ctx.organization = signature_org(block, rules, name) or org_in_text(
                fwd.text, rules, event_names(ctx)) or self._forwarder_org(ctx) or None
            return Flow.CONTINUE
        block = closing_block(ctx.body, mail.signature[:2000], ctx)
        sender = sender_person(ctx, block)
        body = text_without_closing(ctx.body, ctx)
        ctx.organization = organisation(ctx, block, sender.name, body)
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
        sender = sender_person(ctx, block)
        return organisation(ctx, block, sender.name, text_without_closing(ctx.body, ctx))

    def _others(self, ctx: Context, sender: Person, focus: str,
                loose: bool = False) -> tuple[list[Person], bool]:
        household = sender.name.split()[-1] if len(sender.name.split()) > 1 else ""
        people = merge(people_in_text(focus, ctx.rules, ctx.own_domains, household, loose) +
                       cc_people(ctx, focus))
        others, named_self = [], False
        for p in people:
            if (p.email and p.email == sender.email) or (p.name and sender.name and (
                    fold(p.name) == fold(sender.name) or not p.email and same_person(p, sender))):
                named_self = True
                continue
            others.append(p)
        return others, named_self

    def _register(self, ctx: Context, sender: Person, body: str) -> None:
        regs = strong_registrations(ctx) or ctx.hits("intent.substitute")
        lines = body.split("\n")
        # besides the registering sentences: lines with addresses, lists and labelled names,
        # and the sentences about coming ("Wir sind zu zweit: unser Kassenwart … und ich")
        about, negated = ctx.rules.pattern("seats.attending"), ctx.rules.pattern("people.negated")
        coming = [x for x in sentences(flowing(body))
                  if x not in regs and about.search(x) and not negated.search(x)]
        # an address names its person in its own sentence, not in the whole line ("Frau Roth
        # ist in Elternzeit. An ihrer Stelle kommt Herr Weber (weber@…)")
        addressed = [s for x in lines if EMAIL.search(x) and not _LIST_LINE.match(x)
                     for s in sentences(x) if EMAIL.search(s)]
        focus = attending("\n".join(regs + addressed + [x for x in lines if _LIST_LINE.match(x)] +
                                      _name_lines(lines, ctx.rules) +
                                      labelled_names(lines, ctx.rules) + coming), ctx)
        others, named_self = self._others(ctx, sender, focus, loose=True)
        # an event's own name is nobody ("Summer Academy", "Forum Hope & Grace")
        titles = [fold(n) for n in event_names(ctx)]
        others = [p for p in others if p.email or not any(fold(p.name) in t for t in titles)]
        correction = [s for s in regs[1:] if ctx.rules.regex("people.only").search(s)]
        if correction and others:
            # "Korrektur: … Bitte also nur Frau Lange und mich eintragen": the later sentence
            # that narrows the list wins; the people it names keep the full names given earlier
            last = fold(correction[-1])
            others = [p for p in others if (p.surname and re.search(rf"\b{re.escape(p.surname)}\b", last))
                      or (p.email and p.email in last)]
        plainly = ctx.rules.pattern("people.self_too")
        if others:
            # "ich möchte unsere Kollegin … anmelden" registers her, not the writer: beside
            # people named, only plain words count the sender in ("und mich", "ich komme mit")
            listed = [x for x in lines if _LIST_LINE.match(x)]  # "3. mich selbst"
            self_in = named_self or any(plainly.search(s) for s in regs + coming + listed)
            ctx.reasons.append(f"people: {len(others)} named besides the sender; sender " + (
                "named" if named_self else "says so" if self_in else "registers others only"))
        else:
            self_in = True
        absent = bool(ctx.hits("intent.self_absent"))
        alone = ctx.rules.pattern("seats.alone")
        if others and any(alone.search(s) for s in regs + coming):
            others = []  # "Frau Schröder (in Cc) kann leider nicht – ich komme also allein"
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
        # the surface rules' sentences, and the clause reading's ("zwei von uns können nicht")
        sents = in_order(ctx, ctx.hits("intent.cancel"), cancellations(ctx))
        first_person = ctx.rules.regex("people.first_person")
        others, _ = self._others(ctx, sender, "\n".join(sents))
        part_of_us = ctx.rules.pattern("seats.part_of_us")
        someone = ctx.rules.pattern("people.someone_first")
        partial = [s for s in sents if not first_person.search(s.split(",")[0])
                   or _named_first(s, others, first_person) or part_of_us.search(s)
                   or someone.search(s)]
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
        stays = any(ctx.rules.pattern("people.self_stays").search(s) for s in ctx.sentences)
        if stays and not others:
            others = self._others(ctx, sender, body)[0]
        if others and (partial or stays):
            # "my colleague … won't be able to join us … I'm still coming": only she goes
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
            group = max(group_size(body, ctx.rules) or 0, all_of(sents, ctx), 1 + len(named))
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
