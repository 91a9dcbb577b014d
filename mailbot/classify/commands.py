"""The chain rule that reads coordinator command lines: syntax only, one command per line.

"Ort: Rathaus Hannover, Raum 101", "Plätze: 80", "Anmeldung schließen", "Teilnehmendenliste"
and the digest replies "3 anmelden" / "3 zuordnen SLUG" / "3 verwerfen" (English alike; the
words are in rules/de|en/commands.toml). Who is a coordinator lives in the database, so this
rule neither decides the intent nor trusts anyone: it lists the lines as `Intent.commands`,
and apply (mailbot/apply/coordinator.py) acts on them only for a trusted coordinator of the
event; for everyone else the mail is read as if the lines were not commands.
"""

from __future__ import annotations

import re

from mailbot.classify.reading import Context, Flow
from mailbot.types import Command

# (rule section of the line's key, verb): the value is the rest of the line
_KEYED = (("command.venue", "venue"), ("command.capacity", "capacity"))
# (rule section of the whole line, verb)
_WHOLE = (("command.close", "close"), ("command.list", "list"))
# digest replies: verb sections; the number of the digest's item; an event slug after "assign"
_ITEM_VERBS = (("command.item.register", "register"), ("command.item.assign", "assign"),
               ("command.item.dismiss", "dismiss"))
_ITEM_LABEL = "command.item.label"
_TOKEN = re.compile(r"[^\s,;:#()]+")
_NUMBER = re.compile(r"\d{1,9}")
_SLUG = re.compile(r"[a-z0-9][a-z0-9_-]*")
_VALUE_EDGES = " \t.;"
# a command mail is short; lines beyond this are not read
_MAX_LINES = 40


def _keyed(ctx: Context, line: str) -> Command | None:
    for section, verb in _KEYED:
        m = ctx.rules.pattern(section).search(line)
        if m is None:
            continue
        value = line[m.end():].strip(_VALUE_EDGES)
        if verb == "capacity":
            n = _NUMBER.fullmatch(value)
            return Command(verb, number=int(value)) if n else None
        return Command(verb, value=" ".join(value.split())) if value else None
    return None


def _item(ctx: Context, line: str) -> Command | None:
    """ "3 anmelden", "Nr. 3 register", "register 3", "3 assign fachtag-2027" """
    tokens = [t.strip(".").lower() for t in _TOKEN.findall(line)]
    tokens = [t for t in tokens if t and t not in ctx.rules.words(_ITEM_LABEL)]
    numbers = [t for t in tokens[:2] if _NUMBER.fullmatch(t)]
    if len(tokens) < 2 or len(numbers) != 1:
        return None
    verb_token = tokens[1] if _NUMBER.fullmatch(tokens[0]) else tokens[0]
    rest = tokens[2:]
    for section, verb in _ITEM_VERBS:
        if verb_token not in ctx.rules.words(section):
            continue
        if verb == "assign":
            if len(rest) == 1 and _SLUG.fullmatch(rest[0]):
                return Command(verb, value=rest[0], number=int(numbers[0]))
            return None
        return Command(verb, number=int(numbers[0])) if not rest else None
    return None


def read_commands(ctx: Context) -> list[Command]:
    found: list[Command] = []
    for line in ctx.body.split("\n")[:_MAX_LINES]:
        if not line.strip():
            continue
        cmd = _keyed(ctx, line) or _item(ctx, line)
        if cmd is None:
            for section, verb in _WHOLE:
                if ctx.rules.pattern(section).search(line):
                    cmd = Command(verb)
                    break
        if cmd is not None:
            found.append(cmd)
    return found


class CommandLines:
    name = "command-lines"
    description = "Coordinator command lines (venue, capacity, close, list, digest items), syntax only"

    def apply(self, ctx: Context) -> Flow:
        ctx.commands = read_commands(ctx)
        if ctx.commands:
            ctx.reasons.append(f"command lines: {', '.join(c.verb for c in ctx.commands)}")
        return Flow.CONTINUE
