"""Device cookies (OWASP): a failed login made with a browser's device cookie is counted
against that device, so a browser that logged in before is not locked out by failures from
elsewhere at the same address. `device` is a hash of the cookie's nonce; '' for none."""

from portal import ddl


def up(migrator, db):
    ddl.run(db, "ALTER TABLE login_attempt ADD COLUMN device VARCHAR(255) NOT NULL DEFAULT ''")
    ddl.run(db, "CREATE INDEX login_attempt_device ON login_attempt (device, at)")


def down(migrator, db):
    ddl.run(db, "DROP INDEX IF EXISTS login_attempt_device")
    ddl.run(db, "ALTER TABLE login_attempt DROP COLUMN device")
