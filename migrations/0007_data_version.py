"""A data version for the page render cache (portal/pagecache.py).

One row, data_version (1, n); triggers on every table but the excluded ones add one to n
on each INSERT, UPDATE and DELETE, whoever writes (any process, the CLI, sqlite3 by hand).
A cached page is keyed by n, so any write makes it stale.

Excluded: tables written on hot paths whose rows no cached page shows (the audit log,
sessions' last_seen, login throttling, one-time links, the mail outbox), the migration
bookkeeping, data_version itself and SQLite's own tables.

Frozen as SQL (the list is copied here, not imported): later migrations that add a table
call portal.pagecache.add_change_triggers(db, table) themselves.
"""

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


def _tables(db):
    return [
        row[0]
        for row in db.execute_sql(
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
        ).fetchall()
        if not row[0].startswith("sqlite_")
    ]


def up(migrator, db):
    db.execute_sql(
        "CREATE TABLE data_version (id INTEGER PRIMARY KEY CHECK (id = 1), n INTEGER NOT NULL)"
    )
    db.execute_sql("INSERT INTO data_version (id, n) VALUES (1, 0)")
    for table in _tables(db):
        if table in EXCLUDED:
            continue
        for suffix, event in EVENTS:
            db.execute_sql(
                f'CREATE TRIGGER "{table}_dv_{suffix}" AFTER {event} ON "{table}" '
                "BEGIN UPDATE data_version SET n = n + 1 WHERE id = 1; END"
            )


def down(migrator, db):
    for table in _tables(db):
        for suffix, _ in EVENTS:
            db.execute_sql(f'DROP TRIGGER IF EXISTS "{table}_dv_{suffix}"')
    db.execute_sql("DROP TABLE IF EXISTS data_version")
