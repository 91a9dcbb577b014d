"""Crash safety: `mailbot run` killed with SIGKILL at random moments, restarted, many times over;
in the end every mail is registered once, filed once and answered. Two short runs (both modes,
both databases) and one kill campaign: 50 kills over a backlog of 2,000 mails."""

from __future__ import annotations

import os
import random
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from mailbot.database import affected
from mailbot.models import InboundRecord, OutboxRow, OutboxStatus, utcnow
from mailbot.types import Outcome
from tests.e2e import (
    DbView,
    Sent,
    Worker,
    append_many,
    mailbot,
    prepared,
    registrations,
    sink_count_by_recipient,
    wait_until,
)
from tests.servers import Dovecot, SmtpSink, database_url

pytestmark = [pytest.mark.dovecot, pytest.mark.postgres, pytest.mark.slow]

SEED = int(os.environ.get("MAILBOT_TEST_SEED", "20270225"))
MAILS = 200
KILLS = 20
CAMPAIGN_MAILS = 2000
CAMPAIGN_KILLS = 50


def expire_leases(view: DbView) -> int:
    """A killed worker's claimed rows stay leased (jobs.LEASE, 5 min) so that no other worker
    sends them meanwhile; let that time pass for them (as if the restart came later)."""
    with view.db.session() as s:
        return affected(s, update(OutboxRow).where(
            OutboxRow.status == OutboxStatus.QUEUED, OutboxRow.lease_until.is_not(None))
            .values(lease_until=utcnow()))


# Both ways of running, on both databases, without running all four (each takes ~30 s).
@pytest.mark.parametrize(("mode", "backend"), [("--once", "sqlite"), ("idle", "postgresql")])
def test_killing_the_worker_at_random_moments_loses_nothing_and_does_nothing_twice(
        dovecot: Dovecot, smtp_sink: SmtpSink, tmp_path: Path, mode: str, backend: str) -> None:
    rng = random.Random(f"{SEED}-{mode}-{backend}")
    print(f"\ncrash test: seed {SEED} (set MAILBOT_TEST_SEED to repeat), mode {mode}, {backend}")
    with database_url(backend, tmp_path) as db_url:
        env = prepared(db_url, dovecot, smtp_sink, tmp_path, poll_seconds="300")
        sent = registrations(MAILS, tag="crash")
        append_many(dovecot, [m.data for m in sent])
        view = DbView.open(db_url)
        try:
            kills = crash_repeatedly(env, view, dovecot, smtp_sink, tmp_path, mode, rng)
            check_everything_once(env, view, dovecot, smtp_sink, tmp_path, sent, kills)
        finally:
            view.close()


def test_a_campaign_of_50_kills_over_2000_mails_loses_nothing_and_does_nothing_twice(
        dovecot: Dovecot, smtp_sink: SmtpSink, tmp_path: Path) -> None:
    """The backlog outlasts most rounds, so nearly every kill lands in the middle of a batch:
    reading in the worker processes, applying, moving or sending between two batches."""
    rng = random.Random(f"{SEED}-campaign")
    print(f"\nkill campaign: seed {SEED} (set MAILBOT_TEST_SEED to repeat)")
    with database_url("sqlite", tmp_path) as db_url:
        env = prepared(db_url, dovecot, smtp_sink, tmp_path, poll_seconds="300")
        sent = registrations(CAMPAIGN_MAILS, tag="campaign")
        append_many(dovecot, [m.data for m in sent])
        view = DbView.open(db_url)
        try:
            kills = crash_repeatedly(env, view, dovecot, smtp_sink, tmp_path, "--once", rng,
                                     rounds=CAMPAIGN_KILLS, verbose=False, long_backlog=True)
            check_everything_once(env, view, dovecot, smtp_sink, tmp_path, sent, kills)
        finally:
            view.close()


def crash_repeatedly(env: dict[str, str], view: DbView, dovecot: Dovecot, sink: SmtpSink,
                     cwd: Path, mode: str, rng: random.Random, rounds: int = KILLS,
                     verbose: bool = True, long_backlog: bool = False) -> int:
    """Start the worker and SIGKILL it at a random moment after its login, `rounds` times."""
    kills = 0
    # All rounds run even when the work is done: a restart on a finished state must not do
    # anything again either.
    for round_ in range(rounds):
        logins = dovecot.log.count("Login: user=")
        worker = Worker(env, cwd, *(("--once",) if mode == "--once" else ()))
        # Start-up (imports, migrations, rules) ends with the IMAP login; kill at a random
        # moment of the work after it.
        wait_until("the worker to log in to IMAP", lambda n=logins, w=worker: dovecot.log.count(
            "Login: user=") > n or not w.alive(), timeout=30, log=lambda w=worker: w.log)
        # a long backlog: up to twice the time from login to the first commit (~1.5 s), so
        # that about half the kills come before a round's first commit (its batch repeated)
        delay = rng.uniform(0.3, 3.0) if long_backlog else rng.uniform(0.05, 1.5)
        try:
            code: int | str = worker.wait(timeout=delay)
        except subprocess.TimeoutExpired:  # still working: the moment to kill it
            worker.kill()
            kills += 1
            code = f"SIGKILL {delay:.2f} s after login"
        if not verbose:
            print(f"  round {round_:2}: {code}: {_recorded(view)} recorded,"
                  f" {expire_leases(view)} lease(s) let run out")
            continue
        out = view.outbox()
        print(f"  round {round_:2}: {code}: {len(view.inbound())} recorded, "
              f"{sum(r.status == OutboxStatus.SENT for r in out)}/{len(out)} marked sent, "
              f"{len(sink.messages)} at the sink, {len(dovecot.uids('INBOX'))} in INBOX,"
              f" {expire_leases(view)} lease(s) let run out")
    print(f"  {kills} kills")
    assert kills >= 3, "the worker was hardly ever killed while it worked"
    return kills


def _recorded(view: DbView) -> int:
    with view.db.session() as s:
        return int(s.scalar(select(func.count()).select_from(InboundRecord)) or 0)


def check_everything_once(env: dict[str, str], view: DbView, dovecot: Dovecot, sink: SmtpSink,
                          cwd: Path, sent: list[Sent], kills: int) -> None:
    out = mailbot(env, "run", "--once", cwd=cwd, timeout=300)
    print(f"  final clean run: {out.stdout.strip()}")

    # Nothing twice in the database, nothing lost anywhere.
    assert sorted(view.registrations()) == sorted((m.sender, m.slug, "registered") for m in sent)
    records = view.inbound()
    assert len(records) == len(sent)
    assert {r.message_id for r in records} == {m.message_id for m in sent}
    assert {r.outcome for r in records} == {Outcome.DONE}
    rows = view.outbox()
    assert sorted(r.to_addr for r in rows) == sorted(m.sender for m in sent)
    assert {r.status for r in rows} == {OutboxStatus.SENT}
    assert dovecot.uids("INBOX") == []
    assert len(dovecot.uids(dovecot.folder_name(Outcome.DONE))) == len(sent)

    # Every sender got an answer. A duplicate is possible only for a kill after the SMTP server
    # accepted a mail and before its row was marked sent (rows are marked one by one, right
    # after each acceptance): at most one per kill.
    counts = sink_count_by_recipient(sink)
    assert set(counts) == {m.sender for m in sent}
    duplicates = sum(counts.values()) - len(sent)
    print(f"  {duplicates} duplicate confirmation(s) in {kills} kills")
    assert 0 <= duplicates <= kills
