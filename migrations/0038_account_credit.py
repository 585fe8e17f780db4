"""A client's account credit: money the practice keeps for the client, to pay a later
invoice, instead of giving it back.

DOMAIN.md: when the 835 says the client owes less than was collected at check-out, "the
difference becomes an invoice or a credit". Until now the portal could only refund it.

- account_credit: an append-only ledger per client, as credit_ledger is per package.
  kind 'refund' (+): a refund kept as credit (refund_id; the refund never went to Stripe
  or the cash drawer), 'payment' (-): the credit paid an invoice (payment_id, a payment of
  method 'account_credit'), 'merge' (+/-): a duplicate record's credit moved to the record
  kept, 'payout' (-): credit paid out to the client in cash or by check (the refund that
  kept it already took it off the revenue: the payout is not counted again). balance_after must equal the client's previous sum plus delta (a trigger, as for
  credit_ledger), and is never below zero (CHECK): two desks spending the last dollars at
  once cannot both succeed. One row per refund and per payment (unique indexes).
- refund.to_credit: 1 when the refund's money stays with the practice as the client's
  credit (recorded as done at once, never sent to Stripe).
- payment.method gains 'account_credit'. SQLite changes a CHECK only by rebuilding the
  table, as 0030 did for user: the old table is renamed away with legacy_alter_table on
  and foreign keys off (the runner turns them off), so refund keeps naming payment; its
  indexes and change triggers are made again. PostgreSQL swaps the constraint in place.

Frozen as SQL (a migration never imports portal.models). Down refuses while any credit was
kept or spent; otherwise it drops the table and the column and puts the old CHECK back.
"""

from portal import ddl
from portal.pagecache import add_change_triggers, drop_change_triggers

OLD_METHODS = "'card', 'card_on_file', 'cash', 'check', 'external_terminal', 'package_credit'"
NEW_METHODS = OLD_METHODS + ", 'account_credit'"

# As 0005 made it (no migration since has altered it), with its method list as a slot.
PAYMENT_TABLE = """CREATE TABLE payment (
        id INTEGER PRIMARY KEY,
        practice_id INTEGER NOT NULL REFERENCES practice (id) ON DELETE RESTRICT,
        client_id INTEGER NOT NULL REFERENCES client (id) ON DELETE RESTRICT,
        invoice_id INTEGER REFERENCES invoice (id) ON DELETE RESTRICT,
        method VARCHAR(255) NOT NULL CHECK (method IN
            ({methods})),
        amount_cents INTEGER NOT NULL CHECK (amount_cents > 0),
        currency VARCHAR(255) NOT NULL DEFAULT 'usd',
        status VARCHAR(255) NOT NULL DEFAULT 'succeeded' CHECK (status IN
            ('pending', 'succeeded', 'failed')),
        reference VARCHAR(255) NOT NULL DEFAULT '',
        stripe_payment_intent_id VARCHAR(255) UNIQUE,
        stripe_charge_id VARCHAR(255),
        stripe_checkout_session_id VARCHAR(255),
        card_brand VARCHAR(255) NOT NULL DEFAULT '',
        card_last4 VARCHAR(255) NOT NULL DEFAULT '',
        checkout_attempt_id INTEGER REFERENCES checkout_attempt (id) ON DELETE SET NULL,
        package_purchase_id INTEGER REFERENCES package_purchase (id) ON DELETE RESTRICT,
        receipt_id INTEGER REFERENCES stored_document (id) ON DELETE RESTRICT,
        failure_message VARCHAR(255) NOT NULL DEFAULT '',
        received_at DATETIME,
        created_by_id INTEGER REFERENCES user (id) ON DELETE SET NULL,
        created_at DATETIME NOT NULL
    )"""
