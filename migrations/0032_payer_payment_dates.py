"""Payer money is dated by the payer's own date of the payment, not the day it was posted.

- claim_posting.paid_on (DATE, NULL): the date typed from the EOB when a payment is posted
  by hand (its check or EFT date). A posting from an 835 needs none: its remittance keeps
  the file's BPR16 in remittance.payment_date (since 0014), which the reports read
  through remittance_claim. The postings made before 0032 keep NULL: those by hand had no
  date to type, and are dated by the day they were posted; nothing is backfilled (an 835's
  date was kept all along).

claim_posting stays append-only (0014's triggers refuse an UPDATE): the column is written
once, with the row. Frozen as SQL (a migration never imports portal.models). Down drops
the column: a date typed by hand is lost, and the payment is dated by the day it was posted
again.
"""

from portal import ddl


def up(migrator, db):
    ddl.run(db, "ALTER TABLE claim_posting ADD COLUMN paid_on DATE")


def down(migrator, db):
    # PostgreSQL alters no table with events of its deferred triggers (the render cache's
    # data version, migration 0007) still pending: they fire now.
    ddl.pg(db, "SET CONSTRAINTS ALL IMMEDIATE")
    ddl.run(db, "ALTER TABLE claim_posting DROP COLUMN paid_on")
