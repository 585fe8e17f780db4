"""The day at the desk (issue 11): guards on the schedule, merges of duplicate clients, tips.

- booking_policy: check-in opens `check_in_window_minutes` before a visit's start (and
  never before the visit's own day); a no-show may be marked, with its fee, once
  `no_show_grace_minutes` have passed since the start.
- appointment.override_reason: why staff booked a client into overlapping or
  back-to-back visits with two providers after the warning.
- billing_settings.confirm_over_cents: a sale or payment at the desk above this amount asks
  for a confirmation first.
- client_merge: one row per merged duplicate (append-only, like the audit log): which
  record went into which, by whom, when, and what moved. The duplicate itself is kept
  (archived), with everything that cannot move (signed notes, issued invoices, stored
  documents, the audit trail), and read together with the record it went into.
- tip: a tip at check-out, kept apart from the invoice (not revenue of the practice; it
  belongs to the provider's pay).

Frozen as SQL (a migration never imports portal.models).
"""

from portal import ddl
from portal.pagecache import add_change_triggers

COLUMNS = [
    ("booking_policy", "check_in_window_minutes", "INTEGER NOT NULL DEFAULT 240"),
    ("booking_policy", "no_show_grace_minutes", "INTEGER NOT NULL DEFAULT 15"),
    ("appointment", "override_reason", "VARCHAR(255) NOT NULL DEFAULT ''"),
    ("billing_settings", "confirm_over_cents", "INTEGER NOT NULL DEFAULT 20000"),
]

TABLES = [
    """CREATE TABLE client_merge (
        id INTEGER PRIMARY KEY,
        practice_id INTEGER NOT NULL REFERENCES practice (id) ON DELETE RESTRICT,
        from_client_id INTEGER NOT NULL UNIQUE REFERENCES client (id) ON DELETE RESTRICT,
        into_client_id INTEGER NOT NULL REFERENCES client (id) ON DELETE RESTRICT,
        merged_by_id INTEGER REFERENCES user (id) ON DELETE SET NULL,
        merged_at DATETIME NOT NULL,
        moved TEXT NOT NULL DEFAULT '',
        CHECK (from_client_id <> into_client_id)
    )""",
    "CREATE INDEX client_merge_into ON client_merge (into_client_id)",
    "CREATE INDEX client_merge_practice ON client_merge (practice_id, merged_at)",
    "CREATE INDEX client_merge_merged_by ON client_merge (merged_by_id)",
    """CREATE TRIGGER client_merge_no_update BEFORE UPDATE ON client_merge
        BEGIN SELECT RAISE(ABORT, 'a merge is recorded once and never changed'); END""",
    """CREATE TRIGGER client_merge_no_delete BEFORE DELETE ON client_merge
        BEGIN SELECT RAISE(ABORT, 'a merge is recorded once and never changed'); END""",
    """CREATE TABLE tip (
        id INTEGER PRIMARY KEY,
        practice_id INTEGER NOT NULL REFERENCES practice (id) ON DELETE RESTRICT,
        client_id INTEGER NOT NULL REFERENCES client (id) ON DELETE RESTRICT,
        appointment_id INTEGER REFERENCES appointment (id) ON DELETE SET NULL,
        provider_id INTEGER NOT NULL REFERENCES provider (id) ON DELETE RESTRICT,
        method VARCHAR(255) NOT NULL,
        amount_cents INTEGER NOT NULL CHECK (amount_cents > 0),
        reference VARCHAR(255) NOT NULL DEFAULT '',
        stripe_payment_intent_id VARCHAR(255) UNIQUE,
        created_by_id INTEGER REFERENCES user (id) ON DELETE SET NULL,
        created_at DATETIME NOT NULL
    )""",
    "CREATE INDEX tip_provider ON tip (provider_id, created_at)",
    "CREATE INDEX tip_practice ON tip (practice_id, created_at)",
    "CREATE INDEX tip_client ON tip (client_id)",
    "CREATE INDEX tip_appointment ON tip (appointment_id)",
    "CREATE INDEX tip_created_by ON tip (created_by_id)",
    # The duplicate check on a new client: same e-mail or same phone in the practice.
    "CREATE INDEX client_practice_email ON client (practice_id, email)",
    "CREATE INDEX client_practice_phone ON client (practice_id, phone_digits)",
]
NEW_TABLES = ("client_merge", "tip")

# PostgreSQL's versions of the triggers above (ddl.run skips CREATE TRIGGER there).
_MERGE = "a merge is recorded once and never changed"
PG = [
    ddl.refuse("client_merge_no_update", "BEFORE UPDATE", "client_merge", _MERGE),
    ddl.refuse("client_merge_no_delete", "BEFORE DELETE", "client_merge", _MERGE),
]


def up(migrator, db):
    for table, column, spec in COLUMNS:
        ddl.run(db, f"ALTER TABLE {table} ADD COLUMN {column} {spec}")
    for sql in TABLES:
        ddl.run(db, sql)
    ddl.pg(db, PG)
    for table in NEW_TABLES:
        add_change_triggers(db, table)


def down(migrator, db):
    ddl.run(db, "DROP INDEX IF EXISTS client_practice_phone")
    ddl.run(db, "DROP INDEX IF EXISTS client_practice_email")
    for table in reversed(NEW_TABLES):
        ddl.run(db, f'DROP TABLE IF EXISTS "{table}"')
    for table, column, _ in reversed(COLUMNS):
        ddl.run(db, f"ALTER TABLE {table} DROP COLUMN {column}")
