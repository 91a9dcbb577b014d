"""Who a person is: one address key per mailbox, whatever the capitalisation or +tag."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from mailbot.models import Person


def email_key(address: str) -> str:
    """Lower-cased, without a +tag in the local part: Maria+events@X.de == maria@x.de."""
    local, _, domain = address.strip().lower().rpartition("@")
    return f"{local.split('+', 1)[0]}@{domain}" if local else address.strip().lower()


def find_person(session: Session, address: str) -> Person | None:
    return session.scalars(select(Person).where(Person.email_key == email_key(address))).first()


NEW_PEOPLE = "mailbot.new_people"  # Session.info: the people created for the current mail


def get_or_create_person(session: Session, address: str, name: str = "",
                         organization: str | None = None, language: str = "de") -> Person:
    person = find_person(session, address)
    if person is None:
        person = Person(email_key=email_key(address), email=address.strip().lower(), name=name,
                        organization=organization, language=language)
        session.add(person)
        session.flush()
        session.info.setdefault(NEW_PEOPLE, set()).add(person)  # no registration to look for
        return person
    if name and not person.name:
        person.name = name
    if organization and not person.organization:
        person.organization = organization
    return person
