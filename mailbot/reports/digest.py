"""The coordinators' daily digest: per event what changed and what needs a human; once a day."""

from __future__ import annotations

import base64
import email.parser
import email.policy
import logging
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mailbot.models import (
    DigestRun,
    Event,
    InboundRecord,
    OutboxRow,
    OutboxStatus,
    Person,
    Registration,
)
from mailbot.models import RegState as S
from mailbot.registrations.identity import email_key
from mailbot.registrations.messages import Mailer
from mailbot.registrations.seats import seats_taken, waiting_list
from mailbot.reports import export
from mailbot.types import Outcome

log = logging.getLogger("mailbot.reports.digest")

TEMPLATE = "digest"
BAR_WIDTH = 20
# Events that ended longer ago than this drop out of the digest (nothing changes any more).
KEEP_AFTER_END = timedelta(days=2)
# Names of our own mails, for "which mail could not be delivered".
MAIL_NAMES = {
    "de": {"confirmation": "Anmeldebestätigung", "waitlisted": "Wartelistenbestätigung",
           "partly_waitlisted": "Bestätigung mit Warteliste", "moved_up": "Nachrücken",
           "offer": "Platzangebot", "reminder": "Erinnerung", "cancelled": "Absagebestätigung",
           "venue_notice": "Ortsangabe", "seats_changed": "geänderte Plätze",
           "question_ack": "Eingangsbestätigung einer Frage", "digest": "Tagesübersicht"},
    "en": {"confirmation": "confirmation", "waitlisted": "waiting list confirmation",
           "partly_waitlisted": "confirmation with waiting list", "moved_up": "moved up",
           "offer": "seat offer", "reminder": "reminder", "cancelled": "cancellation",
           "venue_notice": "venue notice", "seats_changed": "changed seats",
           "question_ack": "question acknowledgement", "digest": "daily digest"},
}


@dataclass
class Change:
    """A registration that was made, cancelled or moved up since the last digest."""

    name: str
    email: str
    organization: str
    seats: int
    waiting: bool
    cancelled: bool
    at: str  # ISO 8601


@dataclass
class Item:
    """Something a coordinator has to look at; `id` is the mail for `mailbot review`."""

    kind: str  # question | review | quarantine | bounce | reply_limit
    who: str
    name: str = ""
    subject: str = ""
    text: str = ""
    reason: str = ""
    mailto: str = ""
    event: str = ""  # event title, "" when the mail named none
    at: str = ""
    id: int | None = None


@dataclass
class EventSummary:
    slug: str
    title: str
    starts: str
    ends: str
    city: str
    venue: str
    capacity: int
    taken: int
    free: int
    waiting_seats: int
    waiting_people: int
    taken_pct: int
    bar: str
    new: list[Change] = field(default_factory=list)
    cancelled: list[Change] = field(default_factory=list)
    moved_up: list[Change] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.new or self.cancelled or self.moved_up)


@dataclass
class Digest:
    coordinator: str
    day: str  # local date, YYYY-MM-DD
    language: str
    since: datetime | None  # the previous digest; None: everything so far
    events: list[EventSummary]
    needs_you: list[Item]

    @property
    def is_empty(self) -> bool:
        """Nothing changed and nothing waits for a human: no mail unless digest_when_empty."""
        return not self.needs_you and not any(e.changed for e in self.events)

    def of_kind(self, *kinds: str) -> list[Item]:
        return [i for i in self.needs_you if i.kind in kinds]

    def context(self) -> dict[str, Any]:
        """The template context: JSON only, since it is stored with the outbox row."""
        return {
            "name": "", "coordinator": self.coordinator, "day": self.day,
            "since": self.since.isoformat() if self.since else "",
            "events": [{**asdict(e), "changed": e.changed} for e in self.events],
            "questions": [asdict(i) for i in self.of_kind("question")],
            "review": [asdict(i) for i in self.of_kind("review", "quarantine")],
            "bounces": [asdict(i) for i in self.of_kind("bounce")],
            "reply_limit": [asdict(i) for i in self.of_kind("reply_limit")],
            "new_count": sum(len(e.new) for e in self.events),
            "cancelled_count": sum(len(e.cancelled) for e in self.events),
            "moved_count": sum(len(e.moved_up) for e in self.events),
            "needs_count": len(self.needs_you),
            "empty": self.is_empty,
        }


# ---------------------------------------------------------------- building


