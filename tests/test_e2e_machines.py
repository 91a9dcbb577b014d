"""End to end: auto-replies and bounces in the mailbox get no answer and are filed in done."""

from __future__ import annotations

from pathlib import Path

import pytest

from mailbot.types import Outcome
from tests.e2e import DbView, mailbot, prepared, registration
from tests.servers import Dovecot, SmtpSink

pytestmark = pytest.mark.dovecot

AUTO_SUBMITTED = b"""\
From: Petra Lange <p.lange@landkreis.example>
To: anmeldung@mitgen.example
Subject: Automatische Antwort: Anmeldung Werkstattgespr\xc3\xa4ch
Message-ID: <auto-1@landkreis.example>
Date: Fri, 20 Nov 2026 09:00:00 +0100
Auto-Submitted: auto-replied
X-Auto-Response-Suppress: All
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

Vielen Dank f\xc3\xbcr Ihre Nachricht. Ich bin bis zum 12. Januar nicht im B\xc3\xbcro.
In dringenden F\xc3\xa4llen wenden Sie sich bitte an das Sekretariat.
"""

# An out-of-office notice as some servers send it: no Auto-Submitted, no Precedence, nothing but
# the words (and it even mentions the event and "Anmeldung").
ABWESENHEIT = b"""\
From: Klaus Dietrich <k.dietrich@stadt-goslar.example>
To: anmeldung@mitgen.example
Subject: Abwesenheitsnotiz: Anmeldung Werkstattgespr\xc3\xa4ch
Message-ID: <ooo-2@stadt-goslar.example>
Date: Fri, 20 Nov 2026 09:01:00 +0100
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

Abwesenheitsnotiz

Ich bin vom 4. bis 15. Januar 2027 nicht im Dienst und habe keinen Zugriff auf meine E-Mails.
Ihre Nachricht zum Werkstattgespr\xc3\xa4ch wird nicht weitergeleitet. In dringenden F\xc3\xa4llen
wenden Sie sich bitte an meine Vertretung, Frau Sommer (sommer@stadt-goslar.example).

Mit freundlichen Gr\xc3\xbc\xc3\x9fen
Klaus Dietrich
"""

BOUNCE = b"""\
From: MAILER-DAEMON@mail.verein.example (Mail Delivery System)
To: anmeldung@mitgen.example
Subject: Undelivered Mail Returned to Sender
Message-ID: <bounce-3@mail.verein.example>
Date: Fri, 20 Nov 2026 09:02:00 +0100
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="b1"

--b1
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mail.verein.example.
I am sorry to have to inform you that your message could not be delivered.

<old.address@verein.example>: host mail.verein.example said: 550 5.1.1 User unknown

--b1
Content-Type: message/delivery-status

Reporting-MTA: dns; mail.verein.example

Final-Recipient: rfc822; old.address@verein.example
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 User unknown

--b1
Content-Type: message/rfc822

From: MitGeN Anmeldung <anmeldung@mitgen.example>
To: old.address@verein.example
Subject: =?utf-8?q?Anmeldebest=C3=A4tigung?=
Message-ID: <confirm-77@mitgen.example>
Auto-Submitted: auto-replied

Vielen Dank, Sie sind angemeldet.

--b1--
"""


def test_auto_replies_and_bounces_get_no_answer_and_end_in_done(
        db_url: str, dovecot: Dovecot, smtp_sink: SmtpSink, tmp_path: Path) -> None:
    env = prepared(db_url, dovecot, smtp_sink, tmp_path)
    person = registration(7, tag="control")  # a real person among the machines: answered
    for data in (AUTO_SUBMITTED, ABWESENHEIT, person.data, BOUNCE):
        dovecot.append(data.replace(b"\n", b"\r\n"))

    out = mailbot(env, "run", "--once", cwd=tmp_path)

    assert "handled 4 mail(s)" in out.stdout
    assert [m.rcpt_tos for m in smtp_sink.attempts] == [(person.sender,)]
    assert dovecot.uids("INBOX") == []
    assert len(dovecot.uids(dovecot.folder_name(Outcome.DONE))) == 4
    view = DbView.open(db_url)
    try:
        by_id = {r.message_id: r for r in view.inbound()}
        assert by_id["auto-1@landkreis.example"].intent == "auto_reply"
        assert by_id["ooo-2@stadt-goslar.example"].intent == "auto_reply"
        assert by_id["bounce-3@mail.verein.example"].intent == "bounce"
        assert {r.outcome for r in by_id.values()} == {Outcome.DONE}
        assert view.registrations() == [(person.sender, person.slug, "registered")]
        assert [r.to_addr for r in view.outbox()] == [person.sender]
    finally:
        view.close()
