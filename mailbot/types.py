"""Plain data passed between the stages; no I/O, no database."""

from __future__ import annotations

import enum
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime

# Every mail mailbot sends carries this header; a mail that comes back with it is our own.
LOOP_HEADER = "X-Mailbot-Loop"

# Our Message-IDs name the event they are about, so a reply's In-Reply-To finds the event.
_OWN_ID_RE = re.compile(r"^[0-9a-z]+\.([a-z0-9_-]+)\.mailbot@", re.I)


def own_message_id(slug: str | None, domain: str) -> str:
    """A new Message-ID (without angle brackets) for a mail about event `slug`."""
    return f"{secrets.token_hex(10)}.{slug or 'none'}.mailbot@{domain}"


def slug_from_own_id(message_id: str) -> str | None:
    """The event slug inside one of our Message-IDs, else None."""
    m = _OWN_ID_RE.match(message_id.strip("<> "))
    return m.group(1) if m and m.group(1) != "none" else None


class IntentKind(enum.StrEnum):
    """What a sender wants; the values are the `intent` strings of `mailbot parse --json`."""

    REGISTER = "register"
    CANCEL = "cancel"
    QUESTION = "question"
    ERASE = "erase"
    ACCESS = "access"  # "what data do you hold about me?" (DSGVO Art. 15)
    # a coordinator's command by mail (venue, capacity, close, list, digest items); set on
    # the record by apply once the sender is known to coordinate the event, never by classify
    COORDINATOR_COMMAND = "coordinator_command"
    AUTO_REPLY = "auto_reply"
    BOUNCE = "bounce"
    OTHER = "other"

    @property
    def is_machine(self) -> bool:
        return self in (IntentKind.AUTO_REPLY, IntentKind.BOUNCE)


class Outcome(enum.StrEnum):
    """Where an inbound mail ends up after intake; also the name of its mailbox folder role."""

    DONE = "done"
    REVIEW = "review"
    QUARANTINE = "quarantine"


@dataclass(frozen=True)
class EventInfo:
    """What classify and the templates need to know about an event (a row of the events file)."""

    slug: str
    title: str
    starts: datetime  # timezone-aware
    ends: datetime  # timezone-aware
    city: str = ""
    venue: str = ""
    capacity: int = 0
    aliases: tuple[str, ...] = ()
    language: str = "de"
    coordinators: tuple[str, ...] = ()
    registration_deadline: datetime | None = None
    reminder_days: int = 2
    confirm_hours: int | None = None  # waiting list: hours to accept a freed seat, None = automatic
    retention_days: int = 30

    def is_open_at(self, when: datetime) -> bool:
        """Registration is open until the deadline (if any) and the start."""
        closes = self.registration_deadline or self.starts
        return when < min(closes, self.starts)


class Trust(enum.StrEnum):
    """How far a mail is known to come from its From: address (mailbot.parse.authentication)."""

    UNVERIFIED = "unverified"  # anyone can write any From: header
    VERIFIED = "verified"  # our own mail server says DMARC pass or aligned DKIM pass
    CONFIRMED = "confirmed"  # the address itself answered "Ja" to our confirmation request


@dataclass(frozen=True)
class TrustPolicy:
    """Whose Authentication-Results count (their authserv-ids), and how long a confirmation
    request stays valid."""

    authserv_ids: tuple[str, ...] = ()  # none: nobody is verified, every destructive act asks
    confirm_hours: int = 48


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    size: int


