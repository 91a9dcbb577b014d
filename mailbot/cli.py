"""The `mailbot` command: argument parsing and wiring; the work happens in the stages and jobs."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from mailbot.errors import MailbotError

# Every command, in the order `mailbot --help` lists them, with its one-line summary. The
# command `x-y` lives in `mailbot.commands.x_y`, whose `configure(parser)` adds its arguments
# and sets `func`; only the module of the command being run is imported, so `--help` and
# `parse` stay fast.
COMMANDS: tuple[tuple[str, str], ...] = (
    ("demo", "run the whole job on embedded defaults in a fresh folder"),
    ("run", "the long-running worker (IDLE/poll intake, delivery, jobs)"),
    ("events", "import, list, set venues"),
    ("registrations", "who is registered / waiting / cancelled"),
    ("export", "participant list for spreadsheets"),
    ("digest", "the coordinators' digest now (without options: --print)"),
    ("review", "mails that need a human; assign, register or dismiss one"),
    ("reprocess", "run quarantined mails again (after a rules fix)"),
    ("purge", "delete personal data of events past their retention time"),
    ("doctor", "check configuration, database, IMAP and SMTP"),
    ("parse", "classify .eml files offline; one JSON line per file"),
)


class _NoCommand(Exception):
    """The command line is broken before its command name: the full parser says how."""


class _FirstWord(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise _NoCommand(message)


def _command_name(argv: Sequence[str] | None) -> str | None:
    """The command the arguments name, found by argparse itself (so `--config=x`, `-v` and
    abbreviations are read exactly as the full parser reads them)."""
    first = _FirstWord(add_help=False)
    _global_options(first)
    first.add_argument("command", nargs="?")
    first.add_argument("rest", nargs=argparse.REMAINDER)
    try:
        known, _ = first.parse_known_args(argv)
    except _NoCommand:
        return None
    return str(known.command) if known.command else None


def _global_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", help="mailbot.toml (default: $MAILBOT_CONFIG, else ./mailbot.toml)")
    p.add_argument("-v", "--verbose", action="store_true", help="log more")


def _parser(command: str | None = None) -> argparse.ArgumentParser:
    """The full parser; the arguments of `command` (all, when None) come from its module."""
    p = argparse.ArgumentParser(prog="mailbot", description=__doc__)
    _global_options(p)
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, summary in COMMANDS:
        s = sub.add_parser(name, help=summary)
        if command is None or name == command:
            module = importlib.import_module(f"mailbot.commands.{name.replace('-', '_')}")
            module.configure(s)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    name = _command_name(argv)
    known = {n for n, _ in COMMANDS}
    # A name that is no command configures none: argparse then lists the valid choices.
    args = _parser(name if name in known else "").parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        stream=sys.stderr)
    logging.getLogger("alembic").setLevel(logging.WARNING)  # migrations talk only when failing
    try:
        return int(args.func(args) or 0)
    except MailbotError as exc:
        print(f"mailbot: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
