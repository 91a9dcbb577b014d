"""APScheduler wiring only: which job runs how often. The jobs themselves live in scheduled.py
(and delivery.py for the retries)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from apscheduler.schedulers.background import BackgroundScheduler

from mailbot.runners import scheduled
from mailbot.runners.worker import Worker

log = logging.getLogger("mailbot.runners.scheduler")


def _guarded(name: str, func: Callable[[], object], lock: threading.Lock | None = None
             ) -> Callable[[], None]:
    """A job that logs its failure in one line and lets the next run try again."""

    def run() -> None:
        try:
            if lock is None:
                func()
                return
            with lock:
                func()
        except Exception as exc:  # the scheduler must keep serving
            log.warning("%s failed: %s: %s", name, type(exc).__name__, exc)

    return run


def start(worker: Worker, delivery_lock: threading.Lock) -> BackgroundScheduler:
    """Delivery retries, waiting-list expiry, reminders, retention and the digest check."""
    sched = BackgroundScheduler(timezone=worker.settings.tz, job_defaults={
        "coalesce": True, "max_instances": 1, "misfire_grace_time": 300})
    jobs: dict[str, tuple[Callable[[], object], float]] = {
        "delivery": (worker.delivery_pass, 15.0),
        "offers": (lambda: scheduled.offers(worker), 60.0),
        "reminders": (lambda: scheduled.reminders(worker), 300.0),
        "retention": (lambda: scheduled.retention(worker), 3600.0),
        "digest": (lambda: scheduled.digest(worker), 60.0),
    }
    for name, (func, seconds) in jobs.items():
        lock = delivery_lock if name == "delivery" else None
        sched.add_job(_guarded(name, func, lock), "interval", seconds=seconds, id=name,
                      name=name)
    sched.start()
    return sched
