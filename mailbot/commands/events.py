"""`mailbot events import|list|set-venue`: the events, their seats and venues."""

from __future__ import annotations

import argparse
import json

from sqlalchemy import select

from mailbot.commands.common import settings, worker
from mailbot.models import Event, Registration, RegState
from mailbot.registrations.event_changes import import_events, set_venue
from mailbot.registrations.events_file import load_events
from mailbot.registrations.seats import seats_taken, waiting_list


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="events_command", required=True, metavar="SUBCOMMAND")
    s = sub.add_parser("import", help="create or update events by slug from a TOML file")
    s.add_argument("file")
    s.set_defaults(func=cmd_import)
    s = sub.add_parser("list", help="events with seats taken, free and waiting")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_list)
    s = sub.add_parser("set-venue", help="set the venue and queue notices to everyone registered")
    s.add_argument("slug")
    s.add_argument("text")
    s.set_defaults(func=cmd_set_venue)


def cmd_import(args: argparse.Namespace) -> int:
    infos = load_events(args.file)
    w = worker(settings(args))
    with w.db.session() as s:
        res = import_events(s, w.mailer(s), infos)
    print(f"{res.created} created, {res.updated} updated, {res.notices} notice(s) queued")
    return 0


def event_rows(args: argparse.Namespace) -> list[dict[str, object]]:
    w = worker(settings(args))
    rows = []
    with w.db.session() as s:
        for ev in s.scalars(select(Event).order_by(Event.starts)):
            taken = seats_taken(s, ev)
            waiting = waiting_list(s, ev)
            info = ev.info()
            rows.append({
                "slug": ev.slug, "title": ev.title, "starts": info.starts.isoformat(),
                "city": ev.city, "venue": ev.venue, "capacity": ev.capacity, "taken": taken,
                "free": max(0, ev.capacity - taken), "waiting": sum(r.waiting_seats for r in waiting),
                "registrations": s.query(Registration).filter(
                    Registration.event_id == ev.id,
                    Registration.state != RegState.CANCELLED).count(),
                "open": info.is_open_at(w.clock()),
            })
    return rows


def cmd_list(args: argparse.Namespace) -> int:
    rows = event_rows(args)
    if args.json:
        for r in rows:
            print(json.dumps(r, ensure_ascii=False))
        return 0
    if not rows:
        print("no events yet: mailbot events import events.toml")
        return 0
    print(f"{'slug':24} {'starts':16} {'taken':>5} {'free':>5} {'wait':>5}  venue")
    for r in rows:
        print(f"{r['slug']!s:24} {str(r['starts'])[:16]:16} {r['taken']:>5} {r['free']:>5} "
              f"{r['waiting']:>5}  {r['venue'] or '(to be announced)'}")
    return 0


def cmd_set_venue(args: argparse.Namespace) -> int:
    w = worker(settings(args))
    with w.db.session() as s:
        n = set_venue(s, w.mailer(s), args.slug, args.text)
    print(f"venue of {args.slug} unchanged; nothing sent" if n is None else
          f"venue of {args.slug} set; {n} notice(s) queued")
    return 0
