"""The migrated schema matches the models, and migrations go all up, all down, and up again
(on SQLite and on PostgreSQL)."""

import datetime as dt
import sqlite3

import pytest
from peewee import ForeignKeyField, IntegrityError
from playhouse.migrations import MigrationError

from portal import clock
from portal.db import IS_POSTGRES, database, runner
from portal.models import (
    ALL_MODELS,
    ClaimBatch,
    ClaimEvent,
    ClaimPosting,
    ClaimProblem,
    ClearinghouseDownload,
    ClearinghouseFile,
    Payer,
)
from tests.claims import factories as cf


def test_every_model_column_exists_in_migrated_schema(app):
    for model in ALL_MODELS:
        table = model._meta.table_name
        cols = {c.name for c in database.get_columns(table)}
        assert cols, f"table {table} is missing: add it to a migration"
        for field in model._meta.sorted_fields:
            assert field.column_name in cols, f"{table}.{field.column_name} not in the migrations"
            if isinstance(field, ForeignKeyField):
                assert field.column_name.endswith("_id")
        extra = cols - {f.column_name for f in model._meta.sorted_fields}
        assert not extra, f"{table} has columns no model declares: {extra}"


def test_migrations_all_up_all_down_and_up_again(app):
    r = runner()
    names = [m.name for m in r.status()]
    assert names and all(m.applied for m in r.status())
    reverted = r.down(names[0])
    assert reverted == list(reversed(names))
    # (sqlite_stat1: SQLite's own planner statistics, which db.upgrade refreshes)
    tables = {t for t in database.get_tables() if not t.startswith("sqlite_stat")}
    assert tables <= {"schema_migration"}, tables
    assert r.up() == names
    for model in ALL_MODELS:
        assert model.table_exists()


@pytest.mark.skipif(IS_POSTGRES, reason="the SQLite file's own checks (PRAGMA)")
def test_migrations_on_a_fresh_file(tmp_path):
    from tests.conftest import make_app

    app = make_app(tmp_path)
    path = app.config["DATABASE"]
    con = sqlite3.connect(path)
    try:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        con.close()


# PostgreSQL's schema, as sqlite_master shows SQLite's: tables with their columns, indexes,
# constraints, triggers, sequences and functions (those of extensions left out: btree_gist
# stays when 0003 goes down), each with its definition.
_PG_SCHEMA = """
    SELECT 'column', table_name || '.' || column_name,
           concat_ws(' ', data_type, character_maximum_length, is_nullable, column_default)
      FROM information_schema.columns
     WHERE table_schema = current_schema() AND table_name <> 'schema_migration'
    UNION ALL
    SELECT 'index', indexname, indexdef FROM pg_indexes
     WHERE schemaname = current_schema() AND tablename <> 'schema_migration'
    UNION ALL
    SELECT 'constraint', t.relname || '.' || c.conname, pg_get_constraintdef(c.oid)
      FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid
     WHERE t.relnamespace = current_schema()::regnamespace AND t.relname <> 'schema_migration'
    UNION ALL
    SELECT 'trigger', tgname, pg_get_triggerdef(oid) FROM pg_trigger WHERE NOT tgisinternal
    UNION ALL
    SELECT 'sequence', relname, '' FROM pg_class
     WHERE relkind = 'S' AND relnamespace = current_schema()::regnamespace
       AND relname <> 'schema_migration_id_seq'
    UNION ALL
    SELECT 'function', p.proname, pg_get_functiondef(p.oid) FROM pg_proc p
     WHERE p.pronamespace = current_schema()::regnamespace
       AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')
"""


def _schema():
    if IS_POSTGRES:
        rows = database.execute_sql(_PG_SCHEMA).fetchall()
        return sorted((r[0], r[1], " ".join((r[2] or "").split())) for r in rows)
    return sorted(
        (r[0], r[1], " ".join((r[2] or "").split()))
        for r in database.execute_sql(
            "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' "
            "AND tbl_name != 'schema_migration'"
        ).fetchall()
    )


