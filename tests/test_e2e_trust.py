"""Forged and genuine cancellations through Dovecot and the SMTP sink (issue 10, Trust): a
forged From: changes nothing until the address itself answers "Ja"; our mail server's aligned
DKIM pass acts at once."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from mailbot.models import Person, Registration, RegState
from tests.e2e import authenticated_mail as mail
from tests.e2e import in_process, parsed, werkstatt_event
from tests.e2e import plain_text as text
from tests.servers import Dovecot, SmtpSink

EVENT = werkstatt_event(10)


def test_a_forged_cancellation_waits_for_ja_and_a_verified_one_acts_at_once(
        db_url: str, dovecot: Dovecot, smtp_sink: SmtpSink, tmp_path: Path) -> None:
    with in_process(db_url, dovecot, smtp_sink, EVENT, tmp_path) as run:
        w, deliver = run.worker, run.deliver

        def state(address: str) -> RegState | None:
            with w.db.session() as s:
                return s.scalar(select(Registration.state).join(Person)
                                .where(Person.email == address))

        maria, anna = "maria.muster@verein.example", "anna.albers@verein.example"
        body = "Guten Tag,\n\nhiermit melde ich mich zum Werkstattgespräch an.\n\nViele Grüße\n"
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
