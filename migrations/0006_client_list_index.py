"""An index that serves the client list's order and count (practice, active, names)."""

from portal import ddl


def up(migrator, db):
    ddl.run(
        db,
        "CREATE INDEX client_list_order ON client (practice_id, active, "
        "last_name COLLATE NOCASE, first_name COLLATE NOCASE, id)",
    )


def down(migrator, db):
    ddl.run(db, "DROP INDEX IF EXISTS client_list_order")
