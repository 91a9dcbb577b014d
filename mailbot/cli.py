"""The `mailbot` command: argument parsing and wiring; the work happens in the stages and jobs."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from mailbot.errors import MailbotError

Handler = Callable[[argparse.Namespace], int]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="mailbot", description=__doc__)
    p.add_argument("--config", help="mailbot.toml (default: $MAILBOT_CONFIG, else ./mailbot.toml)")
    p.add_argument("-v", "--verbose", action="store_true", help="log more")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    s = sub.add_parser("demo", help="run the whole job on embedded defaults in a fresh folder")
    s.add_argument("--dir", default="mailbot-demo", help="folder to create (default: ./mailbot-demo)")
    s.set_defaults(func=_lazy("mailbot.commands.demo", "cmd_demo"))

    s = sub.add_parser("run", help="the long-running worker (IDLE/poll intake, delivery, jobs)")
    s.add_argument("--once", action="store_true", help="one intake and one delivery pass, then exit")
    s.set_defaults(func=_lazy("mailbot.commands.run", "cmd_run"))

    ev = sub.add_parser("events", help="import, list, set venues").add_subparsers(
        dest="events_command", required=True, metavar="SUBCOMMAND")
    s = ev.add_parser("import", help="create or update events by slug from a TOML file")
    s.add_argument("file")
    s.set_defaults(func=_lazy("mailbot.commands.events", "cmd_import"))
    s = ev.add_parser("list", help="events with seats taken, free and waiting")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=_lazy("mailbot.commands.events", "cmd_list"))
    s = ev.add_parser("set-venue", help="set the venue and queue notices to everyone registered")
    s.add_argument("slug")
    s.add_argument("text")
    s.set_defaults(func=_lazy("mailbot.commands.events", "cmd_set_venue"))

    s = sub.add_parser("registrations", help="who is registered / waiting / cancelled")
    s.add_argument("slug")
    s.add_argument("--json", action="store_true", help="one JSON object per attendee and line")
    s.set_defaults(func=_lazy("mailbot.commands.coordinators", "cmd_registrations"))

    s = sub.add_parser("export", help="participant list for spreadsheets")
    s.add_argument("slug")
    s.add_argument("--format", choices=["csv", "xlsx"], default="csv")
    s.add_argument("-o", "--output", required=True)
    s.set_defaults(func=_lazy("mailbot.commands.coordinators", "cmd_export"))

    s = sub.add_parser("digest", help="the coordinators' digest now (without options: --print)")
    s.add_argument("--print", dest="print_", action="store_true", help="show it on the terminal")
    s.add_argument("--send", action="store_true", help="queue and send it now")
    s.set_defaults(func=_lazy("mailbot.commands.coordinators", "cmd_digest"))

    s = sub.add_parser("review", help="mails that need a human; assign, register or dismiss one")
    rs = s.add_subparsers(dest="review_command", metavar="SUBCOMMAND")
    s.set_defaults(func=_lazy("mailbot.commands.review", "cmd_list"))
    r = rs.add_parser("assign", help="register the sender of mail ID for event SLUG")
    r.add_argument("id", type=int)
    r.add_argument("slug")
    r.set_defaults(func=_lazy("mailbot.commands.review", "cmd_assign"))
    r = rs.add_parser("register", help="register the sender of mail ID as understood")
    r.add_argument("id", type=int)
    r.set_defaults(func=_lazy("mailbot.commands.review", "cmd_register"))
    r = rs.add_parser("dismiss", help="file mail ID without action")
    r.add_argument("id", type=int)
    r.set_defaults(func=_lazy("mailbot.commands.review", "cmd_dismiss"))

    s = sub.add_parser("reprocess", help="run quarantined mails again (after a rules fix)")
    s.add_argument("ids", nargs="*", type=int, help="only these mails (default: all quarantined)")
    s.set_defaults(func=_lazy("mailbot.commands.review", "cmd_reprocess"))

    s = sub.add_parser("purge", help="delete personal data of events past their retention time")
    s.add_argument("--dry-run", action="store_true", help="only show what would be purged")
    s.set_defaults(func=_lazy("mailbot.commands.events", "cmd_purge"))

    s = sub.add_parser("doctor", help="check configuration, database, IMAP and SMTP")
    s.set_defaults(func=_lazy("mailbot.commands.doctor", "cmd_doctor"))

    s = sub.add_parser("parse", help="classify .eml files offline; one JSON line per file")
    s.add_argument("files", nargs="+", metavar="FILE")
    s.add_argument("--events", help="events TOML file (no database needed)")
    s.add_argument("--json", action="store_true", help="JSON lines (default: a readable summary)")
    s.set_defaults(func=_lazy("mailbot.commands.parse", "cmd_parse"))
    return p


def _lazy(module: str, name: str) -> Handler:
    """Import a command's module only when it runs, so `parse` starts fast."""

    def run(args: argparse.Namespace) -> int:
        import importlib

        func: Handler = getattr(importlib.import_module(module), name)
        return func(args)

    return run


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
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


def config_path(args: argparse.Namespace) -> Path | None:
    return Path(args.config) if getattr(args, "config", None) else None
