"""A one-line progress bar on an interactive terminal, for a worker starting with a backlog."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from mailbot.types import Outcome


class Progress:
    """`mails 120/1000 [####......] 12 % · 85/s`, redrawn at most ten times a second."""

    def __init__(self, total: int, out: TextIO | None = None, width: int = 30) -> None:
        self.total, self.done, self.width = max(total, 1), 0, width
        self.out = out or sys.stderr
        self.started = self._drawn = time.monotonic()
        self.outcomes: dict[str, int] = {}

    def __call__(self, outcome: Outcome) -> None:
        self.done += 1
        self.outcomes[outcome.value] = self.outcomes.get(outcome.value, 0) + 1
        now = time.monotonic()
        if now - self._drawn >= 0.1 or self.done >= self.total:
            self._drawn = now
            self.draw(now)

    def draw(self, now: float) -> None:
        share = min(1.0, self.done / self.total)
        filled = int(share * self.width)
        rate = self.done / max(now - self.started, 1e-6)
        self.out.write(f"\rmails {self.done}/{self.total} [{'#' * filled}"
                       f"{'.' * (self.width - filled)}] {share:4.0%} · {rate:.0f}/s")
        self.out.flush()

    def finish(self) -> None:
        self.draw(time.monotonic())
        summary = ", ".join(f"{n} {k}" for k, n in sorted(self.outcomes.items()))
        self.out.write(f"\n{summary}\n" if summary else "\n")
        self.out.flush()


def for_backlog(backlog: int, out: TextIO | None = None, threshold: int = 50) -> Progress | None:
    """A bar only when a human watches (a terminal) and there is enough to wait for."""
    stream = out or sys.stderr
    if backlog < threshold or not stream.isatty():
        return None
    return Progress(backlog, stream)