def test_each_migration_down_and_up_restores_the_same_schema(app):
    """Step back one migration at a time, then forward: the schema is exactly as before,
    and a down leaves nothing of its own behind (tables, indexes, triggers, views)."""
    r = runner()
    names = [m.name for m in r.status()]
    full = _schema()
    snapshots = {}
    for name in reversed(names):
        snapshots[name] = _schema()
        assert r.down(name) == [name]
    assert _schema() == [], "something survived all downs"
    for name in names:
        r.up(name)
        assert _schema() == snapshots[name], f"{name} up differs from before its down"
    assert _schema() == full


def test_migration_0023_adds_the_payers_filing_limit_and_takes_it_back(app, world):
    """payer.filing_limit_days: NULL (not known) for the payers there were, 1 to 730 days
    by a CHECK; its down removes the column and keeps the payers."""
    r = runner()
    (name,) = [m.name for m in r.status() if m.name.startswith("0023")]
    first = Payer.create(practice=world.a.practice, name="Before", filing_limit_days=90)
    for bad in (0, 731):
        with pytest.raises(IntegrityError), database.atomic():
            Payer.create(practice=world.a.practice, name="Bad", filing_limit_days=bad)
    reverted = r.down(name)  # and every later migration
    assert reverted[-1] == name
    assert "filing_limit_days" not in {c.name for c in database.get_columns("payer")}
    (count,) = database.execute_sql("SELECT COUNT(*) FROM payer WHERE name = 'Before'").fetchone()
    assert count == 1
    assert r.up() == list(reversed(reverted))
    assert Payer.get_by_id(first.id).filing_limit_days is None
    Payer.update(filing_limit_days=730).where(Payer.id == first.id).execute()
    assert Payer.get_by_id(first.id).filing_limit_days == 730


def _received(practice, kind, status="processed", n=1):
    f = ClearinghouseFile.create(
        practice=practice, sha256=f"{n:064d}", size_bytes=3, data=b"ISA",
        remote_name=f"f{n}.x12", kind=kind, status=status, received_at=clock.utcnow(),
    )  # fmt: skip
    ClearinghouseDownload.create(practice=practice, remote_path=f"outbound/f{n}.x12",
                                 remote_size=3, file=f.id)  # fmt: skip
    return f


def _refused(make):
    with pytest.raises(IntegrityError), database.atomic():
        make()


def test_migration_0024_lets_a_ta1_be_kept_and_applied_and_takes_it_back(app, world):
    """A received file may be a TA1, a claim's problem may come from one, and a file keeps
    what its TA1 said (ta1_status A/E/R, ta1_detail). SQLite rebuilds clearinghouse_file:
    its rows, the downloads' reference to it and its guards survive; down turns a TA1
    file into an unknown one (still new: an error) and a TA1 problem into a 999's."""
    r = runner()
    (name,) = [m.name for m in r.status() if m.name.startswith("0024")]
    a = world.a
    kept = _received(a.practice, "999", n=1)
    with app.test_request_context():
        claim = cf.claim(a.practice, a.c1, a.provider)
    ta1 = _received(a.practice, "ta1", n=2)
    waiting = _received(a.practice, "ta1", status="new", n=3)
    now = clock.utcnow()
    problem = ClaimProblem.create(practice=a.practice, claim=claim, code="ta1_rejected",
                                  message="Refused.", source="ta1", created_at=now)  # fmt: skip
    batch = ClaimBatch.create(practice=a.practice, interchange_control_number=7,
                              ta1_status="R", ta1_detail="Refused.", created_at=now)  # fmt: skip
    _refused(lambda: _received(a.practice, "997", n=4))
    _refused(lambda: ClaimProblem.create(practice=a.practice, claim=claim, code="x",
                                         message="x", source="997", created_at=now))  # fmt: skip
    _refused(lambda: ClaimBatch.update(ta1_status="X").where(ClaimBatch.id == batch.id).execute())

    reverted = r.down(name)  # and every later migration
    assert reverted[-1] == name
    assert {"ta1_status", "ta1_detail"}.isdisjoint(
        c.name for c in database.get_columns("claim_batch")
    )
    rows = database.execute_sql(
        "SELECT id, kind, status, error FROM clearinghouse_file ORDER BY id"
    ).fetchall()
    assert [row[:3] for row in rows] == [
        (kept.id, "999", "processed"),
        (ta1.id, "unknown", "processed"),
        (waiting.id, "unknown", "error"),
    ]
    assert "TA1" in rows[2][3]
    assert ClaimProblem.get_by_id(problem.id).source == "999"
    _refused(lambda: _received(a.practice, "ta1", n=5))

    assert r.up() == list(reversed(reverted))
    assert ClearinghouseFile.get_by_id(kept.id).data == b"ISA"  # kept, bytes and all
    assert ClaimBatch.get_by_id(batch.id).ta1_status == ""
    again = _received(a.practice, "ta1", n=6)  # the download's reference is the new table
    assert ClearinghouseDownload.get(ClearinghouseDownload.file == again.id).file_id == again.id
    _refused(lambda: ClearinghouseDownload.create(practice=a.practice, remote_path="x",
                                                  remote_size=1, file=999_999))  # fmt: skip
    _refused(lambda: ClearinghouseFile.delete().where(ClearinghouseFile.id == kept.id).execute())
    _refused(
        lambda: (
            ClearinghouseFile.update(data=b"XX").where(ClearinghouseFile.id == kept.id).execute()
        )
    )
    if not IS_POSTGRES:
        assert database.execute_sql("PRAGMA foreign_key_check").fetchall() == []


