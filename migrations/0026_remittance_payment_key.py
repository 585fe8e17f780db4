"""A payment is the same one again by the payer's trace (TRN02 with TRN03), its amount
(BPR02) and its day (BPR16), and TRN04 where both files name it; no longer by the payer's
additional ID (1000A REF*2U, or N1*PR04), which clearinghouses rewrite on their copy of
the payer's file (portal.x12.read835.Remittance.payment says why).

- remittance_trace, the unique index that keeps an exact repeat out, takes the amount and
  the day: the same check number for another amount, or on another day, is another
  payment. It keeps payer_code, so that no payment posted before is refused by it (two
  told apart by REF*2U alone before 0026); the service (services/claims/remittances.py)
  refuses a payment that differs from one posted before by REF*2U alone, inside the
  writer's lock.
- remittance.payer_identifier of a file without TRN03 was the REF*2U (else N1*PR04, else
  the payer's name); it is now BPR10 (the same identifier as TRN03), else the name. The
  rows imported from such files are read again from their stored file and re-keyed,
  unless a payment posted since already holds the new key (the same payment posted twice:
  the row keeps its old key, to be reversed by hand).

Down refuses when two payments would share the index of 0022 (the same payer, plan and
check number for two amounts or days, posted since 0026).

Frozen as SQL (a migration never imports portal.models); the stored files are split into
segments by portal.x12.segments.parse, which read them when they were imported. Depends on
0022 (remittance.trace_supplement, payer_code, the index it replaces).
"""

from portal import ddl
from portal.x12.segments import X12Error, parse

OLD_INDEX = (
    "CREATE UNIQUE INDEX remittance_trace ON remittance (practice_id, payer_identifier, "
    "trace_supplement, payer_code, trace_number)"
)
# A payment without a date (BPR16 left out) is kept out twice too: NULLs never repeat in
# a unique index.
NEW_INDEX = (
    "CREATE UNIQUE INDEX remittance_trace ON remittance (practice_id, payer_identifier, "
    "trace_supplement, payer_code, trace_number, payment_cents, "
    "(COALESCE(payment_date, '0001-01-01')))"
)
COLUMNS = "practice_id, payer_identifier, trace_supplement, payer_code, trace_number"


def _untraced(data):
    """{(old identifier, trace, TRN04, payer ID): new identifier} of each ST/SE of an 835
    without TRN03, the text as the import stored it (cut to 255)."""
    try:
        _, segments = parse(bytes(data).decode("latin-1"))
    except X12Error:
        return {}
    out, st, n1 = {}, None, ""
    for seg in segments:
        if seg.id == "ST":
            st, n1 = {"trn": ("", "", ""), "bpr10": "", "id": "", "name": "", "head": True}, ""
        elif st is None:
            continue
        elif seg.id == "SE":
            trace, tin, supplement = st["trn"]
            if not tin:
                old = (st["id"] or st["name"])[:255]
                key = (old, trace[:255], supplement.strip()[:255], st["id"].strip()[:255])
                out[key] = (st["bpr10"] or st["name"])[:255]
            st = None
        elif seg.id in ("LX", "CLP", "PLB"):
            st["head"] = False
        elif not st["head"]:
            continue
        elif seg.id == "BPR":
            st["bpr10"] = seg[10]
        elif seg.id == "TRN" and seg[1] == "1":
            st["trn"] = (seg[2], seg[3], seg[4])
        elif seg.id == "N1":
            n1 = seg[1]
            if n1 == "PR":
                st["name"], st["id"] = seg[2], seg[4] or st["id"]
        elif seg.id == "REF" and seg[1] == "2U" and n1 == "PR":
            st["id"] = seg[2]
    return out


def _rekeys(db, up):
    """[(remittance id, identifier)]: the rows of files without TRN03 whose identifier
    changes, from the REF*2U one to the BPR10 one (`up`), or back."""
    p = db.param
    rows = db.execute_sql(
        "SELECT id, payer_identifier, trace_number, trace_supplement, payer_code, document_id "
        "FROM remittance WHERE document_id IS NOT NULL ORDER BY document_id, id"
    ).fetchall()
    files, out = {}, []
    for rid, payer, trace, supplement, code, doc in rows:
        if doc not in files:
            (data,) = db.execute_sql(
                f"SELECT data FROM stored_document WHERE id = {p}", (doc,)
            ).fetchone()
            files = {doc: _untraced(data)}  # one file at a time: rows come by document
        for (old, *rest), new in files[doc].items():
            before, after = (old, new) if up else (new, old)
            if (before, *rest) == (payer, trace, supplement, code) and before != after:
                out.append((rid, after))
    return out


def _taken(db, rid, identifier):
    """Whether another row holds the key remittance `rid` would take with `identifier`."""
    p = db.param
    return db.execute_sql(
        f"SELECT 1 FROM remittance r, remittance o WHERE o.id = {p} AND r.id <> o.id "
        f"AND r.practice_id = o.practice_id AND r.payer_identifier = {p} "
        "AND r.trace_supplement = o.trace_supplement AND r.payer_code = o.payer_code "
        "AND r.trace_number = o.trace_number AND r.payment_cents = o.payment_cents "
        "AND (r.payment_date = o.payment_date "
        "OR (r.payment_date IS NULL AND o.payment_date IS NULL))",
        (rid, identifier),
    ).fetchone()


def _rekey(db, changes):
    p = db.param
    for rid, identifier in changes:
        db.execute_sql(
            f"UPDATE remittance SET payer_identifier = {p} WHERE id = {p}", (identifier, rid)
        )


def up(migrator, db):
    ddl.run(db, "DROP INDEX IF EXISTS remittance_trace")
    ddl.run(db, NEW_INDEX)
    # Last: on PostgreSQL an UPDATE leaves trigger events pending (the render cache's
    # change triggers), and no index can be made on the table after it in the transaction.
    _rekey(db, [(rid, new) for rid, new in _rekeys(db, up=True) if not _taken(db, rid, new)])


def _repeats(db, changes):
    """Whether two rows share the columns of 0022's index, now or once `changes` are made
    (the index is made before them: see up)."""
    rows = db.execute_sql(f"SELECT id, {COLUMNS} FROM remittance").fetchall()
    now = {rid: tuple(rest) for rid, *rest in rows}
    after = dict(now)
    for rid, identifier in changes:
        practice, _, *rest = after[rid]
        after[rid] = (practice, identifier, *rest)
    return any(len(set(keys.values())) < len(keys) for keys in (now, after))


def down(migrator, db):
    changes = _rekeys(db, up=False)
    if _repeats(db, changes):
        raise RuntimeError(
            "Two payments share a payer, plan and check or trace number (told apart by their "
            "amount or day): migration 0026 cannot be undone without removing a posted "
            "remittance."
        )
    ddl.run(db, "DROP INDEX IF EXISTS remittance_trace")
    ddl.run(db, OLD_INDEX)
    _rekey(db, changes)
