"""Ending a session changes the data version (migration 0007's data_version.n).

user_session is left out of 0007's triggers: its last_seen_at is written every 30 s per
session. But each process keeps the sessions it checked, keyed by the data version
(portal/auth.py, load_user), so a revocation (revoked_at set) or a deleted row must change
the version. Only those two writes do: last_seen_at still does not.
"""

from portal import ddl

TRIGGERS = {
    "user_session_dv_revoke": (
        "AFTER UPDATE OF revoked_at ON user_session WHEN NEW.revoked_at IS NOT OLD.revoked_at"
    ),
    "user_session_dv_del": "AFTER DELETE ON user_session",
}


PG = [
    'CREATE CONSTRAINT TRIGGER "user_session_dv_revoke" AFTER UPDATE OF revoked_at '
    "ON user_session DEFERRABLE INITIALLY DEFERRED FOR EACH ROW "
    "WHEN (NEW.revoked_at IS DISTINCT FROM OLD.revoked_at) "
    "EXECUTE FUNCTION portal_bump_data_version()",
    'CREATE CONSTRAINT TRIGGER "user_session_dv_del" AFTER DELETE ON user_session '
    "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION portal_bump_data_version()",
]


def up(migrator, db):
    if ddl.is_postgres(db):
        ddl.pg(db, PG)
        return
    for name, when in TRIGGERS.items():
        db.execute_sql(
            f'CREATE TRIGGER "{name}" {when} '
            "BEGIN UPDATE data_version SET n = n + 1 WHERE id = 1; END"
        )


def down(migrator, db):
    for name in TRIGGERS:
        ddl.drop_trigger(db, name, "user_session")