def current_events(s: Session, now: datetime) -> list[Event]:
    return list(s.scalars(select(Event).where(Event.purged_at.is_(None),
                                              Event.ends > now - KEEP_AFTER_END)
                          .order_by(Event.starts, Event.id)))


def coordinators(s: Session, now: datetime) -> list[str]:
    """Every coordinator address of a current event, lower-cased, in a stable order."""
    out: dict[str, None] = {}
    for ev in current_events(s, now):
        for addr in ev.coordinators or ():
            if "@" in str(addr):
                out[str(addr).strip().lower()] = None
    return list(out)


def previous_run(s: Session, coordinator: str, day: str) -> datetime | None:
    """When the last digest before `day` went to this coordinator."""
    return s.scalar(select(func.max(DigestRun.sent_at)).where(
        DigestRun.coordinator == coordinator, DigestRun.day < day))


def bar(pct: int, width: int = BAR_WIDTH) -> str:
    full = round(width * pct / 100)
    return "[" + "#" * full + "-" * (width - full) + "]"


def mailto(address: str, subject: str) -> str:
    subject = " ".join(subject.split())
    if subject and not subject.lower().startswith(("re:", "aw:")):
        subject = "Re: " + subject
    return f"mailto:{quote(address, safe='@')}?subject={quote(subject)}"


def _short(text: str, n: int = 300) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= n else text[: n - 1].rstrip() + "…"


def _since(column: Any, since: datetime | None) -> Any:
    return column >= since if since is not None else column.is_not(None)


def _change(reg: Registration, at: datetime | None) -> Change:
    person = reg.person
    return Change(name=person.name or (reg.attendees or [""])[0] or person.email,
                  email=person.email, organization=reg.organization or person.organization or "",
                  seats=reg.seats + reg.waiting_seats, waiting=reg.waiting_seats > 0,
                  cancelled=reg.state == S.CANCELLED,
                  at=(at or reg.created_at).isoformat())


def summarise(s: Session, ev: Event, since: datetime | None) -> EventSummary:
    info = ev.info()
    taken = seats_taken(s, ev)
    waiting = waiting_list(s, ev)
    pct = min(100, round(100 * taken / ev.capacity)) if ev.capacity > 0 else 0
    regs = list(s.scalars(select(Registration).where(Registration.event_id == ev.id)
                          .order_by(Registration.created_at, Registration.id)))

    def after(t: datetime | None) -> bool:
        return t is not None and (since is None or t >= since)

    return EventSummary(
        slug=ev.slug, title=ev.title, starts=info.starts.isoformat(), ends=info.ends.isoformat(),
        city=ev.city, venue=ev.venue, capacity=ev.capacity, taken=taken,
        free=max(0, ev.capacity - taken), waiting_seats=sum(r.waiting_seats for r in waiting),
        waiting_people=len(waiting), taken_pct=pct, bar=bar(pct),
        new=[_change(r, r.created_at) for r in regs if after(r.created_at)],
        cancelled=[_change(r, r.cancelled_at) for r in regs
                   if r.state == S.CANCELLED and after(r.cancelled_at)],
        moved_up=[_change(r, r.moved_up_at) for r in regs
                  if after(r.moved_up_at) and r.state != S.CANCELLED])


def _headers(raw: bytes | None) -> tuple[str, str]:
    """Sender and subject from stored raw bytes (a quarantined mail has no parsed fields)."""
    if not raw:
        return "", ""
    try:
        msg = email.parser.BytesHeaderParser(policy=email.policy.default).parsebytes(raw)
        sender = msg.get("From")
        addr = sender.addresses[0].addr_spec if sender and sender.addresses else ""
        return str(addr).lower(), " ".join(str(msg.get("Subject") or "").split())
    except Exception:  # broken headers are why it may be quarantined: show what we have
        return "", ""


