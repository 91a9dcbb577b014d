"""Forged and genuine cancellations through Dovecot and the SMTP sink (issue 10, Trust): a
forged From: changes nothing until the address itself answers "Ja"; our mail server's aligned
DKIM pass acts at once."""

from __future__ import annotations

import email
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from pathlib import Path

from sqlalchemy import select

from mailbot.config import load_settings
from mailbot.database import Database
from mailbot.mailbox.imap import ImapMailbox
from mailbot.models import Person, Registration, RegState
from mailbot.outbox.transport import open_transport
from mailbot.registrations.event_changes import import_events
from mailbot.registrations.events_file import load_events
from mailbot.runners.worker import Worker
from tests.servers import Dovecot, SinkMessage, SmtpSink

EVENT = """
[[event]]
slug = "werkstatt"
title = "Werkstattgespräch Vernetzt"
starts = 2027-02-25T14:00:00+01:00
ends = 2027-02-25T17:00:00+01:00
city = "Hannover"
capacity = 10
aliases = ["Werkstattgespräch", "Werkstatt"]
coordinators = ["koordination@mitgen.example"]
"""
OURS = "mx.mitgen.example"


def mail(sender: str, subject: str, body: str, mid: str, *, vouched: bool,
         reply_to: str = "", in_reply_to: str = "") -> bytes:
    msg = EmailMessage()
    if vouched:  # what our mail server writes on top of a mail it verified
        msg["Authentication-Results"] = (f"{OURS}; dkim=pass header.d=verein.example;"
                                         " dmarc=pass header.from=verein.example")
    else:  # a forger can write anything, but only under someone else's authserv-id
        msg["Authentication-Results"] = "mx.evil.example; dkim=pass header.d=verein.example"
    msg["From"] = sender
    msg["To"] = "anmeldung@mitgen.example"
    msg["Subject"] = subject
    msg["Date"] = "Mon, 11 Jan 2027 09:00:00 +0100"
    msg["Message-ID"] = f"<{mid}@verein.example>"
    if reply_to:
        msg["Reply-To"] = reply_to
    if in_reply_to:
        msg["In-Reply-To"] = f"<{in_reply_to}>"
        msg["References"] = f"<{in_reply_to}>"
    msg.set_content(body)
    return msg.as_bytes()


def parsed(m: SinkMessage) -> email.message.EmailMessage:
    return email.message_from_bytes(m.data, policy=policy.default)  # type: ignore[return-value]


def text(m: SinkMessage) -> str:
    return " ".join(parsed(m).get_body(("plain",)).get_content().split())  # type: ignore[union-attr]


def test_a_forged_cancellation_waits_for_ja_and_a_verified_one_acts_at_once(
        db_url: str, dovecot: Dovecot, smtp_sink: SmtpSink, tmp_path: Path) -> None:
    settings = load_settings(env={
        "MAILBOT_DATABASE_URL": db_url, "MAILBOT_FROM": "Anmeldung <anmeldung@mitgen.example>",
        "MAILBOT_TRUSTED_AUTHSERV": OURS})
    w = Worker(settings=settings, db=Database(db_url),
               mailbox=ImapMailbox(dovecot.url, dovecot.password),
               transport=open_transport(settings.__class__(smtp_url=smtp_sink.url).smtp()),
               clock=lambda: datetime(2027, 1, 11, 9, 0, tzinfo=UTC))
    (tmp_path / "events.toml").write_text(EVENT, encoding="utf-8")
    with w.db.session() as s:
        import_events(s, w.mailer(s), load_events(tmp_path / "events.toml"))

    def deliver() -> list[SinkMessage]:
        before = len(smtp_sink.messages)
        w.intake_pass()
        w.delivery_pass()
        return list(smtp_sink.messages)[before:]

    def state(address: str) -> RegState | None:
        with w.db.session() as s:
            return s.scalar(select(Registration.state).join(Person)
                            .where(Person.email == address))

    maria, anna = "maria.muster@verein.example", "anna.albers@verein.example"
    body = "Guten Tag,\n\nhiermit melde ich mich zum Werkstattgespräch an.\n\nViele Grüße\n"
    try:
        dovecot.append(mail(f"Maria Muster <{maria}>", "Anmeldung Werkstattgespräch",
                            body + "Maria Muster\n", "m1", vouched=False))
        dovecot.append(mail(f"Anna Albers <{anna}>", "Anmeldung Werkstattgespräch",
                            body + "Anna Albers\n", "a1", vouched=True))
        assert len(deliver()) == 2  # registrations stay immediate, verified or not
        assert state(maria) == state(anna) == RegState.REGISTERED

        cancel = "Guten Tag,\n\nleider muss ich meine Anmeldung zum Werkstattgespräch absagen."
        dovecot.append(mail(f"Maria Muster <{maria}>", "Absage Werkstattgespräch",
                            cancel + "\n\nMaria Muster\n", "m2", vouched=False,
                            reply_to="mallory@evil.example"))
        [ask] = deliver()
        assert ask.rcpt_tos == (maria,)  # the address itself, not the forger's Reply-To
        assert "mit „Ja“ auf diese Mail, um die Abmeldung vom „Werkstattgespräch Vernetzt“ zu" \
            in text(ask)
        assert state(maria) == RegState.REGISTERED
        token = str(parsed(ask)["Message-ID"]).strip("<>")

        dovecot.append(mail(f"Mallory <{maria}>", "Re: Bitte bestätigen", "Ja\n", "x1",
                            vouched=False, in_reply_to="guessed.werkstatt.mailbot@mitgen.example"))
        deliver()
        assert state(maria) == RegState.REGISTERED  # a "Ja" without our token confirms nothing

        dovecot.append(mail(f"Maria Muster <{maria}>", "Re: Bitte bestätigen",
                            "Ja\n\n> Antworten Sie bitte mit „Ja“ auf diese Mail\n", "m3",
                            vouched=False, in_reply_to=token))
        [done] = deliver()
        assert done.rcpt_tos == (maria,) and "Anmeldung storniert" in text(done)
        assert state(maria) == RegState.CANCELLED

        dovecot.append(mail(f"Anna Albers <{anna}>", "Absage Werkstattgespräch",
                            cancel + "\n\nAnna Albers\n", "a2", vouched=True))
        [done] = deliver()
        assert done.rcpt_tos == (anna,) and "Anmeldung storniert" in text(done)
        assert state(anna) == RegState.CANCELLED
    finally:
        w.mailbox.close()  # type: ignore[union-attr]
        w.transport.close()
        w.db.dispose()
