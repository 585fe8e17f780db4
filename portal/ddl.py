"""One migration history for SQLite and PostgreSQL.

Migrations are written in SQLite's dialect, frozen as SQL. `run(db, sql)` executes a
statement as written on SQLite and, on PostgreSQL, the same statement with its types
translated (INTEGER -> BIGINT, INTEGER PRIMARY KEY -> BIGSERIAL, DATETIME -> TIMESTAMP,
BLOB -> BYTEA, the 0/1 flag columns -> BOOLEAN, `user` quoted, NOCASE dropped).

A SQLite trigger cannot be translated by text: `run` skips CREATE TRIGGER on PostgreSQL,
and each migration writes the PostgreSQL equivalent next to it, run with `pg(db, sql)`
(PL/pgSQL triggers, or a CHECK/EXCLUDE constraint). `refuse(...)` writes the common case,
a guard that refuses a write with a message. tests/test_schema_pg.py checks that every
SQLite trigger has its PostgreSQL namesake or its listed replacement.
"""

import re

# The 0/1 flag columns (peewee BooleanField): INTEGER on SQLite, BOOLEAN on PostgreSQL.
# Frozen here as migrations are: a new flag column is added to this list by its migration.
BOOLEAN_COLUMNS = frozenset(
    {
        ("appointment", "booked_online"),
        ("appointment_type", "active"),
        ("appointment_type", "bill_insurance"),
        ("appointment_type", "online_bookable"),
        ("benefits_verification", "authorization_required"),
        ("benefits_verification", "covered"),
        ("benefits_verification", "referral_required"),
        ("booking_policy", "online_booking_enabled"),
        ("claim", "held"),
        ("claim_settings", "cash_checkout_without_note"),
        ("claim_settings", "signature_on_file"),
        ("client", "active"),
        ("client_preference", "document_emails"),
        ("client_preference", "monthly_superbill"),
        ("insurance_policy", "active"),
        ("intake_field", "active"),
        ("intake_field", "flag"),
        ("intake_field", "required"),
        ("intake_form", "active"),
        ("login_attempt", "success"),
        ("message_notice_setting", "email_notices"),
        ("message_snippet", "active"),
        ("message_thread", "front_desk"),
        ("note_template", "active"),
        ("note_template", "is_default"),
        ("package_definition", "active"),
        ("package_definition", "sold_online"),
        ("payer", "active"),
        ("payer", "affiliated"),
        ("payer", "allow_97124_97140"),
        ("payer", "authorization_required"),
        ("payer", "referral_required"),
        ("practice", "require_staff_totp"),
        ("practice", "therapists_see_all_clients"),
        ("practice_cpt_code", "active"),
        ("prior_authorization", "active"),
        ("provider", "active"),
        ("referral", "active"),
        ("refund", "overpaid_share"),
        ("refund", "settles"),
        ("refund", "to_credit"),
        ("room", "active"),
        ("saved_payment_method", "active"),
        ("user", "active"),
        ("user", "email_unverified"),
        ("user", "totp_enabled"),
    }
)

# SQLITE_CONSTRAINT is what RAISE(ABORT, ...) gives; 23000 is PostgreSQL's class for it, so
# both surface as peewee.IntegrityError with the same message.
REFUSE_FUNCTION = """CREATE OR REPLACE FUNCTION portal_refuse() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '%', TG_ARGV[0] USING ERRCODE = 'integrity_constraint_violation';
    END $$"""


def is_postgres(db):
    return getattr(db, "param", "?") == "%s"


def is_postgres_url(url):
    """Whether `url` names a PostgreSQL database (PORTAL_DATABASE_URL, `db copy --to`)."""
    return url.startswith(("postgresql://", "postgres://"))


def run(db, sql):
    """Execute one statement written for SQLite, translated on PostgreSQL."""
    if is_postgres(db):
        sql = translate(sql)
        if sql is None:
            return
    db.execute_sql(sql)


def run_all(db, statements):
    for sql in statements:
        run(db, sql)


def pg(db, statements):
    """Execute statements on PostgreSQL only (a trigger's PostgreSQL equivalent)."""
    if isinstance(statements, str):
        statements = [statements]
    if is_postgres(db):
        for sql in statements:
            # psycopg reads % as a placeholder even without parameters (RAISE '%', ...)
            db.execute_sql(sql.replace("%", "%%"))


def sqlite(db, statements):
    """Execute statements on SQLite only."""
    if isinstance(statements, str):
        statements = [statements]
    if not is_postgres(db):
        for sql in statements:
            db.execute_sql(sql)


