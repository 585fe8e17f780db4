"""Billing: settings, invoice numbering, stored documents, invoices and lines, packages,
checkout attempts, payments, refunds, the credit ledger and Stripe records.

Frozen as SQL: a migration never imports portal.models. Depends on 0001 and 0003
(appointment, appointment_type).

Guards kept by the database itself:
- stored_document: bytes and hash never change, rows are never deleted;
- invoice_line: no insert, update or delete once the invoice is no longer a draft;
- credit_ledger: append-only; balance_after must equal the purchase's previous
  balance + delta and is never negative (CHECK), so two racing redemptions of the
  last credit cannot both commit.
"""

from portal import ddl

TABLES = [
    """CREATE TABLE billing_settings (
        id INTEGER PRIMARY KEY,
        practice_id INTEGER NOT NULL UNIQUE REFERENCES practice (id) ON DELETE CASCADE,
        redeem_at VARCHAR(255) NOT NULL DEFAULT 'completion'
            CHECK (redeem_at IN ('completion', 'booking')),
        invoice_due_days INTEGER NOT NULL DEFAULT 14 CHECK (invoice_due_days >= 0),
        currency VARCHAR(255) NOT NULL DEFAULT 'usd'
    )""",
    """CREATE TABLE invoice_counter (
        id INTEGER PRIMARY KEY,
        practice_id INTEGER NOT NULL UNIQUE REFERENCES practice (id) ON DELETE CASCADE,
        last_number INTEGER NOT NULL DEFAULT 0 CHECK (last_number >= 0)
    )""",
    """CREATE TABLE stored_document (
        id INTEGER PRIMARY KEY,
        practice_id INTEGER NOT NULL REFERENCES practice (id) ON DELETE RESTRICT,
        client_id INTEGER REFERENCES client (id) ON DELETE RESTRICT,
        kind VARCHAR(255) NOT NULL CHECK (kind IN
            ('invoice', 'receipt', 'credit_note', 'superbill', 'claim', 'letter', 'other')),
        title VARCHAR(255) NOT NULL DEFAULT '',
        filename VARCHAR(255) NOT NULL,
        content_type VARCHAR(255) NOT NULL DEFAULT 'application/pdf',
        data BLOB NOT NULL,
        sha256 VARCHAR(255) NOT NULL CHECK (length(sha256) = 64),
        size_bytes INTEGER NOT NULL CHECK (size_bytes >= 0),
        created_by_id INTEGER REFERENCES user (id) ON DELETE SET NULL,
        created_at DATETIME NOT NULL
    )""",
    "CREATE INDEX stored_document_practice ON stored_document (practice_id, created_at)",
    "CREATE INDEX stored_document_client ON stored_document (client_id, created_at)",
    "CREATE INDEX stored_document_created_by ON stored_document (created_by_id)",
    """CREATE TRIGGER stored_document_no_update BEFORE UPDATE ON stored_document
        WHEN NEW.data IS NOT OLD.data OR NEW.sha256 IS NOT OLD.sha256
          OR NEW.size_bytes IS NOT OLD.size_bytes OR NEW.kind IS NOT OLD.kind
          OR NEW.practice_id IS NOT OLD.practice_id OR NEW.client_id IS NOT OLD.client_id
          OR NEW.filename IS NOT OLD.filename OR NEW.content_type IS NOT OLD.content_type
        BEGIN SELECT RAISE(ABORT, 'an issued document never changes'); END""",
    """CREATE TRIGGER stored_document_no_delete BEFORE DELETE ON stored_document
        BEGIN SELECT RAISE(ABORT, 'an issued document is never deleted'); END""",
    """CREATE TABLE invoice (
        id INTEGER PRIMARY KEY,
        practice_id INTEGER NOT NULL REFERENCES practice (id) ON DELETE RESTRICT,
        client_id INTEGER NOT NULL REFERENCES client (id) ON DELETE RESTRICT,
        number VARCHAR(255),
        status VARCHAR(255) NOT NULL DEFAULT 'draft' CHECK (status IN
            ('draft', 'open', 'partially_paid', 'paid', 'void')),
        currency VARCHAR(255) NOT NULL DEFAULT 'usd',
        issued_at DATETIME,
        due_date DATE,
        voided_at DATETIME,
        void_reason VARCHAR(255) NOT NULL DEFAULT '',
        total_cents INTEGER NOT NULL DEFAULT 0 CHECK (total_cents >= 0),
        paid_cents INTEGER NOT NULL DEFAULT 0 CHECK (paid_cents >= 0),
        refunded_cents INTEGER NOT NULL DEFAULT 0
            CHECK (refunded_cents >= 0 AND refunded_cents <= paid_cents),
        appointment_id INTEGER REFERENCES appointment (id) ON DELETE SET NULL,
        reason VARCHAR(255) NOT NULL DEFAULT '',
        note VARCHAR(255) NOT NULL DEFAULT '',
        document_id INTEGER REFERENCES stored_document (id) ON DELETE RESTRICT,
        created_by_id INTEGER REFERENCES user (id) ON DELETE SET NULL,
        created_at DATETIME NOT NULL,
        CHECK (status = 'draft' OR number IS NOT NULL)
    )""",
    "CREATE UNIQUE INDEX invoice_practice_number ON invoice (practice_id, number)",
    "CREATE INDEX invoice_practice_status ON invoice (practice_id, status, created_at)",
    "CREATE INDEX invoice_client ON invoice (client_id, created_at)",
    "CREATE INDEX invoice_appointment ON invoice (appointment_id)",
    "CREATE INDEX invoice_document ON invoice (document_id)",
    "CREATE INDEX invoice_created_by ON invoice (created_by_id)",
    """CREATE TRIGGER invoice_issued_total_frozen BEFORE UPDATE ON invoice
        WHEN OLD.status != 'draft' AND (NEW.total_cents IS NOT OLD.total_cents
          OR NEW.client_id IS NOT OLD.client_id OR NEW.practice_id IS NOT OLD.practice_id
          OR NEW.number IS NOT OLD.number OR NEW.issued_at IS NOT OLD.issued_at
          OR NEW.document_id IS NOT OLD.document_id OR NEW.status = 'draft')
        BEGIN SELECT RAISE(ABORT, 'an issued invoice never changes'); END""",
    """CREATE TABLE invoice_line (
        id INTEGER PRIMARY KEY,
        practice_id INTEGER NOT NULL REFERENCES practice (id) ON DELETE RESTRICT,
        invoice_id INTEGER NOT NULL REFERENCES invoice (id) ON DELETE CASCADE,
        position INTEGER NOT NULL DEFAULT 0,
        kind VARCHAR(255) NOT NULL CHECK (kind IN
            ('visit', 'package', 'fee', 'adjustment', 'patient_responsibility')),
        description VARCHAR(255) NOT NULL,
        service_date DATE,
        cpt_code VARCHAR(255) NOT NULL DEFAULT '',
        quantity INTEGER NOT NULL DEFAULT 1 CHECK (quantity > 0),
        unit_cents INTEGER NOT NULL,
        amount_cents INTEGER NOT NULL,
        provider_id INTEGER REFERENCES provider (id) ON DELETE SET NULL,
        appointment_id INTEGER REFERENCES appointment (id) ON DELETE SET NULL,
        CHECK (amount_cents = quantity * unit_cents),
        CHECK (kind = 'adjustment' OR unit_cents >= 0)
    )""",
    "CREATE INDEX invoice_line_invoice ON invoice_line (invoice_id, position)",
    "CREATE INDEX invoice_line_practice ON invoice_line (practice_id)",
    "CREATE INDEX invoice_line_provider ON invoice_line (provider_id)",
    "CREATE INDEX invoice_line_appointment ON invoice_line (appointment_id)",
    """CREATE TRIGGER invoice_line_frozen_insert BEFORE INSERT ON invoice_line
        WHEN (SELECT status FROM invoice WHERE id = NEW.invoice_id) != 'draft'
        BEGIN SELECT RAISE(ABORT, 'an issued invoice never changes'); END""",
    """CREATE TRIGGER invoice_line_frozen_update BEFORE UPDATE ON invoice_line
        WHEN (SELECT status FROM invoice WHERE id = OLD.invoice_id) != 'draft'
        BEGIN SELECT RAISE(ABORT, 'an issued invoice never changes'); END""",
    """CREATE TRIGGER invoice_line_frozen_delete BEFORE DELETE ON invoice_line
        WHEN (SELECT status FROM invoice WHERE id = OLD.invoice_id) != 'draft'
        BEGIN SELECT RAISE(ABORT, 'an issued invoice never changes'); END""",
    """CREATE TABLE package_definition (
        id INTEGER PRIMARY KEY,
        practice_id INTEGER NOT NULL REFERENCES practice (id) ON DELETE RESTRICT,
        name VARCHAR(255) NOT NULL,
        sessions INTEGER NOT NULL CHECK (sessions > 0 AND sessions <= 100),
        price_cents INTEGER NOT NULL CHECK (price_cents >= 0),
        expiry_days INTEGER CHECK (expiry_days IS NULL OR expiry_days > 0),
        sold_online INTEGER NOT NULL DEFAULT 0,
        active INTEGER NOT NULL DEFAULT 1,
        created_at DATETIME NOT NULL
    )""",
    "CREATE INDEX package_definition_practice ON package_definition (practice_id, active)",
    """CREATE TABLE package_eligible_type (
        id INTEGER PRIMARY KEY,
        practice_id INTEGER NOT NULL REFERENCES practice (id) ON DELETE RESTRICT,
        definition_id INTEGER NOT NULL REFERENCES package_definition (id) ON DELETE CASCADE,
        appointment_type_id INTEGER NOT NULL REFERENCES appointment_type (id) ON DELETE CASCADE
    )""",
    """CREATE UNIQUE INDEX package_eligible_type_pair
        ON package_eligible_type (definition_id, appointment_type_id)""",
    "CREATE INDEX package_eligible_type_type ON package_eligible_type (appointment_type_id)",
    "CREATE INDEX package_eligible_type_practice ON package_eligible_type (practice_id)",
    """CREATE TABLE package_purchase (
        id INTEGER PRIMARY KEY,
        practice_id INTEGER NOT NULL REFERENCES practice (id) ON DELETE RESTRICT,
        client_id INTEGER NOT NULL REFERENCES client (id) ON DELETE RESTRICT,
        definition_id INTEGER NOT NULL REFERENCES package_definition (id) ON DELETE RESTRICT,
        name VARCHAR(255) NOT NULL,
        sessions_total INTEGER NOT NULL CHECK (sessions_total > 0),
        price_cents INTEGER NOT NULL CHECK (price_cents >= 0),
        status VARCHAR(255) NOT NULL DEFAULT 'pending_payment' CHECK (status IN
            ('pending_payment', 'active', 'expired', 'refunded', 'cancelled')),
        invoice_id INTEGER REFERENCES invoice (id) ON DELETE RESTRICT,
        activated_at DATETIME,
        expires_at DATETIME,
        closed_at DATETIME,
        created_by_id INTEGER REFERENCES user (id) ON DELETE SET NULL,
        created_at DATETIME NOT NULL
    )""",
    "CREATE INDEX package_purchase_client ON package_purchase (client_id, status)",
    "CREATE INDEX package_purchase_practice ON package_purchase (practice_id, status)",
    "CREATE INDEX package_purchase_definition ON package_purchase (definition_id)",
    "CREATE INDEX package_purchase_invoice ON package_purchase (invoice_id)",
    "CREATE INDEX package_purchase_created_by ON package_purchase (created_by_id)",
    """CREATE TABLE checkout_attempt (
        id INTEGER PRIMARY KEY,
        practice_id INTEGER NOT NULL REFERENCES practice (id) ON DELETE RESTRICT,
        client_id INTEGER NOT NULL REFERENCES client (id) ON DELETE RESTRICT,
        purpose VARCHAR(255) NOT NULL CHECK (purpose IN ('invoice', 'setup', 'off_session')),
        invoice_id INTEGER REFERENCES invoice (id) ON DELETE RESTRICT,
        amount_cents INTEGER NOT NULL DEFAULT 0 CHECK (amount_cents >= 0),
        currency VARCHAR(255) NOT NULL DEFAULT 'usd',
        status VARCHAR(255) NOT NULL DEFAULT 'created' CHECK (status IN
            ('created', 'open', 'completed', 'failed', 'expired')),
        token VARCHAR(255) NOT NULL,
        stripe_session_id VARCHAR(255) UNIQUE,
        stripe_payment_intent_id VARCHAR(255),
        checkout_url TEXT NOT NULL DEFAULT '',
        error VARCHAR(255) NOT NULL DEFAULT '',
        created_by_id INTEGER REFERENCES user (id) ON DELETE SET NULL,
        created_at DATETIME NOT NULL,
        completed_at DATETIME
    )""",
    "CREATE INDEX checkout_attempt_practice ON checkout_attempt (practice_id, created_at)",
    "CREATE INDEX checkout_attempt_client ON checkout_attempt (client_id)",
    "CREATE INDEX checkout_attempt_invoice ON checkout_attempt (invoice_id)",
    "CREATE INDEX checkout_attempt_pi ON checkout_attempt (stripe_payment_intent_id)",
    "CREATE INDEX checkout_attempt_created_by ON checkout_attempt (created_by_id)",
    """CREATE TABLE payment (
        id INTEGER PRIMARY KEY,
        practice_id INTEGER NOT NULL REFERENCES practice (id) ON DELETE RESTRICT,
        client_id INTEGER NOT NULL REFERENCES client (id) ON DELETE RESTRICT,
        invoice_id INTEGER REFERENCES invoice (id) ON DELETE RESTRICT,
        method VARCHAR(255) NOT NULL CHECK (method IN
            ('card', 'card_on_file', 'cash', 'check', 'external_terminal', 'package_credit')),
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
    )""",
    "CREATE INDEX payment_practice ON payment (practice_id, created_at)",
    "CREATE INDEX payment_client ON payment (client_id, created_at)",
    "CREATE INDEX payment_invoice ON payment (invoice_id)",
    "CREATE INDEX payment_attempt ON payment (checkout_attempt_id)",
    "CREATE INDEX payment_purchase ON payment (package_purchase_id)",
    "CREATE INDEX payment_receipt ON payment (receipt_id)",
    "CREATE INDEX payment_created_by ON payment (created_by_id)",
    """CREATE UNIQUE INDEX payment_one_per_checkout_session
        ON payment (stripe_checkout_session_id) WHERE stripe_checkout_session_id IS NOT NULL""",
    """CREATE TABLE refund (
        id INTEGER PRIMARY KEY,
        practice_id INTEGER NOT NULL REFERENCES practice (id) ON DELETE RESTRICT,
        client_id INTEGER NOT NULL REFERENCES client (id) ON DELETE RESTRICT,
        payment_id INTEGER NOT NULL REFERENCES payment (id) ON DELETE RESTRICT,
        amount_cents INTEGER NOT NULL CHECK (amount_cents > 0),
        status VARCHAR(255) NOT NULL DEFAULT 'pending' CHECK (status IN
            ('pending', 'succeeded', 'failed')),
        reason VARCHAR(255) NOT NULL DEFAULT '',
        stripe_refund_id VARCHAR(255) UNIQUE,
        token VARCHAR(255) NOT NULL,
        failure_message VARCHAR(255) NOT NULL DEFAULT '',
        document_id INTEGER REFERENCES stored_document (id) ON DELETE RESTRICT,
        created_by_id INTEGER REFERENCES user (id) ON DELETE SET NULL,
        created_at DATETIME NOT NULL
    )""",
    "CREATE INDEX refund_payment ON refund (payment_id)",
    "CREATE INDEX refund_practice ON refund (practice_id, created_at)",
    "CREATE INDEX refund_client ON refund (client_id)",
    "CREATE INDEX refund_document ON refund (document_id)",
    "CREATE INDEX refund_created_by ON refund (created_by_id)",
    """CREATE TABLE credit_ledger (
        id INTEGER PRIMARY KEY,
        practice_id INTEGER NOT NULL REFERENCES practice (id) ON DELETE RESTRICT,
        client_id INTEGER NOT NULL REFERENCES client (id) ON DELETE RESTRICT,
        purchase_id INTEGER NOT NULL REFERENCES package_purchase (id) ON DELETE RESTRICT,
        kind VARCHAR(255) NOT NULL CHECK (kind IN
            ('purchase', 'redeem', 'cancel_return', 'expiry', 'refund')),
        delta INTEGER NOT NULL CHECK (delta != 0),
        balance_after INTEGER NOT NULL CHECK (balance_after >= 0),
        unit_price_cents INTEGER NOT NULL DEFAULT 0 CHECK (unit_price_cents >= 0),
        amount_cents INTEGER NOT NULL DEFAULT 0 CHECK (amount_cents >= 0),
        appointment_id INTEGER REFERENCES appointment (id) ON DELETE RESTRICT,
        note VARCHAR(255) NOT NULL DEFAULT '',
        created_by_id INTEGER REFERENCES user (id) ON DELETE SET NULL,
        created_at DATETIME NOT NULL,
        CHECK ((kind IN ('purchase', 'cancel_return') AND delta > 0)
               OR (kind IN ('redeem', 'expiry', 'refund') AND delta < 0))
    )""",
    "CREATE INDEX credit_ledger_purchase ON credit_ledger (purchase_id, id)",
    "CREATE INDEX credit_ledger_client ON credit_ledger (client_id)",
    "CREATE INDEX credit_ledger_practice ON credit_ledger (practice_id)",
    "CREATE INDEX credit_ledger_appointment ON credit_ledger (appointment_id)",
    "CREATE INDEX credit_ledger_created_by ON credit_ledger (created_by_id)",
    """CREATE TRIGGER credit_ledger_running_balance BEFORE INSERT ON credit_ledger
        WHEN NEW.balance_after != COALESCE(
            (SELECT SUM(delta) FROM credit_ledger WHERE purchase_id = NEW.purchase_id), 0)
            + NEW.delta
        BEGIN SELECT RAISE(ABORT, 'credit ledger balance mismatch'); END""",
    """CREATE TRIGGER credit_ledger_no_update BEFORE UPDATE ON credit_ledger
        BEGIN SELECT RAISE(ABORT, 'credit_ledger is append-only'); END""",
    """CREATE TRIGGER credit_ledger_no_delete BEFORE DELETE ON credit_ledger
        BEGIN SELECT RAISE(ABORT, 'credit_ledger is append-only'); END""",
    """CREATE TABLE stripe_event (
        id INTEGER PRIMARY KEY,
        event_id VARCHAR(255) NOT NULL UNIQUE,
        type VARCHAR(255) NOT NULL,
        object_id VARCHAR(255) NOT NULL DEFAULT '',
        stripe_created INTEGER NOT NULL DEFAULT 0,
        status VARCHAR(255) NOT NULL DEFAULT 'received',
        detail VARCHAR(255) NOT NULL DEFAULT '',
        received_at DATETIME NOT NULL,
        processed_at DATETIME
    )""",
    "CREATE INDEX stripe_event_object ON stripe_event (object_id)",
    """CREATE TABLE stripe_customer (
        id INTEGER PRIMARY KEY,
        practice_id INTEGER NOT NULL REFERENCES practice (id) ON DELETE RESTRICT,
        client_id INTEGER NOT NULL REFERENCES client (id) ON DELETE RESTRICT,
        stripe_customer_id VARCHAR(255) NOT NULL UNIQUE,
        created_at DATETIME NOT NULL
    )""",
    "CREATE UNIQUE INDEX stripe_customer_client ON stripe_customer (practice_id, client_id)",
    "CREATE INDEX stripe_customer_client_id ON stripe_customer (client_id)",
    """CREATE TABLE saved_payment_method (
        id INTEGER PRIMARY KEY,
        practice_id INTEGER NOT NULL REFERENCES practice (id) ON DELETE RESTRICT,
        client_id INTEGER NOT NULL REFERENCES client (id) ON DELETE RESTRICT,
        stripe_payment_method_id VARCHAR(255) NOT NULL UNIQUE,
        brand VARCHAR(255) NOT NULL DEFAULT '',
        last4 VARCHAR(255) NOT NULL DEFAULT '',
        exp_month INTEGER NOT NULL DEFAULT 0,
        exp_year INTEGER NOT NULL DEFAULT 0,
        active INTEGER NOT NULL DEFAULT 1,
        created_at DATETIME NOT NULL
    )""",
    "CREATE INDEX saved_payment_method_client ON saved_payment_method (client_id, active)",
    "CREATE INDEX saved_payment_method_practice ON saved_payment_method (practice_id)",
]

