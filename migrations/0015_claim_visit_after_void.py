"""A visit whose claim was voided can be billed again.

Migration 0014 made (appointment, rank, part) unique for every claim, so that two
check-outs or a nightly run racing the desk can never bill one visit twice. A void claim
(frequency 8, or a claim withdrawn before the payer had it) no longer bills the visit:
when the practice billed the wrong payer or the wrong client, the visit must be billable
again, to the right one. The index now leaves void claims out; every other claim of a
visit is still unique per rank and part.

Frozen as SQL (a migration never imports portal.models).
"""

from portal import ddl

OLD = (
    "CREATE UNIQUE INDEX claim_visit ON claim (appointment_id, rank, part) "
    "WHERE appointment_id IS NOT NULL"
)
NEW = (
    "CREATE UNIQUE INDEX claim_visit ON claim (appointment_id, rank, part) "
    "WHERE appointment_id IS NOT NULL AND status <> 'void'"
)


def up(migrator, db):
    ddl.run(db, "DROP INDEX claim_visit")
    ddl.run(db, NEW)


def down(migrator, db):
    # A visit billed again after a void holds two claims for one (rank, part): the old
    # index cannot hold both, so down refuses rather than drop a claim.
    twice = db.execute_sql(
        "SELECT 1 FROM claim WHERE appointment_id IS NOT NULL "
        "GROUP BY appointment_id, rank, part HAVING COUNT(*) > 1 LIMIT 1",
    ).fetchone()
    if twice:
        raise RuntimeError(
            "A visit was billed again after a void: migration 0015 cannot be undone "
            "without removing one of its claims."
        )
    ddl.run(db, "DROP INDEX claim_visit")
    ddl.run(db, OLD)
