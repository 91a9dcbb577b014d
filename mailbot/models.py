"""SQLAlchemy 2 models: events, people, registrations, inbound mails, outbox rows, erasures."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from mailbot.types import EventInfo, IntentKind, Outcome


def utcnow() -> datetime:
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware datetimes stored as UTC; SQLite forgets the offset, so we put it back."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UtcDateTime, dict[str, Any]: JSON, list[Any]: JSON}


class RegState(enum.StrEnum):
    REGISTERED = "registered"
    WAITING = "waiting"
    OFFERED = "offered"  # a freed seat is held for this waiting registration until offer_until
    CANCELLED = "cancelled"


class OutboxStatus(enum.StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"


class ErasureKind(enum.StrEnum):
    REQUEST = "request"  # the person asked by mail
    RETENTION = "retention"  # the event ended longer ago than its retention_days


class Event(Base):
    __tablename__ = "events"
    __table_args__ = (
        CheckConstraint("capacity >= 0", name="ck_events_capacity_not_negative"),
        CheckConstraint("ends >= starts", name="ck_events_ends_not_before_starts"),
        CheckConstraint("sequence >= 0", name="ck_events_sequence_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    title: Mapped[str] = mapped_column(Text)
    starts: Mapped[datetime]
    ends: Mapped[datetime]
    tz_offset_minutes: Mapped[int] = mapped_column(Integer, default=0)  # as written in the file
    city: Mapped[str] = mapped_column(String(200), default="")
    venue: Mapped[str] = mapped_column(Text, default="")
    capacity: Mapped[int] = mapped_column(Integer, default=0)
    aliases: Mapped[list[Any]] = mapped_column(default=list)
    language: Mapped[str] = mapped_column(String(5), default="de")
    coordinators: Mapped[list[Any]] = mapped_column(default=list)
    registration_deadline: Mapped[datetime | None]
    reminder_days: Mapped[int] = mapped_column(Integer, default=2)
    confirm_hours: Mapped[int | None] = mapped_column(Integer)
    retention_days: Mapped[int] = mapped_column(Integer, default=30)
    sequence: Mapped[int] = mapped_column(Integer, default=0)  # iCalendar SEQUENCE of its entries
    purged_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    registrations: Mapped[list[Registration]] = relationship(back_populates="event")

    def info(self) -> EventInfo:
        from datetime import timedelta, timezone

        tz = timezone(timedelta(minutes=self.tz_offset_minutes))
        return EventInfo(
            slug=self.slug, title=self.title, starts=self.starts.astimezone(tz),
            ends=self.ends.astimezone(tz), city=self.city, venue=self.venue,
            capacity=self.capacity, aliases=tuple(self.aliases or ()), language=self.language,
            coordinators=tuple(self.coordinators or ()),
            registration_deadline=self.registration_deadline, reminder_days=self.reminder_days,
            confirm_hours=self.confirm_hours, retention_days=self.retention_days,
        )


class EventSeats(Base):
    """The seats held (registered or offered) of one event, kept by database triggers on
    registrations (0004, 0005) in the same transaction as every change; a new event gets its
    row from a trigger on events. Read it with seats.seats_taken. A table of its own: the
    counter changes with every registration, and a narrow row is rewritten in place."""

    __tablename__ = "event_seats"

    event_id: Mapped[int] = mapped_column(
        ForeignKey("events.id", name="event_seats_event_id_fkey", ondelete="CASCADE"),
        primary_key=True)
    taken: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class Person(Base):
    __tablename__ = "people"

    id: Mapped[int] = mapped_column(primary_key=True)
    email_key: Mapped[str] = mapped_column(String(320), unique=True)  # lower-case, no +tag
    email: Mapped[str] = mapped_column(String(320))
    name: Mapped[str] = mapped_column(Text, default="")
    organization: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(5), default="de")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    registrations: Mapped[list[Registration]] = relationship(back_populates="person")


class Registration(Base):
    __tablename__ = "registrations"
    # States as stored (member names). Registered/offered hold seats, waiting ones none, a
    # cancelled one nothing; an offer has an end. (Adding seats during an offer registers and
    # keeps offer_until: so no check that only offers have one.)
    __table_args__ = (
        UniqueConstraint("event_id", "person_id"),
        Index("ix_registrations_event_state", "event_id", "state"),
        Index("ix_registrations_event_waiting", "event_id", "waiting_since", "id"),
        CheckConstraint("seats >= 0 AND waiting_seats >= 0",
                        name="ck_registrations_seats_not_negative"),
        CheckConstraint("state NOT IN ('REGISTERED', 'OFFERED') OR seats >= 1",
                        name="ck_registrations_holding_has_seats"),
        CheckConstraint("state <> 'WAITING' OR seats = 0",
                        name="ck_registrations_waiting_holds_no_seats"),
        CheckConstraint("state <> 'CANCELLED' OR (seats = 0 AND waiting_seats = 0"
                        " AND offer_until IS NULL)", name="ck_registrations_cancelled_is_empty"),
        CheckConstraint("state <> 'OFFERED' OR offer_until IS NOT NULL",
                        name="ck_registrations_offer_has_until"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    state: Mapped[RegState] = mapped_column(Enum(RegState, native_enum=False, length=20))
    seats: Mapped[int] = mapped_column(Integer, default=0)  # seats held (registered or offered)
    waiting_seats: Mapped[int] = mapped_column(Integer, default=0)  # seats still on the list
    waiting_since: Mapped[datetime | None]  # order of the waiting list
    offer_until: Mapped[datetime | None]
    attendees: Mapped[list[Any]] = mapped_column(default=list)  # names of further attendees
    organization: Mapped[str | None] = mapped_column(Text)
    has_question: Mapped[bool] = mapped_column(Boolean, default=False)
    question: Mapped[str] = mapped_column(Text, default="")
    registered_by: Mapped[str | None] = mapped_column(String(320))  # sender, when someone else
    uid: Mapped[str] = mapped_column(String(200))  # iCalendar UID, stable for the registration
    reminder_sent_at: Mapped[datetime | None]
    moved_up_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    event: Mapped[Event] = relationship(back_populates="registrations")
    person: Mapped[Person] = relationship(back_populates="registrations")


class InboundRecord(Base):
    """One inbound mail: identity (mailbox, UIDVALIDITY, UID; Message-ID), what it was, outcome."""

    __tablename__ = "inbound_mails"
    __table_args__ = (
        UniqueConstraint("mailbox", "uidvalidity", "uid"),
        # Several records may share a Message-ID (the same mail under two UIDs, a quarantined
        # first copy); only the one whose mail was applied claims it, so a mail is applied once.
        UniqueConstraint("applied_message_id", name="uq_inbound_mails_applied_message_id"),
        CheckConstraint("confidence >= 0 AND confidence <= 1",
                        name="ck_inbound_mails_confidence_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    mailbox: Mapped[str] = mapped_column(String(500))
    uidvalidity: Mapped[int] = mapped_column(Integer)
    uid: Mapped[str] = mapped_column(String(200))
    message_id: Mapped[str] = mapped_column(String(500), index=True)
    applied_message_id: Mapped[str | None] = mapped_column(String(500))  # the claim, see above
    sender: Mapped[str] = mapped_column(String(320), default="")
    subject: Mapped[str] = mapped_column(Text, default="")
    intent: Mapped[IntentKind] = mapped_column(Enum(IntentKind, native_enum=False, length=20),
                                               default=IntentKind.OTHER)
    event_slug: Mapped[str | None] = mapped_column(String(100))
    confidence: Mapped[float] = mapped_column(Float, default=0.0)
    outcome: Mapped[Outcome] = mapped_column(Enum(Outcome, native_enum=False, length=20))
    reason: Mapped[str] = mapped_column(Text, default="")  # why review/quarantine, or the error
    excerpt: Mapped[str] = mapped_column(Text, default="")
    bounced: Mapped[list[Any]] = mapped_column(default=list)  # failed recipients of a bounce
    raw: Mapped[bytes | None] = mapped_column(LargeBinary)  # kept only while a human must look
    resolved_at: Mapped[datetime | None]
    moved_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class OutboxRow(Base):
    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "status", "next_attempt_at"),
        CheckConstraint("auto_submitted IN ('auto-replied', 'auto-generated')",
                        name="ck_outbox_auto_submitted"),
        CheckConstraint("attempts >= 0", name="ck_outbox_attempts_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    template: Mapped[str] = mapped_column(String(50))
    language: Mapped[str] = mapped_column(String(5), default="de")
    to_addr: Mapped[str] = mapped_column(String(320), index=True)
    context: Mapped[dict[str, Any]] = mapped_column(default=dict)
    ics: Mapped[dict[str, Any] | None]
    attachments: Mapped[list[Any]] = mapped_column(default=list)  # [{filename, mime, b64}]
    message_id: Mapped[str] = mapped_column(String(500), unique=True)
    in_reply_to: Mapped[str | None] = mapped_column(String(500))
    references: Mapped[list[Any]] = mapped_column(default=list)
    reply_to: Mapped[str | None] = mapped_column(String(320))
    auto_submitted: Mapped[str] = mapped_column(String(30), default="auto-replied")
    dedupe_key: Mapped[str | None] = mapped_column(String(300), unique=True)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("events.id", ondelete="SET NULL"))
    inbound_id: Mapped[int | None] = mapped_column(
        ForeignKey("inbound_mails.id", ondelete="SET NULL"))
    # only to link a reply to a record written in the same flush (no query of its own)
    inbound: Mapped[InboundRecord | None] = relationship(lazy="raise")
    status: Mapped[OutboxStatus] = mapped_column(
        Enum(OutboxStatus, native_enum=False, length=20), default=OutboxStatus.QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    lease_until: Mapped[datetime | None]
    last_error: Mapped[str] = mapped_column(Text, default="")
    sent_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Erasure(Base):
    """That an erasure happened, and nothing about whom (DSGVO Art. 17 accountability)."""

    __tablename__ = "erasures"
    __table_args__ = (CheckConstraint("registrations_removed >= 0",
                                      name="ck_erasures_removed_not_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    registrations_removed: Mapped[int] = mapped_column(Integer, default=0)
    kind: Mapped[ErasureKind] = mapped_column(Enum(ErasureKind, native_enum=False, length=20),
                                              default=ErasureKind.REQUEST)


class DigestRun(Base):
    """The last digest per coordinator address: once per day, and 'what changed since'."""

    __tablename__ = "digest_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    coordinator: Mapped[str] = mapped_column(String(320))
    day: Mapped[str] = mapped_column(String(10))  # local date, YYYY-MM-DD
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)
    __table_args__ = (UniqueConstraint("coordinator", "day"),)


class PendingState(enum.StrEnum):
    PENDING = "pending"  # the confirmation request is out, no answer yet
    DONE = "done"  # the address said "Ja": the action was carried out
    REFUSED = "refused"  # the address said "Nein": nothing was done
    EXPIRED = "expired"  # the "Ja" came too late: nothing was done


class PendingAction(Base):
    """A destructive request from an unverified sender, held until the address itself confirms
    it by answering our request (whose Message-ID is the token; only the owner received it)."""

    __tablename__ = "pending_actions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(500), unique=True)  # Message-ID of our request
    action: Mapped[str] = mapped_column(String(20))  # cancel | erase | substitute | decline
    sender: Mapped[str] = mapped_column(String(320), index=True)  # email key of the From:
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)  # mail facts + Intent to replay
    inbound_id: Mapped[int | None] = mapped_column(
        ForeignKey("inbound_mails.id", ondelete="SET NULL"))
    state: Mapped[PendingState] = mapped_column(
        Enum(PendingState, native_enum=False, length=20), default=PendingState.PENDING)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    answered_at: Mapped[datetime | None]
