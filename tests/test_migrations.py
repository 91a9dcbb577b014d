"""Migrations on SQLite and PostgreSQL: a database of the first schema keeps its data on upgrade,
and the constraints that arrive with 0002 hold afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from mailbot.database import Database, make_engine, migrate
from mailbot.models import (
    Erasure,
    ErasureKind,
    Event,
    EventSeats,
    InboundRecord,
    OutboxRow,
    Registration,
    RegState,
)
from mailbot.runners.intake import already_applied
from mailbot.types import IntentKind, Outcome

T0 = datetime(2027, 2, 1, 9, 0, tzinfo=UTC)
STARTS = datetime(2027, 3, 4, 9, 0, tzinfo=UTC)


@pytest.fixture
def old_db(db_url: str) -> Iterator[str]:
    """A database at revision 0001 (today's first schema) with data in it (see _fill)."""
    engine = make_engine(db_url)
    try:
        migrate(engine, "0001")
        meta = sa.MetaData()
        meta.reflect(engine)
    finally:
        engine.dispose()
    _fill(db_url, meta)
    yield db_url


@pytest.fixture
def upgraded(old_db: str) -> Iterator[Database]:
    """That database opened by mailbot, which migrates it to head as `mailbot run` does."""
    db = Database(old_db)
    try:
        yield db
    finally:
        db.dispose()


def _insert(db_url: str, meta: sa.MetaData, table: str, rows: list[dict[str, Any]]) -> None:
    engine = make_engine(db_url)
    try:
        with engine.begin() as conn:
            conn.execute(meta.tables[table].insert(), rows)
    finally:
        engine.dispose()


def _fill(db_url: str, meta: sa.MetaData) -> None:
    """An event, people, registrations in every state, mails sharing Message-IDs, an outbox row
    pointing at both, an erasure: written as the first schema stores them (lower-case intents)."""
    _insert(db_url, meta, "events", [dict(
        id=1, slug="fachtag", title="Fachtag", starts=STARTS, ends=STARTS + timedelta(hours=7),
        tz_offset_minutes=60, city="Hannover", venue="", capacity=3, aliases=[], language="de",
        coordinators=["koord@example.org"], registration_deadline=None, reminder_days=2,
        confirm_hours=24, retention_days=30, sequence=0, purged_at=None, created_at=T0,
        updated_at=T0)])
    _insert(db_url, meta, "people", [dict(
        id=i, email_key=f"p{i}@verein.example", email=f"p{i}@verein.example", name=f"P {i}",
        organization=None, language="de", created_at=T0) for i in range(1, 6)])
    reg = dict(event_id=1, attendees=[], organization=None, has_question=False, question="",
               registered_by=None, reminder_sent_at=None, moved_up_at=None, cancelled_at=None,
               waiting_since=None, offer_until=None, created_at=T0, updated_at=T0)
    _insert(db_url, meta, "registrations", [
        {**reg, "id": 1, "person_id": 1, "state": "REGISTERED", "seats": 1, "waiting_seats": 0,
         "uid": "u1"},
        {**reg, "id": 2, "person_id": 2, "state": "REGISTERED", "seats": 1, "waiting_seats": 1,
         "waiting_since": T0, "uid": "u2"},
        {**reg, "id": 3, "person_id": 3, "state": "OFFERED", "seats": 1, "waiting_seats": 0,
         "offer_until": T0 + timedelta(hours=24), "moved_up_at": T0, "uid": "u3"},
        {**reg, "id": 4, "person_id": 4, "state": "WAITING", "seats": 0, "waiting_seats": 2,
         "waiting_since": T0, "uid": "u4"},
        {**reg, "id": 5, "person_id": 5, "state": "CANCELLED", "seats": 0, "waiting_seats": 0,
         "cancelled_at": T0, "uid": "u5"},
    ])
    rec = dict(mailbox="INBOX", uidvalidity=7, sender="p1@verein.example", subject="Anmeldung",
               event_slug="fachtag", confidence=0.9, reason="", excerpt="", bounced=[], raw=None,
               resolved_at=None, moved_at=None, created_at=T0)
    _insert(db_url, meta, "inbound_mails", [
        # the first copy could not be read: it had no effects and claims nothing
        {**rec, "id": 1, "uid": "1", "message_id": "a@x", "intent": "other",
         "outcome": "QUARANTINE", "raw": b"broken"},
        {**rec, "id": 2, "uid": "2", "message_id": "a@x", "intent": "register", "outcome": "DONE"},
        {**rec, "id": 3, "uid": "3", "message_id": "a@x", "intent": "register", "outcome": "DONE",
         "reason": "same Message-ID as mail #2: not applied twice"},
        {**rec, "id": 4, "uid": "4", "message_id": "b@x", "intent": "other", "outcome": "REVIEW"},
        {**rec, "id": 5, "uid": "5", "message_id": "quarantine-5", "intent": "other",
         "outcome": "QUARANTINE"},
        {**rec, "id": 6, "uid": "6", "message_id": "c@x", "intent": "auto_reply",
         "outcome": "DONE"},
    ])
    _insert(db_url, meta, "outbox", [dict(
        id=1, template="confirmation", language="de", to_addr="p1@verein.example", context={},
        ics=None, attachments=[], message_id="own-1@mailbot", in_reply_to="a@x", references=[],
        reply_to=None, auto_submitted="auto-replied", dedupe_key=None, event_id=1, inbound_id=2,
        status="SENT", attempts=1, next_attempt_at=T0, lease_until=None, last_error="",
        sent_at=T0, created_at=T0)])
    _insert(db_url, meta, "erasures", [dict(id=1, at=T0, registrations_removed=2,
                                            kind="retention")])
    engine = make_engine(db_url)
    try:
        with engine.begin() as conn:
            if conn.dialect.name == "postgresql":  # the rows above gave their ids themselves
                for table in ("events", "people", "registrations", "inbound_mails", "outbox",
                              "erasures"):
                    conn.execute(sa.text(f"SELECT setval(pg_get_serial_sequence('{table}', "
                                         f"'id'), (SELECT max(id) FROM {table}))"))
    finally:
        engine.dispose()


def _fails(db: Database, **changes: Any) -> bool:
    """Whether inserting a registration of the first event for a new person is refused."""
    from mailbot.models import Person

    try:
        with db.session() as s:
            person = Person(email_key="new@x", email="new@x")
            s.add(person)
            s.flush()
            row: dict[str, Any] = dict(event_id=1, person_id=person.id, uid="new", seats=1,
                                       waiting_seats=0, state=RegState.REGISTERED)
            s.add(Registration(**{**row, **changes}))
    except IntegrityError:
        return True
    return False


def test_an_upgrade_keeps_every_row_and_claims_each_applied_message_id_once(
        upgraded: Database) -> None:
    db = upgraded
    with db.session() as s:
        regs = {r.id: r for r in s.scalars(sa.select(Registration))}
        assert {i: (r.state, r.seats, r.waiting_seats) for i, r in regs.items()} == {
            1: (RegState.REGISTERED, 1, 0), 2: (RegState.REGISTERED, 1, 1),
            3: (RegState.OFFERED, 1, 0), 4: (RegState.WAITING, 0, 2),
            5: (RegState.CANCELLED, 0, 0)}
        assert regs[3].offer_until == T0 + timedelta(hours=24)
        # copying a table on SQLite must not cascade: the outbox row keeps its references
        row = s.scalars(sa.select(OutboxRow)).one()
        assert (row.inbound_id, row.event_id) == (2, 1)
        recs = {r.id: r for r in s.scalars(sa.select(InboundRecord))}
        assert {i: r.intent for i, r in recs.items()} == {
            1: IntentKind.OTHER, 2: IntentKind.REGISTER, 3: IntentKind.REGISTER,
            4: IntentKind.OTHER, 5: IntentKind.OTHER, 6: IntentKind.AUTO_REPLY}
        assert {i: r.applied_message_id for i, r in recs.items()} == {
            1: None, 2: "a@x", 3: None, 4: "b@x", 5: None, 6: "c@x"}
        assert s.scalars(sa.select(Erasure)).one().kind == ErasureKind.RETENTION
        assert s.scalar(sa.select(sa.func.count()).select_from(Event)) == 1
    with db.engine.connect() as conn:  # stored like `outcome`: the member's name
        assert conn.execute(sa.text("SELECT intent FROM inbound_mails WHERE id = 6")
                            ).scalar() == "AUTO_REPLY"


def test_after_the_upgrade_the_constraints_refuse_impossible_rows(upgraded: Database) -> None:
    db = upgraded
    assert not _fails(db)  # the baseline row is fine
    assert _fails(db, seats=0)  # registered without a seat
    assert _fails(db, state=RegState.OFFERED)  # an offer without an end
    assert _fails(db, state=RegState.WAITING, waiting_seats=1)  # waiting but holding one
    assert _fails(db, state=RegState.CANCELLED, seats=0, waiting_seats=1)
    assert _fails(db, seats=-1, state=RegState.WAITING)
    with pytest.raises(IntegrityError), db.session() as s:
        s.get_one(Event, 1).capacity = -1
    with pytest.raises(IntegrityError), db.session() as s:
        s.get_one(InboundRecord, 3).applied_message_id = "a@x"  # #2 claimed it


def test_a_later_copy_of_an_applied_mail_loses_the_claim(upgraded: Database) -> None:
    def take(uid: str, message_id: str) -> tuple[bool, str, str | None]:
        with upgraded.session() as s:
            rec = InboundRecord(mailbox="INBOX", uidvalidity=7, uid=uid,
                                message_id=message_id, intent=IntentKind.REGISTER,
                                outcome=Outcome.DONE, created_at=T0)
            dup = already_applied(s, rec)
            return dup, rec.reason, rec.applied_message_id

    assert take("7", "a@x") == (True, "same Message-ID as mail #2: not applied twice", None)
    assert take("8", "d@x") == (False, "", "d@x")
    with upgraded.session() as s:  # (PostgreSQL's ids may skip one: a lost claim's INSERT)
        eight = s.scalar(sa.select(InboundRecord.id).where(InboundRecord.uid == "8"))
    assert take("9", "d@x") == (True, f"same Message-ID as mail #{eight}: not applied twice",
                                None)


@pytest.fixture
def engine(old_db: str) -> Iterator[sa.Engine]:
    e = make_engine(old_db)
    try:
        yield e
    finally:
        e.dispose()


def test_rows_that_would_break_a_new_check_stop_the_upgrade_with_their_ids(engine: sa.Engine
                                                                          ) -> None:
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE registrations SET seats = 1 WHERE id = 5"))
    with pytest.raises(RuntimeError, match=r"registrations ids \[5\] break "
                                           r"ck_registrations_cancelled_is_empty"):
        migrate(engine)
    with engine.connect() as conn:  # nothing changed: still the first schema
        assert conn.execute(sa.text("SELECT version_num FROM alembic_version")
                            ).scalar() == "0001"
        assert conn.execute(sa.text("SELECT intent FROM inbound_mails WHERE id = 2")
                            ).scalar() == "register"


def test_a_downgrade_gives_the_first_schema_back(engine: sa.Engine) -> None:
    migrate(engine)
    migrate(engine, "0001", down=True)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT intent FROM inbound_mails ORDER BY id")
                            ).scalars().all() == ["other", "register", "register", "other",
                                                  "other", "auto_reply"]
        assert conn.execute(sa.text("SELECT count(*) FROM registrations")).scalar() == 5
        assert conn.execute(sa.text("SELECT inbound_id FROM outbox")).scalar() == 2
        assert "applied_message_id" not in {
            c["name"] for c in sa.inspect(conn).get_columns("inbound_mails")}


