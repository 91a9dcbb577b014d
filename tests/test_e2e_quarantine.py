"""End to end, in-process: a mail that makes the parser or the rules fail is quarantined with its
error, and the mails after it are still answered."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import mailbot.classify
import mailbot.parse
from mailbot.commands.common import worker
from mailbot.config import load_settings
from mailbot.registrations.event_changes import import_events
from mailbot.registrations.events_file import load_events
from mailbot.runners.worker import Worker
from mailbot.types import Outcome
from tests.e2e import DbView, mailbot_env, registration, sink_count_by_recipient, write_events
from tests.servers import Dovecot, SmtpSink

pytestmark = pytest.mark.dovecot

MARKER = b"X-Test-Breaks-Mailbot: yes"


class Boom(RuntimeError):
    """What the sabotaged stage raises: a name the quarantine reason must carry."""


@pytest.fixture
def live_worker(db_url: str, dovecot: Dovecot, smtp_sink: SmtpSink, tmp_path: Path,
                monkeypatch: pytest.MonkeyPatch) -> Iterator[Worker]:
    monkeypatch.chdir(tmp_path)  # no stray mailbot.toml
    settings = load_settings(None, env=mailbot_env(db_url, dovecot, smtp_sink))
    w = worker(settings, mailbox=True, transport=True)
    with w.db.session() as s:
        import_events(s, w.mailer(s), load_events(write_events(tmp_path)))
    yield w
    from mailbot.commands.run import close

    close(w)


def marked(n: int) -> tuple[str, bytes]:
    m = registration(n, tag="bad")
    head, _, body = m.data.partition(b"\n\n")
    return m.message_id, head + b"\n" + MARKER + b"\n\n" + body


@pytest.mark.parametrize("stage", ["parse", "classify"])
def test_a_mail_that_breaks_a_stage_is_quarantined_with_its_error_and_the_rest_go_on(
        live_worker: Worker, db_url: str, dovecot: Dovecot, smtp_sink: SmtpSink,
        monkeypatch: pytest.MonkeyPatch, stage: str) -> None:
    real_parse, real_classify = mailbot.parse.parse, mailbot.classify.classify
    calls = {"parse": 0, "classify": 0}

    def parse(data: bytes, *a: Any, **kw: Any) -> Any:
        calls["parse"] += 1
        if stage == "parse" and MARKER in data:
            raise Boom("parser sabotaged by the test")
        return real_parse(data, *a, **kw)

    def classify(mail: Any, *a: Any, **kw: Any) -> Any:
        calls["classify"] += 1
        if stage == "classify" and "reg-bad-" in mail.message_id:
            raise Boom("rules sabotaged by the test")
        return real_classify(mail, *a, **kw)

    monkeypatch.setattr(mailbot.parse, "parse", parse)
    monkeypatch.setattr(mailbot.classify, "classify", classify)
    good = [registration(n, tag=stage) for n in (1, 2, 3)]
    bad_id, bad = marked(9)
    for data in (good[0].data, bad, good[1].data, good[2].data):
        dovecot.append(data)

    assert live_worker.intake_pass() == 4
    live_worker.delivery_pass()

    assert calls[stage] == 4, "the sabotaged stage really ran for every mail"
    assert sink_count_by_recipient(smtp_sink) == {m.sender: 1 for m in good}
    view = DbView.open(db_url)
    try:
        records = view.inbound()
        outcomes = [r.outcome for r in records]
        assert outcomes == [Outcome.DONE, Outcome.QUARANTINE, Outcome.DONE, Outcome.DONE]
        q = records[1]
        assert "Boom" in q.reason and "sabotaged" in q.reason
        assert q.raw == dovecot.messages(dovecot.folder_name(Outcome.QUARANTINE))[0]
        assert sorted(r[0] for r in view.registrations()) == sorted(m.sender for m in good)
    finally:
        view.close()
    assert dovecot.uids("INBOX") == []
    assert len(dovecot.uids(dovecot.folder_name(Outcome.DONE))) == 3
    quarantined = dovecot.messages(dovecot.folder_name(Outcome.QUARANTINE))
    assert len(quarantined) == 1 and bad_id.encode() in quarantined[0]
