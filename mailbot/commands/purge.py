"""`mailbot purge [--dry-run]`: delete personal data of events past their retention time."""

from __future__ import annotations

import argparse
from datetime import timedelta

from mailbot.commands.common import settings, worker
from mailbot.models import Registration
from mailbot.registrations.lifecycle import purgeable_events


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dry-run", action="store_true", help="only show what would be purged")
    parser.set_defaults(func=cmd_purge)


def cmd_purge(args: argparse.Namespace) -> int:
    w = worker(settings(args))
    with w.db.session() as s:
        due = purgeable_events(s, w.mailer(s))
        for ev in due:
            n = s.query(Registration).filter(Registration.event_id == ev.id).count()
            print(f"{ev.slug}: ended {ev.ends:%Y-%m-%d}, retention {ev.retention_days} days "
                  f"(until {(ev.ends + timedelta(days=ev.retention_days)):%Y-%m-%d}): "
                  f"{n} registration(s)")
    if not due:
        print("nothing to purge")
        return 0
    if args.dry_run:
        print("dry run: nothing deleted")
        return 0
    n = w.drain(w.handle_one_purge)
    print(f"purged {n} event(s)")
    return 0
