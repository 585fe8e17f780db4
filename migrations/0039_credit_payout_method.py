"""A payout of account credit says how it was paid (cash or check) and the check's number.

0038 wrote the method and reference of a payout only into its note ("Paid out by check
(1042)"). The day sheet (services/day_sheet) counts the cash drawer and lists the checks
written by method, so the method becomes a column of its own:

- account_credit.method: 'cash' or 'check' for a payout, '' for every other kind.
- account_credit.reference: the check's number (or the cash slip's), '' when none.
- The index on (practice_id) of account_credit and of credit_ledger becomes one on
  (practice_id, created_at): the day sheet reads one practice's payouts and package
  credits used of one day.

The payouts made since 0038 are filled in from their notes (the text 0038's service wrote:
"Paid out by cash" or "Paid out by check", then " (reference)" when one was typed). The
ledger refuses updates (0038's trigger): it is set aside for that one statement and made
again as it was.

Frozen as SQL (a migration never imports portal.models). Down drops the two columns: the
notes still say it.
"""

from portal import ddl

_LEDGER = "account_credit is append-only"
SQLITE_NO_UPDATE = f"""CREATE TRIGGER account_credit_no_update BEFORE UPDATE ON account_credit
        BEGIN SELECT RAISE(ABORT, '{_LEDGER}'); END"""

# "Paid out by check (1042)": the method is the fourth word; the reference is what the
# parentheses hold ("Paid out by " is 12 characters, then the method, a space and "(").
# Compared with substr, not LIKE: psycopg reads a '%' in a statement as a placeholder.
BACKFILL = """UPDATE account_credit SET
        method = CASE WHEN substr(note, 1, 17) = 'Paid out by check' THEN 'check'
            ELSE 'cash' END,
        reference = CASE
            WHEN substr(note, length(note), 1) != ')' THEN ''
            WHEN substr(note, 1, 18) = 'Paid out by cash ('
                THEN substr(note, 19, length(note) - 19)
            WHEN substr(note, 1, 19) = 'Paid out by check ('
                THEN substr(note, 20, length(note) - 20)
            ELSE '' END
    WHERE kind = 'payout'"""


def up(migrator, db):
    # PostgreSQL alters no table with events of its deferred triggers still pending (the
    # change triggers' of rows written in this transaction, then of the update below).
    ddl.pg(db, "SET CONSTRAINTS ALL IMMEDIATE")
    ddl.run(
        db,
        "ALTER TABLE account_credit ADD COLUMN method VARCHAR(255) NOT NULL DEFAULT '' "
        "CHECK (method IN ('', 'cash', 'check'))",
    )
    ddl.run(db, "ALTER TABLE account_credit ADD COLUMN reference VARCHAR(255) NOT NULL DEFAULT ''")
    if ddl.is_postgres(db):
        db.execute_sql("ALTER TABLE account_credit DISABLE TRIGGER account_credit_no_update")
        db.execute_sql(BACKFILL)
        db.execute_sql("SET CONSTRAINTS ALL IMMEDIATE")
        db.execute_sql("ALTER TABLE account_credit ENABLE TRIGGER account_credit_no_update")
    else:
        db.execute_sql("DROP TRIGGER account_credit_no_update")
        db.execute_sql(BACKFILL)
        db.execute_sql(SQLITE_NO_UPDATE)
    for table in ("account_credit", "credit_ledger"):
        ddl.run(db, f"CREATE INDEX {table}_practice_day ON {table} (practice_id, created_at)")
        ddl.run(db, f"DROP INDEX {table}_practice")


def down(migrator, db):
    # PostgreSQL alters no table with events of its deferred triggers still pending.
    ddl.pg(db, "SET CONSTRAINTS ALL IMMEDIATE")
    for table in ("account_credit", "credit_ledger"):
        ddl.run(db, f"CREATE INDEX {table}_practice ON {table} (practice_id)")
        ddl.run(db, f"DROP INDEX {table}_practice_day")
    ddl.run(db, "ALTER TABLE account_credit DROP COLUMN reference")
    ddl.run(db, "ALTER TABLE account_credit DROP COLUMN method")
