"""`mailbot digest [--print] [--send]`: the coordinators' digest now."""

from __future__ import annotations

import argparse
import sys

from mailbot.commands.common import settings, worker
from mailbot.reports import digest


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--print", dest="print_", action="store_true",
                        help="show it on the terminal")
    parser.add_argument("--send", action="store_true", help="queue and send it now")
    parser.set_defaults(func=cmd_digest)


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
