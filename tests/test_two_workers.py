"""Two `mailbot run` workers on one mailbox and one database: nothing is done twice."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from tests.e2e import (
    DbView,
    append_many,
    prepared,
    registrations,
    running_worker,
    sink_count_by_recipient,
    sink_wait,
    wait_until,
)
from tests.servers import Dovecot, SmtpSink


def test_two_workers_on_one_mailbox_register_and_confirm_everyone_exactly_once(
        db_url: str, dovecot: Dovecot, smtp_sink: SmtpSink, tmp_path: Path) -> None:
    env = prepared(db_url, dovecot, smtp_sink, tmp_path, poll_seconds="1")
    mails = registrations(40, tag="two")
    append_many(dovecot, [m.data for m in mails])
    view = DbView.open(db_url)
    try:
        with running_worker(env, tmp_path) as a, running_worker(env, tmp_path) as b:
            sink_wait(smtp_sink, 40, timeout=60, worker=a)
            wait_until("an empty inbox", lambda: not dovecot.uids("INBOX"), timeout=30,
                       log=lambda: a.log + b.log)
            assert a.terminate() == 0 and b.terminate() == 0
        regs = view.registrations()
        assert Counter((e, slug) for e, slug, _ in regs) == Counter(
            (m.sender, m.slug) for m in mails)
        assert sink_count_by_recipient(smtp_sink) == {m.sender: 1 for m in mails}
        assert len(dovecot.uids("done")) == 40
        assert len(view.inbound()) == 40
    finally:
        view.close()
