"""Intake's recording step: the record of one mail, its effects and its replies in one
transaction (alone, or in a savepoint of its batch's transaction), or its quarantine record."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mailbot.apply.chain import apply, chain
from mailbot.apply.inbound import LOCKED_EVENTS, Inbound, prime_events
from mailbot.mailbox import RawMessage
from mailbot.models import InboundRecord
from mailbot.registrations.identity import NEW_PEOPLE, email_key, prime_people
from mailbot.runners.base import REPLIES_TODAY, Runtime, domain, prime_reply_counts
from mailbot.runners.intake_read import Understood, quarantine_reason
from mailbot.runners.office import Office
from mailbot.types import InboundMail, Intent, IntentKind, Outcome

log = logging.getLogger("mailbot")

RAW_KEEP = {Outcome.REVIEW, Outcome.QUARANTINE}  # raw bytes kept only while a human must look


def log_taken_in(raw: RawMessage, mail: InboundMail, intent: Intent, outcome: Outcome) -> None:
    log.info("mail %s:%s from @%s: %s, event %s -> %s", raw.uidvalidity, raw.uid,
             domain(mail.sender_email), intent.kind.value, intent.event or "-", outcome.value)


# -- record and apply: the record, its effects and its replies in one transaction -------------
def find_known(s: Session, raw: RawMessage) -> InboundRecord | None:
    """The record of this very mail (mailbox, UIDVALIDITY, UID) if it was taken in before."""
    return s.scalars(select(InboundRecord).where(
        InboundRecord.mailbox == raw.mailbox, InboundRecord.uidvalidity == raw.uidvalidity,
        InboundRecord.uid == raw.uid)).first()


def find_known_many(s: Session, raws: Sequence[RawMessage]
                    ) -> dict[tuple[str, int, str], Outcome]:
    """The outcomes of those of `raws` that were taken in before, in one query per mailbox
    and UIDVALIDITY (a batch comes from one mailbox)."""
    groups: dict[tuple[str, int], list[str]] = {}
    for raw in raws:
        groups.setdefault((raw.mailbox, raw.uidvalidity), []).append(raw.uid)
    known: dict[tuple[str, int, str], Outcome] = {}
    for (box, validity), uids in groups.items():
        for uid, outcome in s.execute(select(InboundRecord.uid, InboundRecord.outcome).where(
                InboundRecord.mailbox == box, InboundRecord.uidvalidity == validity,
                InboundRecord.uid.in_(uids))):
            known[(box, validity, uid)] = outcome
    return known


def new_record(raw: RawMessage, mail: InboundMail, intent: Intent, now: datetime
               ) -> InboundRecord:
    return InboundRecord(
        mailbox=raw.mailbox, uidvalidity=raw.uidvalidity, uid=raw.uid,
        message_id=mail.message_id, sender=mail.sender_email, subject=mail.subject[:500],
        intent=intent.kind.value, event_slug=intent.event,
        confidence=intent.confidence, outcome=Outcome.DONE,
        excerpt=(intent.question or mail.text)[:500], created_at=now)


def already_applied(s: Session, rec: InboundRecord) -> bool:
    """Add `rec` and claim its Message-ID for it; True (and why, in rec.reason) when a mail
    with that Message-ID was applied before, e.g. delivered twice: its effects stand and this
    one is not applied again. The claim is a unique column, so of two copies taken in at the
    same time only one is applied; a quarantined record never claims (it had no effects).
    The record is written with its claim (one INSERT); only when that fails is it written
    without (a conflict on mailbox, UIDVALIDITY and UID then raises, as it did before).
    In a batch whose claims were looked up at its start (`prime_batch`), a Message-ID nobody
    claimed is claimed without a savepoint of its own: should another worker claim it in
    between, the INSERT raises and `apply_in` takes the mail in once more the careful way."""
    claimed = s.info.get(_CLAIMED)
    if claimed is not None and rec.message_id not in claimed:
        claimed.add(rec.message_id)
        rec.applied_message_id = rec.message_id
        s.add(rec)  # written with the mail's first query or reply, inside its savepoint
        return False
    try:
        with s.begin_nested():  # a lost claim undoes only itself
            rec.applied_message_id = rec.message_id
            s.add(rec)
            s.flush()
        return False
    except IntegrityError:
        pass
    if rec in s:  # undone with its savepoint
        s.expunge(rec)
    rec.applied_message_id = None
    s.add(rec)
    s.flush()
    first = s.scalar(select(InboundRecord.id).where(
        InboundRecord.applied_message_id == rec.message_id))
    rec.reason = f"same Message-ID as mail #{first}: not applied twice"
    return True


def apply_and_answer(s: Session, rt: Runtime, rec: InboundRecord, mail: InboundMail,
                     intent: Intent) -> Outcome:
    """Run the apply chain; a reply held back by the daily limit is noted on the record."""
    m = rt.mailer(s)
    office = Office(rt.settings.tz, lambda: rt.rules, rt.clock)  # coordinator commands
    outcome = apply(s, m, Inbound(rec, mail, intent),
                    chain(rt.settings.min_confidence, rt.settings.trust, office))
    if m.limited:
        rec.reason = f"reply limit reached for {len(set(m.limited))} address(es)"
    return outcome


def record_in(s: Session, rt: Runtime, raw: RawMessage, mail: InboundMail, intent: Intent
              ) -> Outcome:
    """Record one mail in `s` and apply it, unless a mail with its Message-ID was applied
    before; its raw bytes are kept when a human must look at it."""
    rec = new_record(raw, mail, intent, rt.clock())
    outcome = (Outcome.DONE if already_applied(s, rec)
               else apply_and_answer(s, rt, rec, mail, intent))
    rec.outcome = outcome
    if outcome in RAW_KEEP:
        rec.raw = raw.data
    return outcome


def record_and_apply(rt: Runtime, raw: RawMessage, mail: InboundMail, intent: Intent
                     ) -> Outcome:
    with rt.db.session() as s:
        outcome = record_in(s, rt, raw, mail, intent)
    return outcome


def after_conflict(rt: Runtime, raw: RawMessage) -> Outcome:
    """An IntegrityError while recording: another worker recorded the same mail first, and
    its outcome stands."""
    with rt.db.session() as s:
        known = find_known(s, raw)
    if known is not None:
        return known.outcome
    return quarantine(rt, raw, RuntimeError("integrity error while recording"))


# -- quarantine: the mail, its error and its bytes, for a human -------------------------------
def quarantine_record(raw: RawMessage, reason: str, now: datetime) -> InboundRecord:
    return InboundRecord(mailbox=raw.mailbox, uidvalidity=raw.uidvalidity, uid=raw.uid,
                         message_id=_raw_message_id(raw.data) or f"quarantine-{raw.uid}",
                         outcome=Outcome.QUARANTINE, reason=reason, raw=raw.data,
                         created_at=now)


def quarantine(rt: Runtime, raw: RawMessage, exc: BaseException) -> Outcome:
    reason = quarantine_reason(exc)
    log.warning("mail %s:%s quarantined: %s", raw.uidvalidity, raw.uid, reason)
    with rt.db.session() as s:
        if find_known(s, raw) is None:
            s.add(quarantine_record(raw, reason, rt.clock()))
    return Outcome.QUARANTINE


_MESSAGE_ID = re.compile(rb"^message-id:[ \t]*<?([^\s<>]{1,400})>?", re.I | re.M)


def _raw_message_id(data: bytes) -> str | None:
    """The Message-ID of a mail we could not parse, read from its header block only."""
    head = data[:65536].split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    m = _MESSAGE_ID.search(head)
    return m.group(1).decode("ascii", "replace") if m else None


# -- one mail of a batch: the same steps in a savepoint of the batch's transaction ------------
_CLAIMED = "mailbot.claimed"  # Session.info: Message-IDs claimed before or in this batch


def prime_batch(s: Session, rt: Runtime, batch: Sequence[tuple[RawMessage, Understood]]
                ) -> None:
    """Look up, for a batch (or the next part of one) at once, what each mail would otherwise
    ask on its own: which of its Message-IDs were claimed (applied) before, how many
    replies each sender got today (the reply limit), the people its senders and the
    attendees they name are, and the events its registrations name (read and locked). All
    are kept in the session for this transaction only, added to what earlier parts found."""
    read = [got for _raw, got in batch if not isinstance(got, Exception)]
    mails = [mail for mail, _intent in read]
    ids = sorted({m.message_id for m in mails})
    claimed: set[str] = s.info.setdefault(_CLAIMED, set())
    for start in range(0, len(ids), 500):
        claimed.update(s.scalars(select(InboundRecord.applied_message_id).where(
            InboundRecord.applied_message_id.in_(ids[start:start + 500]))))
    prime_reply_counts(s, rt.clock(), [m.answer_to for m in mails if "@" in m.answer_to])
    prime_people(s, [*(m.sender_email for m in mails),
                     *(a.email for _m, i in read for a in i.attendees if a.email)])
    prime_events(s, [i.event for _m, i in read if i.kind == IntentKind.REGISTER and i.event])


@dataclass
class BatchState:
    """What one mail may change of the batch's lookups, to be put back when its savepoint is
    rolled back."""

    claimed: set[str]
    replies: dict[str, int] | None


def remember_batch_state(s: Session) -> BatchState:
    claimed, replies = s.info.get(_CLAIMED), s.info.get(REPLIES_TODAY)
    return BatchState(set(claimed) if claimed is not None else set(),
                      dict(replies) if replies is not None else None)


def restore_batch_state(s: Session, kept: BatchState) -> None:
    """After a mail's savepoint was rolled back: its claims and replies are gone, and so is
    any row lock taken in it (PostgreSQL releases those with the savepoint). A person made in
    it is gone too: `find_person` then asks the database again."""
    if _CLAIMED in s.info:
        s.info[_CLAIMED] = set(kept.claimed)
    if kept.replies is not None:
        s.info[REPLIES_TODAY] = dict(kept.replies)
    s.info.pop(LOCKED_EVENTS, None)


def quarantine_in(s: Session, rt: Runtime, raw: RawMessage, exc: BaseException) -> Outcome:
    """`quarantine` inside the batch's transaction (its own savepoint)."""
    reason = quarantine_reason(exc)
    log.warning("mail %s:%s quarantined: %s", raw.uidvalidity, raw.uid, reason)
    with s.begin_nested():
        if find_known(s, raw) is None:
            s.add(quarantine_record(raw, reason, rt.clock()))
            s.flush()
    return Outcome.QUARANTINE


