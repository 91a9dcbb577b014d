"""Parse and classify every file under ../shared/realmail in-process; prints mails per second."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from mailbot.classify import classify, load_default_rules
from mailbot.parse import parse
from mailbot.registrations.events_file import load_events

HERE = Path(__file__).resolve().parent.parent


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("corpus", nargs="?", default=str(HERE.parent / "shared" / "realmail"))
    ap.add_argument("--events", default=str(HERE.parent / "shared" / "examples" / "events.toml"))
    ap.add_argument("--rounds", type=int, default=3, help="passes over the corpus (best counts)")
    ap.add_argument("--slowest", type=int, default=0, help="list the N slowest files")
    a = ap.parse_args()
    files = sorted(p for p in Path(a.corpus).rglob("*")
                   if p.is_file() and p.suffix not in (".tsv", ".md"))
    datas = [p.read_bytes() for p in files]
    rules = load_default_rules()
    events = load_events(a.events) if Path(a.events).is_file() else []
    best = wall = float("inf")
    times: list[tuple[float, str]] = []
    for _ in range(a.rounds):
        times = []
        t0, c0 = time.perf_counter(), time.process_time()
        for path, data in zip(files, datas, strict=True):
            t1 = time.process_time()
            classify(parse(data, rules), events, rules)
            times.append((time.process_time() - t1, path.name))
        # CPU time of this process: "per core", and not skewed by other load on the machine
        best = min(best, time.process_time() - c0)
        wall = min(wall, time.perf_counter() - t0)
    mb = sum(map(len, datas)) / 1e6
    print(f"{len(files)} mails ({mb:.1f} MB): {best:.3f} s CPU, {wall:.3f} s wall; "
          f"{len(files) / best:,.0f} mails/s per core")
    for secs, name in sorted(times, reverse=True)[: a.slowest]:
        print(f"  {secs * 1000:8.1f} ms  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
