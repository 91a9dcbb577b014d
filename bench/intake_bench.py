"""Intake benchmark on real servers: Dovecot + SMTP sink + SQLite, `mailbot run` as a subprocess.

    .venv/bin/python bench/intake_bench.py [--sizes 200,1000,10000] [--burst 2000]
                                           [--latency 20] [--format mdbox] [--profile]
                                           [--postgres postgresql+psycopg://…/test]

For a quick run (CI): --sizes 200 --raw 200 --burst 200 --latency 0.

Prints, in one run (the learned model trained or loaded first, untimed): the raw I/O limit of
these servers (FETCH all BODY.PEEK[] 500 per command, one MOVE of all, then every mail sent
over one SMTP connection; measured first, and once more after the runs: the machine's speed
moves), the burst throughput of `mailbot run --once` to the last
confirmation at the sink for each size (with the share of the raw limit and the peak RSS of
the process; `run --once` reports the largest of its processes, as wait4 does), `mailbot
run` (IDLE) taking a burst that lands at once and one APPENDed mail by
mail, then the APPEND-to-sink latency of mails appended one at a time while `mailbot run`
idles. `--profile` also runs one pass in-process (cProfile).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import smtplib
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.e2e import (  # noqa: E402
    append_many,
    events_toml,
    mailbot,
    mailbot_env,
    registrations,
    running_worker,
    sink_count_by_recipient,
)
from tests.servers import Dovecot, SmtpSink, running_dovecot, running_smtp_sink  # noqa: E402

Row = tuple[str, int, float, int | None, bool]  # what, mails, seconds, peak RSS KiB, all ok


def raw_limit(dovecot: Dovecot, sink: SmtpSink, n: int, tag: str = "raw") -> Row:
    """What the servers allow: FETCH every BODY.PEEK[] (500 per command), one UID MOVE of all,
    then send each mail (its own bytes, to its own sender) over one SMTP connection."""
    from imapclient import IMAPClient

    mails = registrations(n, tag=f"{tag}{n}")
    append_many(dovecot, [m.data for m in mails])
    sink.clear()
    began = time.monotonic()
    client = IMAPClient("127.0.0.1", port=dovecot.port, ssl=False, timeout=60)
    client.login(dovecot.user, dovecot.password)
    client.select_folder("INBOX")
    uids = sorted(client.search(["NOT", "DELETED"]))
    bodies: list[bytes] = []
    for start in range(0, len(uids), 500):
        got = client.fetch(uids[start:start + 500], ["BODY.PEEK[]"])
        bodies.extend(bytes(got[u][b"BODY[]"]) for u in uids[start:start + 500])
    if "rawlimit" not in {name for _f, _d, name in client.list_folders()}:
        client.create_folder("rawlimit")
    client.move(uids, "rawlimit")
    client.logout()
    with smtplib.SMTP("127.0.0.1", sink.port, timeout=60) as smtp:
        for m, data in zip(mails, bodies, strict=True):
            smtp.sendmail("anmeldung@mitgen.example", [m.sender], data)
    wall = time.monotonic() - began
    ok = len(sink.messages) == n and len(bodies) == n
    sink.clear()
    return ("raw I/O limit", n, wall, None, ok)


def run_once(env: dict[str, str], work: Path, timeout: float = 3600
             ) -> tuple[float, int, str, str]:
    """`mailbot run --once` as a subprocess: (seconds, peak RSS KiB, stdout, stderr)."""
    began = time.monotonic()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen([sys.executable, "-m", "mailbot", "run", "--once"], env=env,
                                cwd=work, stdout=out, stderr=err)
        _pid, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.monotonic() - began
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    if proc.returncode != 0:
        raise RuntimeError(f"mailbot run --once exited {proc.returncode}:\n{stderr[-4000:]}")
    return wall, usage.ru_maxrss, stdout, stderr


def throughput(env: dict[str, str], dovecot: Dovecot, sink: SmtpSink, work: Path,
               n: int, run: int = 0) -> Row:
    """`mailbot run --once` over n registration mails, to the last confirmation at the sink."""
    mails = registrations(n, tag=f"bench{run}x{n}")  # new senders and Message-IDs each run
    append_many(dovecot, [m.data for m in mails])
    sink.clear()
    wall, rss, out, _err = run_once(env, work)
    counts = sink_count_by_recipient(sink)
    ok = (set(counts) == {m.sender for m in mails} and sum(counts.values()) == n
          and not dovecot.uids("INBOX"))
    print(f"run --once on {n}: {out.strip()} in {wall:.2f} s = {n / wall:.1f} mails/s,"
          f" peak RSS {rss / 1024:.0f} MiB{'' if ok else '  !! NOT ALL CONFIRMED/FILED'}")
    sink.clear()
    return (f"run --once {n}", n, wall, rss, ok)


def learned_model(env: dict[str, str], work: Path) -> None:
    """The learned model trained and cached before anything is timed (`mailbot parse` of one
    mail): the first process after an install trains it once, which is no intake cost."""
    sample = work / "sample.eml"
    sample.write_bytes(registrations(1, tag="model")[0].data)
    began = time.monotonic()
    subprocess.run([sys.executable, "-m", "mailbot", "parse", str(sample)], env=env, cwd=work,
                   check=True, capture_output=True)
    print(f"learned model ready (trained or loaded from the cache) in"
          f" {time.monotonic() - began:.1f} s, before the runs")


def table(rows: list[Row], startup: float, startup_rss: int) -> None:
    raw = next((r for r in rows if r[0] == "raw I/O limit"), None)
    raw_rate = raw[1] / raw[2] if raw else None
    print(f"\n{'':28} {'mails':>6} {'seconds':>8} {'mails/s':>8} {'% of raw':>8}"
          f" {'peak RSS':>9}  ok")
    print(f"{'run --once, empty':28} {0:>6} {startup:>8.2f} {'':>8} {'':>8}"
          f" {startup_rss / 1024:>6.0f} MiB")
    for what, n, wall, rss, ok in rows:
        rate = n / wall
        share = f"{100 * rate / raw_rate:7.0f}%" if raw_rate else ""
        mem = f"{rss / 1024:>6.0f} MiB" if rss else ""
        print(f"{what:28} {n:>6} {wall:>8.2f} {rate:>8.1f} {share:>8} {mem:>9}  "
              f"{'yes' if ok else 'NO'}")


def again(rows: list[Row], after: Row) -> None:
    """The raw limit measured once more after the runs: this machine's speed moves by tens of
    per cent within minutes, and the share of the limit with it; both shares are printed."""
    before = rows[0][1] / rows[0][2]
    rate = after[1] / after[2]
    print(f"raw I/O limit again after the runs: {rate:.1f} mails/s ({100 * rate / before:.0f} %"
          f" of the first){'' if after[4] else '  !! NOT ALL SENT'}")
    for what, n, wall, _rss, _ok in rows[1:]:
        if what.startswith("run, burst"):
            print(f"  {what}: {100 * n / wall / before:.0f} % of the limit before,"
                  f" {100 * n / wall / rate:.0f} % of the limit after")


def _peak_rss_kib(pid: int) -> int:
    """VmHWM of a running process (Linux), in KiB; 0 when it cannot be read."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _children(pid: int) -> list[int]:
    """The processes `pid` started (Linux), the worker's readers and its delivery process."""
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def append_many_to(dovecot: Dovecot, folder: str, mails: list[bytes]) -> None:
    with dovecot.client() as conn:
        conn.create(folder)  # NO when it exists: fine
    append_many(dovecot, mails, folder)


