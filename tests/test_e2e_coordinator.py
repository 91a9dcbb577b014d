"""A coordinator sets the venue by mail, through Dovecot and the SMTP sink (issue 10): the
registrants get their venue notices with an updated calendar entry, the coordinator an answer
with what was done; the same line from a participant changes nothing."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from mailbot.models import Event
from tests.e2e import authenticated_mail as mail
from tests.e2e import in_process, parsed, werkstatt_event
from tests.e2e import plain_text as text
from tests.servers import Dovecot, SmtpSink

EVENT = werkstatt_event(10)
KOORD = "koordination@mitgen.example"


def test_a_coordinator_sets_the_venue_by_mail_and_the_notices_go_out(
        db_url: str, dovecot: Dovecot, smtp_sink: SmtpSink, tmp_path: Path) -> None:
    with in_process(db_url, dovecot, smtp_sink, EVENT, tmp_path) as run:
        maria, anna = "maria.muster@verein.example", "anna.albers@verein.example"
        body = "Guten Tag,\n\nhiermit melde ich mich zum Werkstattgespräch an.\n\nViele Grüße\n"
        dovecot.append(mail(f"Maria Muster <{maria}>", "Anmeldung Werkstattgespräch",
                            body + "Maria Muster\n", "m1", vouched=True))
        dovecot.append(mail(f"Anna Albers <{anna}>", "Anmeldung Werkstattgespräch",
                            body + "Anna Albers\n", "a1", vouched=True))
        assert len(run.deliver()) == 2

        # a participant writing the same line is no coordinator: nothing changes
        dovecot.append(mail(f"Maria Muster <{maria}>", "Werkstattgespräch",
                            "Ort: Bei mir zu Hause\n", "m2", vouched=True))
        sent = run.deliver()
        assert all(m.rcpt_tos == (maria,) for m in sent)
        with run.worker.db.session() as s:
            assert s.scalars(select(Event.venue)).one() == ""

        dovecot.append(mail(f"Koordination <{KOORD}>", "Werkstattgespräch",
                            "Ort: Rathaus Hannover, Raum 101\n\nViele Grüße\nKoordination\n",
                            "k1", vouched=True))
        sent = run.deliver()
        by_rcpt = {m.rcpt_tos: m for m in sent}
        assert set(by_rcpt) == {(maria,), (anna,), (KOORD,)}
        for who in (maria, anna):
            notice = by_rcpt[(who,)]
            assert "Rathaus Hannover, Raum 101" in text(notice)
            ics = [p for p in parsed(notice).walk() if p.get_content_type() == "text/calendar"]
            assert ics and "Rathaus Hannover" in ics[0].get_content()
        answer = text(by_rcpt[(KOORD,)])
        assert "Rathaus Hannover, Raum 101" in answer and "2 Benachrichtigungen" in answer
        with run.worker.db.session() as s:
            assert s.scalars(select(Event.venue)).one() == "Rathaus Hannover, Raum 101"
