"""Coordinator commands by mail: venue, capacity, closing registration, the participant list,
and the digest's "needs you" items (register / assign / dismiss by the number it shows).

classify only reads the command lines (mailbot/classify/commands.py). Here the sender must be
a coordinator of the event (Event.coordinators) and trusted: verified by our mail server, or
confirmed by the round trip of apply.confirm.hold. Anyone else's "Ort: …" is no command: the
action steps aside and the mail goes on as any participant's. Every command is answered with
what was done, at the From: address only (a participant list never goes to a Reply-To).

The participant list (reports) and understanding a stored mail again (parse and classify with
the rules) belong to later stages or to the runtime: the runner hands them in as an `Office`.
"""

from __future__ import annotations

import base64
from dataclasses import replace
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailbot.apply.confirm import hold
from mailbot.apply.inbound import Inbound, closed_reason, event_by_slug, reply
from mailbot.apply.register import Register
from mailbot.models import Event, InboundRecord, Registration
from mailbot.registrations.event_changes import set_venue
from mailbot.registrations.identity import email_key, find_person
from mailbot.registrations.messages import Mailer
from mailbot.registrations.seats import fill_free_seats, lock_event, seats_taken
from mailbot.types import (
    Command,
    EventInfo,
    InboundMail,
    Intent,
    IntentKind,
    Outcome,
)

# commands about one event (the one the mail names); the others name a digest item
EVENT_VERBS = ("venue", "capacity", "close", "list")
ITEM_VERBS = ("register", "assign", "dismiss")
# digest items are the mails a human must decide on (as reports.digest_items lists them)
OPEN_OUTCOMES = (Outcome.REVIEW, Outcome.QUARANTINE)
# every key a result carries (the templates read them all: coordinator_done, coordinator_list)
RESULT_KEYS: dict[str, Any] = {
    "ok": False, "why": "", "event": "", "value": "", "number": None, "unchanged": False,
    "notices": 0, "old": 0, "taken": 0, "moved": 0, "already": False, "filename": "",
    "who": "", "state": "", "events": []}


def result(verb: str, **kw: Any) -> dict[str, Any]:
    return {**RESULT_KEYS, "verb": verb, **kw}


class Office(Protocol):
    """What commands need from outside the apply stage; runners.office.Office is the real one."""

    def participant_list(self, s: Session, event: Event) -> tuple[str, bytes]:
        """File name and XLSX bytes of the event's participant list (reports.export)."""
        ...

    def understand(self, raw: bytes, events: list[EventInfo]) -> tuple[InboundMail, Intent]:
        """Parse and classify a stored mail again, as intake did."""
        ...


def coordinated_events(s: Session, address: str) -> list[Event]:
    """The events (not purged) that list this address among their coordinators."""
    key = email_key(address)
    return [e for e in s.scalars(select(Event).where(Event.purged_at.is_(None))
                                 .order_by(Event.starts, Event.id))
            if key in {email_key(str(c)) for c in e.coordinators or ()}]


def _target(inb: Inbound, mine: list[Event], now: datetime) -> Event | None:
    """The event the commands are about: the one the mail names, else the coordinator's only
    current event."""
    if inb.intent.event:
        return next((e for e in mine if e.slug == inb.intent.event), None)
    current = [e for e in mine if e.ends > now]
    return current[0] if len(current) == 1 else None


