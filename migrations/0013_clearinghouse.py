"""The clearinghouse: one SFTP connection per practice, the journal of uploads (so a batch
is never uploaded twice), the files downloaded from the clearinghouse (each kept once per
practice and SHA-256) and each remote file seen (so a fetch never downloads it again).

Frozen as SQL: a migration never imports portal.models.

- clearinghouse_connection: secrets are sealed by portal/secretbox.py with a key outside
  the database (password_enc, private_key_enc hold only ciphertext). host_key is pinned on
  first connection; a different key offered later is kept in offered_host_key until the
  owner accepts it, and stops every transfer until then.
- clearinghouse_file: bytes and hash never change, rows are never deleted (a trigger each).

All four tables bump the render cache's data version (portal.pagecache): they are written
rarely (a settings change, a batch upload, a few files a day from the periodic fetch), so
the bumps cost nothing measurable, and pages that later show them (the claims work list,
a count on the home page) then need no exception.
"""

from portal import ddl
from portal.pagecache import add_change_triggers, drop_change_triggers

TABLES = [
    """CREATE TABLE clearinghouse_connection (
        id INTEGER PRIMARY KEY,
        practice_id INTEGER NOT NULL UNIQUE REFERENCES practice (id) ON DELETE CASCADE,
        host VARCHAR(255) NOT NULL DEFAULT '',
        port INTEGER NOT NULL DEFAULT 22 CHECK (port BETWEEN 1 AND 65535),
        username VARCHAR(255) NOT NULL DEFAULT '',
        auth_method VARCHAR(255) NOT NULL DEFAULT 'key' CHECK (auth_method IN ('key', 'password')),
        password_enc TEXT,
        private_key_enc TEXT,
        public_key TEXT NOT NULL DEFAULT '',
        key_created_at DATETIME,
        upload_dir VARCHAR(255) NOT NULL DEFAULT '',
        download_dir VARCHAR(255) NOT NULL DEFAULT '',
        host_key TEXT NOT NULL DEFAULT '',
        host_key_fingerprint VARCHAR(255) NOT NULL DEFAULT '',
        host_key_pinned_at DATETIME,
        offered_host_key TEXT NOT NULL DEFAULT '',
        offered_host_key_fingerprint VARCHAR(255) NOT NULL DEFAULT '',
        offered_host_key_at DATETIME,
        isa_sender_qualifier VARCHAR(255) NOT NULL DEFAULT 'ZZ',
        isa_sender_id VARCHAR(255) NOT NULL DEFAULT '',
        isa_receiver_qualifier VARCHAR(255) NOT NULL DEFAULT 'ZZ',
        isa_receiver_id VARCHAR(255) NOT NULL DEFAULT '',
        gs_sender_code VARCHAR(255) NOT NULL DEFAULT '',
        gs_receiver_code VARCHAR(255) NOT NULL DEFAULT '',
        submitter_id VARCHAR(255) NOT NULL DEFAULT '',
        receiver_name VARCHAR(255) NOT NULL DEFAULT '',
        receiver_id VARCHAR(255) NOT NULL DEFAULT '',
        usage_indicator VARCHAR(255) NOT NULL DEFAULT 'T' CHECK (usage_indicator IN ('T', 'P')),
        last_ok_at DATETIME,
        last_error_code VARCHAR(255) NOT NULL DEFAULT '',
        last_error VARCHAR(255) NOT NULL DEFAULT '',
        last_error_at DATETIME,
        created_at DATETIME NOT NULL,
        updated_at DATETIME NOT NULL
    )""",
    """CREATE TABLE clearinghouse_upload (
        id INTEGER PRIMARY KEY,
        practice_id INTEGER NOT NULL REFERENCES practice (id) ON DELETE RESTRICT,
        remote_name VARCHAR(255) NOT NULL,
        sha256 VARCHAR(255) NOT NULL CHECK (length(sha256) = 64),
        size_bytes INTEGER NOT NULL CHECK (size_bytes >= 0),
        stage VARCHAR(255) NOT NULL DEFAULT 'writing'
            CHECK (stage IN ('writing', 'renaming', 'done')),
        attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
        busy_until DATETIME,
        remote_path VARCHAR(255) NOT NULL DEFAULT '',
        note VARCHAR(255) NOT NULL DEFAULT '',
        last_error VARCHAR(255) NOT NULL DEFAULT '',
        created_at DATETIME NOT NULL,
        done_at DATETIME
    )""",
    "CREATE UNIQUE INDEX clearinghouse_upload_name ON clearinghouse_upload (practice_id, remote_name)",
    """CREATE TABLE clearinghouse_file (
        id INTEGER PRIMARY KEY,
        practice_id INTEGER NOT NULL REFERENCES practice (id) ON DELETE RESTRICT,
        sha256 VARCHAR(255) NOT NULL CHECK (length(sha256) = 64),
        size_bytes INTEGER NOT NULL CHECK (size_bytes >= 0),
        data BLOB NOT NULL,
        remote_name VARCHAR(255) NOT NULL,
        kind VARCHAR(255) NOT NULL CHECK (kind IN ('999', '277', '835', 'unknown')),
        status VARCHAR(255) NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'processed', 'error')),
        error TEXT NOT NULL DEFAULT '',
        received_at DATETIME NOT NULL,
        processed_at DATETIME
    )""",
    "CREATE UNIQUE INDEX clearinghouse_file_hash ON clearinghouse_file (practice_id, sha256)",
    "CREATE INDEX clearinghouse_file_status ON clearinghouse_file (practice_id, status, id)",
    "CREATE INDEX clearinghouse_file_received ON clearinghouse_file (practice_id, received_at)",
    """CREATE TRIGGER clearinghouse_file_no_update BEFORE UPDATE ON clearinghouse_file
        WHEN NEW.data IS NOT OLD.data OR NEW.sha256 IS NOT OLD.sha256
          OR NEW.size_bytes IS NOT OLD.size_bytes OR NEW.practice_id IS NOT OLD.practice_id
        BEGIN SELECT RAISE(ABORT, 'a received file never changes'); END""",
    """CREATE TRIGGER clearinghouse_file_no_delete BEFORE DELETE ON clearinghouse_file
        BEGIN SELECT RAISE(ABORT, 'a received file is never deleted'); END""",
    """CREATE TABLE clearinghouse_download (
        id INTEGER PRIMARY KEY,
        practice_id INTEGER NOT NULL REFERENCES practice (id) ON DELETE RESTRICT,
        remote_path VARCHAR(255) NOT NULL,
        remote_size INTEGER NOT NULL CHECK (remote_size >= 0),
        remote_mtime INTEGER NOT NULL DEFAULT 0,
        file_id INTEGER NOT NULL REFERENCES clearinghouse_file (id) ON DELETE RESTRICT,
        downloaded_at DATETIME NOT NULL
    )""",
    "CREATE UNIQUE INDEX clearinghouse_download_seen ON clearinghouse_download "
    "(practice_id, remote_path, remote_size, remote_mtime)",
    "CREATE INDEX clearinghouse_download_file ON clearinghouse_download (file_id)",
]

# PostgreSQL's versions of the triggers above (ddl.run skips CREATE TRIGGER there).
PG = [
    ddl.refuse(
        "clearinghouse_file_no_update",
        "BEFORE UPDATE",
        "clearinghouse_file",
        "a received file never changes",
        when=ddl.changed(("data", "sha256", "size_bytes", "practice_id")),
    ),
    ddl.refuse(
        "clearinghouse_file_no_delete",
        "BEFORE DELETE",
        "clearinghouse_file",
        "a received file is never deleted",
    ),
]

NAMES = (
    "clearinghouse_connection",
    "clearinghouse_upload",
    "clearinghouse_file",
    "clearinghouse_download",
)


def up(migrator, db):
    for sql in TABLES:
        ddl.run(db, sql)
    ddl.pg(db, PG)
    for table in NAMES:
        add_change_triggers(db, table)


def down(migrator, db):
    for table in reversed(NAMES):
        drop_change_triggers(db, table)
        ddl.run(db, f'DROP TABLE IF EXISTS "{table}"')