@dataclass(frozen=True)
class InboundMail:
    """A parsed inbound message: what the sender wrote, cleaned; built by `mailbot.parse`."""

    message_id: str  # without angle brackets; synthesised from a hash when missing
    sender_email: str  # lower-cased address of From (Reply-To is kept separately)
    sender_name: str  # decoded display name, "" when none
    reply_to: str  # address to answer to ("" = sender_email)
    to: tuple[str, ...]  # all To/Cc/Delivered-To addresses, lower-cased
    subject: str  # decoded, whitespace folded
    date: datetime | None  # the Date header, timezone-aware, None when missing or broken
    in_reply_to: tuple[str, ...]  # In-Reply-To and References ids, without angle brackets
    text: str  # the new text, without quoted history, signature or disclaimer
    signature: str  # the signature block that was cut off ("" when none)
    quoted: str  # the quoted history that was cut off ("" when none)
    full_text: str  # the whole decoded body as text (HTML converted), before any cutting
    language: str  # "de" or "en" (best guess)
    headers: dict[str, str]  # selected raw header values, lower-cased names (auto-reply markers etc.)
    auto_markers: tuple[str, ...] = ()  # which automatic-mail signals fired (header or text)
    is_bounce_report: bool = False  # multipart/report delivery-status or known bounce shape
    bounced_recipients: tuple[str, ...] = ()  # permanent failures only
    attachments: tuple[Attachment, ...] = ()
    ours: bool = False  # carries mailbot's own loop marker
    defects: tuple[str, ...] = ()  # what was broken but survived (charset, MIME structure)
    # every Authentication-Results header value, top (added last) first; see parse.authentication
    authentication_results: tuple[str, ...] = ()

    @property
    def answer_to(self) -> str:
        return self.reply_to or self.sender_email


@dataclass(frozen=True)
class Attendee:
    name: str
    email: str | None  # None when the mail gives no address for this person

    def as_json(self) -> dict[str, str | None]:
        return {"name": self.name, "email": self.email}


@dataclass(frozen=True)
class Command:
    """One command line of a mail, as written: classify reads the syntax only; whether the
    sender may give it (an event's coordinator, trusted) is decided in apply."""

    verb: str  # venue | capacity | close | list | register | assign | dismiss
    value: str = ""  # the venue, the slug of an assign
    number: int | None = None  # the capacity, the digest item (mail #) to resolve


@dataclass(frozen=True)
class Intent:
    """What classify decided; the fields of `mailbot parse --json`."""

    kind: IntentKind
    event: str | None = None  # slug, None when unknown or ambiguous
    attendees: tuple[Attendee, ...] = ()
    organization: str | None = None
    party_size: int = 0
    has_question: bool = False
    question: str = ""  # the sentence(s) that ask something, for the coordinators
    confidence: float = 0.0
    candidate_events: tuple[str, ...] = ()  # open events it could be, when `event` is None
    cancel_seats: int | None = None  # cancel only this many seats (None = all)
    substitute: Attendee | None = None  # "statt mir kommt …"
    accepts_offer: bool | None = None  # "Ja"/"Nein" answer to a waiting-list offer
    reasons: tuple[str, ...] = ()  # which rules fired, for review and debugging
    language: str = "de"
    # a machine wrote it (classify decided: bounce, auto-reply, list or bulk mail, automatic
    # wording): recorded, never answered and never put before a human; list mail stays `other`
    machine: bool = False
    commands: tuple[Command, ...] = ()  # coordinator command lines (mailbot/classify/commands.py)


@dataclass(frozen=True)
class OutgoingMail:
    """One mail to send, as the outbox row describes it; rendered by `mailbot.outbox.compose`."""

    template: str  # e.g. "confirmation"; files templates/<template>.<lang>.{subject,txt,html}
    language: str
    to: str
    context: dict[str, object]  # JSON-serialisable, snapshotted when queued
    message_id: str  # without angle brackets, stable: chosen when queued
    in_reply_to: str | None = None
    references: tuple[str, ...] = ()
    reply_to: str | None = None
    auto_submitted: str = "auto-replied"  # "auto-generated" for notices nobody asked for
    ics: dict[str, object] | None = None  # calendar entry: uid, sequence, method, event fields
    attachments: tuple[tuple[str, str, bytes], ...] = field(default=())  # (filename, mime, data)


class SendStatus(enum.StrEnum):
    SENT = "sent"
    RETRY = "retry"
    FAILED = "failed"
