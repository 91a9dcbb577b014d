"""Scheduled work on registrations: reminders and the retention purge, one unit per call."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from mailbot.database import affected
from mailbot.models import Erasure, Event, InboundRecord, OutboxRow, Person, Registration, RegState
from mailbot.registrations.erasure import scrub_address
from mailbot.registrations.messages import Mailer, ics_for, registration_context


def send_one_reminder(s: Session, m: Mailer) -> bool:
    """Claim one registration due for its reminder and queue it; False when none is due.
    The UPDATE … WHERE reminder_sent_at IS NULL is the claim: two workers never both win; it
    asks again that the registration holds its seat (on PostgreSQL a cancellation may have
    committed since the SELECT)."""
    candidates = s.execute(
        select(Registration.id, Event.starts, Event.reminder_days).join(Event)
        .where(Registration.state == RegState.REGISTERED, Registration.reminder_sent_at.is_(None),
               Event.starts > m.now, Event.reminder_days > 0)
        .order_by(Event.starts).limit(50)).all()
    for reg_id, starts, days in candidates:
        if m.now < starts - timedelta(days=days):
            continue
        won = affected(s, update(Registration).where(
            Registration.id == reg_id, Registration.reminder_sent_at.is_(None),
            Registration.state == RegState.REGISTERED)
            .values(reminder_sent_at=m.now))
        if not won:
            continue
        reg = s.get(Registration, reg_id)
        assert reg is not None
        s.refresh(reg)
        m.queue("reminder", reg.person.email, registration_context(reg),
                language=reg.person.language, event=reg.event, ics=ics_for(reg),
                auto_submitted="auto-generated", dedupe_key=f"reminder:{reg.id}")
        return True
    return False


def purgeable_events(s: Session, m: Mailer) -> list[Event]:
    evs = s.scalars(select(Event).where(Event.purged_at.is_(None), Event.ends < m.now)).all()
    return [e for e in evs if e.ends + timedelta(days=e.retention_days) <= m.now]


def purge_one_event(s: Session, m: Mailer) -> bool:
    """Delete the personal data of one event past its retention time; False when none is due.
    The claim asks again that the event's dates and retention are those read (on PostgreSQL a
    coordinator may have moved the event since the SELECT)."""
    for ev in purgeable_events(s, m):
        won = affected(s, update(Event).where(
            Event.id == ev.id, Event.purged_at.is_(None), Event.ends == ev.ends,
            Event.retention_days == ev.retention_days).values(purged_at=m.now))
        if not won:
            continue
        regs = s.scalars(select(Registration).where(Registration.event_id == ev.id)).all()
        person_ids = {r.person_id for r in regs}
        s.execute(delete(Registration).where(Registration.event_id == ev.id))
        s.execute(delete(OutboxRow).where(OutboxRow.event_id == ev.id,
                                          OutboxRow.status != "queued"))
        s.execute(update(InboundRecord).where(InboundRecord.event_slug == ev.slug).values(
            sender="", subject="", excerpt="", raw=None, bounced=[]))
        for pid in person_ids:
            # the person's row locked first (PostgreSQL): a registration another worker is
            # adding for them holds its foreign-key lock, so this waits for its commit and
            # then sees it; else the person's deletion would cascade to it
            person = s.scalars(select(Person).where(Person.id == pid).with_for_update()).first()
            left = s.scalar(select(Registration.id).where(Registration.person_id == pid).limit(1))
            if left is None and person is not None:
                scrub_address(s, person.email)  # their bounces and auto-replies, too
                s.delete(person)
        s.add(Erasure(at=m.now, registrations_removed=len(regs), kind="retention"))
        return True
    return False


def forget_old_mails(s: Session, m: Mailer, days: int = 30) -> bool:
    """Inbound mails keep their identity (so nothing runs twice) but lose sender, subject and
    text `days` after they were handled, unless a human still has to look at them."""
    cutoff = m.now - timedelta(days=days)
    ids = s.scalars(select(InboundRecord.id).where(
        InboundRecord.created_at < cutoff, InboundRecord.sender != "",
        (InboundRecord.outcome == "done") | InboundRecord.resolved_at.is_not(None)).limit(500)).all()
    if not ids:
        return False
    s.execute(update(InboundRecord).where(InboundRecord.id.in_(ids)).values(
        sender="", subject="", excerpt="", raw=None, bounced=[]))
    s.execute(delete(OutboxRow).where(OutboxRow.created_at < cutoff,
                                      OutboxRow.status != "queued", OutboxRow.event_id.is_(None)))
    return True
