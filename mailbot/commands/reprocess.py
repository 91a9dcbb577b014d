"""`mailbot reprocess [ID...]`: run quarantined mails again, after a rules fix."""

from __future__ import annotations

import argparse

from sqlalchemy import select

from mailbot.commands.common import settings, worker
from mailbot.commands.review_records import (
    close,
    move_to_done,
    one_line,
    open_record,
    server_message_id,
)
from mailbot.errors import UserError
from mailbot.models import InboundRecord
from mailbot.runners.intake import already_applied, apply_and_answer
from mailbot.runners.worker import Worker
from mailbot.types import EventInfo, Outcome


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("ids", nargs="*", type=int,
                        help="only these mails (default: all quarantined)")
    parser.set_defaults(func=cmd_reprocess)


def cmd_reprocess(args: argparse.Namespace) -> int:
    w = worker(settings(args))
    try:
        with w.db.session() as s:
            if args.ids:
                for rid in args.ids:
                    if open_record(s, rid).outcome != Outcome.QUARANTINE:
                        raise UserError(f"mail #{rid} is in review, not in quarantine; use "
                                        "mailbot review assign/register/dismiss")
                ids = list(args.ids)
            else:
                ids = list(s.scalars(select(InboundRecord.id).where(
                    InboundRecord.outcome == Outcome.QUARANTINE,
                    InboundRecord.resolved_at.is_(None)).order_by(InboundRecord.id)))
            events = w.events(s)
        if not ids:
            print("nothing in quarantine")
            return 0
        counts: dict[str, int] = {}
        for rid in ids:
            result = reprocess_one(w, rid, events)
            counts[result] = counts.get(result, 0) + 1
            print(f"mail #{rid}: {result}")
        print(", ".join(f"{n} {what}" for what, n in counts.items()))
    finally:
        close(w)
    return 0


def reprocess_one(w: Worker, rec_id: int, events: list[EventInfo]) -> str:
    """Apply one quarantined mail again, updating its record in place. The record is re-read
    and must still be in quarantine inside the applying transaction, and a mail whose
    Message-ID was applied since (delivered again) is not applied twice."""
    with w.db.session() as s:
        rec = s.get(InboundRecord, rec_id)
        raw = rec.raw if rec is not None else None
    if not raw:
        return "skipped (its stored copy is gone)"
    try:
        mail, intent = w.understand(raw, events)
    except ImportError as exc:
        raise UserError(f"cannot reprocess: {exc} (is mailbot installed completely?)") from None
    except Exception as exc:
        return _still_failing(w, rec_id, exc)
    try:
        with w.db.session() as s:
            rec = s.scalars(select(InboundRecord).where(InboundRecord.id == rec_id)
                            .with_for_update().execution_options(populate_existing=True)).first()
            if rec is None or rec.outcome != Outcome.QUARANTINE or rec.resolved_at is not None:
                return "skipped (handled meanwhile)"
            old_mid = server_message_id(rec)
            rec.message_id, rec.sender = mail.message_id, mail.sender_email
            rec.subject, rec.excerpt = mail.subject[:500], mail.text[:500]
            rec.intent, rec.event_slug = intent.kind, intent.event
            rec.confidence = intent.confidence
            if already_applied(s, rec):
                outcome = Outcome.DONE
            else:
                rec.reason = ""
                outcome = apply_and_answer(s, w, rec, mail, intent)
            rec.outcome = outcome
            if outcome == Outcome.DONE:
                rec.raw, rec.resolved_at = None, w.clock()
    except Exception as exc:  # still broken: it stays in quarantine with the new reason
        return _still_failing(w, rec_id, exc)
    move_to_done(w, rec_id, Outcome.QUARANTINE, old_mid or mail.message_id, to=outcome)
    return f"{outcome.value} ({intent.kind.value}{', ' + intent.event if intent.event else ''})"


def _still_failing(w: Worker, rec_id: int, exc: BaseException) -> str:
    reason = f"{type(exc).__name__}: {exc}"[:1000]
    with w.db.session() as s:
        rec = s.get(InboundRecord, rec_id)
        if rec is not None:
            rec.reason = reason
    return f"still fails: {one_line(reason, 120)}"
