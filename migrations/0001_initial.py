"""Foundation: practice, providers, clients, users, sessions, tokens, throttling, outbox, audit.

Frozen as SQL: a migration never imports portal.models.
"""

from portal import ddl

TABLES = [
    """CREATE TABLE practice (
        id INTEGER PRIMARY KEY,
        name VARCHAR(255) NOT NULL,
        address1 VARCHAR(255) NOT NULL DEFAULT '',
        address2 VARCHAR(255) NOT NULL DEFAULT '',
        city VARCHAR(255) NOT NULL DEFAULT '',
        state VARCHAR(255) NOT NULL DEFAULT '',
        postal_code VARCHAR(255) NOT NULL DEFAULT '',
        phone VARCHAR(255) NOT NULL DEFAULT '',
        email VARCHAR(255) NOT NULL DEFAULT '',
        timezone VARCHAR(255) NOT NULL DEFAULT 'America/New_York',
        ein VARCHAR(255) NOT NULL DEFAULT '',
        npi VARCHAR(255) NOT NULL DEFAULT '',
        taxonomy VARCHAR(255) NOT NULL DEFAULT '225700000X',
        logo_path VARCHAR(255) NOT NULL DEFAULT '',
        require_staff_totp INTEGER NOT NULL DEFAULT 0,
        therapists_see_all_clients INTEGER NOT NULL DEFAULT 1,
        created_at DATETIME NOT NULL
    )""",
    """CREATE TABLE provider (
        id INTEGER PRIMARY KEY,
        practice_id INTEGER NOT NULL REFERENCES practice (id) ON DELETE RESTRICT,
        first_name VARCHAR(255) NOT NULL,
        last_name VARCHAR(255) NOT NULL,
        credentials VARCHAR(255) NOT NULL DEFAULT '',
        npi VARCHAR(255) NOT NULL DEFAULT '',
        license_number VARCHAR(255) NOT NULL DEFAULT '',
        license_state VARCHAR(255) NOT NULL DEFAULT '',
        taxonomy VARCHAR(255) NOT NULL DEFAULT '225700000X',
        email VARCHAR(255) NOT NULL DEFAULT '',
        phone VARCHAR(255) NOT NULL DEFAULT '',
        active INTEGER NOT NULL DEFAULT 1,
        created_at DATETIME NOT NULL
    )""",
    "CREATE INDEX provider_practice_id ON provider (practice_id)",
    """CREATE TABLE client (
        id INTEGER PRIMARY KEY,
        practice_id INTEGER NOT NULL REFERENCES practice (id) ON DELETE RESTRICT,
        first_name VARCHAR(255) NOT NULL,
        last_name VARCHAR(255) NOT NULL,
        preferred_name VARCHAR(255) NOT NULL DEFAULT '',
        date_of_birth DATE,
        email VARCHAR(255) NOT NULL DEFAULT '',
        phone VARCHAR(255) NOT NULL DEFAULT '',
        therapist_id INTEGER REFERENCES provider (id) ON DELETE SET NULL,
        active INTEGER NOT NULL DEFAULT 1,
        created_at DATETIME NOT NULL
    )""",
    "CREATE INDEX client_practice_id ON client (practice_id)",
    "CREATE INDEX client_therapist_id ON client (therapist_id)",
    """CREATE TABLE user (
        id INTEGER PRIMARY KEY,
        practice_id INTEGER NOT NULL REFERENCES practice (id) ON DELETE RESTRICT,
        email VARCHAR(255) NOT NULL UNIQUE,
        name VARCHAR(255) NOT NULL DEFAULT '',
        role VARCHAR(255) NOT NULL CHECK (role IN ('owner', 'therapist', 'frontdesk', 'client')),
        password_hash VARCHAR(255),
        active INTEGER NOT NULL DEFAULT 1,
        provider_id INTEGER REFERENCES provider (id) ON DELETE SET NULL,
        client_id INTEGER REFERENCES client (id) ON DELETE SET NULL,
        totp_secret VARCHAR(255),
        totp_enabled INTEGER NOT NULL DEFAULT 0,
        totp_last_step INTEGER NOT NULL DEFAULT 0,
        password_changed_at DATETIME,
        last_login_at DATETIME,
        created_at DATETIME NOT NULL
    )""",
    "CREATE INDEX user_practice_id ON user (practice_id)",
    "CREATE INDEX user_client_id ON user (client_id)",
    "CREATE INDEX user_provider_id ON user (provider_id)",
    """CREATE TABLE user_session (
        id INTEGER PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES user (id) ON DELETE CASCADE,
        token_hash VARCHAR(255) NOT NULL UNIQUE,
        created_at DATETIME NOT NULL,
        last_seen_at DATETIME NOT NULL,
        revoked_at DATETIME,
        revoked_reason VARCHAR(255) NOT NULL DEFAULT '',
        ip VARCHAR(255) NOT NULL DEFAULT '',
        user_agent VARCHAR(255) NOT NULL DEFAULT ''
    )""",
    "CREATE INDEX user_session_user_id ON user_session (user_id)",
    """CREATE TABLE user_token (
        id INTEGER PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES user (id) ON DELETE CASCADE,
        purpose VARCHAR(255) NOT NULL CHECK (purpose IN ('invite', 'reset')),
        token_hash VARCHAR(255) NOT NULL UNIQUE,
        created_at DATETIME NOT NULL,
        expires_at DATETIME NOT NULL,
        used_at DATETIME
    )""",
    "CREATE INDEX user_token_user_id ON user_token (user_id)",
    """CREATE TABLE login_attempt (
        id INTEGER PRIMARY KEY,
        account_key VARCHAR(255) NOT NULL,
        ip VARCHAR(255) NOT NULL,
        at DATETIME NOT NULL,
        success INTEGER NOT NULL DEFAULT 0
    )""",
    "CREATE INDEX login_attempt_account_key ON login_attempt (account_key, at)",
    "CREATE INDEX login_attempt_ip ON login_attempt (ip, at)",
    """CREATE TABLE outbox_message (
        id INTEGER PRIMARY KEY,
        practice_id INTEGER REFERENCES practice (id) ON DELETE CASCADE,
        to_addr VARCHAR(255) NOT NULL,
        subject VARCHAR(255) NOT NULL,
        body TEXT NOT NULL,
        kind VARCHAR(255) NOT NULL DEFAULT '',
        dedupe_key VARCHAR(255) UNIQUE,
        attachment_name VARCHAR(255) NOT NULL DEFAULT '',
        attachment_type VARCHAR(255) NOT NULL DEFAULT '',
        attachment TEXT NOT NULL DEFAULT '',
        created_at DATETIME NOT NULL,
        sent_at DATETIME,
        error VARCHAR(255) NOT NULL DEFAULT ''
    )""",
    "CREATE INDEX outbox_message_practice_id ON outbox_message (practice_id, created_at)",
    """CREATE TABLE audit_log (
        id INTEGER PRIMARY KEY,
        at DATETIME NOT NULL,
        practice_id INTEGER,
        user_id INTEGER,
        action VARCHAR(255) NOT NULL,
        object_type VARCHAR(255) NOT NULL DEFAULT '',
        object_id INTEGER,
        client_id INTEGER,
        ip VARCHAR(255) NOT NULL DEFAULT '',
        detail VARCHAR(255) NOT NULL DEFAULT ''
    )""",
    "CREATE INDEX audit_log_practice_at ON audit_log (practice_id, at)",
    "CREATE INDEX audit_log_client ON audit_log (client_id)",
    """CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
       BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END""",
    """CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
       BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END""",
]

# PostgreSQL's versions of the triggers above (ddl.run skips CREATE TRIGGER there); every
# guard of every later migration calls portal_refuse(), made here.
PG = [
    ddl.REFUSE_FUNCTION,
    ddl.refuse("audit_log_no_update", "BEFORE UPDATE", "audit_log", "audit_log is append-only"),
    ddl.refuse("audit_log_no_delete", "BEFORE DELETE", "audit_log", "audit_log is append-only"),
]

DROP = [
    "audit_log",
    "outbox_message",
    "login_attempt",
    "user_token",
    "user_session",
    "user",
    "client",
    "provider",
    "practice",
]


def up(migrator, db):
    for sql in TABLES:
        ddl.run(db, sql)
    ddl.pg(db, PG)


def down(migrator, db):
    for table in DROP:
        ddl.run(db, f'DROP TABLE IF EXISTS "{table}"')
    ddl.drop_function(db, "portal_refuse")
