"""LMTP intake figures: submit-to-250 and submit-to-sink latency (median of 20, one at a time)
and throughput (mails/s through LMTP, and until every confirmation is at the SMTP sink).

    .venv/bin/python bench/lmtp_bench.py [--mails 600] [--connections 20] [--database URL]

`mailbot run` with only the LMTP intake runs as a subprocess (as deployed: its own process);
SQLite in a temp dir by default; an aiosmtpd sink on loopback in this process receives the
confirmations. 20 connections is Postfix's default concurrency per destination.
"""

from __future__ import annotations

import argparse
import os
import smtplib
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mailbot.outbox.transport.smtp_pipeline import data_block  # noqa: E402
from tests.e2e import (  # noqa: E402
    FROM,
    ROOT,
    TO,
    mailbot,
    registrations,
    running_worker,
    write_events,
)
from tests.servers import SmtpSink, free_port, running_smtp_sink  # noqa: E402


def lmtp_send(conn: smtplib.LMTP, sender: str, data: bytes) -> float:
    """One LMTP transaction, as a mail host writes it: MAIL, RCPT and DATA in one write when
    the server offers PIPELINING (Postfix does), else one command at a time; the time at
    which the 250 came back."""
    if not conn.has_extn("pipelining"):
        conn.mail(sender)
        conn.rcpt(TO)
        code, text = conn.data(data)
    else:
        conn.send(f"MAIL FROM:<{sender}>\r\nRCPT TO:<{TO}>\r\nDATA\r\n".encode())
        replies = [conn.getreply() for _ in range(3)]
        if [c for c, _ in replies] != [250, 250, 354]:
            raise RuntimeError(f"LMTP answered {replies!r}")
        conn.send(data_block(data)[0])  # dot-stuffed, with the final dot
        code, text = conn.getreply()
    if code != 250:
        raise RuntimeError(f"LMTP answered {code} {text!r}")
    return time.perf_counter()


def connect(port: int) -> smtplib.LMTP:
    conn = smtplib.LMTP("127.0.0.1", port)
    conn.ehlo()
    return conn


def latency(port: int, sink: SmtpSink, n: int) -> tuple[list[float], list[float]]:
    to_250, to_sink = [], []
    conn = connect(port)
    for m in registrations(n, tag="lat"):
        before = len(sink.messages)
        t0 = time.perf_counter()
        t250 = lmtp_send(conn, m.sender, m.data)
        sink.wait_for(before + 1, timeout=30)
        t_sink = time.perf_counter()
        to_250.append((t250 - t0) * 1000)
        to_sink.append((t_sink - t0) * 1000)
    conn.quit()
    return to_250, to_sink


def throughput(port: int, sink: SmtpSink, n: int, connections: int) -> tuple[float, float]:
    mails = registrations(n, tag="tp", start=10_000)
    before = len(sink.messages)
    chunks = [mails[i::connections] for i in range(connections)]
    errors: list[BaseException] = []

    def one(chunk: list) -> None:  # type: ignore[type-arg]
        try:
            conn = connect(port)
            for m in chunk:
                lmtp_send(conn, m.sender, m.data)
            conn.quit()
        except BaseException as exc:  # report after the join
            errors.append(exc)

    t0 = time.perf_counter()
    threads = [threading.Thread(target=one, args=(c,)) for c in chunks]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    t_accepted = time.perf_counter() - t0
    if errors:
        raise errors[0]
    sink.wait_for(before + n, timeout=120)
    t_sink = time.perf_counter() - t0
    return n / t_accepted, n / t_sink


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mails", type=int, default=600)
    ap.add_argument("--connections", type=int, default=20)
    ap.add_argument("--database", default=None)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="mailbot-lmtp-bench-"))
    url = args.database or f"sqlite:///{tmp / 'bench.db'}"
    with running_smtp_sink() as sink:
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("MAILBOT_")}
        env.update({"MAILBOT_DATABASE_URL": url, "MAILBOT_FROM": FROM,
                    "MAILBOT_RULES_DIR": str(ROOT / "rules"), "MAILBOT_SMTP_URL": sink.url,
                    "MAILBOT_LMTP_LISTEN": f"127.0.0.1:{port}", "MAILBOT_LOG_LEVEL": "WARNING",
                    "PYTHONUNBUFFERED": "1"})
        mailbot(env, "events", "import", str(write_events(tmp)), cwd=tmp)
        with running_worker(env, tmp) as worker:
            deadline = time.monotonic() + 300
            while not listening(port):
                if not worker.alive() or time.monotonic() > deadline:
                    sys.exit(f"mailbot run did not listen on {port}:\n{worker.log[-3000:]}")
                time.sleep(0.1)
            to_250, to_sink = latency(port, sink, 20)
            accepted, delivered = throughput(port, sink, args.mails, args.connections)
            worker.terminate()
    print(f"database {url.split(':')[0]}; {args.mails} mails over {args.connections} connections")
    print(f"LMTP submit-to-250 latency: median {statistics.median(to_250):.1f} ms "
          f"(min {min(to_250):.1f}, max {max(to_250):.1f}; 20 mails one at a time)")
    print(f"LMTP accept-to-sink latency: median {statistics.median(to_sink):.1f} ms "
          f"(min {min(to_sink):.1f}, max {max(to_sink):.1f}; from MAIL FROM to the confirmation"
          " at the SMTP sink)")
    print(f"LMTP throughput: {accepted:.0f} mails/s answered 250 (committed); "
          f"{delivered:.0f} mails/s with every confirmation at the sink")


def listening(port: int) -> bool:
    try:
        connect(port).quit()
        return True
    except OSError:
        return False


if __name__ == "__main__":
    main()