def apply_in(s: Session, rt: Runtime, raw: RawMessage, got: Understood) -> Outcome:
    """One mail of a batch in its own savepoint: when it fails, only its effects are undone
    and it is quarantined; the others of the batch commit."""
    if isinstance(got, Exception):
        return quarantine_in(s, rt, raw, got)
    mail, intent = got
    kept = remember_batch_state(s)
    s.info.pop(NEW_PEOPLE, None)  # "created for this mail" speaks of one mail only
    try:
        with s.begin_nested():
            outcome = record_in(s, rt, raw, mail, intent)
            s.flush()
    except IntegrityError:
        restore_batch_state(s, kept)
        # another worker recorded the same mail first, and its outcome stands
        known = find_known(s, raw)
        if known is not None:
            return known.outcome
        claimed = s.info.get(_CLAIMED)
        if claimed is not None and mail.message_id not in kept.claimed:
            # its Message-ID was claimed by another worker since the batch began: once more,
            # the careful way (a savepoint for the claim), which records it as a duplicate
            claimed.add(mail.message_id)
            return apply_in(s, rt, raw, got)
        return quarantine_in(s, rt, raw, RuntimeError("integrity error while recording"))
    except Exception as exc:
        restore_batch_state(s, kept)
        return quarantine_in(s, rt, raw, exc)
    log_taken_in(raw, mail, intent, outcome)
    return outcome