def refuse(name, timing, table, message, when=None):
    """A PostgreSQL guard trigger: refuse `timing` ("BEFORE UPDATE") writes on `table` with
    `message`, when `when` holds (a condition on OLD/NEW; no subqueries)."""
    cond = f" WHEN ({when})" if when else ""
    msg = message.replace("'", "''")
    return (
        f'CREATE TRIGGER "{name}" {timing} ON "{table}" FOR EACH ROW{cond} '
        f"EXECUTE FUNCTION portal_refuse('{msg}')"
    )


def changed(columns):
    """A PostgreSQL WHEN condition: one of `columns` changes (SQLite's `NEW.c IS NOT OLD.c`)."""
    return " OR ".join(f"NEW.{c} IS DISTINCT FROM OLD.{c}" for c in columns)


def drop_function(db, name):
    if is_postgres(db):
        db.execute_sql(f'DROP FUNCTION IF EXISTS "{name}"()')


def drop_table(db, table):
    cascade = " CASCADE" if is_postgres(db) else ""
    db.execute_sql(f'DROP TABLE IF EXISTS "{table}"{cascade}')


def drop_trigger(db, name, table):
    if is_postgres(db):
        db.execute_sql(f'DROP TRIGGER IF EXISTS "{name}" ON "{table}"')
    else:
        db.execute_sql(f'DROP TRIGGER IF EXISTS "{name}"')


# --- translation ------------------------------------------------------------------------

_TABLE = re.compile(r'^\s*CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?"?(\w+)"?', re.I)
_ALTER = re.compile(r'^\s*ALTER\s+TABLE\s+"?(\w+)"?\s+ADD\s+COLUMN\s+', re.I)
_USER = re.compile(r"\b(REFERENCES|TABLE|ON|INTO|FROM|UPDATE|JOIN)\s+user\b", re.I)


def translate(sql):
    """SQLite DDL -> PostgreSQL DDL; None for a statement PostgreSQL does without."""
    head = sql.lstrip()[:40].upper()
    if head.startswith("CREATE TRIGGER") or head.startswith("DROP TRIGGER"):
        return None
    if head.startswith("PRAGMA"):
        return None
    table = _table_of(sql)
    if table:
        sql = _flags(sql, table)
    sql = re.sub(r"\bINTEGER\s+PRIMARY\s+KEY(\s+AUTOINCREMENT)?\b", "BIGSERIAL PRIMARY KEY", sql)
    sql = re.sub(r"\bINTEGER\b", "BIGINT", sql)
    sql = re.sub(r"\bDATETIME\b", "TIMESTAMP", sql)
    sql = re.sub(r"\bBLOB\b", "BYTEA", sql)
    sql = re.sub(r"\bREAL\b", "DOUBLE PRECISION", sql)
    if head.startswith(("CREATE INDEX", "CREATE UNIQUE INDEX")):  # as portal.db.nocase()
        sql = re.sub(r"\b(\w+)\s+COLLATE\s+NOCASE\b", r"lower(\1)", sql, flags=re.I)
    sql = re.sub(r"\s+COLLATE\s+NOCASE\b", "", sql, flags=re.I)
    sql = _USER.sub(lambda m: f'{m.group(1)} "user"', sql)
    if head.startswith("DROP TABLE") and "CASCADE" not in sql.upper():
        sql = sql.rstrip().rstrip(";") + " CASCADE"
    return sql


def _table_of(sql):
    m = _TABLE.match(sql) or _ALTER.match(sql)
    return m.group(1) if m else None


def _flags(sql, table):
    """Flag columns of `table` become BOOLEAN (their 0/1 default and IN (0, 1) check too)."""
    for t, col in BOOLEAN_COLUMNS:
        if t != table:
            continue
        pattern = re.compile(rf"(\b{col}\s+)INTEGER(\s+NOT\s+NULL)?(\s+DEFAULT\s+([01]))?")

        def repl(m):
            default = ""
            if m.group(4) is not None:
                default = " DEFAULT " + ("TRUE" if m.group(4) == "1" else "FALSE")
            return f"{m.group(1)}BOOLEAN{m.group(2) or ''}{default}"

        sql = pattern.sub(repl, sql)
        sql = re.sub(rf"\s*CHECK\s*\(\s*{col}\s+IN\s*\(\s*0\s*,\s*1\s*\)\s*\)", "", sql)
    return sql
