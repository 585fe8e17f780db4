"""Indexes for the lists the main pages show: each list's filter and order is an index range.

- Client search by name (portal/services/clients.py): a word matches the start of the last,
  first or preferred name or the e-mail, case-insensitively; each column's prefix range is
  an index (the last name's is client_list_order, migration 0006). LIKE uses an index only
  when the index folds case as LIKE does (COLLATE NOCASE). On PostgreSQL the search is
  `lower(col) LIKE 'word%'` (portal.db.prefix_match), served by an index on lower(col) with
  text_pattern_ops (a prefix range whatever the database's collation).
- The billing list (newest first, all or by status) and its "due from clients" sum (the
  amounts in the index: the sum reads no rows); a client's invoices and packages, newest
  first.
"""

from portal import ddl

INDEXES = {
    "client_search_first_name": "client (practice_id, active, first_name COLLATE NOCASE)",
    "client_search_preferred_name": "client (practice_id, active, preferred_name COLLATE NOCASE)",
    "client_search_email": "client (practice_id, active, email COLLATE NOCASE)",
    "invoice_practice_list": "invoice (practice_id, id)",
    "invoice_practice_status_list": (
        "invoice (practice_id, status, id, total_cents, paid_cents, refunded_cents)"
    ),
    "invoice_client_list": "invoice (client_id, id)",
    "package_purchase_client_list": "package_purchase (client_id, id)",
}


PG_PREFIX = {
    f"client_prefix_{column}": f"client (practice_id, active, lower({column}) text_pattern_ops)"
    for column in ("last_name", "first_name", "preferred_name", "email")
}


def up(migrator, db):
    for name, target in INDEXES.items():
        ddl.run(db, f"CREATE INDEX {name} ON {target}")
    ddl.pg(db, [f"CREATE INDEX {name} ON {target}" for name, target in PG_PREFIX.items()])


def down(migrator, db):
    for name in [*INDEXES, *(PG_PREFIX if ddl.is_postgres(db) else ())]:
        ddl.run(db, f"DROP INDEX IF EXISTS {name}")
