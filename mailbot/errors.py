"""The exceptions mailbot raises on purpose; anything else is a bug."""


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
