"""A claim's history row keeps the clearinghouse's trace of the sending an acknowledgment
answered (a 277CA's REF*D9): a later status carrying the same trace is about that same
sending, so a late copy of an old file's 277CA is told from an answer to the claim sent
again since (services/claims/acks.py, rules/ack_match.py).

- claim_event.trace: '' when none (every row before this, and rows of other kinds).

claim_event is append-only (its triggers refuse UPDATE and DELETE); adding a column with
a default rewrites no row. Frozen as SQL (a migration never imports portal.models).
Depends on 0014 (claim_event).
"""

from portal import ddl


def up(migrator, db):
    ddl.run(db, "ALTER TABLE claim_event ADD COLUMN trace VARCHAR(255) NOT NULL DEFAULT ''")


def down(migrator, db):
    ddl.run(db, "ALTER TABLE claim_event DROP COLUMN trace")
