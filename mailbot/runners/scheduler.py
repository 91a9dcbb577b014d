"""APScheduler wiring only: which job runs how often. The jobs themselves live in scheduled.py."""

from __future__ import annotations

import logging
from collections.abc import Callable

from apscheduler.schedulers.background import BackgroundScheduler

from mailbot.runners import scheduled
from mailbot.runners.worker import Worker

log = logging.getLogger("mailbot.runners.scheduler")


def _guarded(name: str, func: Callable[[], object]) -> Callable[[], None]:
    """A job that logs its failure in one line and lets the next run try again."""

    def run() -> None:
        try:
            func()
        except Exception as exc:  # the scheduler must keep serving
            log.warning("%s failed: %s: %s", name, type(exc).__name__, exc)

    return run


def start(worker: Worker) -> BackgroundScheduler:
    """Waiting-list expiry, reminders, retention and the digest check. The mails they queue,
    and the retries of delivery, are sent by the delivery process (runners.sender), which
    looks for due rows every few seconds."""
    sched = BackgroundScheduler(timezone=worker.settings.tz, job_defaults={
        "coalesce": True, "max_instances": 1, "misfire_grace_time": 300})
    jobs: dict[str, tuple[Callable[[], object], float]] = {
        "offers": (lambda: scheduled.offers(worker), 60.0),
        "reminders": (lambda: scheduled.reminders(worker), 300.0),
        "retention": (lambda: scheduled.retention(worker), 3600.0),
        "digest": (lambda: scheduled.digest(worker), 60.0),
    }
    for name, (func, seconds) in jobs.items():
        sched.add_job(_guarded(name, func), "interval", seconds=seconds, id=name, name=name)
    sched.start()
    return sched
