"""A payer's timely filing limit: the days after the date of service within which it must
first receive a claim, or it denies it (CARC 29, "the time limit for filing has expired").

- payer.filing_limit_days: NULL when the practice does not know it (no warning); 1 to 730
  days (two years, past any plan's limit) by a CHECK. The rule reading it is
  portal/rules/filing_limit.py; the claims work list and the claim page show the deadline.

Frozen as SQL (a migration never imports portal.models). Depends on 0002 (payer).
"""

from portal import ddl


def up(migrator, db):
    ddl.run(
        db,
        "ALTER TABLE payer ADD COLUMN filing_limit_days INTEGER "
        "CHECK (filing_limit_days BETWEEN 1 AND 730)",
    )


def down(migrator, db):
    ddl.run(db, "ALTER TABLE payer DROP COLUMN filing_limit_days")
