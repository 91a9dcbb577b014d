"""An event's whole life through Dovecot and the SMTP sink: seats, waiting list, venue,
reminders, purge (issue: the event lifecycle), with the clock moved by the test."""

from __future__ import annotations

import email
from datetime import UTC, datetime, timedelta
from email import policy
from email.message import EmailMessage
from pathlib import Path

from icalendar import Calendar
from sqlalchemy import func, select

from mailbot.config import load_settings
from mailbot.database import Database
from mailbot.mailbox.imap import ImapMailbox
from mailbot.models import InboundRecord, OutboxRow, Person, Registration
from mailbot.outbox.transport import open_transport
from mailbot.registrations.event_changes import import_events, set_venue
from mailbot.registrations.events_file import load_events
from mailbot.runners.worker import Worker
from tests.e2e import werkstatt_event
from tests.servers import Dovecot, SinkMessage, SmtpSink

EVENT = werkstatt_event(3, venue="")
PEOPLE = ["Anna Albers", "Berit Brandt", "Canan Celik", "Doris Dorn", "Emre Ekinci"]


def mail_from(name: str, subject: str, body: str, suffix: str, day: int) -> bytes:
    first, last = name.lower().split()
    msg = EmailMessage()
    msg["From"] = f"{name} <{first}.{last}@verein.example>"
    msg["To"] = "anmeldung@mitgen.example"
    msg["Subject"] = subject
    msg["Date"] = f"Mon, {day} Jan 2027 09:00:00 +0100"
    msg["Message-ID"] = f"<{first}{suffix}@verein.example>"
    # our mail server vouches for the sender: a cancellation is carried out at once
    msg["Authentication-Results"] = "mx.mitgen.example; dkim=pass header.d=verein.example"
    msg.set_content(f"Guten Tag,\n\n{body}\n\nViele Grüße\n{name}\n")
    return msg.as_bytes()


def registration(name: str) -> bytes:
    return mail_from(name, "Anmeldung Werkstattgespräch",
                     "hiermit melde ich mich zum Werkstattgespräch an.", "", 11)


def cancellation(name: str) -> bytes:
    return mail_from(name, "Absage Werkstattgespräch",
                     "leider muss ich meine Anmeldung zum Werkstattgespräch absagen.", "-cancel", 12)


def parsed(m: SinkMessage) -> email.message.EmailMessage:
    return email.message_from_bytes(m.data, policy=policy.default)  # type: ignore[return-value]


def sequences(msgs: list[SinkMessage]) -> list[int]:
    out = []
    for m in msgs:
        for part in parsed(m).walk():
            if part.get_content_type() == "text/calendar":
                cal = Calendar.from_ical(part.get_payload(decode=True))
                out += [int(ev["SEQUENCE"]) for ev in cal.walk("VEVENT")]
    return out


def test_three_seats_five_registrations_a_cancellation_venue_reminders_and_the_purge(
        db_url: str, dovecot: Dovecot, smtp_sink: SmtpSink, tmp_path: Path) -> None:
    now = [datetime(2027, 1, 11, 9, 0, tzinfo=UTC)]
    settings = load_settings(env={
        "MAILBOT_DATABASE_URL": db_url, "MAILBOT_FROM": "Anmeldung <anmeldung@mitgen.example>",
        "MAILBOT_TRUSTED_AUTHSERV": "mx.mitgen.example"})
    w = Worker(settings=settings, db=Database(db_url),
               mailbox=ImapMailbox(dovecot.url, dovecot.password),
               transport=open_transport(settings.__class__(smtp_url=smtp_sink.url).smtp()),
               clock=lambda: now[0])
    (tmp_path / "events.toml").write_text(EVENT, encoding="utf-8")
    with w.db.session() as s:
        import_events(s, w.mailer(s), load_events(tmp_path / "events.toml"))

    def deliver() -> list[SinkMessage]:
        before = len(smtp_sink.messages)
        w.intake_pass()
        w.housekeeping()
        w.delivery_pass()
        return list(smtp_sink.messages)[before:]

    try:
        for name in PEOPLE:
            dovecot.append(registration(name))
        answers = deliver()
        subjects = {parsed(m)["To"].addresses[0].display_name: str(parsed(m)["Subject"])
                    for m in answers}
        assert len(answers) == 5
        assert all("Anmeldebestätigung" in subjects[n] for n in PEOPLE[:3]), subjects
        assert all("Warteliste" in subjects[n] for n in PEOPLE[3:]), subjects

        now[0] += timedelta(days=1)
        dovecot.append(cancellation(PEOPLE[1]))
        answers = deliver()
        to = sorted(str(parsed(m)["To"].addresses[0].display_name) for m in answers)
        assert to == ["Berit Brandt", "Doris Dorn"]  # the cancellation, and the first waiting
        moved = [m for m in answers if "Doris" in str(parsed(m)["To"])][0]
        assert sequences([moved]) == [0]

        with w.db.session() as s:
            assert set_venue(s, w.mailer(s), "werkstatt", "Pavillon, Lister Meile 4") == 4
        answers = deliver()
        registered = [m for m in answers if sequences([m])]
        assert len(registered) == 3 and sequences(registered) == [1, 1, 1]
        assert len(answers) == 4  # and Emre, still waiting, is told in his own wording

        now[0] = datetime(2027, 2, 23, 14, 0, tzinfo=UTC)
        answers = deliver()
        assert len(answers) == 3 and all("Erinnerung" in str(parsed(m)["Subject"])
                                         for m in answers), [parsed(m)["Subject"] for m in answers]
        assert deliver() == []  # once per person, however often the job runs

        now[0] = datetime(2027, 3, 28, 12, 0, tzinfo=UTC)
        deliver()
        with w.db.session() as s:
            assert s.scalar(select(func.count()).select_from(Registration)) == 0
            assert s.scalar(select(func.count()).select_from(Person)) == 0
            assert all(not r.sender and not r.subject and r.raw is None
                       for r in s.scalars(select(InboundRecord)))
            rows = s.scalars(select(OutboxRow)).all()
            assert not [r for r in rows if "verein.example" in r.to_addr]
        assert len(dovecot.uids("done")) == 6
    finally:
        w.mailbox.close()  # type: ignore[union-attr]
        w.transport.close()
        w.db.dispose()
