"""Mails that need a human, as stored: read them, understand them again, file them, and move
them on the server; what `review` and `reprocess` share."""

from __future__ import annotations

import email.parser
import email.policy
import logging
import sys

from sqlalchemy.orm import Session

from mailbot.apply.coordinator import resolve as resolve  # filing, shared with digest replies
from mailbot.commands.common import worker
from mailbot.errors import MailboxError, UserError
from mailbot.models import InboundRecord
from mailbot.runners.worker import Worker
from mailbot.types import EventInfo, InboundMail, Intent, Outcome

log = logging.getLogger("mailbot.review")

OPEN = (Outcome.REVIEW, Outcome.QUARANTINE)


def one_line(text: str, width: int) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= width else text[: width - 1] + "…"


def header_fields(raw: bytes | None) -> dict[str, str]:
    """Sender, name, subject and Message-ID straight from the stored bytes, for mails that
    could not be parsed (quarantine) or when the parser is not installed."""
    if not raw:
        return {}
    try:
        msg = email.parser.BytesHeaderParser(policy=email.policy.default).parsebytes(raw)
        out = {"subject": " ".join(str(msg.get("Subject") or "").split()),
               "message_id": str(msg.get("Message-ID") or "").strip().strip("<>").strip()}
        sender = msg.get("From")
        addresses = getattr(sender, "addresses", ()) if sender is not None else ()
        if addresses:
            out["email"] = str(addresses[0].addr_spec).lower()
            out["name"] = str(addresses[0].display_name or "")
        return out
    except Exception:  # a mail broken enough to be quarantined may break the header parser
        return {}


def server_message_id(rec: InboundRecord) -> str:
    """The Message-ID the mail has on the server (a quarantine record may only have a stand-in)."""
    if rec.message_id and not rec.message_id.startswith("quarantine-"):
        return rec.message_id
    return header_fields(rec.raw).get("message_id", "")


def open_record(s: Session, rec_id: int) -> InboundRecord:
    # locked (PostgreSQL): a coordinator's reply resolving it at the same moment waits, or wins
    rec = s.get(InboundRecord, rec_id, populate_existing=True, with_for_update=True)
    if rec is None:
        raise UserError(f"there is no mail #{rec_id}; `mailbot review` lists the open ones")
    if rec.resolved_at is not None:
        raise UserError(f"mail #{rec_id} was already resolved ({rec.resolved_at:%Y-%m-%d %H:%M} UTC)")
    if rec.outcome not in OPEN:
        raise UserError(f"mail #{rec_id} was handled automatically; it does not need a human")
    return rec


def understand(w: Worker, rec: InboundRecord, events: list[EventInfo]
               ) -> tuple[InboundMail, Intent | None]:
    """Parse and classify the stored bytes again; when that is impossible, a mail with what
    the record and the headers tell (the sender is enough to register someone)."""
    if rec.raw:
        try:
            return w.understand(rec.raw, events)
        except Exception as exc:  # unreadable or parser missing: fall back to the headers
            log.info("mail #%s cannot be parsed again (%s); using its headers", rec.id,
                     type(exc).__name__)
    head = header_fields(rec.raw)
    sender = rec.sender or head.get("email", "")
    if not sender:
        raise UserError(f"mail #{rec.id} has no sender address; dismiss it "
                        f"(mailbot review dismiss {rec.id})")
    text = rec.excerpt or ""
    mail = InboundMail(
        message_id=server_message_id(rec) or rec.message_id, sender_email=sender.lower(),
        sender_name=head.get("name", ""), reply_to="", to=(), subject=rec.subject or
        head.get("subject", ""), date=None, in_reply_to=(), text=text, signature="", quoted="",
        full_text=text, language="de", headers={})
    return mail, None


def move_to_done(w: Worker, rec_id: int, outcome: Outcome, message_id: str,
                 to: Outcome = Outcome.DONE) -> None:
    """Move the mail on the server too (after the commit: the database is what counts)."""
    if not w.settings.mailbox_url or not message_id or outcome == to:
        return
    if w.mailbox is None:
        w.mailbox = worker(w.settings, mailbox=True).mailbox
    assert w.mailbox is not None
    try:
        found = w.mailbox.move_from(outcome, message_id, to)
    except MailboxError as exc:
        print(f"mailbot: mail #{rec_id} is resolved, but it could not be moved on the server: "
              f"{exc}", file=sys.stderr)
        return
    if found:
        with w.db.session() as s:
            rec = s.get(InboundRecord, rec_id)
            if rec is not None:
                rec.moved_at = w.clock()


def close(w: Worker) -> None:
    if w.mailbox is not None:
        w.mailbox.close()
    w.db.dispose()
