"""Two-step login moves to a new phone by its user, not only by an owner's reset.

- user.totp_new_secret (VARCHAR, NULL): the new app's secret while the user moves two-step
  login to it (/account/totp/move): made once the password is given, it takes the place of
  totp_secret only when a code from the new app is entered; until then the old app's codes
  keep working. NULL otherwise (and after an owner's reset).

Frozen as SQL (a migration never imports portal.models). Down drops the column: a move
under way is forgotten, the old app stays the one that counts.
"""

from portal import ddl


def up(migrator, db):
    ddl.run(db, 'ALTER TABLE "user" ADD COLUMN totp_new_secret VARCHAR(255)')


def down(migrator, db):
    # PostgreSQL alters no table with events of its deferred triggers still pending.
    ddl.pg(db, "SET CONSTRAINTS ALL IMMEDIATE")
    ddl.run(db, 'ALTER TABLE "user" DROP COLUMN totp_new_secret')
