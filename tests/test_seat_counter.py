"""The seat counter (migration 0004) with 10,000 registrations already there: the free seats
and waiting-list positions are those counted the long way, on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import func, insert, select

from mailbot.models import Event, Person, Registration, RegState
from mailbot.registrations.seats import HOLDING, position_of, seats_free, waiting_list
from tests.factories import NOW, World, event

EXISTING = 10_000
CAPACITY = 7_716  # full after the new party: 7,714 seats held by those filled in, 2 free


def _fill(w: World) -> None:
    """10,000 registrations in one go (no ORM objects): held seats for most, some waiting,
    some cancelled."""
    with w.db.session() as s:
        event_id = s.scalar(select(Event.id))
        s.execute(insert(Person), [dict(email_key=f"p{i}@x.example", email=f"p{i}@x.example",
                                        name=f"P {i}", language="de", created_at=NOW)
                                   for i in range(EXISTING)])
        ids = s.scalars(select(Person.id).order_by(Person.id)).all()
        rows = []
        for n, pid in enumerate(ids):
            state = (RegState.CANCELLED if n % 10 == 0 else RegState.WAITING if n % 7 == 0
                     else RegState.REGISTERED)
            rows.append(dict(event_id=event_id, person_id=pid, state=state, uid=f"u{n}",
                             seats=1 if state == RegState.REGISTERED else 0,
                             waiting_seats=2 if state == RegState.WAITING else 0,
                             waiting_since=NOW if state == RegState.WAITING else None,
                             attendees=[], created_at=NOW, updated_at=NOW))
        s.execute(insert(Registration), rows)


def test_free_seats_and_positions_match_the_registrations_however_many(db_url: str) -> None:
    w = World(db_url, [event(capacity=CAPACITY)])
    _fill(w)
    w.register("new@verein.example", seats=3)  # 2 seats now, 1 waiting
    w.cancel("p1@x.example")  # its seat goes to the first who fits: the new party's third
    with w.db.session() as s:
        ev = s.scalars(select(Event)).one()
        held = s.scalar(select(func.sum(Registration.seats)).where(
            Registration.event_id == ev.id, Registration.state.in_(HOLDING)))
        assert held == CAPACITY and seats_free(s, ev) == 0
        waiting = waiting_list(s, ev)
        assert len(waiting) > 1000
        for i in (0, 1, len(waiting) // 2, len(waiting) - 1):
            assert position_of(s, waiting[i]) == i + 1


def test_the_counter_is_read_again_only_after_a_write_in_the_same_transaction(
        db_url: str) -> None:
    """A run of registrations counts seats once per registration: the counter is read from
    the database once, and again only after anything was written (a flush, a statement, a
    savepoint rolled back), which may have moved it; never across transactions."""
    from sqlalchemy import event as sa_event

    from mailbot.registrations.seats import seats_taken

    w = World(db_url, [event(capacity=50)])
    w.register("first@verein.example", seats=2)
    reads: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if "event_seats" in statement and statement.lstrip().upper().startswith("SELECT"):
            reads.append(statement)

    sa_event.listen(w.db.engine, "after_cursor_execute", count)
    try:
        with w.db.session() as s:
            ev = s.scalars(select(Event)).one()
            assert [seats_taken(s, ev) for _ in range(3)] == [2, 2, 2] and len(reads) == 1
            with s.begin_nested() as nested:
                s.execute(insert(Person), [dict(email_key="x@x.example", email="x@x.example",
                                                name="X", language="de", created_at=NOW)])
                other = s.scalar(select(Person.id).where(Person.email == "x@x.example"))
                s.execute(insert(Registration), [dict(
                    event_id=ev.id, person_id=other, state=RegState.REGISTERED, uid="u-x",
                    seats=3, waiting_seats=0, attendees=[], created_at=NOW, updated_at=NOW)])
                assert seats_taken(s, ev) == 5 and len(reads) == 2
                nested.rollback()
            assert seats_taken(s, ev) == 2 and len(reads) == 3
        with w.db.session() as s:
            ev = s.scalars(select(Event)).one()
            assert seats_taken(s, ev) == 2 and len(reads) == 4  # a new transaction reads anew
    finally:
        sa_event.remove(w.db.engine, "after_cursor_execute", count)
