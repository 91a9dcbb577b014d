"""Who a person is: one address key per mailbox, whatever the capitalisation or +tag."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from mailbot.models import Person


def email_key(address: str) -> str:
    """Lower-cased, without a +tag in the local part: Maria+events@X.de == maria@x.de."""
    local, _, domain = address.strip().lower().rpartition("@")
    return f"{local.split('+', 1)[0]}@{domain}" if local else address.strip().lower()


KNOWN_PEOPLE = "mailbot.known_people"  # Session.info: email key -> person (None: nobody)


def prime_people(session: Session, addresses: Iterable[str]) -> None:
    """Look up the people of many addresses in one query (a batch of mails), for
    `find_person` in this transaction; people created in it are added as they are made."""
    known: dict[str, Person | None] = session.info.setdefault(KNOWN_PEOPLE, {})
    keys = sorted({email_key(a) for a in addresses if "@" in a} - known.keys())
    known.update(dict.fromkeys(keys))
    for start in range(0, len(keys), 500):
        for person in session.scalars(select(Person).where(
                Person.email_key.in_(keys[start:start + 500]))):
            known[person.email_key] = person


def _still_known(session: Session, person: Person | None) -> bool:
    """Can a remembered lookup stand? Not for a person deleted since, nor one undone with a
    rolled-back savepoint (expunged) or changed in one (expired): those are asked again."""
    if person is None:
        return True
    state = inspect(person)
    return ((state.persistent or state.pending) and person in session
            and not state.expired_attributes and person not in session.deleted)


def find_person(session: Session, address: str) -> Person | None:
    key = email_key(address)
    known: dict[str, Person | None] | None = session.info.get(KNOWN_PEOPLE)
    if known is not None and key in known:
        person = known[key]
        if _still_known(session, person):
            return person
        del known[key]
    return session.scalars(select(Person).where(Person.email_key == key)).first()


NEW_PEOPLE = "mailbot.new_people"  # Session.info: the people created for the current mail


def get_or_create_person(session: Session, address: str, name: str = "",
                         organization: str | None = None, language: str = "de") -> Person:
    person = find_person(session, address)
    if person is None:
        person = Person(email_key=email_key(address), email=address.strip().lower(), name=name,
                        organization=organization, language=language)
        # written with the mail's next query (its id is not needed before: nobody asks for
        # registrations of a person just made)
        session.add(person)
        session.info.setdefault(NEW_PEOPLE, set()).add(person)  # no registration to look for
        known: dict[str, Person | None] | None = session.info.get(KNOWN_PEOPLE)
        if known is not None:
            known[person.email_key] = person
        return person
    if name and not person.name:
        person.name = name
    if organization and not person.organization:
        person.organization = organization
    return person
