"""Transports: the protocol (base), SMTP (aiosmtplib) and files; `open_transport` picks one by URL."""

from __future__ import annotations

from mailbot.config import ServerUrl
from mailbot.outbox.transport.base import SendResult, Transport

__all__ = ["SendResult", "Transport", "open_transport"]

def open_transport(url: ServerUrl, timeout: float = 30,
                   envelope_from: str | None = None, connections: int = 1) -> Transport:
    """`file:///dir` → FileTransport; smtps/smtp/smtp+plain/smtp+insecure → SmtpTransport."""
    if url.scheme == "file":
        from mailbot.outbox.transport.file import FileTransport

        return FileTransport(url.path)
    # Imported here so that only SMTP users load aiosmtplib.
    from mailbot.outbox.transport.smtp import SmtpTransport

    return SmtpTransport(url, timeout=timeout, envelope_from=envelope_from,
                         connections=connections)