def _taken(db: Database) -> int:
    with db.engine.connect() as conn:
        return int(conn.execute(sa.text("SELECT taken FROM event_seats WHERE event_id = 1")
                                ).scalar())


def test_the_seat_counter_starts_from_the_registrations_and_follows_every_change(
        upgraded: Database) -> None:
    db = upgraded
    assert _taken(db) == 3  # 1 registered + 1 registered (+1 waiting) + 1 offered
    assert not _fails(db)  # a new registration with one seat (a new person)
    assert _taken(db) == 4
    with db.engine.begin() as conn:  # bulk statements, not the ORM: the triggers still count
        conn.execute(sa.text("UPDATE registrations SET seats = 2 WHERE id = 1"))
        conn.execute(sa.text("UPDATE registrations SET state = 'CANCELLED', seats = 0, "
                             "offer_until = NULL WHERE id = 3"))
        conn.execute(sa.text("UPDATE registrations SET state = 'REGISTERED', seats = 2, "
                             "waiting_seats = 0 WHERE id = 4"))
    assert _taken(db) == 2 + 1 + 0 + 2 + 1
    with db.engine.begin() as conn:  # a person deleted: the cascade takes their seats along
        conn.execute(sa.text("DELETE FROM people WHERE id = 4"))
    assert _taken(db) == 4


