"""What most commands need: settings, the database, a worker with mailbox and transport."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from mailbot.config import Settings, load_settings
from mailbot.database import Database
from mailbot.runners.worker import Worker


def config_path(args: argparse.Namespace) -> Path | None:
    """The --config file, when one was given (else load_settings looks for one itself)."""
    return Path(args.config) if getattr(args, "config", None) else None


def settings(args: argparse.Namespace) -> Settings:
    """The settings for a command; `mailbot demo` hands its own in, ignoring the environment."""
    given = getattr(args, "settings", None)
    s = given if isinstance(given, Settings) else load_settings(config_path(args))
    logging.getLogger().setLevel(logging.DEBUG if getattr(args, "verbose", False)
                                 else s.log_level)
    return s


def database(s: Settings) -> Database:
    return Database(s.database_url)


def worker(s: Settings, *, mailbox: bool = False, transport: bool = False) -> Worker:
    """A Worker; the mailbox and transport are opened only when the command needs them."""
    w = Worker(settings=s, db=database(s))
    if mailbox:
        from mailbot.mailbox import open_mailbox

        url = s.imap()
        w.mailbox = open_mailbox(s.mailbox_url or "", url.password, s.folders)
    if transport:
        from mailbot.outbox.transport import open_transport

        w.transport = open_transport(s.smtp(), connections=s.smtp_connections)
    return w