def needs_you(s: Session, events: list[Event], since: datetime | None, lang: str) -> list[Item]:
    slugs = {e.slug: e.title for e in events}
    ids = {e.id: e.title for e in events}
    known = set(s.scalars(select(Event.slug)))

    def _mine(slug: str | None, slugs: dict[str, str] = slugs) -> bool:
        # A mail about another coordinator's event is theirs; one that names no (known)
        # event is everybody's, so that somebody looks at it.
        return not slug or slug in slugs or slug not in known

    items: list[Item] = []

    # questions in registrations, and mails that only asked something
    for reg in s.scalars(select(Registration).where(
            Registration.event_id.in_(ids), Registration.has_question.is_(True),
            _since(Registration.created_at, since)).order_by(Registration.created_at)):
        items.append(Item("question", reg.person.email, name=reg.person.name,
                          text=_short(reg.question), event=ids[reg.event_id],
                          mailto=mailto(reg.person.email, ids[reg.event_id]),
                          at=reg.created_at.isoformat()))
    for rec in s.scalars(select(InboundRecord).where(
            InboundRecord.intent == "question", InboundRecord.outcome == Outcome.DONE,
            _since(InboundRecord.created_at, since)).order_by(InboundRecord.created_at)):
        if rec.sender and _mine(rec.event_slug, slugs):
            items.append(Item("question", rec.sender, subject=rec.subject,
                              text=_short(rec.excerpt), event=slugs.get(rec.event_slug or "", ""),
                              mailto=mailto(rec.sender, rec.subject), at=rec.created_at.isoformat(),
                              id=rec.id))

    # mails a human must decide on: all still open, however old
    for rec in s.scalars(select(InboundRecord).where(
            InboundRecord.outcome.in_([Outcome.REVIEW, Outcome.QUARANTINE]),
            InboundRecord.resolved_at.is_(None)).order_by(InboundRecord.created_at)):
        if not _mine(rec.event_slug, slugs):
            continue
        sender, subject = rec.sender, rec.subject
        if not sender or not subject:
            raw_sender, raw_subject = _headers(rec.raw)
            sender, subject = sender or raw_sender, subject or raw_subject
        items.append(Item(rec.outcome.value, sender, subject=subject, text=_short(rec.excerpt),
                          reason=_short(rec.reason, 200), event=slugs.get(rec.event_slug or "", ""),
                          mailto=mailto(sender, subject) if sender else "",
                          at=rec.created_at.isoformat(), id=rec.id))

    items += _bounces(s, ids, since, lang)

    # senders who hit the reply limit: a loop with a robot, or someone upset
    seen: set[str] = set()
    for rec in s.scalars(select(InboundRecord).where(
            InboundRecord.reason.like("%reply limit%"), _since(InboundRecord.created_at, since))
            .order_by(InboundRecord.created_at)):
        if rec.sender and rec.sender not in seen and _mine(rec.event_slug, slugs):
            seen.add(rec.sender)
            items.append(Item("reply_limit", rec.sender, subject=rec.subject,
                              reason=_short(rec.reason, 200), at=rec.created_at.isoformat(),
                              event=slugs.get(rec.event_slug or "", ""), id=rec.id))
    return items


def _bounces(s: Session, ids: dict[int, str], since: datetime | None, lang: str) -> list[Item]:
    """Addresses our mail did not reach: bounce reports, and mails the server refused for good."""
    failed: dict[str, tuple[str, datetime]] = {}  # address -> (why, when)
    for rec in s.scalars(select(InboundRecord).where(_since(InboundRecord.created_at, since))
                         .order_by(InboundRecord.created_at)):
        for addr in rec.bounced or ():
            failed.setdefault(str(addr).strip().lower(), ("", rec.created_at))
    for row in s.scalars(select(OutboxRow).where(
            OutboxRow.status == OutboxStatus.FAILED, OutboxRow.template != "digest",
            or_(_since(OutboxRow.next_attempt_at, since), _since(OutboxRow.created_at, since)))):
        failed.setdefault(row.to_addr, (_short(row.last_error, 200), row.created_at))
    items = []
    for addr, (why, at) in failed.items():
        regs = list(s.scalars(select(Registration).join(Registration.person).where(
            Person.email_key == email_key(addr))))
        rows = list(s.scalars(select(OutboxRow).where(OutboxRow.to_addr == addr)
                              .order_by(OutboxRow.created_at.desc())))
        events = {r.event_id for r in regs} | {r.event_id for r in rows if r.event_id}
        if events and not events & ids.keys():
            continue  # someone else's participant
        name = regs[0].person.name if regs else ""
        last = rows[0].template if rows else ""
        what = MAIL_NAMES[lang].get(last, last)
        items.append(Item("bounce", addr, name=name, text=what, reason=why,
                          event=", ".join(ids[e] for e in sorted(events & ids.keys())),
                          at=at.isoformat()))
    return items


