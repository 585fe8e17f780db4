"""A payment is the same one again by payer, trace number and, where the 835 names it, the
plan: two plans or divisions paying under one tax ID (the same TRN03) may reuse a check
number, and their files tell them apart by TRN04 (the originating company supplemental
code) or the payer's additional ID (1000A REF*2U, or N1*PR04).

- remittance.trace_supplement (TRN04) and remittance.payer_code (REF*2U, else N1*PR04),
  '' where the file does not say; the rows imported before are read again from their
  stored file (the 835 each was imported from).
- remittance_trace, the unique index that refuses the same payment twice, takes the two
  columns: the service (services/claims/remittances.py) refuses a payment whose plan is
  the same or not named on either side; the index keeps an exact repeat out even so.

Frozen as SQL (a migration never imports portal.models); the stored files are split into
segments by portal.x12.segments.parse, which read them when they were imported. Depends on
0005 (stored_document) and 0014 (remittance).
"""

from portal import ddl
from portal.x12.segments import X12Error, parse

COLUMNS = ("trace_supplement", "payer_code")
OLD_INDEX = (
    "CREATE UNIQUE INDEX remittance_trace ON remittance (practice_id, payer_identifier, "
    "trace_number)"
)
NEW_INDEX = (
    "CREATE UNIQUE INDEX remittance_trace ON remittance (practice_id, payer_identifier, "
    "trace_supplement, payer_code, trace_number)"
)


def _payments(data):
    """{(payer identifier, trace number): (TRN04, payer ID)} of each ST/SE in an 835, the
    identifier as the import stored it (TRN03, else the payer's ID, else its name)."""
    try:
        _, segments = parse(bytes(data).decode("latin-1"))
    except X12Error:
        return {}
    out, st, n1 = {}, None, ""
    for seg in segments:
        if seg.id == "ST":
            st, n1 = {"trn": ("", "", ""), "id": "", "name": "", "header": True}, ""
        elif st is None:
            continue
        elif seg.id == "SE":
            trace, tin, supplement = st["trn"]
            key = ((tin or st["id"] or st["name"])[:255], trace[:255])
            out[key] = (supplement.strip()[:255], st["id"].strip()[:255])
            st = None
        elif seg.id in ("LX", "CLP", "PLB"):
            st["header"] = False
        elif not st["header"]:
            continue
        elif seg.id == "TRN" and seg[1] == "1":
            st["trn"] = (seg[2], seg[3], seg[4])
        elif seg.id == "N1":
            n1 = seg[1]
            if n1 == "PR":
                st["name"], st["id"] = seg[2], seg[4] or st["id"]
        elif seg.id == "REF" and seg[1] == "2U" and n1 == "PR":
            st["id"] = seg[2]
    return out


def _backfill(db):
    """The plan of each remittance imported before, read from its stored file."""
    p = db.param
    rows = db.execute_sql(
        "SELECT r.id, r.payer_identifier, r.trace_number, r.document_id FROM remittance r "
        "WHERE r.document_id IS NOT NULL ORDER BY r.document_id, r.id"
    ).fetchall()
    files = {}
    for rid, payer, trace, doc in rows:
        if doc not in files:
            (data,) = db.execute_sql(
                f"SELECT data FROM stored_document WHERE id = {p}", (doc,)
            ).fetchone()
            files = {doc: _payments(data)}  # one file at a time: rows come by document
        plan = files[doc].get((payer, trace))
        if plan and any(plan):
            db.execute_sql(
                f"UPDATE remittance SET trace_supplement = {p}, payer_code = {p} WHERE id = {p}",
                (plan[0], plan[1], rid),
            )


def up(migrator, db):
    for column in COLUMNS:
        ddl.run(db, f"ALTER TABLE remittance ADD COLUMN {column} VARCHAR(255) NOT NULL DEFAULT ''")
    ddl.run(db, "DROP INDEX IF EXISTS remittance_trace")
    ddl.run(db, NEW_INDEX)
    # Last: on PostgreSQL an UPDATE leaves trigger events pending (the render cache's
    # change triggers), and no index can be made on the table after it in the transaction.
    _backfill(db)


def down(migrator, db):
    twice = db.execute_sql(
        "SELECT 1 FROM remittance GROUP BY practice_id, payer_identifier, trace_number "
        "HAVING COUNT(*) > 1 LIMIT 1"
    )
    if twice.fetchone():
        raise RuntimeError(
            "Two plans' payments share a payer identifier and trace number: migration 0022 "
            "cannot be undone without removing a posted remittance."
        )
    ddl.run(db, "DROP INDEX IF EXISTS remittance_trace")
    ddl.run(db, OLD_INDEX)
    for column in reversed(COLUMNS):
        ddl.run(db, f"ALTER TABLE remittance DROP COLUMN {column}")