# -- a run of registrations: the same steps in ONE savepoint, written in one flush ------------
def people_of(got: Understood) -> frozenset[str] | None:
    """The addresses a registration mail can touch (its sender, whom to answer, the attendees
    it names with an address); None for a mail of any other kind or one that was not read.
    Registrations whose people differ do not depend on one another's unwritten rows: they may
    be written together (`apply_run`)."""
    if isinstance(got, Exception):
        return None
    mail, intent = got
    if intent.kind != IntentKind.REGISTER:
        return None
    return frozenset(email_key(a) for a in (mail.sender_email, mail.answer_to,
                                            *(p.email for p in intent.attendees)) if a)


def apply_run(s: Session, rt: Runtime, run: Sequence[tuple[RawMessage, Understood]]
              ) -> list[Outcome]:
    """Registrations of different people, one after the other in ONE savepoint of the batch's
    transaction, written in one flush at its end (a flush and a savepoint per mail cost more
    than applying the mail). Should any of them fail, or the flush, the savepoint is rolled
    back, what they changed of the batch's lookups is put back, and each is applied again in
    a savepoint of its own (`apply_in`): only a failing mail is quarantined."""
    read = [(raw, *got) for raw, got in run if not isinstance(got, Exception)]
    if len(run) == 1 or len(read) < len(run):
        return [apply_in(s, rt, raw, got) for raw, got in run]
    kept = remember_batch_state(s)
    outcomes: list[Outcome] = []
    try:
        with s.begin_nested():
            for raw, mail, intent in read:
                s.info.pop(NEW_PEOPLE, None)  # "created for this mail" speaks of one mail only
                outcomes.append(record_in(s, rt, raw, mail, intent))
    except Exception as exc:
        restore_batch_state(s, kept)
        s.info.pop(NEW_PEOPLE, None)
        log.debug("a run of %d registrations failed together (%s: %s); one by one instead",
                  len(run), type(exc).__name__, exc)
        return [apply_in(s, rt, raw, got) for raw, got in run]
    for (raw, mail, intent), outcome in zip(read, outcomes, strict=True):
        log_taken_in(raw, mail, intent, outcome)
    return outcomes
