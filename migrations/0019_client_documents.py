"""What clients see and take with them (issue 12): superbills in versions, receipts for
visits paid from a package, letters of medical necessity, the client's communication
choices and their consent to the practice's policies, sign-ups that prove their e-mail
address, and the owner's whole-practice export.

Frozen as SQL: a migration never imports portal.models. Depends on 0001, 0003, 0005, 0011.

Guards kept by the database itself:
- superbill, superbill_visit, visit_receipt, client_consent: never changed or deleted (a
  correction of a superbill is a new row whose replaces_id names the version it corrects;
  one correction per version, so versions form a line, never a tree);
- medical_letter: once signed, its content never changes and it is never deleted;
- data_export: a ready file is only ever marked deleted (its path stays for the record).

Each new table gets the render cache's change triggers (portal.pagecache, migration 0007):
the client home shows documents and credits.
"""

from portal import ddl
from portal.pagecache import add_change_triggers, drop_change_triggers

NEW_TABLES = [
    "superbill",
    "superbill_visit",
    "visit_receipt",
    "medical_letter",
    "client_preference",
    "client_consent",
    "data_export",
]

_NEVER_CHANGED = """CREATE TRIGGER {t}_no_update BEFORE UPDATE ON {t}
    BEGIN SELECT RAISE(ABORT, '{what} never changes'); END"""
_NEVER_DELETED = """CREATE TRIGGER {t}_no_delete BEFORE DELETE ON {t}
    BEGIN SELECT RAISE(ABORT, '{what} is never deleted'); END"""