def language_of(events: list[Event]) -> str:
    """The language most of the coordinator's events use (German on a tie)."""
    counts = Counter(e.language if e.language in ("de", "en") else "de" for e in events)
    return "en" if counts["en"] > counts["de"] else "de"


def build_digest(s: Session, coordinator: str, day: str, now: datetime) -> Digest:
    coordinator = coordinator.strip().lower()
    events = [e for e in current_events(s, now)
              if coordinator in {str(c).strip().lower() for c in e.coordinators or ()}]
    since = previous_run(s, coordinator, day)
    lang = language_of(events)
    return Digest(coordinator=coordinator, day=day, language=lang, since=since,
                  events=[summarise(s, e, since) for e in events],
                  needs_you=needs_you(s, events, since, lang))


# ---------------------------------------------------------------- rendering and sending


def local_day(now: datetime, tz: ZoneInfo) -> str:
    return now.astimezone(tz).date().isoformat()


def attachments(s: Session, digest: Digest, tz: ZoneInfo) -> list[dict[str, str]]:
    """The current participant list of each event, as CSV."""
    out = []
    for summary in digest.events:
        ev = export.find_event(s, summary.slug)
        lang = export.lang_of(ev)
        data = export.to_csv(export.event_rows(s, ev), lang, tz)
        label = "teilnehmende" if lang == "de" else "participants"
        out.append({"filename": f"{summary.slug}-{label}-{digest.day}.csv",
                    "mime": "text/csv", "b64": base64.b64encode(data).decode("ascii")})
    return out


def render_text(digest: Digest, tz: ZoneInfo) -> tuple[str, str]:
    """Subject and text part, as the coordinator will read them."""
    from mailbot.outbox.compose import render

    r = render(TEMPLATE, digest.language, digest.context(), tz)
    return r.subject, r.text


def queue_digest(s: Session, m: Mailer, digest: Digest, tz: ZoneInfo, dedupe_key: str
                 ) -> OutboxRow | None:
    return m.queue(TEMPLATE, digest.coordinator, digest.context(), language=digest.language,
                   auto_submitted="auto-generated", dedupe_key=dedupe_key,
                   attachments=attachments(s, digest, tz))


def _domain(addr: str) -> str:
    return "@" + addr.rpartition("@")[2]


def send_one(worker: Any, coordinator: str, *, force: bool = False) -> str:
    """Queue today's digest for one coordinator in one transaction with its DigestRun row.
    Returns "queued", "empty" (nothing to tell; recorded, not sent) or "done" (already today).
    `force` (mailbot digest --send) sends even when empty or already sent today."""
    now: datetime = worker.clock()
    tz: ZoneInfo = worker.settings.tz
    day = local_day(now, tz)
    try:
        with worker.db.session() as s:
            run = s.scalars(select(DigestRun).where(DigestRun.coordinator == coordinator,
                                                    DigestRun.day == day)).first()
            if run is not None and not force:
                return "done"
            digest = build_digest(s, coordinator, day, now)
            if run is None:
                s.add(DigestRun(coordinator=coordinator, day=day, sent_at=now))
            else:
                run.sent_at = now
            s.flush()  # the unique (coordinator, day) row is the claim: a second worker fails here
            if digest.is_empty and not force and not worker.settings.digest_when_empty:
                log.info("digest for %s: nothing new, not sent", _domain(coordinator))
                return "empty"
            key = f"digest:{coordinator}:{day}"
            if force and s.scalar(select(OutboxRow.id).where(OutboxRow.dedupe_key == key)):
                key = f"{key}:{now:%H%M%S}"
            row = queue_digest(s, worker.mailer(s, now), digest, tz, key)
            if row is None:
                return "done"
        log.info("digest for %s queued (%d event(s))", _domain(coordinator), len(digest.events))
        return "queued"
    except IntegrityError:
        return "done"  # another worker sent today's digest first


def digest_job(worker: Any) -> bool:
    """Every minute from `mailbot run`: from the configured local time on, send each
    coordinator today's digest once (DigestRun rows make that hold across restarts)."""
    now: datetime = worker.clock()
    local = now.astimezone(worker.settings.tz)
    if local.time().replace(tzinfo=None) < worker.settings.digest_time:
        return False
    day = local.date().isoformat()
    with worker.db.session() as s:
        todo = [c for c in coordinators(s, now) if c not in set(s.scalars(
            select(DigestRun.coordinator).where(DigestRun.day == day)))]
    return [send_one(worker, c) for c in todo].count("queued") > 0
