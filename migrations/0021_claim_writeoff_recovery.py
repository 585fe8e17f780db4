"""A write-off can be recovered: money a payer pays after the practice wrote an amount off
takes the write-off back, as an AR ledger does, with a negative claim_writeoff row (the
table stays append-only). Migration 0014 allowed only amounts above zero; the CHECK now
refuses only zero. SQLite changes a CHECK only by rebuilding the table, which drops its
triggers: the append-only guards and the render cache's change triggers are made again.

Frozen as SQL (a migration never imports portal.models). Depends on 0014.
"""

from portal import ddl
from portal.pagecache import add_change_triggers

TABLE = """CREATE TABLE claim_writeoff (
        id INTEGER PRIMARY KEY,
        practice_id INTEGER NOT NULL REFERENCES practice (id) ON DELETE RESTRICT,
        claim_id INTEGER NOT NULL REFERENCES claim (id) ON DELETE RESTRICT,
        amount_cents INTEGER NOT NULL CHECK ({check}),
        reason VARCHAR(255) NOT NULL CHECK (length(reason) > 0),
        created_by_id INTEGER REFERENCES user (id) ON DELETE SET NULL,
        created_at DATETIME NOT NULL
    )"""
COLUMNS = "id, practice_id, claim_id, amount_cents, reason, created_by_id, created_at"
INDEXES = (
    "CREATE INDEX claim_writeoff_claim ON claim_writeoff (claim_id)",
    "CREATE INDEX claim_writeoff_practice ON claim_writeoff (practice_id, created_at)",
    "CREATE INDEX claim_writeoff_created_by ON claim_writeoff (created_by_id)",
)
GUARDS = (
    "CREATE TRIGGER claim_writeoff_no_update BEFORE UPDATE ON claim_writeoff "
    "BEGIN SELECT RAISE(ABORT, 'posted money is never changed: post a reversal'); END",
    "CREATE TRIGGER claim_writeoff_no_delete BEFORE DELETE ON claim_writeoff "
    "BEGIN SELECT RAISE(ABORT, 'posted money is never deleted: post a reversal'); END",
)


def _rebuild(db, check):
    if ddl.is_postgres(db):  # PostgreSQL changes a CHECK in place, triggers kept
        db.execute_sql(
            "ALTER TABLE claim_writeoff DROP CONSTRAINT IF EXISTS "
            "claim_writeoff_amount_cents_check, ADD CONSTRAINT "
            f"claim_writeoff_amount_cents_check CHECK ({check})"
        )
        return
    ddl.run(db, "ALTER TABLE claim_writeoff RENAME TO claim_writeoff_before_0021")
    ddl.run(db, TABLE.format(check=check))
    ddl.run(
        db,
        f"INSERT INTO claim_writeoff ({COLUMNS}) SELECT {COLUMNS} FROM claim_writeoff_before_0021",
    )
    ddl.run(db, "DROP TABLE claim_writeoff_before_0021")  # its triggers go with it
    for sql in INDEXES + GUARDS:
        ddl.run(db, sql)
    add_change_triggers(db, "claim_writeoff")


def up(migrator, db):
    _rebuild(db, "amount_cents <> 0")


def down(migrator, db):
    recovered = db.execute_sql("SELECT 1 FROM claim_writeoff WHERE amount_cents < 0 LIMIT 1")
    if recovered.fetchone():
        raise RuntimeError(
            "A write-off was recovered: migration 0021 cannot be undone without removing "
            "a posted row."
        )
    _rebuild(db, "amount_cents > 0")
