"""Secure messaging: threads between one client and the practice, messages, attachments,
read markers, quick-reply snippets and each user's notice choice.

Frozen as SQL: a migration never imports portal.models. Depends on 0001 (practice,
provider, client, user).

Guards kept by the database itself:
- message: never deleted; its content (thread, sender, body, time) never changes; the
  only change allowed is hiding it once, with a reason (hidden_at, hidden_by_id,
  hidden_reason set together, from NULL);
- message_attachment: never changed or deleted;
- message_thread: never deleted (threads are closed as "done", not removed);
- a thread's link is a generic (kind, id) pair: appointment, invoice and chart note
  today, claim later, without a migration.

Each table gets the render cache's change triggers (portal.pagecache, migration 0007):
the provider home shows the unread count.
"""

from portal import ddl
from portal.pagecache import add_change_triggers, drop_change_triggers

TABLES = [
    """CREATE TABLE message_thread (
        id INTEGER PRIMARY KEY,
        practice_id INTEGER NOT NULL REFERENCES practice (id) ON DELETE RESTRICT,
        client_id INTEGER NOT NULL REFERENCES client (id) ON DELETE RESTRICT,
        subject VARCHAR(255) NOT NULL CHECK (length(trim(subject)) BETWEEN 1 AND 120),
        provider_id INTEGER REFERENCES provider (id) ON DELETE SET NULL,
        front_desk INTEGER NOT NULL DEFAULT 1 CHECK (front_desk IN (0, 1)),
        link_kind VARCHAR(255) NOT NULL DEFAULT '',
        link_id INTEGER,
        started_by_id INTEGER REFERENCES user (id) ON DELETE SET NULL,
        created_at DATETIME NOT NULL,
        last_message_at DATETIME NOT NULL,
        last_message_id INTEGER NOT NULL DEFAULT 0,
        last_client_message_id INTEGER NOT NULL DEFAULT 0,
        last_staff_message_id INTEGER NOT NULL DEFAULT 0,
        assigned_to_id INTEGER REFERENCES user (id) ON DELETE SET NULL,
        done_at DATETIME,
        done_by_id INTEGER REFERENCES user (id) ON DELETE SET NULL,
        CHECK ((link_kind = '') = (link_id IS NULL))
    )""",
    "CREATE INDEX message_thread_practice ON message_thread (practice_id, last_message_at)",
    "CREATE INDEX message_thread_practice_last ON message_thread (practice_id, last_message_id)",
    "CREATE INDEX message_thread_client ON message_thread (client_id, last_message_at)",
    # Open threads, newest first: the inbox's default view, and the staff unread count
    # (unread threads are open ones: a client's message reopens a done thread).
    """CREATE INDEX message_thread_open ON message_thread (practice_id, last_message_at)
        WHERE done_at IS NULL""",
    "CREATE INDEX message_thread_assigned ON message_thread (assigned_to_id)",
    "CREATE INDEX message_thread_link ON message_thread (link_kind, link_id)",
    "CREATE INDEX message_thread_provider ON message_thread (provider_id)",
    "CREATE INDEX message_thread_started_by ON message_thread (started_by_id)",
    "CREATE INDEX message_thread_done_by ON message_thread (done_by_id)",
    """CREATE TRIGGER message_thread_no_delete BEFORE DELETE ON message_thread
        BEGIN SELECT RAISE(ABORT, 'a message thread is never deleted'); END""",
    """CREATE TRIGGER message_thread_fixed BEFORE UPDATE ON message_thread
        WHEN NEW.practice_id IS NOT OLD.practice_id OR NEW.client_id IS NOT OLD.client_id
          OR NEW.created_at IS NOT OLD.created_at
        BEGIN SELECT RAISE(ABORT, 'a thread stays with its client'); END""",
    """CREATE TABLE message (
        id INTEGER PRIMARY KEY,
        practice_id INTEGER NOT NULL REFERENCES practice (id) ON DELETE RESTRICT,
        client_id INTEGER NOT NULL REFERENCES client (id) ON DELETE RESTRICT,
        thread_id INTEGER NOT NULL REFERENCES message_thread (id) ON DELETE RESTRICT,
        sender_id INTEGER NOT NULL REFERENCES user (id) ON DELETE RESTRICT,
        sender_role VARCHAR(255) NOT NULL CHECK (sender_role IN ('client', 'staff')),
        sender_name VARCHAR(255) NOT NULL DEFAULT '',
        body TEXT NOT NULL DEFAULT '' CHECK (length(body) <= 5000),
        created_at DATETIME NOT NULL,
        hidden_at DATETIME,
        hidden_by_id INTEGER REFERENCES user (id) ON DELETE RESTRICT,
        hidden_reason VARCHAR(255) NOT NULL DEFAULT '',
        CHECK ((hidden_at IS NULL) = (hidden_by_id IS NULL)),
        CHECK ((hidden_at IS NULL) = (hidden_reason = ''))
    )""",
    "CREATE INDEX message_thread_id ON message (thread_id, id)",
    "CREATE INDEX message_client ON message (client_id, id)",
    "CREATE INDEX message_practice ON message (practice_id, id)",
    "CREATE INDEX message_sender ON message (sender_id, created_at)",
    "CREATE INDEX message_hidden_by ON message (hidden_by_id)",
    """CREATE TRIGGER message_no_delete BEFORE DELETE ON message
        BEGIN SELECT RAISE(ABORT, 'a message is never deleted'); END""",
    """CREATE TRIGGER message_never_edited BEFORE UPDATE ON message
        WHEN NEW.body IS NOT OLD.body OR NEW.thread_id IS NOT OLD.thread_id
          OR NEW.sender_id IS NOT OLD.sender_id OR NEW.sender_role IS NOT OLD.sender_role
          OR NEW.sender_name IS NOT OLD.sender_name OR NEW.created_at IS NOT OLD.created_at
          OR NEW.practice_id IS NOT OLD.practice_id OR NEW.client_id IS NOT OLD.client_id
          OR OLD.hidden_at IS NOT NULL
        BEGIN SELECT RAISE(ABORT, 'a message is never edited (it can be hidden once)'); END""",
    """CREATE TABLE message_attachment (
        id INTEGER PRIMARY KEY,
        practice_id INTEGER NOT NULL REFERENCES practice (id) ON DELETE RESTRICT,
        client_id INTEGER NOT NULL REFERENCES client (id) ON DELETE RESTRICT,
        message_id INTEGER NOT NULL REFERENCES message (id) ON DELETE RESTRICT,
        stored_name VARCHAR(255) NOT NULL UNIQUE,
        content_type VARCHAR(255) NOT NULL
            CHECK (content_type IN ('image/jpeg', 'image/png', 'application/pdf')),
        size_bytes INTEGER NOT NULL CHECK (size_bytes > 0),
        sha256 VARCHAR(255) NOT NULL CHECK (length(sha256) = 64),
        width INTEGER,
        height INTEGER,
        created_at DATETIME NOT NULL
    )""",
    "CREATE INDEX message_attachment_message ON message_attachment (message_id)",
    "CREATE INDEX message_attachment_client ON message_attachment (client_id)",
    "CREATE INDEX message_attachment_practice ON message_attachment (practice_id)",
    """CREATE TRIGGER message_attachment_no_update BEFORE UPDATE ON message_attachment
        BEGIN SELECT RAISE(ABORT, 'an attachment never changes'); END""",
    """CREATE TRIGGER message_attachment_no_delete BEFORE DELETE ON message_attachment
        BEGIN SELECT RAISE(ABORT, 'an attachment is never deleted'); END""",
    """CREATE TABLE message_read (
        id INTEGER PRIMARY KEY,
        practice_id INTEGER NOT NULL REFERENCES practice (id) ON DELETE CASCADE,
        client_id INTEGER NOT NULL REFERENCES client (id) ON DELETE CASCADE,
        thread_id INTEGER NOT NULL REFERENCES message_thread (id) ON DELETE CASCADE,
        user_id INTEGER NOT NULL REFERENCES user (id) ON DELETE CASCADE,
        last_read_message_id INTEGER NOT NULL CHECK (last_read_message_id >= 0),
        read_at DATETIME NOT NULL
    )""",
    "CREATE UNIQUE INDEX message_read_thread_user ON message_read (thread_id, user_id)",
    "CREATE INDEX message_read_user ON message_read (user_id)",
    "CREATE INDEX message_read_client ON message_read (client_id)",
    "CREATE INDEX message_read_practice ON message_read (practice_id)",
    """CREATE TABLE message_snippet (
        id INTEGER PRIMARY KEY,
        practice_id INTEGER NOT NULL REFERENCES practice (id) ON DELETE CASCADE,
        title VARCHAR(255) NOT NULL CHECK (length(trim(title)) BETWEEN 1 AND 80),
        body TEXT NOT NULL CHECK (length(trim(body)) BETWEEN 1 AND 2000),
        created_by_id INTEGER REFERENCES user (id) ON DELETE SET NULL,
        created_at DATETIME NOT NULL,
        active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1))
    )""",
    "CREATE INDEX message_snippet_practice ON message_snippet (practice_id, active, title)",
    "CREATE INDEX message_snippet_created_by ON message_snippet (created_by_id)",
    """CREATE TABLE message_notice_setting (
        id INTEGER PRIMARY KEY,
        practice_id INTEGER NOT NULL REFERENCES practice (id) ON DELETE CASCADE,
        user_id INTEGER NOT NULL UNIQUE REFERENCES user (id) ON DELETE CASCADE,
        email_notices INTEGER NOT NULL DEFAULT 1 CHECK (email_notices IN (0, 1)),
        updated_at DATETIME NOT NULL
    )""",
    "CREATE INDEX message_notice_setting_practice ON message_notice_setting (practice_id)",
]

