"""The worker `mailbot run` and the commands hold: the shared runtime plus an optional mailbox
and transport, with one entry point per pass. The steps live in intake, delivery, scheduled."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from mailbot.mailbox import Mailbox, RawMessage
from mailbot.models import OutboxRow
from mailbot.registrations.lifecycle import purge_one_event
from mailbot.runners import delivery, intake, scheduled
from mailbot.runners.base import Runtime
from mailbot.runners.pool import CorePool
from mailbot.types import EventInfo, InboundMail, Intent, Outcome


@dataclass
class Worker(Runtime):
    mailbox: Mailbox | None = None
    transport: Any = None  # mailbot.outbox.transport.base.Transport
    on_mail: Callable[[Outcome], None] | None = None  # e.g. the start-up progress bar
    should_stop: Callable[[], bool] = lambda: False
    pool: CorePool | None = None  # large batches read and rendered on every core
    # e.g. send replies during a backlog: called before the next batch is fetched, it starts
    # (claims, renders); what it returns finishes (sends) once that batch is being read
    between_batches: Callable[[], Callable[[], object]] | None = None

    def understand(self, data: bytes, events: list[EventInfo]) -> tuple[InboundMail, Intent]:
        return intake.understand(data, events, self.rules, self.clock())

    def _intake(self) -> intake.Intake:
        # built per call: on_mail, should_stop and understand may be swapped between passes
        return intake.Intake(self, self.mailbox, self.understand, self.on_mail,
                             self.should_stop,
                             intake.pooled(self.understand, self.pool) if self.pool else None,
                             self.between_batches)

    def handle_one_mail(self, raw: RawMessage, events: list[EventInfo] | None = None) -> Outcome:
        return self._intake().handle_one_mail(raw, events)

    def intake_pass(self, batch: int | None = None) -> int | None:
        """Take in the inbox, `batch` mails per transaction (MAILBOT_INTAKE_BATCH unless
        given)."""
        return self._intake().run(batch or self.settings.intake_batch)

    def compose(self, row: OutboxRow) -> EmailMessage:
        return delivery.compose(row, self.settings)

    def delivery_pass(self, limit: int = 200, *, here: bool = False) -> int:
        """Send what is due; `here`: render in this process (the pool is busy reading the
        next batch of a backlog, and a render queued behind that would wait for it)."""
        return delivery.Delivery(self, self.transport, None if here else self.pool).run(limit)

    def start_delivery(self, limit: int = 200) -> Callable[[], int]:
        """`delivery_pass` in two steps for a backlog's replies: the rows due now are claimed
        and handed to the worker processes to render, ahead of the next batch's reading; the
        step returned sends them (and renders anything due after them here)."""
        first = delivery.Delivery(self, self.transport, self.pool).begin(limit)

        def send() -> int:
            if first is None:
                return 0
            sent, go_on = first()
            return sent + (self.delivery_pass(limit, here=True) if go_on else 0)

        return send

    def housekeeping(self) -> dict[str, int]:
        return scheduled.housekeeping(self)

    # `mailbot purge` drains the purge unit by itself
    drain = staticmethod(scheduled.drain)

    def handle_one_purge(self) -> bool:
        return scheduled.handle_one(self, purge_one_event)
