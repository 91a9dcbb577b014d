"""`mailbot review [assign|register|dismiss]`: list the mails that need a human, resolve one."""

from __future__ import annotations

import argparse

from sqlalchemy import select

from mailbot.apply.coordinator import register_reviewed
from mailbot.apply.inbound import closed_reason
from mailbot.commands.common import settings, worker
from mailbot.commands.review_records import (
    OPEN,
    close,
    header_fields,
    move_to_done,
    one_line,
    open_record,
    resolve,
    server_message_id,
    understand,
)
from mailbot.errors import UserError
from mailbot.models import InboundRecord
from mailbot.registrations.seats import lock_event
from mailbot.reports.export import find_event


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="review_command", metavar="SUBCOMMAND")
    parser.set_defaults(func=cmd_list)
    s = sub.add_parser("assign", help="register the sender of mail ID for event SLUG")
    s.add_argument("id", type=int)
    s.add_argument("slug")
    s.set_defaults(func=cmd_assign)
    s = sub.add_parser("register", help="register the sender of mail ID as understood")
    s.add_argument("id", type=int)
    s.set_defaults(func=cmd_register)
    s = sub.add_parser("dismiss", help="file mail ID without action")
    s.add_argument("id", type=int)
    s.set_defaults(func=cmd_dismiss)


def cmd_list(args: argparse.Namespace) -> int:
    w = worker(settings(args))
    with w.db.session() as s:
        recs = list(s.scalars(select(InboundRecord).where(
            InboundRecord.outcome.in_(OPEN), InboundRecord.resolved_at.is_(None))
            .order_by(InboundRecord.created_at, InboundRecord.id)))
    if not recs:
        print("nothing needs a human")
        return 0
    tz = w.settings.tz
    for rec in recs:
        head = header_fields(rec.raw) if not (rec.sender and rec.subject) else {}
        sender = rec.sender or head.get("email", "") or "(unknown sender)"
        print(f"#{rec.id:<5} {rec.outcome.value:<10} {rec.created_at.astimezone(tz):%Y-%m-%d %H:%M}"
              f"  {sender}")
        print(f"       subject: {one_line(rec.subject or head.get('subject', ''), 70)}")
        if rec.event_slug:
            print(f"       event:   {rec.event_slug}")
        print(f"       why:     {one_line(rec.reason, 70)}")
        if rec.excerpt:
            print(f"       text:    {one_line(rec.excerpt, 70)}")
    print(f"\n{len(recs)} mail(s). Resolve with: mailbot review assign ID SLUG | review register ID"
          " | review dismiss ID; after a rules fix: mailbot reprocess [ID...]")
    return 0


def _register(args: argparse.Namespace, slug: str | None) -> int:
    w = worker(settings(args))
    try:
        with w.db.session() as s:
            rec = open_record(s, args.id)
            if slug is not None:
                find_event(s, slug)  # an unknown slug fails before anything is parsed
            events = w.events(s)
        mail, intent = understand(w, rec, events)
        slug = slug or rec.event_slug or (intent.event if intent else None)
        if not slug:
            raise UserError(f"mail #{args.id} names no event; choose one: "
                            f"mailbot review assign {args.id} SLUG")
        with w.db.session() as s:
            rec = open_record(s, args.id)  # again: someone may have resolved it meanwhile
            mid, outcome = server_message_id(rec), rec.outcome
            m = w.mailer(s)
            event = lock_event(s, find_event(s, slug).id)
            why = closed_reason(event, m)
            if why:
                raise UserError(f"registration for {slug} is closed ({why}); nothing was done")
            state = register_reviewed(s, m, rec, mail, intent, event,
                                      f"registered for {slug} by a coordinator")
            limited = bool(m.limited)
        print(f"mail #{args.id}: {mail.sender_email} {state} for {slug}; " +
              ("no answer sent (reply limit)" if limited else "the answer is queued"))
        move_to_done(w, args.id, outcome, mid)
    finally:
        close(w)
    return 0


def cmd_assign(args: argparse.Namespace) -> int:
    return _register(args, args.slug)


def cmd_register(args: argparse.Namespace) -> int:
    return _register(args, None)


def cmd_dismiss(args: argparse.Namespace) -> int:
    w = worker(settings(args))
    try:
        with w.db.session() as s:
            rec = open_record(s, args.id)
            mid, outcome = server_message_id(rec), rec.outcome
            resolve(rec, w.clock(), "dismissed by a coordinator")
        print(f"mail #{args.id}: dismissed")
        move_to_done(w, args.id, outcome, mid)
    finally:
        close(w)
    return 0
