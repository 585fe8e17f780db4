"""The TA1 (interchange acknowledgment): the clearinghouse's answer to a whole 837P file's
envelope, before any of it is read. A TA1 that rejects a file is applied to it: the file
is rejected and its claims go back to the work list (services/claims/acks.py).

- clearinghouse_file.kind: 'ta1', a received file holding one (migration 0013 allowed
  '999', '277', '835' and 'unknown');
- claim_problem.source: 'ta1', a claim's problem from a TA1 (0014: rules, 999, 277ca,
  835, desk);
- claim_batch.ta1_status ('', A, E or R: TA104) and ta1_detail (what it said, in words),
  kept apart from the 999's ack_status and ack_detail: an "accepted with errors" TA1 stays
  on the file's page after its 999 comes.

SQLite changes a CHECK only by rebuilding the table, which drops its indexes and triggers
(the append-only guards and the render cache's change triggers): they are made again.
clearinghouse_download refers to clearinghouse_file: the old table is renamed away with
PRAGMA legacy_alter_table on, and foreign keys off (the migration runner turns them off),
so that reference keeps naming clearinghouse_file, the new table. PostgreSQL changes a
CHECK in place. Down: a TA1 file reads as 'unknown' again (one still 'new' as 'error', as
the portal kept a TA1 before), a TA1 problem as a 999's (a clearinghouse's answer to the
file, cleared the same ways).

Frozen as SQL (a migration never imports portal.models). Depends on 0013 and 0014.
"""

from portal import ddl
from portal.pagecache import add_change_triggers

FILE_TABLE = """CREATE TABLE clearinghouse_file (
        id INTEGER PRIMARY KEY,
        practice_id INTEGER NOT NULL REFERENCES practice (id) ON DELETE RESTRICT,
        sha256 VARCHAR(255) NOT NULL CHECK (length(sha256) = 64),
        size_bytes INTEGER NOT NULL CHECK (size_bytes >= 0),
        data BLOB NOT NULL,
        remote_name VARCHAR(255) NOT NULL,
        kind VARCHAR(255) NOT NULL CHECK ({check}),
        status VARCHAR(255) NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'processed', 'error')),
        error TEXT NOT NULL DEFAULT '',
        received_at DATETIME NOT NULL,
        processed_at DATETIME
    )"""
FILE_AFTER = (
    "CREATE UNIQUE INDEX clearinghouse_file_hash ON clearinghouse_file (practice_id, sha256)",
    "CREATE INDEX clearinghouse_file_status ON clearinghouse_file (practice_id, status, id)",
    "CREATE INDEX clearinghouse_file_received ON clearinghouse_file (practice_id, received_at)",
    """CREATE TRIGGER clearinghouse_file_no_update BEFORE UPDATE ON clearinghouse_file
        WHEN NEW.data IS NOT OLD.data OR NEW.sha256 IS NOT OLD.sha256
          OR NEW.size_bytes IS NOT OLD.size_bytes OR NEW.practice_id IS NOT OLD.practice_id
        BEGIN SELECT RAISE(ABORT, 'a received file never changes'); END""",
    """CREATE TRIGGER clearinghouse_file_no_delete BEFORE DELETE ON clearinghouse_file
        BEGIN SELECT RAISE(ABORT, 'a received file is never deleted'); END""",
)
PROBLEM_TABLE = """CREATE TABLE claim_problem (
        id INTEGER PRIMARY KEY,
        practice_id INTEGER NOT NULL REFERENCES practice (id) ON DELETE RESTRICT,
        claim_id INTEGER NOT NULL REFERENCES claim (id) ON DELETE CASCADE,
        code VARCHAR(255) NOT NULL,
        message TEXT NOT NULL,
        fix_where VARCHAR(255) NOT NULL DEFAULT 'claim',
        field VARCHAR(255) NOT NULL DEFAULT '',
        source VARCHAR(255) NOT NULL DEFAULT 'rules'
            CHECK ({check}),
        created_at DATETIME NOT NULL
    )"""
PROBLEM_AFTER = (
    "CREATE INDEX claim_problem_claim ON claim_problem (claim_id)",
    "CREATE INDEX claim_problem_practice ON claim_problem (practice_id, fix_where)",
)
# (table, column, CREATE TABLE, what follows it, the allowed values before and after 0024)
TABLES = (
    ("clearinghouse_file", "kind", FILE_TABLE, FILE_AFTER,
     ("999", "277", "835", "unknown"), ("999", "277", "835", "ta1", "unknown")),
    ("claim_problem", "source", PROBLEM_TABLE, PROBLEM_AFTER,
     ("rules", "999", "277ca", "835", "desk"), ("rules", "999", "277ca", "835", "desk", "ta1")),
)  # fmt: skip
COLUMNS = (
    "ALTER TABLE claim_batch ADD COLUMN ta1_status VARCHAR(255) NOT NULL DEFAULT '' "
    "CHECK (ta1_status IN ('', 'A', 'E', 'R'))",
    "ALTER TABLE claim_batch ADD COLUMN ta1_detail TEXT NOT NULL DEFAULT ''",
)


def _check(column, values):
    return f"{column} IN (" + ", ".join(f"'{v}'" for v in values) + ")"


def _columns(db, table):
    return ", ".join(c.name for c in db.get_columns(table))


def _rebuild(db, table, column, create, after, values):
    check = _check(column, values)
    if ddl.is_postgres(db):  # PostgreSQL changes a CHECK in place, triggers kept
        db.execute_sql(
            f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {table}_{column}_check, "
            f"ADD CONSTRAINT {table}_{column}_check CHECK ({check})"
        )
        return
    (fks,) = db.execute_sql("PRAGMA foreign_keys").fetchone()
    if fks:  # a rename would carry clearinghouse_download's reference to the old table
        raise RuntimeError("Migration 0024 runs with foreign keys off (as the runner does).")
    columns = _columns(db, table)
    old = f"{table}_before_0024"
    db.execute_sql("PRAGMA legacy_alter_table = ON")
    try:
        db.execute_sql(f"ALTER TABLE {table} RENAME TO {old}")
    finally:
        db.execute_sql("PRAGMA legacy_alter_table = OFF")
    db.execute_sql(create.format(check=check))
    db.execute_sql(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {old}")
    db.execute_sql(f"DROP TABLE {old}")  # its indexes and triggers go with it
    for sql in after:
        db.execute_sql(sql)
    add_change_triggers(db, table)


def up(migrator, db):
    for table, column, create, after, _, values in TABLES:
        _rebuild(db, table, column, create, after, values)
    for sql in COLUMNS:
        ddl.run(db, sql)


def down(migrator, db):
    db.execute_sql(
        "UPDATE clearinghouse_file SET status = 'error', error = 'An interchange "
        "acknowledgment (TA1): read it with the clearinghouse.' WHERE kind = 'ta1' "
        "AND status = 'new'"
    )
    db.execute_sql("UPDATE clearinghouse_file SET kind = 'unknown' WHERE kind = 'ta1'")
    db.execute_sql("UPDATE claim_problem SET source = '999' WHERE source = 'ta1'")
    # PostgreSQL alters no table with events of its deferred triggers (the render cache's
    # data version, migration 0007) still pending: they fire now.
    ddl.pg(db, "SET CONSTRAINTS ALL IMMEDIATE")
    for table, column, create, after, values, _ in TABLES:
        _rebuild(db, table, column, create, after, values)
    ddl.run(db, "ALTER TABLE claim_batch DROP COLUMN ta1_detail")
    ddl.run(db, "ALTER TABLE claim_batch DROP COLUMN ta1_status")