def test_migration_0029_lets_a_hidden_message_be_shown_again_and_takes_it_back(app, world):
    """message.unhidden_at and unhidden_by_id: who showed a hidden message again, the hiding
    kept; down turns a message shown again into one never hidden (the audit log keeps
    both) and brings back 0012's guard: hidden once and for good."""
    from portal.models.messaging import Message
    from portal.services.messaging import threads as msg
    from tests.messaging import helpers as h

    r = runner()
    (name,) = [m.name for m in r.status() if m.name.startswith("0029")]
    with app.test_request_context():
        t = h.thread(world.a, body="Shown again")
        shown = Message.get(Message.thread == t.id)
        hidden = msg.send_message(t, h.user(world.a.frontdesk), "Stays hidden")
        desk, owner = h.user(world.a.frontdesk), h.user(world.a.owner)
        msg.hide_message(shown, desk, "Looked private")
        msg.unhide_message(shown, owner)
        msg.hide_message(hidden, desk, "Wrong client")

    reverted = r.down(name)  # and every later migration
    assert reverted[-1] == name
    assert {"unhidden_at", "unhidden_by_id"}.isdisjoint(
        c.name for c in database.get_columns("message")
    )
    rows = database.execute_sql(
        "SELECT id, hidden_reason, hidden_by_id IS NULL FROM message ORDER BY id"
    ).fetchall()
    assert rows == [(shown.id, "", 1), (hidden.id, "Wrong client", 0)]
    with pytest.raises(IntegrityError, match="hidden once"), database.atomic():
        database.execute_sql(
            "UPDATE message SET hidden_at = NULL, hidden_by_id = NULL, hidden_reason = '' "
            f"WHERE id = {int(hidden.id)}"
        )

    assert r.up() == list(reversed(reverted))
    assert Message.get_by_id(hidden.id).is_hidden and not Message.get_by_id(shown.id).was_hidden
    with app.test_request_context():
        msg.unhide_message(Message.get_by_id(hidden.id), owner)
    assert Message.get_by_id(hidden.id).was_hidden


