"""The coordinators' daily digest: per event what changed and what needs a human; once a day."""

from __future__ import annotations

import base64
import logging
from collections import Counter
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mailbot.models import DigestRun, Event, OutboxRow, Registration
from mailbot.models import RegState as S
from mailbot.registrations.messages import Mailer
from mailbot.registrations.seats import seats_taken, waiting_list
from mailbot.reports import export
from mailbot.reports.digest_items import MAIL_NAMES, mailto, needs_you
from mailbot.reports.digest_model import Change, Digest, EventSummary, Item

__all__ = ["MAIL_NAMES", "Change", "Digest", "EventSummary", "Item", "build_digest",
           "coordinators", "digest_job", "local_day", "mailto", "needs_you", "render_text",
           "send_one", "summarise"]

log = logging.getLogger("mailbot.reports.digest")

TEMPLATE = "digest"
BAR_WIDTH = 20
# Events that ended longer ago than this drop out of the digest (nothing changes any more).
KEEP_AFTER_END = timedelta(days=2)


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