TABLES = [
    """CREATE TABLE superbill (
        id INTEGER PRIMARY KEY,
        practice_id INTEGER NOT NULL REFERENCES practice (id) ON DELETE RESTRICT,
        client_id INTEGER NOT NULL REFERENCES client (id) ON DELETE RESTRICT,
        number VARCHAR(255) NOT NULL,
        version INTEGER NOT NULL DEFAULT 1 CHECK (version >= 1),
        replaces_id INTEGER UNIQUE REFERENCES superbill (id) ON DELETE RESTRICT,
        period_start DATE NOT NULL,
        period_end DATE NOT NULL CHECK (period_end >= period_start),
        total_fee_cents INTEGER NOT NULL CHECK (total_fee_cents >= 0),
        total_paid_cents INTEGER NOT NULL CHECK (total_paid_cents >= 0),
        visit_count INTEGER NOT NULL CHECK (visit_count >= 1),
        source VARCHAR(255) NOT NULL DEFAULT 'staff'
            CHECK (source IN ('staff', 'client', 'monthly')),
        correction_reason VARCHAR(255) NOT NULL DEFAULT '',
        document_id INTEGER NOT NULL REFERENCES stored_document (id) ON DELETE RESTRICT,
        issued_by_id INTEGER REFERENCES user (id) ON DELETE RESTRICT,
        issued_at DATETIME NOT NULL,
        UNIQUE (practice_id, number, version),
        CHECK ((version = 1) = (replaces_id IS NULL))
    )""",
    "CREATE INDEX superbill_client ON superbill (client_id, issued_at)",
    "CREATE INDEX superbill_document ON superbill (document_id)",
    "CREATE INDEX superbill_issued_by ON superbill (issued_by_id)",
    _NEVER_CHANGED.format(t="superbill", what="an issued superbill"),
    _NEVER_DELETED.format(t="superbill", what="an issued superbill"),
    """CREATE TABLE superbill_visit (
        id INTEGER PRIMARY KEY,
        practice_id INTEGER NOT NULL REFERENCES practice (id) ON DELETE RESTRICT,
        client_id INTEGER NOT NULL REFERENCES client (id) ON DELETE RESTRICT,
        superbill_id INTEGER NOT NULL REFERENCES superbill (id) ON DELETE RESTRICT,
        appointment_id INTEGER NOT NULL REFERENCES appointment (id) ON DELETE RESTRICT,
        UNIQUE (superbill_id, appointment_id)
    )""",
    "CREATE INDEX superbill_visit_appointment ON superbill_visit (appointment_id)",
    "CREATE INDEX superbill_visit_client ON superbill_visit (client_id)",
    _NEVER_CHANGED.format(t="superbill_visit", what="the visit list of a superbill"),
    _NEVER_DELETED.format(t="superbill_visit", what="the visit list of a superbill"),
    """CREATE TABLE visit_receipt (
        id INTEGER PRIMARY KEY,
        practice_id INTEGER NOT NULL REFERENCES practice (id) ON DELETE RESTRICT,
        client_id INTEGER NOT NULL REFERENCES client (id) ON DELETE RESTRICT,
        appointment_id INTEGER NOT NULL UNIQUE REFERENCES appointment (id) ON DELETE RESTRICT,
        document_id INTEGER NOT NULL REFERENCES stored_document (id) ON DELETE RESTRICT,
        per_visit_cents INTEGER NOT NULL CHECK (per_visit_cents >= 0),
        created_at DATETIME NOT NULL
    )""",
    "CREATE INDEX visit_receipt_client ON visit_receipt (client_id)",
    "CREATE INDEX visit_receipt_document ON visit_receipt (document_id)",
    _NEVER_CHANGED.format(t="visit_receipt", what="a visit receipt"),
    _NEVER_DELETED.format(t="visit_receipt", what="a visit receipt"),
    """CREATE TABLE medical_letter (
        id INTEGER PRIMARY KEY,
        practice_id INTEGER NOT NULL REFERENCES practice (id) ON DELETE RESTRICT,
        client_id INTEGER NOT NULL REFERENCES client (id) ON DELETE RESTRICT,
        provider_id INTEGER NOT NULL REFERENCES provider (id) ON DELETE RESTRICT,
        status VARCHAR(255) NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'signed')),
        diagnoses VARCHAR(255) NOT NULL DEFAULT '',
        referring_name VARCHAR(255) NOT NULL DEFAULT '',
        referring_npi VARCHAR(255) NOT NULL DEFAULT '',
        treatment_plan TEXT NOT NULL DEFAULT '',
        frequency VARCHAR(255) NOT NULL DEFAULT '',
        duration VARCHAR(255) NOT NULL DEFAULT '',
        expected_outcome TEXT NOT NULL DEFAULT '',
        start_date DATE NOT NULL,
        end_date DATE NOT NULL CHECK (end_date >= start_date),
        signature_name VARCHAR(255) NOT NULL DEFAULT '',
        signed_at DATETIME,
        signed_by_id INTEGER REFERENCES user (id) ON DELETE RESTRICT,
        document_id INTEGER REFERENCES stored_document (id) ON DELETE RESTRICT,
        replaces_id INTEGER REFERENCES medical_letter (id) ON DELETE RESTRICT,
        created_by_id INTEGER REFERENCES user (id) ON DELETE SET NULL,
        created_at DATETIME NOT NULL,
        updated_at DATETIME,
        CHECK ((status = 'signed') = (signed_at IS NOT NULL AND document_id IS NOT NULL))
    )""",
    "CREATE INDEX medical_letter_client ON medical_letter (client_id, end_date)",
    "CREATE INDEX medical_letter_provider ON medical_letter (provider_id)",
    "CREATE INDEX medical_letter_document ON medical_letter (document_id)",
    "CREATE INDEX medical_letter_replaces ON medical_letter (replaces_id)",
    "CREATE INDEX medical_letter_signed_by ON medical_letter (signed_by_id)",
    "CREATE INDEX medical_letter_created_by ON medical_letter (created_by_id)",
    """CREATE TRIGGER medical_letter_signed_fixed BEFORE UPDATE ON medical_letter
        WHEN OLD.status = 'signed'
        BEGIN SELECT RAISE(ABORT, 'a signed letter never changes'); END""",
    """CREATE TRIGGER medical_letter_signed_kept BEFORE DELETE ON medical_letter
        WHEN OLD.status = 'signed'
        BEGIN SELECT RAISE(ABORT, 'a signed letter is never deleted'); END""",
    """CREATE TABLE client_preference (
        id INTEGER PRIMARY KEY,
        practice_id INTEGER NOT NULL REFERENCES practice (id) ON DELETE RESTRICT,
        client_id INTEGER NOT NULL UNIQUE REFERENCES client (id) ON DELETE RESTRICT,
        monthly_superbill INTEGER NOT NULL DEFAULT 0 CHECK (monthly_superbill IN (0, 1)),
        document_emails INTEGER NOT NULL DEFAULT 1 CHECK (document_emails IN (0, 1)),
        updated_at DATETIME
    )""",
    "CREATE INDEX client_preference_practice ON client_preference (practice_id)",
    """CREATE TABLE client_consent (
        id INTEGER PRIMARY KEY,
        practice_id INTEGER NOT NULL REFERENCES practice (id) ON DELETE RESTRICT,
        client_id INTEGER NOT NULL REFERENCES client (id) ON DELETE RESTRICT,
        kind VARCHAR(255) NOT NULL DEFAULT 'policies',
        text TEXT NOT NULL,
        text_sha256 VARCHAR(64) NOT NULL CHECK (length(text_sha256) = 64),
        accepted_at DATETIME NOT NULL,
        ip VARCHAR(255) NOT NULL DEFAULT ''
    )""",
    "CREATE INDEX client_consent_client ON client_consent (client_id, accepted_at)",
    "CREATE INDEX client_consent_practice ON client_consent (practice_id)",
    _NEVER_CHANGED.format(t="client_consent", what="a recorded consent"),
    _NEVER_DELETED.format(t="client_consent", what="a recorded consent"),
    """CREATE TABLE data_export (
        id INTEGER PRIMARY KEY,
        practice_id INTEGER NOT NULL REFERENCES practice (id) ON DELETE RESTRICT,
        kind VARCHAR(255) NOT NULL DEFAULT 'practice' CHECK (kind IN ('practice')),
        job_id INTEGER UNIQUE REFERENCES job (id) ON DELETE SET NULL,
        created_by_id INTEGER NOT NULL REFERENCES user (id) ON DELETE RESTRICT,
        status VARCHAR(255) NOT NULL DEFAULT 'building'
            CHECK (status IN ('building', 'ready', 'failed', 'deleted')),
        path VARCHAR(255) NOT NULL DEFAULT '',
        filename VARCHAR(255) NOT NULL DEFAULT '',
        sha256 VARCHAR(255) NOT NULL DEFAULT '',
        size_bytes INTEGER NOT NULL DEFAULT 0 CHECK (size_bytes >= 0),
        created_at DATETIME NOT NULL,
        expires_at DATETIME NOT NULL,
        downloaded_at DATETIME,
        deleted_at DATETIME,
        CHECK ((status = 'deleted') = (deleted_at IS NOT NULL))
    )""",
    "CREATE INDEX data_export_practice ON data_export (practice_id, created_at)",
    "CREATE INDEX data_export_created_by ON data_export (created_by_id)",
    "CREATE INDEX data_export_expiry ON data_export (status, expires_at)",
    """CREATE TRIGGER data_export_deleted_stays BEFORE UPDATE ON data_export
        WHEN OLD.status = 'deleted'
        BEGIN SELECT RAISE(ABORT, 'a deleted export stays deleted'); END""",
]

