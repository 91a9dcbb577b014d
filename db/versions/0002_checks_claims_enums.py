"""named CHECK constraints, the Message-ID claim, intent and erasure kind as enums

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-06

- CHECK constraints (named) for what the domain code never writes: negative seats or capacity,
  a registered/offered row without seats, a waiting row with seats, a cancelled row holding
  anything, an offer without an end, events ending before they start, unknown Auto-Submitted.
- inbound_mails.applied_message_id: the Message-ID, set only on the record that applied the
  mail, unique. Today's data is backfilled: per Message-ID, the first record that was applied
  (not quarantined, not itself a "not applied twice" duplicate) claims it.
- inbound_mails.intent and erasures.kind are stored like `outcome`: the Enum member's name.

Rows that break a new CHECK stop the migration with their ids, before anything is changed.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHECKS: list[tuple[str, str, str]] = [  # (table, name, condition)
    ("events", "ck_events_capacity_not_negative", "capacity >= 0"),
    ("events", "ck_events_ends_not_before_starts", "ends >= starts"),
    ("events", "ck_events_sequence_not_negative", "sequence >= 0"),
    ("registrations", "ck_registrations_seats_not_negative", "seats >= 0 AND waiting_seats >= 0"),
    ("registrations", "ck_registrations_holding_has_seats",
     "state NOT IN ('REGISTERED', 'OFFERED') OR seats >= 1"),
    ("registrations", "ck_registrations_waiting_holds_no_seats", "state <> 'WAITING' OR seats = 0"),
    ("registrations", "ck_registrations_cancelled_is_empty",
     "state <> 'CANCELLED' OR (seats = 0 AND waiting_seats = 0 AND offer_until IS NULL)"),
    ("registrations", "ck_registrations_offer_has_until",
     "state <> 'OFFERED' OR offer_until IS NOT NULL"),
    ("inbound_mails", "ck_inbound_mails_confidence_range", "confidence >= 0 AND confidence <= 1"),
    ("outbox", "ck_outbox_auto_submitted", "auto_submitted IN ('auto-replied', 'auto-generated')"),
    ("outbox", "ck_outbox_attempts_not_negative", "attempts >= 0"),
    ("erasures", "ck_erasures_removed_not_negative", "registrations_removed >= 0"),
]
INTENTS = ("register", "cancel", "question", "erase", "auto_reply", "bounce", "other")
CLAIM = "uq_inbound_mails_applied_message_id"


def _refuse_violations() -> None:
    """Name the rows a new CHECK would reject instead of failing halfway through a table copy."""
    bind = op.get_bind()
    bad = []
    for table, name, condition in CHECKS:
        ids = [r[0] for r in bind.execute(sa.text(
            f"SELECT id FROM {table} WHERE NOT ({condition}) ORDER BY id LIMIT 10"))]
        if ids:
            bad.append(f"{table} ids {ids} break {name} ({condition})")
    if bad:
        raise RuntimeError("cannot add the constraints of migration 0002; fix these rows "
                           "first: " + "; ".join(bad))


def upgrade() -> None:
    # enums stored by member name, as `outcome` is; a value outside the set was never written
    intents = ", ".join(f"'{v}'" for v in INTENTS)
    op.execute(f"UPDATE inbound_mails SET intent = 'other' WHERE intent NOT IN ({intents})")
    op.execute("UPDATE inbound_mails SET intent = UPPER(intent)")
    op.execute("UPDATE erasures SET kind = 'request' WHERE kind NOT IN ('request', 'retention')")
    op.execute("UPDATE erasures SET kind = UPPER(kind)")
    _refuse_violations()

    tables: dict[str, list[tuple[str, str]]] = {}
    for table, name, condition in CHECKS:
        tables.setdefault(table, []).append((name, condition))
    for table, checks in tables.items():
        with op.batch_alter_table(table) as batch:
            if table == "inbound_mails":
                batch.add_column(sa.Column("applied_message_id", sa.String(500), nullable=True))
                batch.create_unique_constraint(CLAIM, ["applied_message_id"])
            for name, condition in checks:
                batch.create_check_constraint(name, condition)

    # the claim: the first applied record per Message-ID (one per id, so unique as required)
    op.execute(
        "UPDATE inbound_mails SET applied_message_id = message_id WHERE id IN ("
        " SELECT MIN(id) FROM inbound_mails WHERE outcome <> 'QUARANTINE'"
        " AND reason NOT LIKE 'same Message-ID as mail #%' GROUP BY message_id)")


def downgrade() -> None:
    tables: dict[str, list[str]] = {}
    for table, name, _ in CHECKS:
        tables.setdefault(table, []).append(name)
    for table, names in tables.items():
        with op.batch_alter_table(table) as batch:
            for name in names:
                batch.drop_constraint(name, type_="check")
            if table == "inbound_mails":
                batch.drop_constraint(CLAIM, type_="unique")
                batch.drop_column("applied_message_id")
    op.execute("UPDATE inbound_mails SET intent = LOWER(intent)")
    op.execute("UPDATE erasures SET kind = LOWER(kind)")
