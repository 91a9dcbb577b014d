"""FileTransport: writes each message as an .eml file into a directory (development, demo)."""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import TypeVar

from mailbot.errors import TransportError
from mailbot.outbox.transport.base import SendResult
from mailbot.types import SendStatus

K = TypeVar("K")

_UNSAFE = re.compile(r"[^A-Za-z0-9._@-]+")


class FileTransport:
    """`<UTC timestamp>-<message id>.eml`, written to a temporary name and renamed into place."""

    def __init__(self, directory: str | os.PathLike[str]):
        self.directory = Path(directory)

    def path_for(self, msg: EmailMessage) -> Path:
        ident = _UNSAFE.sub("_", str(msg.get("Message-ID", "")).strip("<> "))[:120] or "no-id"
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        return self.directory / f"{stamp}-{ident}.eml"

    def deliver(self, batch: Sequence[tuple[K, EmailMessage]],
                on_result: Callable[[K, SendResult], None]) -> None:
        for key, msg in batch:
            on_result(key, self._write(msg))

    def _write(self, msg: EmailMessage) -> SendResult:
        target = self.path_for(msg)
        tmp = target.with_name(f".{target.name}.tmp")
        # Plain newlines: these files are read by people (and `mailbot demo`), not by a server.
        data = msg.as_bytes(policy=msg.policy.clone(linesep="\n"))
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            with open(tmp, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            # A reader never sees half a file: rename is atomic within one directory.
            os.replace(tmp, target)
        except OSError as exc:
            with contextlib.suppress(OSError):
                tmp.unlink()
            return SendResult(SendStatus.RETRY, f"cannot write {target}: {exc.strerror or exc}")
        return SendResult(SendStatus.SENT, str(target))

    def probe(self) -> str:
        if not self.directory.is_dir():
            raise TransportError(f"{self.directory} does not exist (the file:// transport writes "
                                 ".eml files there)")
        return f"writing .eml files to {self.directory} (development only)"

    def close(self) -> None:
        pass

    def __enter__(self) -> FileTransport:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
