"""Register the attendees of a mail: seats, waiting list, changes, confirmations."""

from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailbot.apply.inbound import (
    Inbound,
    ask_which_event,
    closed_reason,
    event_by_slug,
    locked_event,
    open_events,
    reply,
)
from mailbot.apply.questions import forward_question
from mailbot.models import Event, Person, Registration, RegState
from mailbot.registrations.identity import NEW_PEOPLE, email_key, get_or_create_person
from mailbot.registrations.messages import Mailer, ics_for, registration_context
from mailbot.registrations.seats import position_of, seats_free
from mailbot.types import Attendee, IntentKind, Outcome


def resolve_event(s: Session, m: Mailer, inb: Inbound) -> Event | Outcome:
    """The event the mail is about, or the outcome of asking / declining."""
    event = event_by_slug(s, inb.intent.event)
    if event is not None:
        return event
    candidates = [e for e in (event_by_slug(s, c) for c in inb.intent.candidate_events) if e]
    opened = candidates or open_events(s, m)
    if len(opened) == 1:
        return opened[0]
    if len(opened) > 1:
        return ask_which_event(s, m, inb, opened)
    return Outcome.REVIEW  # nothing open that it could be: a human decides


def _plan(inb: Inbound) -> list[tuple[Attendee, int, list[str]]]:
    """Split the party into registrations: (contact, seats, attendee names), one per address.
    People without an address ride on the contact's registration; the contact is the sender
    when attending, else the first attendee with an address, else the sender (not attending)."""
    mail, intent = inb.mail, inb.intent
    people = list(intent.attendees) or [Attendee(mail.sender_name, mail.sender_email)]
    with_mail = [a for a in people if a.email]
    without = [a.name for a in people if not a.email and a.name]
    party = max(intent.party_size, len(people), 1)
    sender_key = email_key(mail.sender_email)
    primary = next((a for a in with_mail if email_key(a.email or "") == sender_key),
                   with_mail[0] if with_mail else None)
    others = [a for a in with_mail if a is not primary]
    if primary is None:
        contact, names = Attendee(mail.sender_name, mail.sender_email), without
    else:
        contact, names = primary, [primary.name, *without] if primary.name else without
    plan = [(contact, max(1, party - len(others)), names)]
    return plan + [(a, 1, [a.name] if a.name else []) for a in others]


class Register:
    name = "register"
    description = "register the attendees for the event, or put them on the waiting list"

    def __call__(self, s: Session, m: Mailer, inb: Inbound) -> Outcome | None:
        if inb.intent.kind != IntentKind.REGISTER:
            return None
        found = resolve_event(s, m, inb)
        if isinstance(found, Outcome):
            return found
        event = locked_event(s, found.id)
        why = closed_reason(event, m)
        if why:
            reply(m, inb, "closed", {"reason": why}, event=event)
            return Outcome.DONE
        sender = inb.mail.sender_email
        for contact, seats, names in _plan(inb):
            person = get_or_create_person(s, contact.email or sender, contact.name,
                                          inb.intent.organization, inb.language)
            reg = register_person(s, m, inb, event, person, seats, names)
            if email_key(person.email) != email_key(sender):
                reg.registered_by = sender
        if inb.intent.has_question:
            forward_question(s, m, inb, event)
        return Outcome.DONE


def register_person(s: Session, m: Mailer, inb: Inbound, event: Event, person: Person,
                    seats: int, names: list[str]) -> Registration:
    """Create or change one registration and queue the answer to its person."""
    reg = None if _new_in(s, person) else s.scalars(select(Registration).where(
        Registration.event_id == event.id, Registration.person_id == person.id)).first()
    to = person.email
    if reg is not None and reg.state != RegState.CANCELLED:
        held = reg.seats + reg.waiting_seats
        if seats <= held:
            reply(m, inb, "already_registered", registration_context(
                reg, position=position_of(s, reg)), event=event, to=to)
            return reg
        return _add_seats(s, m, inb, event, reg, seats - held, to)
    free = None
    if reg is None:
        # counted before the new registration exists, so that it is written once, with its
        # seats, at the next flush (not first empty, then changed)
        free = seats_free(s, event)
        # the objects themselves: the answer's context needs no query for them
        reg = Registration(event=event, person=person, uid=_uid(m), seats=0,
                           waiting_seats=0, state=RegState.WAITING, created_at=m.now)
        s.add(reg)
    reg.attendees = names
    reg.organization = inb.intent.organization
    reg.has_question = inb.intent.has_question
    reg.question = inb.intent.question
    reg.cancelled_at = None
    reg.seats = reg.waiting_seats = 0
    _place(s, m, inb, event, reg, seats, to, free=free)
    return reg


def _place(s: Session, m: Mailer, inb: Inbound, event: Event, reg: Registration, want: int,
           to: str, old_seats: int | None = None, free: int | None = None) -> None:
    if free is None:
        free = seats_free(s, event)
    now_seats = min(free, want)
    reg.seats += now_seats
    reg.waiting_seats += want - now_seats
    if reg.waiting_seats and reg.waiting_since is None:
        reg.waiting_since = m.now
    reg.state = RegState.REGISTERED if reg.seats else RegState.WAITING
    if reg.waiting_seats == 0:
        template = "confirmation" if old_seats is None else "seats_changed"
        reply(m, inb, template, registration_context(reg, old_seats=old_seats),
              event=event, to=to, ics=ics_for(reg))
    elif reg.seats:
        reply(m, inb, "partly_waitlisted", registration_context(
            reg, position=position_of(s, reg), seats_free=0), event=event, to=to, ics=ics_for(reg))
    else:
        reply(m, inb, "waitlisted", registration_context(
            reg, position=position_of(s, reg), seats_free=free), event=event, to=to)


def _add_seats(s: Session, m: Mailer, inb: Inbound, event: Event, reg: Registration, extra: int,
               to: str) -> Registration:
    """A second registration asking for more seats is a change, not a duplicate."""
    old = reg.seats + reg.waiting_seats
    if reg.waiting_seats:  # already waiting: the extra seats queue behind the waiting ones
        reg.waiting_seats += extra
        reply(m, inb, "waitlisted", registration_context(
            reg, position=position_of(s, reg), seats_free=seats_free(s, event)),
            event=event, to=to)
        return reg
    _place(s, m, inb, event, reg, extra, to, old_seats=old)
    return reg


def _new_in(s: Session, person: Person) -> bool:
    """Was `person` created for this very mail (and so has no registration yet)? Asked once:
    the registration made next is one."""
    new: set[Person] = s.info.get(NEW_PEOPLE, set())
    if person in new:
        new.discard(person)
        return True
    return False


def _uid(m: Mailer) -> str:
    return f"{secrets.token_hex(12)}@{m.own_domain}"