PAYMENT_COLUMNS = (
    "id, practice_id, client_id, invoice_id, method, amount_cents, currency, status, "
    "reference, stripe_payment_intent_id, stripe_charge_id, stripe_checkout_session_id, "
    "card_brand, card_last4, checkout_attempt_id, package_purchase_id, receipt_id, "
    "failure_message, received_at, created_by_id, created_at"
)
PAYMENT_INDEXES = (
    "CREATE INDEX payment_practice ON payment (practice_id, created_at)",
    "CREATE INDEX payment_client ON payment (client_id, created_at)",
    "CREATE INDEX payment_invoice ON payment (invoice_id)",
    "CREATE INDEX payment_attempt ON payment (checkout_attempt_id)",
    "CREATE INDEX payment_purchase ON payment (package_purchase_id)",
    "CREATE INDEX payment_receipt ON payment (receipt_id)",
    "CREATE INDEX payment_created_by ON payment (created_by_id)",
    """CREATE UNIQUE INDEX payment_one_per_checkout_session
        ON payment (stripe_checkout_session_id) WHERE stripe_checkout_session_id IS NOT NULL""",
)

LEDGER_TABLE = """CREATE TABLE account_credit (
        id INTEGER PRIMARY KEY,
        practice_id INTEGER NOT NULL REFERENCES practice (id) ON DELETE RESTRICT,
        client_id INTEGER NOT NULL REFERENCES client (id) ON DELETE RESTRICT,
        kind VARCHAR(255) NOT NULL CHECK (kind IN ('refund', 'payment', 'merge', 'payout')),
        delta INTEGER NOT NULL CHECK (delta != 0),
        balance_after INTEGER NOT NULL CHECK (balance_after >= 0),
        refund_id INTEGER REFERENCES refund (id) ON DELETE RESTRICT,
        payment_id INTEGER REFERENCES payment (id) ON DELETE RESTRICT,
        note VARCHAR(255) NOT NULL DEFAULT '',
        created_by_id INTEGER REFERENCES user (id) ON DELETE SET NULL,
        created_at DATETIME NOT NULL,
        CHECK ((kind = 'refund' AND delta > 0 AND refund_id IS NOT NULL AND payment_id IS NULL)
               OR (kind = 'payment' AND delta < 0 AND payment_id IS NOT NULL
                   AND refund_id IS NULL)
               OR (kind = 'merge' AND refund_id IS NULL AND payment_id IS NULL)
               OR (kind = 'payout' AND delta < 0 AND refund_id IS NULL AND payment_id IS NULL))
    )"""
LEDGER_INDEXES = (
    "CREATE INDEX account_credit_client ON account_credit (client_id, id)",
    "CREATE INDEX account_credit_practice ON account_credit (practice_id)",
    "CREATE INDEX account_credit_created_by ON account_credit (created_by_id)",
    """CREATE UNIQUE INDEX account_credit_refund ON account_credit (refund_id)
        WHERE refund_id IS NOT NULL""",
    """CREATE UNIQUE INDEX account_credit_payment ON account_credit (payment_id)
        WHERE payment_id IS NOT NULL""",
)
_LEDGER = "account_credit is append-only"
SQLITE_TRIGGERS = (
    """CREATE TRIGGER account_credit_running_balance BEFORE INSERT ON account_credit
        WHEN NEW.balance_after != COALESCE(
            (SELECT SUM(delta) FROM account_credit WHERE client_id = NEW.client_id), 0)
            + NEW.delta
        BEGIN SELECT RAISE(ABORT, 'account credit balance mismatch'); END""",
    f"""CREATE TRIGGER account_credit_no_update BEFORE UPDATE ON account_credit
        BEGIN SELECT RAISE(ABORT, '{_LEDGER}'); END""",
    f"""CREATE TRIGGER account_credit_no_delete BEFORE DELETE ON account_credit
        BEGIN SELECT RAISE(ABORT, '{_LEDGER}'); END""",
)
# Under READ COMMITTED two transactions could read the same sum: the client row is locked
# first, so appends for one client run one after another (as 0005 does per purchase).
PG_LEDGER_FUNCTION = """CREATE OR REPLACE FUNCTION account_credit_running_balance()
    RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM 1 FROM client WHERE id = NEW.client_id FOR UPDATE;
        IF NEW.balance_after IS DISTINCT FROM COALESCE(
            (SELECT SUM(delta) FROM account_credit WHERE client_id = NEW.client_id), 0)
            + NEW.delta
        THEN
            RAISE EXCEPTION 'account credit balance mismatch'
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        RETURN NEW;
    END $$"""
