"""event_seats: the seat counter in a narrow table of its own, one row per event

The counter of 0004 sat on the events row, so every registration rewrote the whole row (title,
aliases, venue, ...). On PostgreSQL each rewrite leaves a dead copy of some 330 bytes that only
VACUUM clears, and the copies that no longer fit in the row's page add index entries: 10,000
registrations in one run left a 3-row events table at 5 MB, and the trigger's UPDATE made each
registration's INSERT take 5-7 ms instead of 0.3 ms, longer the longer the run. A row of two
integers is updated in its own page (HOT), and its dead copies are pruned on the next read,
without VACUUM. The triggers keep the counter as before; a new event gets its row from a
trigger on events.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

HOLDING = "('REGISTERED', 'OFFERED')"  # states as stored (member names)
NEW = ("event_seats", "taken", "event_id")  # where the counter is kept: table, column, key
OLD = ("events", "seats_taken", "id")  # 0004's place


def _change(target: tuple[str, str, str], sign: str, row: str) -> str:
    table, column, key = target
    return (f"UPDATE {table} SET {column} = {column} {sign} {row}.seats"
            f" WHERE {key} = {row}.event_id")


def sqlite_triggers(target: tuple[str, str, str]) -> list[str]:
    return [
        f"""CREATE TRIGGER registrations_seats_insert AFTER INSERT ON registrations
        WHEN NEW.state IN {HOLDING} BEGIN {_change(target, '+', 'NEW')}; END""",
        f"""CREATE TRIGGER registrations_seats_delete AFTER DELETE ON registrations
        WHEN OLD.state IN {HOLDING} BEGIN {_change(target, '-', 'OLD')}; END""",
        f"""CREATE TRIGGER registrations_seats_update AFTER UPDATE OF seats, state, event_id
        ON registrations BEGIN
            {_change(target, '-', 'OLD')} AND OLD.state IN {HOLDING};
            {_change(target, '+', 'NEW')} AND NEW.state IN {HOLDING};
        END""",
    ]


SQLITE_NAMES = ["registrations_seats_insert", "registrations_seats_delete",
                "registrations_seats_update"]


def postgres_function(target: tuple[str, str, str]) -> str:
    """The trigger function of 0004 (same name, same trigger), keeping the counter at target."""
    return f"""CREATE OR REPLACE FUNCTION registrations_seats() RETURNS trigger AS $$
    BEGIN
        IF TG_OP <> 'INSERT' THEN
            IF OLD.state IN {HOLDING} THEN
                {_change(target, '-', 'OLD')};
            END IF;
        END IF;
        IF TG_OP <> 'DELETE' THEN
            IF NEW.state IN {HOLDING} THEN
                {_change(target, '+', 'NEW')};
            END IF;
        END IF;
        RETURN NULL;
    END $$ LANGUAGE plpgsql"""


def _count_at(target: tuple[str, str, str], postgres: bool) -> None:
    """The registrations' triggers, made to keep the counter at `target`."""
    if postgres:
        op.execute(postgres_function(target))
        return
    for name in SQLITE_NAMES:
        op.execute(f"DROP TRIGGER {name}")
    for statement in sqlite_triggers(target):
        op.execute(statement)


NEW_EVENT_ROW = "INSERT INTO event_seats (event_id, taken) VALUES (NEW.id, 0)"


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == 'postgresql'
    op.create_table(
        'event_seats',
        sa.Column('event_id', sa.Integer(),
                  sa.ForeignKey('events.id', name='event_seats_event_id_fkey',
                                ondelete='CASCADE'), primary_key=True),
        sa.Column('taken', sa.Integer(), nullable=False, server_default='0'))
    op.execute("INSERT INTO event_seats (event_id, taken) SELECT id, seats_taken FROM events")
    _count_at(NEW, postgres)
    # SQLite copies the events table to drop a column: its trigger is made after that
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_column('seats_taken')
    if postgres:
        op.execute(f"""CREATE FUNCTION events_seats_row() RETURNS trigger AS $$
        BEGIN {NEW_EVENT_ROW}; RETURN NULL; END $$ LANGUAGE plpgsql""")
        op.execute("""CREATE TRIGGER events_seats_row AFTER INSERT ON events
        FOR EACH ROW EXECUTE FUNCTION events_seats_row()""")
    else:
        op.execute(f"""CREATE TRIGGER events_seats_row AFTER INSERT ON events
        BEGIN {NEW_EVENT_ROW}; END""")


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == 'postgresql'
    if postgres:
        op.execute("DROP TRIGGER events_seats_row ON events")
        op.execute("DROP FUNCTION events_seats_row()")
    else:
        op.execute("DROP TRIGGER events_seats_row")
    op.add_column('events', sa.Column('seats_taken', sa.Integer(), nullable=False,
                                      server_default='0'))
    op.execute("""UPDATE events SET seats_taken = coalesce(
        (SELECT taken FROM event_seats WHERE event_seats.event_id = events.id), 0)""")
    _count_at(OLD, postgres)
    op.drop_table('event_seats')
