"""Parse stage: bytes of one mail to a clean InboundMail (MIME, HTML, quotes, machine signals)."""

from mailbot.parse.mail import parse

__all__ = ["parse"]