class Coordinator:
    name = "coordinator"
    description = ("an event's trusted coordinator sets venue or capacity, closes registration, "
                   "asks for the list, resolves digest items")

    def __init__(self, office: Office | None = None) -> None:
        self.office = office

    def __call__(self, s: Session, m: Mailer, inb: Inbound) -> Outcome | None:
        cmds = inb.intent.commands
        if not cmds or inb.intent.machine:
            return None
        mine = coordinated_events(s, inb.mail.sender_email)
        if not mine:
            return None  # no coordinator: the lines are just text, the mail is a participant's
        event: Event | None = None
        if any(c.verb in EVENT_VERBS for c in cmds):
            event = _target(inb, mine, m.now)
            if event is None and inb.intent.event:
                return None  # another event's business: read as a participant's mail
        if (held := hold(s, m, inb, "coordinator", event)) is not None:
            return held
        inb.record.intent = IntentKind.COORDINATOR_COMMAND
        results: list[dict[str, Any]] = []
        files: list[dict[str, str]] = []
        for cmd in cmds:
            if cmd.verb in EVENT_VERBS:
                results.append(self._event_command(s, m, cmd, event, mine, files))
            else:
                results.append(self._item_command(s, m, inb, cmd, mine))
        template = "coordinator_list" if files else "coordinator_done"
        reply(m, inb, template, {"results": results}, event=event, to=inb.mail.sender_email,
              attachments=files)
        inb.record.reason = "coordinator commands: " + ", ".join(
            f"{r['verb']} {'done' if r['ok'] else 'not done'}" for r in results)
        return Outcome.DONE

    def _event_command(self, s: Session, m: Mailer, cmd: Command, event: Event | None,
                       mine: list[Event], files: list[dict[str, str]]) -> dict[str, Any]:
        out = result(cmd.verb, value=cmd.value, number=cmd.number)
        if event is None:
            # several events and the mail names none: say which ones it could be
            out["why"] = "which_event"
            out["events"] = [e.title for e in mine if e.ends > m.now] or [e.title for e in mine]
            return out
        out["event"] = event.title
        if cmd.verb == "venue":
            notices = set_venue(s, m, event.slug, cmd.value)
            out.update(ok=True, unchanged=notices is None, notices=notices or 0)
        elif cmd.verb == "capacity":
            capacity(s, m, event, cmd.number or 0, out)
        elif cmd.verb == "close":
            close(m, event, out)
        elif cmd.verb == "list":
            if self.office is None:
                out["why"] = "unavailable"
            else:
                filename, data = self.office.participant_list(s, event)
                files.append({"filename": filename, "b64": base64.b64encode(data).decode("ascii"),
                              "mime": "application/vnd.openxmlformats-officedocument"
                                      ".spreadsheetml.sheet"})
                out.update(ok=True, filename=filename)
        return out

    def _item_command(self, s: Session, m: Mailer, inb: Inbound, cmd: Command,
                      mine: list[Event]) -> dict[str, Any]:
        out = result(cmd.verb, value=cmd.value, number=cmd.number)
        # locked, and read afresh (PostgreSQL): two coordinators' replies taken in by two
        # workers resolve an item once; the second reads it resolved
        rec = s.get(InboundRecord, cmd.number, with_for_update=True,
                    populate_existing=True) if cmd.number else None
        if rec is None or rec.id == inb.record.id or not _theirs(s, rec, mine):
            out["why"] = "unknown"
            return out
        if rec.outcome not in OPEN_OUTCOMES or rec.resolved_at is not None:
            out["why"] = "resolved"
            return out
        out["who"] = rec.sender
        if cmd.verb == "dismiss":
            dismiss(rec, m.now, inb.mail.sender_email)
            out["ok"] = True
            return out
        return self.register(s, m, rec, cmd, mine, inb.mail.sender_email, out)

    def register(self, s: Session, m: Mailer, rec: InboundRecord, cmd: Command,
                 mine: list[Event], by: str, out: dict[str, Any]) -> dict[str, Any]:
        """As `mailbot review register|assign`: the mail understood again, its sender registered."""
        mail, intent = self._understand(s, rec)
        if not mail.sender_email or "@" not in mail.sender_email:
            out["why"] = "no_sender"
            return out
        slug = cmd.value if cmd.verb == "assign" else (rec.event_slug or
                                                         (intent.event if intent else None))
        event = next((e for e in mine if e.slug == slug), None) if slug else None
        if event is None:
            out["why"] = "no_event" if not slug else "not_your_event"
            return out
        event = lock_event(s, event.id)
        why = closed_reason(event, m)
        if why:
            out["why"] = "closed"
            return out
        state = register_reviewed(s, m, rec, mail, intent, event,
                                  f"registered for {event.slug} by a coordinator by mail ({by})")
        out.update(ok=True, event=event.title, who=mail.sender_email, state=state)
        return out

    def _understand(self, s: Session, rec: InboundRecord) -> tuple[InboundMail, Intent | None]:
        if rec.raw and self.office is not None:
            events = [e.info() for e in s.scalars(select(Event).where(Event.purged_at.is_(None)))]
            try:
                return self.office.understand(rec.raw, events)
            except Exception:  # an unreadable mail: the record's sender is enough to register
                pass
        text = rec.excerpt or ""
        return InboundMail(
            message_id=rec.message_id, sender_email=(rec.sender or "").lower(), sender_name="",
            reply_to="", to=(), subject=rec.subject, date=None, in_reply_to=(), text=text,
            signature="", quoted="", full_text=text, language="de", headers={}), None


def register_reviewed(s: Session, m: Mailer, rec: InboundRecord, mail: InboundMail,
                      intent: Intent | None, event: Event, what: str) -> str:
    """Register the sender of a mail in review for `event` (locked, open) as understood, file
    the mail; returns the registration's state. `mailbot review register|assign` and the
    digest replies both resolve an item this way."""
    base = intent or Intent(IntentKind.REGISTER)
    wanted = replace(base, kind=IntentKind.REGISTER, event=event.slug, confidence=1.0,
                     candidate_events=(), commands=())
    Register()(s, m, Inbound(rec, mail, wanted))
    resolve(rec, m.now, what)
    person = find_person(s, mail.sender_email)
    reg = s.scalars(select(Registration).where(
        Registration.event_id == event.id, Registration.person_id == person.id)
    ).first() if person else None
    return reg.state.value if reg else "registered"


def _theirs(s: Session, rec: InboundRecord, mine: list[Event]) -> bool:
    """A mail about another coordinator's event is theirs; one that names no known event is
    everybody's (as the digest shows it: reports.digest_items.needs_you)."""
    if not rec.event_slug or rec.event_slug in {e.slug for e in mine}:
        return True
    return event_by_slug(s, rec.event_slug) is None


def capacity(s: Session, m: Mailer, event: Event, number: int, out: dict[str, Any]) -> None:
    """Set the capacity; more seats move the waiting list up (or offer the seats). Fewer seats
    than are taken take nobody's seat: the event is then full until people cancel."""
    ev = lock_event(s, event.id)
    out["old"] = ev.capacity
    ev.capacity = number
    s.flush()
    moved = fill_free_seats(s, m, ev) if number > out["old"] else []
    out.update(ok=True, moved=len(moved), taken=seats_taken(s, ev))


def close(m: Mailer, event: Event, out: dict[str, Any]) -> None:
    """Registration closes now: later registrations get the "closed" answer."""
    if closed_reason(event, m):
        out.update(ok=True, already=True)
        return
    event.registration_deadline = m.now
    out.update(ok=True, already=False)


def dismiss(rec: InboundRecord, now: datetime, by: str) -> None:
    resolve(rec, now, f"dismissed by a coordinator by mail ({by})")


def resolve(rec: InboundRecord, now: datetime, what: str) -> None:
    """Filed: no longer in review, and the raw bytes (personal data) are gone (also for
    `mailbot review` and `reprocess`, through commands.review_records)."""
    rec.resolved_at = now
    rec.raw = None
    rec.reason = f"{rec.reason}; {what}" if rec.reason else what