PG_TRIGGERS = (
    PG_LEDGER_FUNCTION,
    'CREATE TRIGGER "account_credit_running_balance" BEFORE INSERT ON "account_credit" '
    "FOR EACH ROW EXECUTE FUNCTION account_credit_running_balance()",
    ddl.refuse("account_credit_no_update", "BEFORE UPDATE", "account_credit", _LEDGER),
    ddl.refuse("account_credit_no_delete", "BEFORE DELETE", "account_credit", _LEDGER),
)


def _rebuild_payment(db, methods):
    (fks,) = db.execute_sql("PRAGMA foreign_keys").fetchone()
    if fks:  # a rename would carry the references to payment over to the old table
        raise RuntimeError("Migration 0038 runs with foreign keys off (as the runner does).")
    old = "payment_before_0038"
    db.execute_sql("PRAGMA legacy_alter_table = ON")
    try:
        db.execute_sql(f"ALTER TABLE payment RENAME TO {old}")
    finally:
        db.execute_sql("PRAGMA legacy_alter_table = OFF")
    db.execute_sql(PAYMENT_TABLE.format(methods=methods))
    db.execute_sql(f"INSERT INTO payment ({PAYMENT_COLUMNS}) SELECT {PAYMENT_COLUMNS} FROM {old}")
    db.execute_sql(f"DROP TABLE {old}")  # its indexes and triggers go with it
    for sql in PAYMENT_INDEXES:
        db.execute_sql(sql)
    add_change_triggers(db, "payment")


def _payment_methods(db, methods):
    if ddl.is_postgres(db):
        db.execute_sql("ALTER TABLE payment DROP CONSTRAINT payment_method_check")
        db.execute_sql(
            f"ALTER TABLE payment ADD CONSTRAINT payment_method_check CHECK (method IN ({methods}))"
        )
    else:
        _rebuild_payment(db, methods)


def up(migrator, db):
    _payment_methods(db, NEW_METHODS)
    ddl.run(
        db,
        "ALTER TABLE refund ADD COLUMN to_credit INTEGER NOT NULL DEFAULT 0 "
        "CHECK (to_credit IN (0, 1))",
    )
    ddl.run(db, LEDGER_TABLE)
    for sql in LEDGER_INDEXES:
        ddl.run(db, sql)
    ddl.sqlite(db, SQLITE_TRIGGERS)
    ddl.pg(db, PG_TRIGGERS)
    add_change_triggers(db, "account_credit")


def refusal(db):
    """Why down cannot run, or None (the runner asks before it reverts anything)."""
    (kept,) = db.execute_sql("SELECT COUNT(*) FROM account_credit").fetchone()
    (paid,) = db.execute_sql(
        "SELECT COUNT(*) FROM payment WHERE method = 'account_credit'"
    ).fetchone()
    if kept or paid:
        return (
            "Migration 0038 cannot be undone: clients' account credit was kept or spent "
            f"({kept} ledger rows, {paid} payments)."
        )
    return None


def down(migrator, db):
    reason = refusal(db)
    if reason:
        raise RuntimeError(reason)
    # PostgreSQL alters no table with events of its deferred triggers still pending.
    ddl.pg(db, "SET CONSTRAINTS ALL IMMEDIATE")
    drop_change_triggers(db, "account_credit")
    ddl.run(db, 'DROP TABLE IF EXISTS "account_credit"')
    ddl.drop_function(db, "account_credit_running_balance")
    ddl.run(db, "ALTER TABLE refund DROP COLUMN to_credit")
    _payment_methods(db, OLD_METHODS)
