"""A refund can say it gives back the client's overpaid insurance share.

The claims flow tells the desk when a client paid more than the payer says they owe (the
check-out estimate was above the share): "refund $5.00 on the visit's invoice". The refund
settled the invoice (0034), but the claims flow still counted the $5.00 as billed to the
client: when the payer reversed its answer and answered the same again, the claim said
"refund $5.00" a second time. A goodwill refund must not be counted (it is a gift, not a
correction of the share: a larger share from the payer is still owed), so the refund has to
say which it is.

- refund.overpaid_share: 1 when the refund gives back part of the client's share that the
  insurer covered after all (the staff refund form's third choice, offered on an invoice
  with client-share lines). Such a refund settles (CHECK), and the claims flow counts it as
  no longer billed to the client. 0 otherwise (every refund there was).

Frozen as SQL (a migration never imports portal.models). Down drops the column: the
refunds stay, settling as they did.
"""

from portal import ddl


def up(migrator, db):
    ddl.run(
        db,
        "ALTER TABLE refund ADD COLUMN overpaid_share INTEGER NOT NULL DEFAULT 0 "
        "CHECK (overpaid_share IN (0, 1)) CHECK (NOT overpaid_share OR settles)",
    )


def down(migrator, db):
    # PostgreSQL alters no table with events of its deferred triggers still pending.
    ddl.pg(db, "SET CONSTRAINTS ALL IMMEDIATE")
    ddl.run(db, "ALTER TABLE refund DROP COLUMN overpaid_share")
