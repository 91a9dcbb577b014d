"""Crash safety: `mailbot run` killed with SIGKILL at random moments, restarted, many times over;
in the end every mail is registered once, filed once and answered. Two short runs (both modes,
both databases) and one kill campaign: 50 kills while 2,000 mails come in."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from mailbot.config import Settings
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
# a fast machine takes in and answers the 200 before most random kills land: mails that
# arrive after a round that found all done (INBOX empty, every reply sent), CHUNK at a time
MORE, CHUNK = 300, 50
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
        more = registrations(MORE, tag="crash", start=MAILS)

        def arrive() -> None:
            if more:
                sent.extend(more[:CHUNK])
                append_many(dovecot, [m.data for m in more[:CHUNK]])
                del more[:CHUNK]

        view = DbView.open(db_url)
        try:
            kills = crash_repeatedly(env, view, dovecot, smtp_sink, tmp_path, mode, rng, arrive)
            check_everything_once(env, view, dovecot, smtp_sink, tmp_path, sent, kills)
        finally:
            view.close()


def test_a_campaign_of_50_kills_over_2000_mails_loses_nothing_and_does_nothing_twice(
        dovecot: Dovecot, smtp_sink: SmtpSink, tmp_path: Path) -> None:
    """50 SIGKILLs while 2,000 mails come in: a backlog of 600 first (three batches: reading
    the next batch in the worker processes while the replies of the one before go out), the
    rest while the worker is killed again and again. Each kill is timed by the worker's
    progress, so that every one lands while it works: at a random moment before the round's
    first commit (reading, applying; at the commit when that comes first), right after a
    commit (moving, fetching the next batch), or after k confirmations reached the sink."""
    rng = random.Random(f"{SEED}-campaign")
    print(f"\nkill campaign: seed {SEED} (set MAILBOT_TEST_SEED to repeat)")
    with database_url("sqlite", tmp_path) as db_url:
        env = prepared(db_url, dovecot, smtp_sink, tmp_path, poll_seconds="300")
        sent = registrations(CAMPAIGN_MAILS, tag="campaign")
        view = DbView.open(db_url)
        try:
            kills = kill_campaign(env, view, smtp_sink, dovecot, tmp_path, rng,
                                  [m.data for m in sent])
            assert kills == CAMPAIGN_KILLS
            check_everything_once(env, view, dovecot, smtp_sink, tmp_path, sent, kills)
        finally:
            view.close()


FIRST_BACKLOG = 600  # three batches of `mailbot run` (Worker.intake_pass: 200 a commit)
KINDS = ("before a commit", "after a commit", "while sending")


def kill_campaign(env: dict[str, str], view: DbView, sink: SmtpSink, dovecot: Dovecot,
                  cwd: Path, rng: random.Random, mails: list[bytes]) -> int:
    """Kill `run --once` until CAMPAIGN_KILLS kills landed (a worker that ended by itself is
    no kill); before each round some of `mails` arrive, on average what is left over the
    kills still to come, so that the worker has work in every round."""
    kills, rounds, appended, start = 0, 0, 0, time.monotonic()
    kinds = dict.fromkeys(KINDS, 0)
    while kills < CAMPAIGN_KILLS:
        rounds += 1
        assert rounds <= 2 * CAMPAIGN_KILLS, f"only {kills} kills landed in {rounds} rounds"
        left, still = len(mails) - appended, CAMPAIGN_KILLS - kills
        n = (FIRST_BACKLOG if not appended else left if still == 1
             else min(left, round(rng.uniform(0.0, 2.0) * left / still)))
        if appended + n == _recorded(view):  # nothing to do would be nothing to kill
            n = min(left, 1)
        append_many(dovecot, mails[appended:appended + n])
        appended += n
        worker, kind, what = _kill_round(env, view, sink, dovecot, cwd, rng, rng.choice(KINDS))
        worker.kill()
        code = worker.proc.returncode
        landed = code == -signal.SIGKILL
        kills += landed
        kinds[kind] += landed
        print(f"  round {rounds:2}: +{n} mail(s),"
              f" {'SIGKILL ' + what if landed else f'exited {code}'}:"
              f" {_recorded(view)}/{appended} recorded, {len(sink.messages)} at the sink,"
              f" {expire_leases(view)} lease(s) let run out")
    append_many(dovecot, mails[appended:])
    print(f"  {kills} kills in {rounds} rounds ({time.monotonic() - start:.0f} s): "
          + ", ".join(f"{n} {kind}" for kind, n in kinds.items()))
    return kills


def _kill_round(env: dict[str, str], view: DbView, sink: SmtpSink, dovecot: Dovecot,
                cwd: Path, rng: random.Random, kind: str) -> tuple[Worker, str, str]:
    """Start `run --once` and wait for the moment of `kind` to kill it (the caller kills)."""
    recorded, at_sink = _recorded(view), len(sink.messages)
    logins = dovecot.log.count("Login: user=")
    worker = Worker(env, cwd, "--once")
    wait_until("the worker to log in to IMAP", lambda: dovecot.log.count(
        "Login: user=") > logins or not worker.alive(), timeout=60, log=lambda: worker.log)

    def committed_or_gone() -> bool:
        return _recorded(view) > recorded or not worker.alive()

    if kind == "before a commit":  # reading and applying the first batch
        delay = rng.uniform(0.05, 1.2)
        if _poll(committed_or_gone, delay):
            return worker, "after a commit", f"at its first commit (before {delay:.2f} s)"
        return worker, kind, f"{delay:.2f} s after login"
    _poll(committed_or_gone, 120)
    first = _recorded(view) - recorded  # replies queued by the first commit
    if kind == "after a commit" or first < 2:  # moving the batch, fetching the next
        pause = rng.uniform(0.0, 0.3) if kind == "after a commit" else 0.0
        _poll(lambda: not worker.alive(), pause)
        return worker, "after a commit", f"{pause:.2f} s after a commit"
    # while sending: between two batches of a backlog, or at the end; one by one
    k = rng.randint(1, first - 1)
    _poll(lambda: len(sink.messages) >= at_sink + k or not worker.alive(), 120)
    return worker, kind, f"after {k} confirmation(s) at the sink"


def _poll(check: Callable[[], bool], seconds: float, interval: float = 0.02) -> bool:
    """Wait up to `seconds` for `check`; whether it came true."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(interval)
    return check()


