"""Intake benchmark on real servers: Dovecot + SMTP sink + SQLite, `mailbot run` as a subprocess.

    .venv/bin/python bench/intake_bench.py [--mails 1000] [--latency 20] [--format mdbox]
                                           [--profile]

Prints the throughput of `mailbot run --once` over N registration mails (with and without the
process start-up), then the APPEND-to-sink latency of mails appended one at a time while
`mailbot run` idles. `--profile` also runs one pass in-process under cProfile.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.e2e import (  # noqa: E402
    append_many,
    mailbot,
    mailbot_env,
    registrations,
    running_worker,
    sink_count_by_recipient,
    write_events,
)
from tests.servers import Dovecot, SmtpSink, running_dovecot, running_smtp_sink  # noqa: E402


def throughput(env: dict[str, str], dovecot: Dovecot, sink: SmtpSink, work: Path,
               n: int) -> None:
    began = time.monotonic()
    mailbot(env, "run", "--once", cwd=work)  # empty inbox: start-up and connections only
    startup = time.monotonic() - began
    mails = registrations(n, tag="bench")
    began = time.monotonic()
    append_many(dovecot, [m.data for m in mails])
    append_s = time.monotonic() - began
    began = time.monotonic()
    out = mailbot(env, "run", "--once", cwd=work, timeout=3600)
    wall = time.monotonic() - began
    counts = sink_count_by_recipient(sink)
    ok = len(counts) == n and not dovecot.uids("INBOX")
    print(f"appended {n} mails in {append_s:.2f} s ({n / append_s:.0f}/s)")
    print(f"run --once: {out.stdout.strip()}")
    print(f"run --once: {n} mails in {wall:.2f} s = {n / wall:.1f} mails/s"
          f" (start-up {startup:.2f} s; without it {n / max(1e-9, wall - startup):.1f} mails/s)"
          f"{'' if ok else '  !! NOT ALL CONFIRMED/FILED'}")


def latency(env: dict[str, str], dovecot: Dovecot, sink: SmtpSink, work: Path, n: int) -> None:
    """APPEND-to-sink per mail: back to back (each the moment the previous answer is out), and
    with the worker idle for a second first (a mail arriving at a quiet mailbox: IDLE's case)."""
    env = {**env, "MAILBOT_POLL_SECONDS": "600"}
    mails = registrations(2 * n + 1, tag="latency")
    before = len(sink.messages)
    with running_worker(env, work) as worker, dovecot.client() as conn:
        conn.append("INBOX", None, None, mails[0].data)  # warm-up: start-up, login, first IDLE
        sink.wait_for(before + 1, timeout=60)
        results: dict[str, list[float]] = {"back to back": [], "after 1 s idle": []}
        for i, m in enumerate(mails[1:], start=2):
            kind = "back to back" if i <= n + 1 else "after 1 s idle"
            if kind != "back to back":
                time.sleep(1.0)  # the scenario itself: a quiet mailbox, the worker in IDLE
            began = time.monotonic()
            conn.append("INBOX", None, None, m.data)
            sink.wait_for(before + i, timeout=30)
            results[kind].append(time.monotonic() - began)
        code = worker.terminate()
    for kind, times in results.items():
        print(f"run (IDLE): APPEND-to-sink latency of {n} mails {kind}: median"
              f" {statistics.median(times):.3f} s, min {min(times):.3f} s, max {max(times):.3f} s")
    print(f"run: SIGTERM exit {code}")


def profile(env: dict[str, str], dovecot: Dovecot, work: Path, n: int,
            dump: str | None = None) -> None:
    """One intake + delivery pass in-process under cProfile: where the time goes."""
    from mailbot.commands.common import worker
    from mailbot.commands.run import close
    from mailbot.config import load_settings

    append_many(dovecot, [m.data for m in registrations(n, tag="profile")])
    os.chdir(work)
    w = worker(load_settings(None, env=env), mailbox=True, transport=True)
    _ = w.rules
    prof = cProfile.Profile()
    began = time.monotonic()
    prof.enable()
    handled = w.intake_pass()
    sent = w.delivery_pass()
    prof.disable()
    wall = time.monotonic() - began
    close(w)
    print(f"in-process pass: {handled} handled, {sent} sent in {wall:.2f} s"
          f" = {handled / wall:.1f} mails/s")
    buf = io.StringIO()
    stats = pstats.Stats(prof, stream=buf).strip_dirs()
    stats.sort_stats("cumulative").print_stats(40)
    stats.sort_stats("tottime").print_stats(25)
    print(buf.getvalue())
    if dump:
        prof.dump_stats(dump)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mails", type=int, default=1000)
    ap.add_argument("--latency", type=int, default=20, help="mails for the latency run")
    ap.add_argument("--format", default="mdbox", choices=["mdbox", "maildir"],
                    help="Dovecot mail_location (Maildir APPEND slows as a folder grows)")
    ap.add_argument("--postgres", metavar="URL", help="a PostgreSQL URL instead of SQLite")
    ap.add_argument("--profile", action="store_true", help="also profile one pass in-process")
    ap.add_argument("--profile-out", metavar="FILE", help="write the cProfile data here")
    ap.add_argument("--only-profile", action="store_true", help="skip the subprocess runs")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="mailbot-bench-") as tmp, \
            running_dovecot(mail_format=args.format) as dovecot, running_smtp_sink() as sink:
        work = Path(tmp)
        db_url = args.postgres or f"sqlite:///{work / 'bench.db'}"
        env = mailbot_env(db_url, dovecot, sink)
        mailbot(env, "events", "import", str(write_events(work)), cwd=work)
        print(f"Dovecot ({args.format}) on port {dovecot.port}, SMTP sink on {sink.port},"
              f" {db_url.split(':')[0]}")
        if not args.only_profile:
            throughput(env, dovecot, sink, work, args.mails)
            latency(env, dovecot, sink, work, args.latency)
        if args.profile or args.only_profile:
            profile(env, dovecot, work, args.mails, args.profile_out and str(
                Path(args.profile_out).resolve()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