# PostgreSQL's versions of the triggers above (ddl.run skips CREATE TRIGGER there).
_KEPT = (
    ("superbill", "an issued superbill"),
    ("superbill_visit", "the visit list of a superbill"),
    ("visit_receipt", "a visit receipt"),
    ("client_consent", "a recorded consent"),
)
PG = [
    *[
        sql
        for t, what in _KEPT
        for sql in (
            ddl.refuse(f"{t}_no_update", "BEFORE UPDATE", t, f"{what} never changes"),
            ddl.refuse(f"{t}_no_delete", "BEFORE DELETE", t, f"{what} is never deleted"),
        )
    ],
    ddl.refuse(
        "medical_letter_signed_fixed",
        "BEFORE UPDATE",
        "medical_letter",
        "a signed letter never changes",
        when="OLD.status = 'signed'",
    ),
    ddl.refuse(
        "medical_letter_signed_kept",
        "BEFORE DELETE",
        "medical_letter",
        "a signed letter is never deleted",
        when="OLD.status = 'signed'",
    ),
    ddl.refuse(
        "data_export_deleted_stays",
        "BEFORE UPDATE",
        "data_export",
        "a deleted export stays deleted",
        when="OLD.status = 'deleted'",
    ),
]

COLUMNS = [
    # A sign-up on the public booking page must prove its e-mail address before the
    # account sees anything; staff-made accounts and invitations are proven otherwise.
    "ALTER TABLE user ADD COLUMN email_unverified INTEGER NOT NULL DEFAULT 0",
]

