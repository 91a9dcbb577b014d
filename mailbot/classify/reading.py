"""What the chain's rules read and fill in while they classify one mail."""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Protocol

from mailbot.parse.text import bare_subject, flowing, is_forward_subject, sentences
from mailbot.rulebook import Rules
from mailbot.types import Attendee, Command, EventInfo, InboundMail, IntentKind

_QUOTE_MARK = re.compile(r"^\s*>+ ?", re.M)
# A person's registration fits in a few thousand characters; more is pasted material, and
# reading it all would only cost time (and invite false hits).
MAX_TEXT = 2500


class Flow(enum.Enum):
    """What the chain does after a rule: go on, or stop (the intent is final)."""

    CONTINUE = "continue"
    STOP = "stop"


@dataclass
class Forwarded:
    """A forwarded original inside the mail: its author and its text."""

    name: str
    email: str
    text: str


@dataclass
class Context:
    mail: InboundMail
    events: Sequence[EventInfo]
    rules: Rules
    now: datetime
    kind: IntentKind | None = None
    machine: bool = False  # a machine wrote the mail (set by the machine rules)
    confidence: float = 0.0
    reasons: list[str] = field(default_factory=list)
    event: str | None = None
    candidates: tuple[str, ...] = ()
    event_decided_by: str = ""
    attendees: tuple[Attendee, ...] = ()
    organization: str | None = None
    party_size: int = 0
    has_question: bool = False
    question: str = ""
    cancel_seats: int | None = None
    substitute: Attendee | None = None
    accepts_offer: bool | None = None
    via_forward: bool = False  # the intent came from a forwarded original
    commands: list[Command] = field(default_factory=list)  # coordinator lines (commands.py)
    _hits: dict[tuple[str, str | None], list[str]] = field(default_factory=dict, repr=False)

    def sure(self, decision: str) -> float:
        """The confidence a decision starts with (rules/confidence.toml)."""
        return self.rules.weights("confidence.decided")[decision]

    def decide(self, kind: IntentKind, confidence: float, reason: str) -> None:
        self.kind, self.confidence = kind, confidence
        self.reasons.append(reason)

    @cached_property
    def subject(self) -> str:
        return bare_subject(self.mail.subject)

    @cached_property
    def body(self) -> str:
        """The new text (its first MAX_TEXT characters)."""
        return self.mail.text[:MAX_TEXT]

    @cached_property
    def flowing(self) -> str:
        """The new text with its paragraphs' soft line breaks joined (for phrase rules)."""
        return flowing(self.body)

    @cached_property
    def sentences(self) -> list[str]:
        return sentences(self.flowing)

    def hits(self, section: str, text: str | None = None) -> list[str]:
        """Sentences of the new text (or of `text`) that a rule section matches."""
        key = (section, text)
        found = self._hits.get(key)
        if found is None:
            rx = self.rules.pattern(section)
            whole = self.flowing if text is None else flowing(text)
            if rx.search(whole) is None:  # one pass over the text rules most sections out
                found = []
            else:
                sents = self.sentences if text is None else sentences(whole)
                found = [s for s in sents if rx.search(s)]
            self._hits[key] = found
        return found

    def kept(self, key: tuple[str, str | None], make: Callable[[], list[str]]) -> list[str]:
        """A finding about the new text (or a text) worked out once per mail: several rules
        ask for it. Kept with the sections' hits."""
        found = self._hits.get(key)
        if found is None:
            found = self._hits[key] = make()
        return found

    @cached_property
    def own_domains(self) -> frozenset[str]:
        """Domains of the addresses the mail was sent to: ours, never an attendee's."""
        return frozenset(a.split("@")[-1] for a in self.mail.to if "@" in a)

    @cached_property
    def forwarded(self) -> Forwarded | None:
        return find_forwarded(self)


def find_forwarded(ctx: Context) -> Forwarded | None:
    """The author and text of a forwarded original (WG:/Fwd:), unless it came from us."""
    quoted = ctx.mail.quoted[:MAX_TEXT]
    if not quoted:
        return None
    lines = _QUOTE_MARK.sub("", quoted).split("\n")
    from_line = ctx.rules.pattern("quote.from_line")
    field_line = ctx.rules.pattern("quote.field_line")
    from mailbot.classify.people import EMAIL, clean_display_name

    for i, line in enumerate(lines[:12]):
        if not from_line.match(line):
            continue
        head = line.split(":", 1)[1]
        j = i + 1
        while j < len(lines) and j < i + 3 and not field_line.match(lines[j]) \
                and "@" not in head:
            head += " " + lines[j]
            j += 1
        m = EMAIL.search(head)
        if m:
            email = m.group(0).lower()
            raw_name = head[:m.start()]
        else:
            # Outlook within one organisation writes "Von: Albers, Christina" without an
            # address: when that is the sender, she forwards her own mail
            raw_name = head
            named = clean_display_name(head.strip(" <>\"*"), ctx.rules)
            sender = clean_display_name(ctx.mail.sender_name, ctx.rules)
            if not named or not sender or named.split()[-1].casefold() != \
                    sender.split()[-1].casefold() or not ctx.mail.sender_email:
                return None
            email = ctx.mail.sender_email.lower()
        if email.split("@")[-1] in ctx.own_domains:
            return None
        name = clean_display_name(raw_name.replace("[mailto:", "").strip(" <>\"*"), ctx.rules)
        k = j
        while k < len(lines) and (field_line.match(lines[k]) or not lines[k].strip()):
            k += 1
        return Forwarded(name, email, "\n".join(lines[k:]))
    return None


class Rule(Protocol):
    """One step of the chain: a name, a one-line description, one method."""

    name: str
    description: str

    def apply(self, ctx: Context) -> Flow: ...


def forwarded_subject(ctx: Context) -> bool:
    return is_forward_subject(ctx.mail.subject)
