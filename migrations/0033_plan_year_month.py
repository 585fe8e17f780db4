"""A plan's benefit year need not be the calendar year: many employer plans start theirs in
July or October, and the deductible, the out-of-pocket and the visits a year start over
then, not on January 1.

- benefits_verification.plan_year_month: the month (1 to 12, by a CHECK) the benefit year
  starts on the 1st of, as the payer said on the call; 1 (the calendar year) for the
  verifications there were, which is what the portal assumed of them. Read by
  portal/rules/coverage.py (plan_year_start, later_plan_year): check-in's "verify again"
  and "no visits left" warnings and check-out's estimate of the client's share.

Frozen as SQL (a migration never imports portal.models). Depends on 0002.
"""

from portal import ddl


def up(migrator, db):
    ddl.run(
        db,
        "ALTER TABLE benefits_verification ADD COLUMN plan_year_month INTEGER NOT NULL "
        "DEFAULT 1 CHECK (plan_year_month BETWEEN 1 AND 12)",
    )


def down(migrator, db):
    ddl.run(db, "ALTER TABLE benefits_verification DROP COLUMN plan_year_month")