def test_migration_0025_gives_a_claims_history_the_trace_of_the_sending_answered(app, world):
    """claim_event.trace ('' for every row before it) keeps a 277CA's REF*D9; the history
    stays append-only through down and up again, its rows kept."""
    r = runner()
    (name,) = [m.name for m in r.status() if m.name.startswith("0025")]
    a = world.a
    with app.test_request_context():
        claim = cf.claim(a.practice, a.c1, a.provider)
    before = ClaimEvent.create(practice=a.practice, claim=claim, action="created",
                               created_at=clock.utcnow())  # fmt: skip
    traced = ClaimEvent.create(practice=a.practice, claim=claim, action="acknowledged",
                               trace="HC2026120200018", created_at=clock.utcnow())  # fmt: skip
    assert ClaimEvent.get_by_id(before.id).trace == ""

    reverted = r.down(name)  # and every later migration
    assert reverted[-1] == name
    assert "trace" not in {c.name for c in database.get_columns("claim_event")}
    (count,) = database.execute_sql("SELECT COUNT(*) FROM claim_event").fetchone()
    assert count == 2
    assert r.up() == list(reversed(reverted))
    assert ClaimEvent.get_by_id(traced.id).trace == ""  # dropped with the column
    _refused(lambda: ClaimEvent.update(trace="X").where(ClaimEvent.id == before.id).execute())
    _refused(lambda: ClaimEvent.delete().where(ClaimEvent.id == before.id).execute())


def test_migration_0032_keeps_the_payers_date_of_a_payment_by_hand_and_takes_it_back(app, world):
    """claim_posting.paid_on: NULL for the postings there were (an 835's date is its
    remittance's), the date typed from the EOB with one posted by hand; still append-only.
    Down drops it and keeps the postings (dated by the day they were posted again)."""
    r = runner()
    (name,) = [m.name for m in r.status() if m.name.startswith("0032")]
    a = world.a
    with app.test_request_context():
        claim = cf.claim(a.practice, a.c1, a.provider, status="submitted")
    kw = {"practice": a.practice, "claim": claim, "paid_cents": 4500, "created_at": clock.utcnow()}
    before = ClaimPosting.create(**kw)
    typed = ClaimPosting.create(**kw, paid_on=dt.date(2026, 11, 28))
    assert ClaimPosting.get_by_id(before.id).paid_on is None
    assert ClaimPosting.get_by_id(typed.id).paid_on == dt.date(2026, 11, 28)
    _refused(lambda: ClaimPosting.update(paid_on=None).where(ClaimPosting.id == typed.id).execute())

    reverted = r.down(name)  # and every later migration
    assert reverted[-1] == name
    assert "paid_on" not in {c.name for c in database.get_columns("claim_posting")}
    (count,) = database.execute_sql("SELECT COUNT(*) FROM claim_posting").fetchone()
    assert count == 2
    assert r.up() == list(reversed(reverted))
    assert ClaimPosting.get_by_id(typed.id).paid_on is None  # dropped with the column
    _refused(lambda: ClaimPosting.delete().where(ClaimPosting.id == before.id).execute())


def test_migration_0035_dates_a_primarys_answer_by_hand_and_takes_it_back(app, world):
    """claim_event.paid_on: NULL on the history there was (nothing backfilled: append-
    only), the typed date on a payment's line posted by hand; still append-only. Down drops
    it and keeps the history."""
    r = runner()
    (name,) = [m.name for m in r.status() if m.name.startswith("0035")]
    a = world.a
    with app.test_request_context():
        claim = cf.claim(a.practice, a.c1, a.provider, status="submitted")
    kw = {"practice": a.practice, "claim": claim, "action": "posted", "to_status": "paid",
          "created_at": clock.utcnow()}  # fmt: skip
    before = ClaimEvent.create(**kw)
    typed = ClaimEvent.create(**kw, paid_on=dt.date(2026, 11, 20))
    assert ClaimEvent.get_by_id(before.id).paid_on is None
    assert ClaimEvent.get_by_id(typed.id).paid_on == dt.date(2026, 11, 20)
    _refused(lambda: ClaimEvent.update(paid_on=None).where(ClaimEvent.id == typed.id).execute())

    reverted = r.down(name)  # and every later migration
    assert reverted[-1] == name
    assert "paid_on" not in {c.name for c in database.get_columns("claim_event")}
    (count,) = database.execute_sql(
        f"SELECT COUNT(*) FROM claim_event WHERE claim_id = {claim.id:d}"
    ).fetchone()
    assert count == 2
    assert r.up() == list(reversed(reverted))
    assert ClaimEvent.get_by_id(typed.id).paid_on is None  # dropped with the column
    _refused(lambda: ClaimEvent.delete().where(ClaimEvent.id == before.id).execute())