def land_at_once(dovecot: Dovecot, folder: str) -> None:
    """Every mail of `folder` into INBOX in one command (one transaction for Dovecot: the
    worker's IDLE sees them all at once, as after a mail host's queue flush)."""
    with dovecot.client() as conn:
        typ, _ = conn.select(folder)
        if typ != "OK":
            raise RuntimeError(f"SELECT {folder} failed")
        typ, resp = conn.uid("MOVE", "1:*", "INBOX")
        if typ != "OK":
            raise RuntimeError(f"MOVE failed: {resp!r}")


def burst(env: dict[str, str], dovecot: Dovecot, sink: SmtpSink, work: Path, n: int,
          at_once: bool) -> Row:
    """`mailbot run` (IDLE) idling, then a burst of n mails: landing in INBOX at once (put in
    another folder beforehand, moved into INBOX in one command when the clock starts), or
    APPENDed one by one from the clock's start, so that the worker takes them in while they
    arrive and the appending shares the machine. From the first mail in INBOX to the last
    confirmation at the sink, and the worker's peak RSS."""
    env = {**env, "MAILBOT_POLL_SECONDS": "600"}
    how = "at once" if at_once else "appended"
    mails = registrations(n + 1, tag=f"burst{n}{'once' if at_once else 'one-by-one'}")
    sink.clear()
    if at_once:
        append_many_to(dovecot, "Staging", [m.data for m in mails[1:]])
    with running_worker(env, work) as worker:
        append_many(dovecot, [mails[0].data])  # warm-up: start-up, login, first IDLE
        sink.wait_for(1, timeout=120)
        began = time.monotonic()
        if at_once:
            land_at_once(dovecot, "Staging")
        else:
            append_many(dovecot, [m.data for m in mails[1:]])
        appended = time.monotonic() - began
        sink.wait_for(n + 1, timeout=3600)
        wall = time.monotonic() - began
        rss = _peak_rss_kib(worker.proc.pid)
        readers = [_peak_rss_kib(pid) for pid in _children(worker.proc.pid)]
        worker.terminate()
    counts = sink_count_by_recipient(sink)
    ok = sum(counts.values()) == n + 1 and not dovecot.uids("INBOX")
    print(f"run (IDLE) burst of {n}, {how}: confirmed in {wall:.2f} s = {n / wall:.1f} mails/s,"
          f" peak RSS {rss / 1024:.0f} MiB (its reader and delivery processes: "
          f"{', '.join(f'{r / 1024:.0f}' for r in readers) or 'none'} MiB)"
          f"{'' if ok else '  !! NOT ALL CONFIRMED/FILED'}")
    if not at_once:  # the clock starts at the first APPEND: the appending alone bounds it
        print(f"  (the {n} APPENDs themselves took {appended:.2f} s, while mailbot worked: on"
              f" their own they would bound the burst at {n / appended:.0f} mails/s)")
    sink.clear()
    return (f"run, burst {n} {how}", n, wall, rss or None, ok)


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
    ap.add_argument("--sizes", default="200,1000,10000",
                    help="comma-separated backlog sizes for `run --once` (e.g. 200,1000,10000)")
    ap.add_argument("--mails", type=int, default=None, help="one size only (old option)")
    ap.add_argument("--raw", type=int, default=1000, help="mails for the raw I/O limit")
    ap.add_argument("--burst", type=int, default=2000,
                    help="mails appended at once while `mailbot run` idles (0: none)")
    ap.add_argument("--latency", type=int, default=20, help="mails for the latency run (0: none)")
    ap.add_argument("--format", default="mdbox", choices=["mdbox", "maildir"],
                    help="Dovecot mail_location (Maildir APPEND slows as a folder grows)")
    ap.add_argument("--postgres", metavar="URL", help="a PostgreSQL URL instead of SQLite")
    ap.add_argument("--profile", action="store_true", help="also profile one pass in-process")
    ap.add_argument("--profile-out", metavar="FILE", help="write the cProfile data here")
    ap.add_argument("--only-profile", action="store_true", help="skip the subprocess runs")
    args = ap.parse_args()
    sizes = [args.mails] if args.mails else [int(x) for x in args.sizes.split(",") if x]
    with tempfile.TemporaryDirectory(prefix="mailbot-bench-") as tmp, \
            running_dovecot(mail_format=args.format) as dovecot, running_smtp_sink() as sink:
        work = Path(tmp)
        db_url = args.postgres or f"sqlite:///{work / 'bench.db'}"
        env = mailbot_env(db_url, dovecot, sink)
        events = work / "events.toml"
        events.write_text(events_toml(capacity=10 * max(sizes + [1000, args.burst])),
                          encoding="utf-8")
        mailbot(env, "events", "import", str(events), cwd=work)
        print(f"Dovecot ({args.format}) on port {dovecot.port}, SMTP sink on {sink.port},"
              f" {db_url.split(':')[0]}, {os.cpu_count()} cores")
        if not args.only_profile:
            learned_model(env, work)
            startup, startup_rss, _out, _err = run_once(env, work)  # start-up, connections
            rows = [raw_limit(dovecot, sink, args.raw)]
            rows += [throughput(env, dovecot, sink, work, n, i) for i, n in enumerate(sizes)]
            if args.burst:
                rows += [burst(env, dovecot, sink, work, args.burst, at_once)
                         for at_once in (True, False)]
            table(rows, startup, startup_rss)
            again(rows, raw_limit(dovecot, sink, args.raw, tag="rawagain"))
            if args.latency:
                latency(env, dovecot, sink, work, args.latency)
        if args.profile or args.only_profile:
            profile(env, dovecot, work, sizes[-1], args.profile_out and str(
                Path(args.profile_out).resolve()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