# PostgreSQL's versions of the triggers above. A WHEN clause there cannot read another
# table: the invoice line and ledger guards are PL/pgSQL functions.
PG_INVOICE_LINE_FUNCTION = """CREATE OR REPLACE FUNCTION invoice_line_frozen()
    RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        invoice_status text;
    BEGIN
        -- FOR SHARE: an invoice being issued by a concurrent transaction is waited for
        -- (and then seen issued), and cannot be issued while its lines are being written.
        IF TG_OP = 'INSERT' THEN
            SELECT status INTO invoice_status FROM invoice WHERE id = NEW.invoice_id FOR SHARE;
        ELSE
            SELECT status INTO invoice_status FROM invoice WHERE id = OLD.invoice_id FOR SHARE;
        END IF;
        IF invoice_status <> 'draft' THEN
            RAISE EXCEPTION 'an issued invoice never changes'
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        IF TG_OP = 'DELETE' THEN
            RETURN OLD;
        END IF;
        RETURN NEW;
    END $$"""
# Under READ COMMITTED two transactions could both read the same sum and both append the
# last credit: the purchase row is locked first, so appends to one purchase run one after
# another, and the second one reads the first one's row (a new snapshot per statement).
PG_LEDGER_FUNCTION = """CREATE OR REPLACE FUNCTION credit_ledger_running_balance()
    RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM 1 FROM package_purchase WHERE id = NEW.purchase_id FOR UPDATE;
        IF NEW.balance_after IS DISTINCT FROM COALESCE(
            (SELECT SUM(delta) FROM credit_ledger WHERE purchase_id = NEW.purchase_id), 0)
            + NEW.delta
        THEN
            RAISE EXCEPTION 'credit ledger balance mismatch'
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
        RETURN NEW;
    END $$"""