def test_migration_0030_lets_an_address_be_invited_in_two_practices_and_takes_it_back(app, world):
    """user.email: unique in a practice and among users with a password, no longer over
    the whole server; down refuses while an address has users in two practices, and
    otherwise brings the server-wide unique back, every user and reference kept."""
    from portal.models import User, UserSession

    r = runner()
    (name,) = [m.name for m in r.status() if m.name.startswith("0030")]
    a, b = world.a, world.b
    shared = User.create(
        practice=a.practice, email=b.therapist.email, name="Invited", role="frontdesk"
    )
    # One address, one account: a second password for it is refused; so is a second user
    # of one practice.
    for practice, password in ((a.practice, "x"), (b.practice, None)):
        with pytest.raises(IntegrityError), database.atomic():
            User.create(
                practice=practice, email=b.therapist.email, role="frontdesk", password_hash=password
            )
    with pytest.raises(IntegrityError), database.atomic():
        User.update(password_hash="x").where(User.id == shared.id).execute()
    applied = [m.name for m in r.status() if m.applied]
    with pytest.raises(MigrationError, match="1 e-mail address"):
        r.down(name)
    # Refused before anything was reverted: the later migrations too are still applied.
    assert [m.name for m in r.status() if m.applied] == applied
    result = app.test_cli_runner().invoke(args=["db", "down", "--to", name])
    assert result.exit_code == 1 and "cannot be undone" in result.output, result.output
    assert [m.name for m in r.status() if m.applied] == applied

    User.delete().where(User.id == shared.id).execute()
    with app.test_request_context():
        UserSession.create(
            user=b.therapist, token_hash="h", last_seen_at=clock.utcnow(), created_at=clock.utcnow()
        )
    count = User.select().count()
    reverted = r.down(name)  # and every later migration
    assert reverted[-1] == name
    assert User.select().count() == count
    with pytest.raises(IntegrityError), database.atomic():
        User.create(practice=a.practice, email=b.therapist.email, role="frontdesk")
    if not IS_POSTGRES:
        assert database.execute_sql("PRAGMA foreign_key_check").fetchall() == []
        sql = database.execute_sql(
            "SELECT sql FROM sqlite_master WHERE name = 'user_session'"
        ).fetchone()[0]
        assert "REFERENCES user (id)" in sql
    assert r.up() == list(reversed(reverted))
    User.create(practice=a.practice, email=b.therapist.email, name="Again", role="frontdesk")
    assert UserSession.get(UserSession.token_hash == "h").user_id == b.therapist.id


