"""A data version for the page render cache (portal/pagecache.py).

One row, data_version (1, n); triggers on every table but the excluded ones add one to n
on each INSERT, UPDATE and DELETE, whoever writes (any process, the CLI, sqlite3 by hand).
A cached page is keyed by n, so any write makes it stale.

Excluded: tables written on hot paths whose rows no cached page shows (the audit log,
sessions' last_seen, login throttling, one-time links, the mail outbox), the migration
bookkeeping, data_version itself and SQLite's own tables.

Frozen as SQL (the list is copied here, not imported): later migrations that add a table
call portal.pagecache.add_change_triggers(db, table) themselves.

PostgreSQL: one deferred constraint trigger per table (portal.pagecache.PG_FUNCTION), fired
at commit and bumping n once per transaction.
"""

from portal import ddl

EXCLUDED = (
    "audit_log",
    "user_session",
    "login_attempt",
    "user_token",
    "outbox_message",
    "schema_migration",
    "data_version",
)
EVENTS = (("ins", "INSERT"), ("upd", "UPDATE"), ("del", "DELETE"))


PG_FUNCTION = """CREATE OR REPLACE FUNCTION portal_bump_data_version() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF current_setting('portal.dv_bumped', true) IS DISTINCT FROM '1' THEN
            PERFORM set_config('portal.dv_bumped', '1', true);
            UPDATE data_version SET n = n + 1 WHERE id = 1;
        END IF;
        RETURN NULL;
    END $$"""


def _tables(db):
    if ddl.is_postgres(db):
        rows = db.execute_sql(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename"
        ).fetchall()
        return [row[0] for row in rows]
    return [
        row[0]
        for row in db.execute_sql(
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
        ).fetchall()
        if not row[0].startswith("sqlite_")
    ]


def up(migrator, db):
    ddl.run(
        db, "CREATE TABLE data_version (id INTEGER PRIMARY KEY CHECK (id = 1), n INTEGER NOT NULL)"
    )
    db.execute_sql("INSERT INTO data_version (id, n) VALUES (1, 0)")
    ddl.pg(db, PG_FUNCTION)
    for table in _tables(db):
        if table in EXCLUDED:
            continue
        if ddl.is_postgres(db):
            db.execute_sql(
                f'CREATE CONSTRAINT TRIGGER "{table}_dv" AFTER INSERT OR UPDATE OR DELETE '
                f'ON "{table}" DEFERRABLE INITIALLY DEFERRED FOR EACH ROW '
                "EXECUTE FUNCTION portal_bump_data_version()"
            )
            continue
        for suffix, event in EVENTS:
            db.execute_sql(
                f'CREATE TRIGGER "{table}_dv_{suffix}" AFTER {event} ON "{table}" '
                "BEGIN UPDATE data_version SET n = n + 1 WHERE id = 1; END"
            )


def down(migrator, db):
    for table in _tables(db):
        if ddl.is_postgres(db):
            ddl.drop_trigger(db, f"{table}_dv", table)
            continue
        for suffix, _ in EVENTS:
            db.execute_sql(f'DROP TRIGGER IF EXISTS "{table}_dv_{suffix}"')
    ddl.run(db, "DROP TABLE IF EXISTS data_version")
    ddl.drop_function(db, "portal_bump_data_version")
