"""A refund says whether it settles what it gives back, or whether the amount is due again.

Before, every refund re-opened its own invoice's balance (only a package's invoice was let
off, in code): a $100 visit paid in full with $30 given back as goodwill, or the client's
overpaid share refunded after the insurer paid more than estimated, showed $30 due again
and went back to partially paid, and the client was billed for money the practice had
chosen to give back.

- refund.settles: 1 when the refund settles that amount (the client owes nothing more for
  it), 0 when the client will pay it another way (it is due again). Chosen on the staff
  refund form; a package's unused sessions and the claims flow's refund of an overpaid
  share settle; a package credit given back does not (the visit is due again).
- invoice.settled_cents: cached beside paid_cents and refunded_cents, the succeeded refunds
  that settle, never more than refunded_cents (CHECK). Read by portal/rules/billing.py:
  balance due = total - settled - (paid - refunded), and the status follows it.

The refunds there were keep the meaning they had: they re-open (settles 0), except those of
a package's invoice (the invoice with a package line, reason 'package'), which are marked
as settling, their invoices' settled_cents filled from their succeeded ones: what every
page showed before is what it shows now.

Frozen as SQL (a migration never imports portal.models). Depends on 0005 (invoice,
invoice_line, payment, refund). Down drops both columns: the code of before computes the
package invoices' exemption itself.
"""

from portal import ddl

# The invoices whose refunds settled before 0034 (in portal.services.invoicing.refresh):
# those with a package line, which are the invoices packages sold (reason 'package').
PACKAGE_INVOICES = (
    "SELECT invoice_id FROM invoice_line WHERE kind = 'package' "
    "UNION SELECT id FROM invoice WHERE reason = 'package'"
)


def up(migrator, db):
    ddl.run(
        db,
        "ALTER TABLE refund ADD COLUMN settles INTEGER NOT NULL DEFAULT 0 "
        "CHECK (settles IN (0, 1))",
    )
    ddl.run(
        db,
        "ALTER TABLE invoice ADD COLUMN settled_cents INTEGER NOT NULL DEFAULT 0 "
        "CHECK (settled_cents >= 0 AND settled_cents <= refunded_cents)",
    )
    # Last: on PostgreSQL an UPDATE leaves trigger events pending (the render cache's change
    # triggers), and the tables cannot be altered after it in the transaction.
    db.execute_sql(
        "UPDATE refund SET settles = TRUE WHERE payment_id IN "
        f"(SELECT id FROM payment WHERE invoice_id IN ({PACKAGE_INVOICES}))"
    )
    db.execute_sql(
        "UPDATE invoice SET settled_cents = (SELECT COALESCE(SUM(r.amount_cents), 0) "
        "FROM refund r JOIN payment p ON p.id = r.payment_id "
        "WHERE p.invoice_id = invoice.id AND r.status = 'succeeded' AND r.settles) "
        f"WHERE id IN ({PACKAGE_INVOICES})"
    )


def down(migrator, db):
    ddl.run(db, "ALTER TABLE invoice DROP COLUMN settled_cents")
    ddl.run(db, "ALTER TABLE refund DROP COLUMN settles")
