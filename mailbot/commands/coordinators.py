"""`mailbot registrations`, `mailbot export` and `mailbot digest`: what coordinators read.

`registrations SLUG --json` prints JSON Lines: one object per attendee and line, with the keys
registration, name, email, organization, seats, state, registered_at (ISO 8601, local time),
waiting_position, registered_by, notes (the same rows as `export`).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

from mailbot.commands.common import settings, worker
from mailbot.config import Settings
from mailbot.errors import UserError
from mailbot.models import Event
from mailbot.registrations.seats import seats_taken
from mailbot.reports import digest, export


def _cut(text: str, width: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _event_rows(args: argparse.Namespace) -> tuple[Settings, Event, list[export.Row], int]:
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
    s, ev, rows, taken = _event_rows(args)
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


def _write_atomically(path: Path, data: bytes) -> None:
    """A half-written list must never replace a good one (the coordinator may have it open)."""
    directory = path.resolve().parent
    if not directory.is_dir():
        raise UserError(f"cannot write {path}: folder {directory} does not exist")
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".mailbot-export-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise UserError(f"cannot write {path}: {exc.strerror}") from None


def cmd_export(args: argparse.Namespace) -> int:
    s, ev, rows, _ = _event_rows(args)
    lang = export.lang_of(ev)
    data = (export.to_xlsx(rows, lang, s.tz, ev.title) if args.format == "xlsx"
            else export.to_csv(rows, lang, s.tz))
    out = Path(args.output)
    if out.is_dir():
        raise UserError(f"{out} is a folder; give a file name, e.g. -o {args.slug}.{args.format}")
    _write_atomically(out, data)
    print(f"{len(rows)} row(s) written to {out}")
    return 0


def cmd_digest(args: argparse.Namespace) -> int:
    """Without options: --print. --send queues it for every coordinator now (even when nothing
    is new) and delivers it at once when MAILBOT_SMTP_URL is set."""
    s = settings(args)
    w = worker(s)
    show = args.print_ or not args.send
    now = w.clock()
    day = digest.local_day(now, s.tz)
    with w.db.session() as db:
        addresses = digest.coordinators(db, now)
        if not addresses:
            print("no coordinators: no current event names any (coordinators = [...] in the "
                  "events file)")
            return 0
        if show:
            for i, addr in enumerate(addresses):
                d = digest.build_digest(db, addr, day, now)
                subject, text = digest.render_text(d, s.tz)
                if i:
                    print()
                print(f"To: {addr}\nSubject: {subject}\n")
                sys.stdout.write(text)
    if not args.send:
        return 0
    queued = [a for a in addresses if digest.send_one(w, a, force=True) == "queued"]
    print(f"digest queued for {len(queued)} coordinator(s)")
    if s.smtp_url:
        w2 = worker(s, transport=True)
        try:
            sent = w2.delivery_pass()
        finally:
            if w2.transport is not None and hasattr(w2.transport, "close"):
                w2.transport.close()
        print(f"{sent} mail(s) sent")
    else:
        print("MAILBOT_SMTP_URL is not set: `mailbot run` will send it")
    return 0
