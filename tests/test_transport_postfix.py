"""SmtpTransport against a real Postfix on loopback: the commands pipelined (Postfix offers
PIPELINING), its refusals read in step."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mailbot.outbox.transport.smtp import SmtpTransport
from mailbot.types import SendStatus
from tests.postfix_server import DOMAIN, Postfix, running_postfix
from tests.servers import free_port
from tests.test_transport_smtp import message, send, url


@pytest.fixture
def postfix() -> Iterator[Postfix]:
    # nothing listens on its LMTP port: what it takes stays in its queue, which is enough here
    with running_postfix(free_port()) as server:
        yield server


def test_postfix_takes_pipelined_messages_and_its_refusals_stay_in_step(
        postfix: Postfix) -> None:
    msgs = [message(1, to=f"eins@{DOMAIN}"), message(2, to="nobody@elsewhere.example"),
            message(3, to=f"drei@{DOMAIN}", ics=True)]
    with SmtpTransport(url(f"smtp+plain://{postfix.host}:{postfix.smtp_port}"), timeout=20,
                       local_hostname="mailbot.test", connections=1) as t:
        results = send(t, *msgs)
        assert t.pipelined == 3 and t.connections == 1
    assert results.statuses == [SendStatus.SENT, SendStatus.FAILED, SendStatus.SENT]
    assert "554" in results.calls[1][1].detail and "Relay access denied" in \
        results.calls[1][1].detail
    log = postfix.wait_for_log("0003.fachtag-2027.mailbot@mitgen.example")
    assert "0001.fachtag-2027.mailbot@mitgen.example" in log
    assert "0002.fachtag-2027" not in log