PG_FUNCTIONS = ("invoice_line_frozen", "credit_ledger_running_balance")
_DOCUMENT_COLUMNS = (
    "data",
    "sha256",
    "size_bytes",
    "kind",
    "practice_id",
    "client_id",
    "filename",
    "content_type",
)
_INVOICE_COLUMNS = ("total_cents", "client_id", "practice_id", "number", "issued_at", "document_id")
_INVOICE_CHANGED = ddl.changed(_INVOICE_COLUMNS)
_FROZEN = "an issued invoice never changes"
_LEDGER = "credit_ledger is append-only"
PG = [
    ddl.refuse(
        "stored_document_no_update",
        "BEFORE UPDATE",
        "stored_document",
        "an issued document never changes",
        when=ddl.changed(_DOCUMENT_COLUMNS),
    ),
    ddl.refuse(
        "stored_document_no_delete",
        "BEFORE DELETE",
        "stored_document",
        "an issued document is never deleted",
    ),
    ddl.refuse(
        "invoice_issued_total_frozen",
        "BEFORE UPDATE",
        "invoice",
        _FROZEN,
        when=f"OLD.status <> 'draft' AND ({_INVOICE_CHANGED} OR NEW.status = 'draft')",
    ),
    PG_INVOICE_LINE_FUNCTION,
    *[
        f'CREATE TRIGGER "invoice_line_frozen_{op.lower()}" BEFORE {op} ON "invoice_line" '
        "FOR EACH ROW EXECUTE FUNCTION invoice_line_frozen()"
        for op in ("INSERT", "UPDATE", "DELETE")
    ],
    PG_LEDGER_FUNCTION,
    'CREATE TRIGGER "credit_ledger_running_balance" BEFORE INSERT ON "credit_ledger" '
    "FOR EACH ROW EXECUTE FUNCTION credit_ledger_running_balance()",
    ddl.refuse("credit_ledger_no_update", "BEFORE UPDATE", "credit_ledger", _LEDGER),
    ddl.refuse("credit_ledger_no_delete", "BEFORE DELETE", "credit_ledger", _LEDGER),
]

DROP = [
    "saved_payment_method",
    "stripe_customer",
    "stripe_event",
    "credit_ledger",
    "refund",
    "payment",
    "checkout_attempt",
    "package_purchase",
    "package_eligible_type",
    "package_definition",
    "invoice_line",
    "invoice",
    "stored_document",
    "invoice_counter",
    "billing_settings",
]


def up(migrator, db):
    for sql in TABLES:
        ddl.run(db, sql)
    ddl.pg(db, PG)


def down(migrator, db):
    for table in DROP:
        ddl.run(db, f'DROP TABLE IF EXISTS "{table}"')
    for name in PG_FUNCTIONS:
        ddl.drop_function(db, name)
