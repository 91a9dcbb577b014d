"""Seat arithmetic and the waiting list: who holds seats, who is next, moving up."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, bindparam, func, or_, select
from sqlalchemy.orm import Session

from mailbot.database import writes
from mailbot.models import Event, EventSeats, Registration, RegState
from mailbot.registrations.messages import Mailer, ics_for, registration_context

HOLDING = (RegState.REGISTERED, RegState.OFFERED)


def lock_event(session: Session, event_id: int) -> Event:
    """Re-read the event with a row lock (PostgreSQL), so two workers count seats one at a time.
    SQLite transactions already begin with the write lock (see database.make_engine)."""
    ev = session.scalars(select(Event).where(Event.id == event_id).with_for_update()
                         .execution_options(populate_existing=True)).one()
    return ev


def lock_registration(session: Session, reg: Registration) -> Event:
    """`lock_event` for the registration's event, then the registration read again: on
    PostgreSQL another worker may have changed it while this one waited for the lock (cancelled
    it, let its offer run out); the caller decides on what it reads now."""
    event = lock_event(session, reg.event_id)
    session.refresh(reg)
    return event


def seats_taken(session: Session, event: Event) -> int:
    """The event's counter (database triggers keep it as registrations change, see migrations
    0004 and 0005): one row read by its key, however many registrations there are. Read from
    the database, since a trigger's change is in no object loaded before. Registrations added
    to the session and not yet written are counted here as the trigger will count them at
    their INSERT (a group of a batch writes its mails in one flush); a written registration
    with unwritten changes is flushed first, and its trigger counts the change."""
    pending = _unwritten_seats(session, event)
    if pending is None:
        session.flush()
        pending = 0
    # on the session's connection: a plain read needs none of the ORM's steps; read again
    # only after something was written in this transaction (a run of registrations writes
    # at its end: one read per event and run, not one per registration)
    conn, txn = session.connection(), session.get_transaction()
    known: dict[int, tuple[object, int, int]] = session.info.setdefault(_TAKEN, {})
    seen = known.get(event.id)
    if seen is not None and seen[0] is txn and seen[1] == writes(conn):
        return seen[2] + pending
    taken = int(conn.scalar(_SEATS_TAKEN, {"event_id": event.id}) or 0)
    known[event.id] = (txn, writes(conn), taken)
    return taken + pending


_SEATS_TAKEN = select(EventSeats.taken).where(EventSeats.event_id == bindparam("event_id"))
_TAKEN = "mailbot.seats_taken"  # Session.info: event id -> (transaction, writes, counter)


def _unwritten_seats(session: Session, event: Event) -> int | None:
    """The seats held by the event's registrations added and not yet written; None when a
    written registration was changed or deleted and not yet written (then: flush)."""
    if any(isinstance(obj, Registration) for objs in (session.dirty, session.deleted)
           for obj in objs):
        return None
    return sum(obj.seats for obj in session.new
               if isinstance(obj, Registration) and obj.state in HOLDING
               and (obj.event is event or obj.event_id == event.id))


def seats_free(session: Session, event: Event) -> int:
    return max(0, event.capacity - seats_taken(session, event))


def waiting_list(session: Session, event: Event) -> list[Registration]:
    """Registrations with seats still on the list, first come first."""
    return list(session.scalars(
        select(Registration).where(Registration.event_id == event.id,
                                   Registration.waiting_seats > 0,
                                   Registration.state != RegState.CANCELLED)
        .order_by(Registration.waiting_since, Registration.id)))


def position_of(session: Session, reg: Registration) -> int | None:
    """The place on the waiting list: those waiting before it, counted in the database
    (index ix_registrations_event_waiting), not loaded."""
    if reg.waiting_seats <= 0 or reg.state == RegState.CANCELLED:
        return None
    if reg.id is None:  # made for this mail and not yet written: its id orders it
        session.flush()
    if reg.waiting_since is None:  # not yet ordered (never the case for a stored waiting one)
        return next((i for i, r in enumerate(waiting_list(session, reg.event), start=1)
                     if r.id == reg.id), None)
    before = or_(Registration.waiting_since < reg.waiting_since,
                 and_(Registration.waiting_since == reg.waiting_since,
                      Registration.id < reg.id))
    return 1 + int(session.scalar(select(func.count()).select_from(Registration).where(
        Registration.event_id == reg.event_id, Registration.waiting_seats > 0,
        Registration.state != RegState.CANCELLED, before)) or 0)


def fill_free_seats(session: Session, mailer: Mailer, event: Event) -> list[Registration]:
    """Move the first waiting registrations that fit into free seats and tell them; with
    `confirm_hours` set, offer the seats instead (held until they answer or the offer expires).
    Call with the event locked. Returns the registrations moved up or offered."""
    if mailer.now >= event.starts:
        return []
    moved: list[Registration] = []
    free = seats_free(session, event)
    for reg in waiting_list(session, event):
        if free <= 0:
            break
        if reg.state == RegState.OFFERED or reg.waiting_seats > free:
            continue  # the first who fits: a party of three doesn't block a single seat
        n = reg.waiting_seats
        free -= n
        reg.seats += n
        reg.waiting_seats = 0
        reg.moved_up_at = mailer.now
        if event.confirm_hours and reg.seats == n:  # someone already coming needs no offer
            reg.state = RegState.OFFERED
            reg.offer_until = mailer.now + timedelta(hours=event.confirm_hours)
            mailer.queue("offer", reg.person.email, registration_context(
                reg, offer_until=reg.offer_until.isoformat(), seats=n),
                language=reg.person.language, event=event, auto_submitted="auto-generated")
        else:
            reg.state = RegState.REGISTERED
            mailer.queue("moved_up", reg.person.email, registration_context(reg),
                         language=reg.person.language, event=event, ics=ics_for(reg),
                         auto_submitted="auto-generated")
        moved.append(reg)
    return moved


def expired_offers(session: Session, now: datetime) -> list[int]:
    return list(session.scalars(select(Registration.id).where(
        Registration.state == RegState.OFFERED, Registration.offer_until < now)))