# PostgreSQL's versions of the triggers above (ddl.run skips CREATE TRIGGER there).
_MESSAGE_CONTENT = (
    "body",
    "thread_id",
    "sender_id",
    "sender_role",
    "sender_name",
    "created_at",
    "practice_id",
    "client_id",
)
PG = [
    ddl.refuse(
        "message_thread_no_delete",
        "BEFORE DELETE",
        "message_thread",
        "a message thread is never deleted",
    ),
    ddl.refuse(
        "message_thread_fixed",
        "BEFORE UPDATE",
        "message_thread",
        "a thread stays with its client",
        when=ddl.changed(("practice_id", "client_id", "created_at")),
    ),
    ddl.refuse("message_no_delete", "BEFORE DELETE", "message", "a message is never deleted"),
    ddl.refuse(
        "message_never_edited",
        "BEFORE UPDATE",
        "message",
        "a message is never edited (it can be hidden once)",
        when=f"{ddl.changed(_MESSAGE_CONTENT)} OR OLD.hidden_at IS NOT NULL",
    ),
    ddl.refuse(
        "message_attachment_no_update",
        "BEFORE UPDATE",
        "message_attachment",
        "an attachment never changes",
    ),
    ddl.refuse(
        "message_attachment_no_delete",
        "BEFORE DELETE",
        "message_attachment",
        "an attachment is never deleted",
    ),
]

NEW_TABLES = [
    "message_thread",
    "message",
    "message_attachment",
    "message_read",
    "message_snippet",
    "message_notice_setting",
]


def up(migrator, db):
    for sql in TABLES:
        ddl.run(db, sql)
    ddl.pg(db, PG)
    for table in NEW_TABLES:
        add_change_triggers(db, table)


def down(migrator, db):
    # Dropping a table drops its triggers (the guards and the change triggers); the
    # guards forbid deleting rows, not dropping tables: `down` is for development.
    for table in reversed(NEW_TABLES):
        drop_change_triggers(db, table)
        ddl.run(db, f'DROP TABLE IF EXISTS "{table}"')
