"""A hidden message can be shown again: staff hide a message with a reason (migration 0012
allowed that once and for good); now they may undo it, and the hiding stays on record.

- message.unhidden_at, message.unhidden_by_id: who showed a hidden message again, and when.
  The hiding's columns (hidden_at, hidden_by_id, hidden_reason) are kept as they were, so
  the thread still says who hid it, when and why. A message is hidden while hidden_at is
  set and unhidden_at is not; hiding it again replaces the hiding and clears the two.
- message_never_edited (the guard of 0012) is made again: the content still never changes;
  the hidden_* columns change only by hiding a message that is not hidden (all three set,
  unhidden_* cleared), the unhidden_* only by showing a hidden one (both set, the hiding
  untouched). Everything else about a message is refused as before.

Frozen as SQL (a migration never imports portal.models). Depends on 0012. Down: a message
shown again reads as never hidden (the audit log keeps both), and the guard of 0012 is back.
"""

from portal import ddl

CONTENT = (
    "body",
    "thread_id",
    "sender_id",
    "sender_role",
    "sender_name",
    "created_at",
    "practice_id",
    "client_id",
)
HIDING = ("hidden_at", "hidden_by_id", "hidden_reason")
SHOWING = ("unhidden_at", "unhidden_by_id")
MESSAGE = "a message is never edited (it can be hidden, and shown again)"
MESSAGE_0012 = "a message is never edited (it can be hidden once)"


def _guard(ne):
    """When an update of a message is refused; `ne(column)` says it changes (SQLite's
    IS NOT, PostgreSQL's IS DISTINCT FROM)."""

    def any_of(columns):
        return "(" + " OR ".join(ne(c) for c in columns) + ")"

    hide = (
        "(OLD.hidden_at IS NULL OR OLD.unhidden_at IS NOT NULL) AND NEW.hidden_at IS NOT NULL"
        " AND NEW.unhidden_at IS NULL AND NEW.unhidden_by_id IS NULL"
    )
    show = (
        f"OLD.hidden_at IS NOT NULL AND OLD.unhidden_at IS NULL AND NOT {any_of(HIDING)}"
        " AND NEW.unhidden_at IS NOT NULL AND NEW.unhidden_by_id IS NOT NULL"
    )
    return (
        f"{any_of(CONTENT)} OR ({any_of(HIDING + SHOWING)} AND NOT ({hide}) AND NOT ({show}))"
    )


def _sqlite_ne(column):
    return f"NEW.{column} IS NOT OLD.{column}"


def _pg_ne(column):
    return f"NEW.{column} IS DISTINCT FROM OLD.{column}"


SQLITE_TRIGGER = f"""CREATE TRIGGER message_never_edited BEFORE UPDATE ON message
        WHEN {_guard(_sqlite_ne)}
        BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"""
SQLITE_TRIGGER_0012 = f"""CREATE TRIGGER message_never_edited BEFORE UPDATE ON message
        WHEN {" OR ".join(_sqlite_ne(c) for c in CONTENT)} OR OLD.hidden_at IS NOT NULL
        BEGIN SELECT RAISE(ABORT, '{MESSAGE_0012}'); END"""
PG_TRIGGER = ddl.refuse("message_never_edited", "BEFORE UPDATE", "message", MESSAGE,
                        when=_guard(_pg_ne))  # fmt: skip
PG_TRIGGER_0012 = ddl.refuse(
    "message_never_edited",
    "BEFORE UPDATE",
    "message",
    MESSAGE_0012,
    when=f"{ddl.changed(CONTENT)} OR OLD.hidden_at IS NOT NULL",
)


def up(migrator, db):
    ddl.drop_trigger(db, "message_never_edited", "message")
    ddl.run(db, "ALTER TABLE message ADD COLUMN unhidden_at DATETIME")
    ddl.run(
        db,
        "ALTER TABLE message ADD COLUMN unhidden_by_id INTEGER "
        "REFERENCES user (id) ON DELETE RESTRICT",
    )
    ddl.run(db, "CREATE INDEX message_unhidden_by ON message (unhidden_by_id)")
    ddl.sqlite(db, SQLITE_TRIGGER)
    ddl.pg(db, PG_TRIGGER)


def down(migrator, db):
    ddl.drop_trigger(db, "message_never_edited", "message")
    db.execute_sql(
        "UPDATE message SET hidden_at = NULL, hidden_by_id = NULL, hidden_reason = '' "
        "WHERE unhidden_at IS NOT NULL"
    )
    # PostgreSQL alters no table with events of its deferred triggers (the render cache's
    # data version, migration 0007) still pending: they fire now.
    ddl.pg(db, "SET CONSTRAINTS ALL IMMEDIATE")
    ddl.run(db, "DROP INDEX message_unhidden_by")
    ddl.run(db, "ALTER TABLE message DROP COLUMN unhidden_by_id")
    ddl.run(db, "ALTER TABLE message DROP COLUMN unhidden_at")
    ddl.sqlite(db, SQLITE_TRIGGER_0012)
    ddl.pg(db, PG_TRIGGER_0012)
