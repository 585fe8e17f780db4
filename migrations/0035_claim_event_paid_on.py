"""A primary's payment posted by hand is dated, for its secondary claim, by the date typed
from the EOB, not by the day it was posted.

- claim_event.paid_on (DATE, NULL): on the history line of a payment posted by hand, the
  payer's date typed with it (claim_posting.paid_on, migration 0032). The secondary claim's
  filing clock (services/claims/filing.py, whose SQL reads the history alone) and its
  837P's DTP*573 read it; an 835's answer is dated by its remittance's BPR16, as before.

The history is append-only (its triggers refuse an UPDATE), so nothing is backfilled: a
payment posted by hand before 0035 keeps being dated by the day it was posted in the
practice's zone, as it was. Frozen as SQL (a migration never imports portal.models). Down
drops the column: those answers are dated by the day they were posted again.
"""

from portal import ddl


def up(migrator, db):
    ddl.run(db, "ALTER TABLE claim_event ADD COLUMN paid_on DATE")


def down(migrator, db):
    # PostgreSQL alters no table with events of its deferred triggers still pending.
    ddl.pg(db, "SET CONSTRAINTS ALL IMMEDIATE")
    ddl.run(db, "ALTER TABLE claim_event DROP COLUMN paid_on")