def test_a_downgrade_from_the_seat_counter_drops_it_and_its_triggers(engine: sa.Engine
                                                                      ) -> None:
    migrate(engine)
    migrate(engine, "0003", down=True)
    with engine.begin() as conn:
        assert "seats_taken" not in {c["name"] for c in sa.inspect(conn).get_columns("events")}
        conn.execute(sa.text("UPDATE registrations SET seats = 2 WHERE id = 1"))  # no trigger
    migrate(engine)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT taken FROM event_seats")).scalar() == 4


def test_the_counter_moves_to_its_own_table_and_back_with_its_count(engine: sa.Engine
                                                                    ) -> None:
    """0005 moves the counter off the events row (each registration rewrote the whole row) into
    event_seats; a downgrade to 0004 puts it back, counted as before, and so do the triggers."""
    migrate(engine)
    with engine.begin() as conn:
        assert "seats_taken" not in {c["name"] for c in sa.inspect(conn).get_columns("events")}
        assert conn.execute(sa.text("SELECT taken FROM event_seats WHERE event_id = 1")
                            ).scalar() == 3
        conn.execute(sa.text("UPDATE registrations SET seats = 2 WHERE id = 1"))
    migrate(engine, "0004", down=True)
    with engine.begin() as conn:
        assert "event_seats" not in sa.inspect(conn).get_table_names()
        assert conn.execute(sa.text("SELECT seats_taken FROM events WHERE id = 1")
                            ).scalar() == 4
        conn.execute(sa.text("UPDATE registrations SET seats = 3 WHERE id = 1"))  # 0004's trigger
        assert conn.execute(sa.text("SELECT seats_taken FROM events WHERE id = 1")
                            ).scalar() == 5
    migrate(engine)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT taken FROM event_seats WHERE event_id = 1")
                            ).scalar() == 5


def test_a_new_event_gets_its_counter_row_and_takes_it_along_when_deleted(
        upgraded: Database) -> None:
    with upgraded.session() as s:
        ev = Event(slug="neu-2027", title="Neu", starts=STARTS, ends=STARTS + timedelta(hours=3),
                   capacity=10)
        s.add(ev)
        s.flush()
        assert s.scalar(sa.select(EventSeats.taken).where(EventSeats.event_id == ev.id)) == 0
        event_id = ev.id
    with upgraded.session() as s:
        s.delete(s.get(Event, event_id))
    with upgraded.session() as s:
        assert s.get(EventSeats, event_id) is None
