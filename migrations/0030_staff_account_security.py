"""Staff accounts: an invitation no longer tells whether its address has an account in
another practice, and two-step login gets recovery codes.

- user.email is no longer unique over the whole server. Unique instead:
  (practice_id, email), one user per address in a practice (the staff page's "a user with
  this e-mail already exists" is about its own practice only), and email among the users
  with a password (user_email_account: an address logs in to one account). So an owner
  may invite an address that has an account in another practice: the invitation is made,
  listed and e-mailed as for any new address, and its link, once followed, tells only the
  address's owner that the address has an account already (portal/auth.py). A plain index
  on email serves the login, which looks the address up first.
- recovery_code: ten one-time codes per staff user with two-step login, for a lost phone.
  Only a per-code salt and sha256(salt + code) are kept (the codes are 80 random bits:
  portal/services/recovery_codes.py says why a fast hash is enough); used_at marks a code
  spent. The render cache's change triggers are added as for any table.

SQLite drops a UNIQUE written in a column's definition only by rebuilding the table, which
drops its indexes and change triggers: they are made again. The tables that refer to user
keep naming it: the old table is renamed away with PRAGMA legacy_alter_table on and
foreign keys off (the migration runner turns them off). PostgreSQL drops the constraint in
place.

Down refuses while two users share an address (invitations made since 0030 to addresses
known elsewhere): those users are the owners' to remove first. Frozen as SQL (a migration
never imports portal.models). Depends on 0001 (user) and 0019 (user.email_unverified).
"""

from portal import ddl
from portal.pagecache import add_change_triggers, drop_change_triggers

# As 0001 made it and 0019 added a column (its text kept, so that down restores it exactly).
USER_TABLE = """CREATE TABLE user (
        id INTEGER PRIMARY KEY,
        practice_id INTEGER NOT NULL REFERENCES practice (id) ON DELETE RESTRICT,
        email VARCHAR(255) NOT NULL{unique},
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
    , email_unverified INTEGER NOT NULL DEFAULT 0)"""
USER_COLUMNS = (
    "id, practice_id, email, name, role, password_hash, active, provider_id, client_id, "
    "totp_secret, totp_enabled, totp_last_step, password_changed_at, last_login_at, "
    "created_at, email_unverified"
)
USER_INDEXES = (
    "CREATE INDEX user_practice_id ON user (practice_id)",
    "CREATE INDEX user_client_id ON user (client_id)",
    "CREATE INDEX user_provider_id ON user (provider_id)",
)
NEW_INDEXES = (
    ("user_practice_email", "CREATE UNIQUE INDEX user_practice_email ON user (practice_id, email)"),
    (
        "user_email_account",
        "CREATE UNIQUE INDEX user_email_account ON user (email) WHERE password_hash IS NOT NULL",
    ),
    ("user_email", "CREATE INDEX user_email ON user (email)"),
)
RECOVERY_TABLE = """CREATE TABLE recovery_code (
        id INTEGER PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES user (id) ON DELETE CASCADE,
        salt VARCHAR(255) NOT NULL CHECK (length(salt) = 32),
        code_hash VARCHAR(255) NOT NULL CHECK (length(code_hash) = 64),
        created_at DATETIME NOT NULL,
        used_at DATETIME
    )"""
RECOVERY_INDEX = "CREATE INDEX recovery_code_user_id ON recovery_code (user_id)"


def _rebuild_user(db, unique):
    (fks,) = db.execute_sql("PRAGMA foreign_keys").fetchone()
    if fks:  # a rename would carry the references to user over to the old table
        raise RuntimeError("Migration 0030 runs with foreign keys off (as the runner does).")
    old = "user_before_0030"
    db.execute_sql("PRAGMA legacy_alter_table = ON")
    try:
        db.execute_sql(f"ALTER TABLE user RENAME TO {old}")
    finally:
        db.execute_sql("PRAGMA legacy_alter_table = OFF")
    db.execute_sql(USER_TABLE.format(unique=" UNIQUE" if unique else ""))
    db.execute_sql(f"INSERT INTO user ({USER_COLUMNS}) SELECT {USER_COLUMNS} FROM {old}")
    db.execute_sql(f"DROP TABLE {old}")  # its indexes and triggers go with it
    for sql in USER_INDEXES:
        db.execute_sql(sql)
    add_change_triggers(db, "user")


def up(migrator, db):
    if ddl.is_postgres(db):
        db.execute_sql('ALTER TABLE "user" DROP CONSTRAINT user_email_key')
    else:
        _rebuild_user(db, unique=False)
    for _, sql in NEW_INDEXES:
        ddl.run(db, sql)
    ddl.run(db, RECOVERY_TABLE)
    ddl.run(db, RECOVERY_INDEX)
    add_change_triggers(db, "recovery_code")


def refusal(db):
    """Why down cannot run, or None (the runner asks before it reverts anything)."""
    shared = db.execute_sql(
        'SELECT COUNT(*) FROM (SELECT email FROM "user" GROUP BY email HAVING COUNT(*) > 1) s'
    ).fetchone()[0]
    if shared:
        return (
            f"Migration 0030 cannot be undone: {shared} e-mail address(es) belong to users "
            "of more than one practice (invitations made since 0030)."
        )
    return None


def down(migrator, db):
    reason = refusal(db)
    if reason:
        raise RuntimeError(reason)
    # PostgreSQL alters no table with events of its deferred triggers (the render cache's
    # data version, migration 0007) still pending: they fire now.
    ddl.pg(db, "SET CONSTRAINTS ALL IMMEDIATE")
    drop_change_triggers(db, "recovery_code")
    ddl.run(db, 'DROP TABLE IF EXISTS "recovery_code"')
    for name, _ in NEW_INDEXES:
        ddl.run(db, f"DROP INDEX {name}")
    if ddl.is_postgres(db):
        db.execute_sql('ALTER TABLE "user" ADD CONSTRAINT user_email_key UNIQUE (email)')
    else:
        _rebuild_user(db, unique=True)