def crash_repeatedly(env: dict[str, str], view: DbView, dovecot: Dovecot, sink: SmtpSink,
                     cwd: Path, mode: str, rng: random.Random, arrive: Callable[[], None]
                     ) -> int:
    """Start the worker and SIGKILL it at a random moment after its login, KILLS times."""
    kills = 0
    # All rounds run even when the work is done: a restart on a finished state must not do
    # anything again either.
    for round_ in range(KILLS):
        logins = dovecot.log.count("Login: user=")
        worker = Worker(env, cwd, *(("--once",) if mode == "--once" else ()))
        # Start-up (imports, migrations, rules) ends with the IMAP login; kill at a random
        # moment of the work after it.
        wait_until("the worker to log in to IMAP", lambda n=logins, w=worker: dovecot.log.count(
            "Login: user=") > n or not w.alive(), timeout=30, log=lambda w=worker: w.log)
        delay = rng.uniform(0.05, 1.5)
        try:
            code: int | str = worker.wait(timeout=delay)
        except subprocess.TimeoutExpired:  # still working: the moment to kill it
            worker.kill()
            kills += 1
            code = f"SIGKILL {delay:.2f} s after login"
        out = view.outbox()
        if not dovecot.uids("INBOX") and all(r.status == OutboxStatus.SENT for r in out):
            arrive()  # all done before the kill moment: work for the next round
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
    # accepted a mail and before its row was marked sent (the mails accepted together are
    # marked before the transport waits again): at most one per kill and SMTP connection.
    counts = sink_count_by_recipient(sink)
    assert set(counts) == {m.sender for m in sent}
    duplicates = sum(counts.values()) - len(sent)
    connections = int(env.get("MAILBOT_SMTP_CONNECTIONS", Settings.smtp_connections))
    print(f"  {duplicates} duplicate confirmation(s) in {kills} kills")
    assert 0 <= duplicates <= kills * connections