def test_migration_0034_lets_a_refund_settle_and_keeps_the_package_invoices_paid(app, world):
    """refund.settles and invoice.settled_cents: the refunds there were re-open what they
    gave back (settles 0), except a package invoice's (its unused sessions), which settle,
    their invoices' settled_cents filled from the succeeded ones: every balance and status
    reads as before. settled_cents never exceeds refunded_cents (CHECK). Down drops both
    columns and keeps every refund and invoice."""
    from portal.models import Invoice, Refund
    from portal.services import invoicing, package_refunds, packages

    r = runner()
    (name,) = [m.name for m in r.status() if m.name.startswith("0034")]
    a = world.a
    with app.test_request_context():
        definition = packages.save_definition(
            a.practice.id, name="5 x 60", sessions=5, price_cents=42500, expiry_days=None,
            sold_online=False, type_ids=[], user=None,
        )  # fmt: skip
        purchase, sale = packages.sell(definition, a.c1.id)
        invoicing.record_payment(sale, method="cash", amount_cents=42500, receipt=False)
        package_refunds.refund_unused(purchase)  # all 5 unused: $425.00 back
        visit = invoicing.create_invoice(
            practice_id=a.practice.id, client_id=a.c1.id,
            lines=[{"kind": "visit", "description": "Massage", "unit_cents": 10000}],
        )  # fmt: skip
        pay = invoicing.record_payment(visit, method="cash", amount_cents=10000, receipt=False)
        invoicing.refund_payment(pay, 3000, reason="cut short", settles=False)
        # A refund of the package's that failed: it settles nothing (it gave nothing back).
        Refund.create(practice=a.practice, client=a.c1, payment=_payment_of(sale),
                      amount_cents=100, status="failed", settles=True)  # fmt: skip

    def shown():
        return {
            i.id: (i.status, i.paid_cents, i.refunded_cents, i.balance_cents)
            for i in Invoice.select()
        }

    before = shown()
    assert before[sale.id] == ("paid", 42500, 42500, 0)
    assert before[visit.id] == ("partially_paid", 10000, 3000, 3000)

    reverted = r.down(name)  # and every later migration
    assert reverted[-1] == name
    assert "settles" not in {c.name for c in database.get_columns("refund")}
    assert "settled_cents" not in {c.name for c in database.get_columns("invoice")}
    (count,) = database.execute_sql("SELECT COUNT(*) FROM refund").fetchone()
    assert count == 3
    assert r.up() == list(reversed(reverted))

    # The package's succeeded refund settles; the visit's re-opens, as it did.
    settles = {rf.payment.invoice_id: rf.settles for rf in Refund.select() if rf.status != "failed"}
    assert settles == {sale.id: True, visit.id: False}
    assert Invoice.get_by_id(sale.id).settled_cents == 42500
    assert Invoice.get_by_id(visit.id).settled_cents == 0
    assert shown() == before
    with app.test_request_context():  # the sums recomputed agree with the filled ones
        for inv in (sale, visit):
            invoicing.refresh(inv)
    assert shown() == before
    _refused(lambda: Invoice.update(settled_cents=3001).where(Invoice.id == visit.id).execute())
    _refused(lambda: Invoice.update(settled_cents=-1).where(Invoice.id == visit.id).execute())


def test_migration_0037_marks_a_refund_of_the_overpaid_share_and_takes_it_back(app, world):
    """refund.overpaid_share: 0 on the refunds there were; a refund of the overpaid share
    settles (CHECK: it cannot be due again). Down drops the column and keeps the refunds,
    settling as they did."""
    from portal.models import Refund
    from portal.services import invoicing

    r = runner()
    (name,) = [m.name for m in r.status() if m.name.startswith("0037")]
    a = world.a
    with app.test_request_context():
        inv = invoicing.create_invoice(
            practice_id=a.practice.id, client_id=a.c1.id,
            lines=[{"kind": "patient_responsibility", "description": "Copay",
                    "unit_cents": 4000}],
        )  # fmt: skip
        pay = invoicing.record_payment(inv, method="cash", amount_cents=4000, receipt=False)
        goodwill = invoicing.refund_payment(pay, 500, settles=True)
        share = invoicing.refund_payment(pay, 1000, settles=True, overpaid_share=True)
    assert Refund.get_by_id(goodwill.id).overpaid_share is False
    _refused(lambda: Refund.update(settles=False).where(Refund.id == share.id).execute())

    reverted = r.down(name)  # and every later migration
    assert reverted[-1] == name
    assert "overpaid_share" not in {c.name for c in database.get_columns("refund")}
    (count,) = database.execute_sql(
        f"SELECT COUNT(*) FROM refund WHERE payment_id = {pay.id:d} AND settles"
    ).fetchone()
    assert count == 2
    assert r.up() == list(reversed(reverted))
    assert {rf.overpaid_share for rf in Refund.select()} == {False}  # dropped with the column
    _refused(lambda: Refund.update(overpaid_share=True, settles=False).execute())


def _payment_of(invoice):
    from portal.models import Payment

    return Payment.get(Payment.invoice == invoice.id)