# One-time links gain a purpose (verify: a sign-up proving its e-mail address) and where
# the link leads once used (a local path, never PHI: the booking a client chose before
# confirming). SQLite changes a CHECK only by rebuilding the table.
_TOKEN_TABLE = """CREATE TABLE user_token (
        id INTEGER PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES user (id) ON DELETE CASCADE,
        purpose VARCHAR(255) NOT NULL CHECK (purpose IN ({purposes})),
        token_hash VARCHAR(255) NOT NULL UNIQUE,
        created_at DATETIME NOT NULL,
        expires_at DATETIME NOT NULL,
        used_at DATETIME{extra}
    )"""
_TOKEN_COLUMNS = "id, user_id, purpose, token_hash, created_at, expires_at, used_at"


def _rebuild_tokens(db, purposes, extra, keep_where="1"):
    if ddl.is_postgres(db):  # PostgreSQL changes a CHECK in place
        if keep_where != "1":
            db.execute_sql(f"DELETE FROM user_token WHERE NOT ({keep_where})")
        db.execute_sql(
            "ALTER TABLE user_token DROP CONSTRAINT IF EXISTS user_token_purpose_check, "
            f"ADD CONSTRAINT user_token_purpose_check CHECK (purpose IN ({purposes}))"
        )
        if extra:
            db.execute_sql("ALTER TABLE user_token ADD COLUMN" + extra.split("\n", 1)[1])
        else:
            db.execute_sql("ALTER TABLE user_token DROP COLUMN IF EXISTS next_path")
        return
    ddl.run(db, "ALTER TABLE user_token RENAME TO user_token_before_0019")
    ddl.run(db, _TOKEN_TABLE.format(purposes=purposes, extra=extra))
    ddl.run(
        db,
        f"INSERT INTO user_token ({_TOKEN_COLUMNS}) SELECT {_TOKEN_COLUMNS} "
        f"FROM user_token_before_0019 WHERE {keep_where}",
    )
    ddl.run(db, "DROP TABLE user_token_before_0019")
    ddl.run(db, "CREATE INDEX user_token_user_id ON user_token (user_id)")


def up(migrator, db):
    for sql in TABLES:
        ddl.run(db, sql)
    ddl.pg(db, PG)
    for table in NEW_TABLES:
        add_change_triggers(db, table)
    for sql in COLUMNS:
        ddl.run(db, sql)
    _rebuild_tokens(
        db,
        "'invite', 'reset', 'verify'",
        ",\n        next_path VARCHAR(255) NOT NULL DEFAULT ''",
    )


def down(migrator, db):
    _rebuild_tokens(db, "'invite', 'reset'", "", keep_where="purpose != 'verify'")
    ddl.run(db, "ALTER TABLE user DROP COLUMN email_unverified")
    for table in reversed(NEW_TABLES):
        drop_change_triggers(db, table)
        ddl.run(db, f'DROP TABLE IF EXISTS "{table}"')
