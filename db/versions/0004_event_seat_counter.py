"""events.seats_taken: the seats held (registered or offered) of each event, kept by triggers

Counting the seats summed over an event's registrations, so its cost grew with them; the
counter is read by primary key. Triggers on registrations keep it in the same transaction as
every change, whichever way a row changes (the ORM, a bulk UPDATE or DELETE, a cascade from a
deleted person or event), on SQLite and PostgreSQL alike. A later migration that copies the
registrations table on SQLite (batch mode) must create the triggers again.
The index serves a registration's waiting-list position (a count of those before it).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

HOLDING = "('REGISTERED', 'OFFERED')"  # states as stored (member names)

SQLITE_TRIGGERS = [
    f"""CREATE TRIGGER registrations_seats_insert AFTER INSERT ON registrations
    WHEN NEW.state IN {HOLDING} BEGIN
        UPDATE events SET seats_taken = seats_taken + NEW.seats WHERE id = NEW.event_id;
    END""",
    f"""CREATE TRIGGER registrations_seats_delete AFTER DELETE ON registrations
    WHEN OLD.state IN {HOLDING} BEGIN
        UPDATE events SET seats_taken = seats_taken - OLD.seats WHERE id = OLD.event_id;
    END""",
    f"""CREATE TRIGGER registrations_seats_update AFTER UPDATE OF seats, state, event_id
    ON registrations BEGIN
        UPDATE events SET seats_taken = seats_taken - OLD.seats
            WHERE id = OLD.event_id AND OLD.state IN {HOLDING};
        UPDATE events SET seats_taken = seats_taken + NEW.seats
            WHERE id = NEW.event_id AND NEW.state IN {HOLDING};
    END""",
]
SQLITE_NAMES = ["registrations_seats_insert", "registrations_seats_delete",
                "registrations_seats_update"]

POSTGRES_FUNCTION = f"""CREATE FUNCTION registrations_seats() RETURNS trigger AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        IF OLD.state IN {HOLDING} THEN
            UPDATE events SET seats_taken = seats_taken - OLD.seats WHERE id = OLD.event_id;
        END IF;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        IF NEW.state IN {HOLDING} THEN
            UPDATE events SET seats_taken = seats_taken + NEW.seats WHERE id = NEW.event_id;
        END IF;
    END IF;
    RETURN NULL;
END $$ LANGUAGE plpgsql"""
POSTGRES_TRIGGER = """CREATE TRIGGER registrations_seats
    AFTER INSERT OR DELETE OR UPDATE OF seats, state, event_id ON registrations
    FOR EACH ROW EXECUTE FUNCTION registrations_seats()"""


def upgrade() -> None:
    op.add_column('events', sa.Column('seats_taken', sa.Integer(), nullable=False,
                                      server_default='0'))
    op.execute(f"""UPDATE events SET seats_taken = (
        SELECT coalesce(sum(r.seats), 0) FROM registrations r
        WHERE r.event_id = events.id AND r.state IN {HOLDING})""")
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(POSTGRES_FUNCTION)
        op.execute(POSTGRES_TRIGGER)
    else:
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)
    op.create_index('ix_registrations_event_waiting', 'registrations',
                    ['event_id', 'waiting_since', 'id'])


def downgrade() -> None:
    op.drop_index('ix_registrations_event_waiting', table_name='registrations')
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP TRIGGER registrations_seats ON registrations")
        op.execute("DROP FUNCTION registrations_seats()")
    else:
        for name in SQLITE_NAMES:
            op.execute(f"DROP TRIGGER {name}")
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_column('seats_taken')
