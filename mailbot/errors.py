"""The exceptions mailbot raises on purpose; anything else is a bug."""

from __future__ import annotations

from pathlib import Path
from typing import Any


class MailbotError(Exception):
    """Base class: a problem mailbot knows how to describe in one line."""


class ConfigError(MailbotError):
    """A configuration value is missing, malformed or points at something unusable."""


class RulesError(ConfigError):
    """A rule file in rules/ cannot be read or does not validate; the message names file and line."""


class EventsFileError(ConfigError):
    """The events TOML file is unreadable or an event in it is incomplete."""


class MailboxError(MailbotError):
    """The mailbox (IMAP server or Maildir) cannot be reached or refused an operation."""


class TransportError(MailbotError):
    """Sending failed; `permanent` tells whether retrying can help."""

    def __init__(self, message: str, *, permanent: bool = False, code: int | None = None):
        super().__init__(message)
        self.permanent = permanent
        self.code = code


class UserError(MailbotError):
    """A command was asked for something that does not exist or cannot be done (exit code 1)."""


def read_toml(path: Path, error: type[MailbotError], what: str) -> dict[str, Any]:
    """Load a TOML file; anything wrong becomes one line of `error` naming the file (and line)."""
    import tomllib

    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise error(f"{what} {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{path}: {exc}") from None
    except OSError as exc:
        raise error(f"cannot read {path} ({exc.strerror})") from None
