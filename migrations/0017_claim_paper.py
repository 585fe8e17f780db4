"""Paper claims (CMS-1500): which stored PDF was issued for which claim, and the claims of a
batch of PDFs being built by the task queue.

Frozen as SQL: a migration never imports portal.models. Depends on 0005 (stored_document),
0011 (job) and 0014 (claim).

- claim_document: each CMS-1500 PDF issued for a claim (the bytes are a stored_document,
  which never changes). `fingerprint` is the SHA-256 of everything printed (the box
  values at their places, the mode, the print offsets, the drawn form): a claim printed
  again unchanged gets the PDF already issued, never a second copy. The link never changes.
- claim_print_item: the claims of one batch job, in print order; each gets its PDF as the
  consumer's workers render it, and the job's merged PDF is made once every item has one.
"""

from portal import ddl
from portal.pagecache import add_change_triggers

TABLES = [
    """CREATE TABLE claim_document (
        id INTEGER PRIMARY KEY,
        practice_id INTEGER NOT NULL REFERENCES practice (id) ON DELETE RESTRICT,
        claim_id INTEGER NOT NULL REFERENCES claim (id) ON DELETE RESTRICT,
        document_id INTEGER NOT NULL UNIQUE REFERENCES stored_document (id) ON DELETE RESTRICT,
        mode VARCHAR(255) NOT NULL CHECK (mode IN ('full', 'data')),
        fingerprint VARCHAR(64) NOT NULL CHECK (length(fingerprint) = 64),
        created_by_id INTEGER REFERENCES user (id) ON DELETE SET NULL,
        created_at DATETIME NOT NULL
    )""",
    """CREATE UNIQUE INDEX claim_document_fingerprint
        ON claim_document (claim_id, mode, fingerprint)""",
    "CREATE INDEX claim_document_practice ON claim_document (practice_id, created_at)",
    "CREATE INDEX claim_document_created_by ON claim_document (created_by_id)",
    """CREATE TRIGGER claim_document_no_update BEFORE UPDATE ON claim_document
        WHEN NEW.claim_id IS NOT OLD.claim_id OR NEW.document_id IS NOT OLD.document_id
          OR NEW.mode IS NOT OLD.mode OR NEW.fingerprint IS NOT OLD.fingerprint
          OR NEW.practice_id IS NOT OLD.practice_id
        BEGIN SELECT RAISE(ABORT, 'an issued claim document never changes'); END""",
    """CREATE TABLE claim_print_item (
        id INTEGER PRIMARY KEY,
        practice_id INTEGER NOT NULL REFERENCES practice (id) ON DELETE RESTRICT,
        job_id INTEGER NOT NULL REFERENCES job (id) ON DELETE CASCADE,
        position INTEGER NOT NULL CHECK (position >= 1),
        claim_id INTEGER NOT NULL REFERENCES claim (id) ON DELETE RESTRICT,
        document_id INTEGER REFERENCES stored_document (id) ON DELETE RESTRICT
    )""",
    "CREATE UNIQUE INDEX claim_print_item_position ON claim_print_item (job_id, position)",
    "CREATE INDEX claim_print_item_claim ON claim_print_item (claim_id)",
    "CREATE INDEX claim_print_item_document ON claim_print_item (document_id)",
    "CREATE INDEX claim_print_item_practice ON claim_print_item (practice_id)",
]

# PostgreSQL's version of the trigger above (ddl.run skips CREATE TRIGGER there).
PG = [
    ddl.refuse(
        "claim_document_no_update",
        "BEFORE UPDATE",
        "claim_document",
        "an issued claim document never changes",
        when=ddl.changed(("claim_id", "document_id", "mode", "fingerprint", "practice_id")),
    ),
]

NAMES = ("claim_document", "claim_print_item")


def up(migrator, db):
    for sql in TABLES:
        ddl.run(db, sql)
    ddl.pg(db, PG)
    for table in NAMES:
        add_change_triggers(db, table)


def down(migrator, db):
    for table in reversed(NAMES):
        ddl.run(db, f'DROP TABLE IF EXISTS "{table}"')
