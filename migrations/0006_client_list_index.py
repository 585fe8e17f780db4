"""An index that serves the client list's order and count (practice, active, names)."""


def up(migrator, db):
    db.execute_sql(
        "CREATE INDEX client_list_order ON client (practice_id, active, "
        "last_name COLLATE NOCASE, first_name COLLATE NOCASE, id)"
    )


def down(migrator, db):
    db.execute_sql("DROP INDEX IF EXISTS client_list_order")
