"""`mailbot registrations SLUG [--json]`: who is registered, waiting or cancelled.

`--json` prints JSON Lines: one object per attendee and line, with the keys
registration, name, email, organization, seats, state, registered_at (ISO 8601, local time),
waiting_position, registered_by, notes (the same rows as `export`).
"""

from __future__ import annotations

import argparse
import json

from mailbot.commands.common import settings, worker
from mailbot.config import Settings
from mailbot.models import Event
from mailbot.registrations.seats import seats_taken
from mailbot.reports import export


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("slug")
    parser.add_argument("--json", action="store_true", help="one JSON object per attendee and line")
    parser.set_defaults(func=cmd_registrations)


def _cut(text: str, width: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[: width - 1] + "…"


def event_and_rows(args: argparse.Namespace) -> tuple[Settings, Event, list[export.Row], int]:
    """The event named on the command line, its attendee rows and its seats taken."""
    s = settings(args)
    w = worker(s)
    try:
        with w.db.session() as db:
            ev = export.find_event(db, args.slug)
            return s, ev, export.event_rows(db, ev), seats_taken(db, ev)
    finally:
        w.db.dispose()


def cmd_registrations(args: argparse.Namespace) -> int:
    s, ev, rows, taken = event_and_rows(args)
    capacity, title = ev.capacity, ev.title
    if args.json:
        for row in rows:
            print(json.dumps(row.as_json(s.tz), ensure_ascii=False))
        return 0
    waiting = sum(1 for r in rows if r.state.value == "waiting")
    print(f"{title}\n{taken} of {capacity} seats taken, {max(0, capacity - taken)} free, "
          f"{waiting} on the waiting list")
    if not rows:
        print("no registrations yet")
        return 0
    cols = [("no", 4), ("name", 24), ("e-mail", 28), ("organisation", 24), ("seats", 5),
            ("state", 10), ("registered", 16), ("pos", 3), ("notes", 30)]
    print("  ".join(f"{h:{w}}" for h, w in cols).rstrip())
    for r in rows:
        cells = [r.registration, r.name or "(no name)", r.email, r.organization,
                 "" if r.seats is None else r.seats, r.state.value,
                 r.registered_at.astimezone(s.tz).strftime("%Y-%m-%d %H:%M"),
                 r.waiting_position or "", r.notes or (f"by {r.registered_by}"
                                                       if r.registered_by else "")]
        print("  ".join(f"{_cut(str(c), w):{w}}" for c, (_, w) in zip(cells, cols, strict=True))
              .rstrip())
    return 0
