"""The Transport protocol and its result type."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Protocol, TypeVar

from mailbot.types import SendStatus

K = TypeVar("K")


@dataclass(frozen=True)
class SendResult:
    """What happened to one message: SENT, RETRY (temporary) or FAILED (permanent)."""

    status: SendStatus
    detail: str  # the server's reply text, or why we could not get one; no message content
    code: int | None = None  # the SMTP reply code when there was one


class Transport(Protocol):
    """Delivers batches of rendered messages; `on_result` runs right after each outcome."""

    def deliver(self, batch: Sequence[tuple[K, EmailMessage]],
                on_result: Callable[[K, SendResult], None]) -> None:
        """Send every message of `batch` in order and report each one exactly once.

        Never raises for delivery problems (those are RETRY/FAILED results); an exception from
        `on_result` propagates and leaves the rest of the batch unreported.
        """
        ...

    def probe(self) -> str:
        """Check the way out as `deliver` would take it (connect, TLS, login), sending nothing;
        one line on what was found. Raises TransportError when the server answers but will not
        do, or the network error itself when it cannot be reached (`mailbot doctor`)."""
        ...

    def close(self) -> None:
        ...
