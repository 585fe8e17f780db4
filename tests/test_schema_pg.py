"""The database's own guarantees on PostgreSQL: every SQLite trigger of the migrations has
its PostgreSQL counterpart (a trigger of the same name, or the constraint listed here), and
each guarantee holds against raw SQL, from two concurrent transactions too.

The SQLite side is tried by the area tests (tests/test_audit.py, tests/charting, billing,
scheduling, claims/test_schema_guards.py ...), which run on both databases.
"""

import datetime as dt
import threading
import time

import psycopg
import pytest
from peewee import IntegrityError, SqliteDatabase
from playhouse.migrations import Runner

from portal.db import IS_POSTGRES, MIGRATIONS_DIR, database
from tests.charting.helpers import make_note

pytestmark = pytest.mark.skipif(not IS_POSTGRES, reason="PostgreSQL only: make test-pg runs it")

# SQLite triggers whose work PostgreSQL does with a constraint instead (migration 0003): the
# overlap checks are exclusion constraints. The provider's two triggers also keep their
# name on PostgreSQL, for the "longer than a day" guard.
REPLACED_BY_CONSTRAINT = {
    "appointment_no_overlap_insert": "appointment_overlaps_provider_id",
    "appointment_no_overlap_update": "appointment_overlaps_provider_id",
    "appointment_room_no_overlap_insert": "appointment_overlaps_room_id",
    "appointment_room_no_overlap_update": "appointment_overlaps_room_id",
}
ALSO_A_TRIGGER = {"appointment_no_overlap_insert", "appointment_no_overlap_update"}

T0 = dt.datetime(2026, 6, 3, 17, 0)  # naive UTC, as the app stores it


def _is_data_version(name):
    return name.endswith("_dv") or "_dv_" in name


def _sqlite_triggers(tmp_path):
    """The guard triggers the migrations make on SQLite (the data version's left out)."""
    db = SqliteDatabase(str(tmp_path / "scratch.sqlite3"), pragmas={"foreign_keys": 1})
    try:
        Runner(db, MIGRATIONS_DIR).up()
        rows = db.execute_sql("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall()
    finally:
        db.close()
    return {name for (name,) in rows if not _is_data_version(name)}


def _pg_names(sql):
    return {name for (name,) in database.execute_sql(sql).fetchall()}


def test_every_sqlite_trigger_has_its_postgresql_counterpart(app, tmp_path):
    sqlite = _sqlite_triggers(tmp_path)
    assert len(sqlite) >= 60, sorted(sqlite)
    pg_triggers = {
        name
        for name in _pg_names("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")
        if not _is_data_version(name)
    }
    pg_constraints = _pg_names("SELECT conname FROM pg_constraint")
    assert set(REPLACED_BY_CONSTRAINT) <= sqlite, "the mapping names a trigger no longer made"
    missing = sorted(
        name
        for name in sqlite
        if name not in pg_triggers
        and (name not in REPLACED_BY_CONSTRAINT or name in ALSO_A_TRIGGER)
    )
    assert not missing, f"no PostgreSQL trigger of this name: {missing}"
    absent = sorted(set(REPLACED_BY_CONSTRAINT.values()) - pg_constraints)
    assert not absent, f"constraints missing on PostgreSQL: {absent}"
    stray = sorted(pg_triggers - sqlite)
    assert not stray, f"PostgreSQL guard triggers SQLite does not have: {stray}"


# --- raw SQL ------------------------------------------------------------------------------


def _insert(table, **values):
    """INSERT one row with raw SQL; its id."""
    cols = ", ".join(f'"{c}"' for c in values)
    marks = ", ".join(["%s"] * len(values))
    sql = f'INSERT INTO "{table}" ({cols}) VALUES ({marks}) RETURNING id'
    return database.execute_sql(sql, list(values.values())).fetchone()[0]


def _refused(sql, params=(), match=None):
    """`sql` fails as peewee's IntegrityError (its savepoint rolled back, so the test goes on)."""
    with pytest.raises(IntegrityError, match=match), database.atomic():
        database.execute_sql(sql, params)


def _allowed(sql, params=()):
    with database.atomic():
        database.execute_sql(sql, params)


def test_the_audit_log_is_append_only(app):
    row = _insert("audit_log", at=T0, action="test.row", detail="x")
    _refused("UPDATE audit_log SET detail = 'y' WHERE id = %s", [row], "append-only")
    _refused("DELETE FROM audit_log WHERE id = %s", [row], "append-only")
    _refused("DELETE FROM audit_log", (), "append-only")
    assert database.execute_sql("SELECT detail FROM audit_log WHERE id = %s", [row]).fetchone()


@pytest.fixture
def signed(ctx, world):
    return make_note(world.a.therapist, world.a.c1, world.a.provider.id, sign=True)


def test_a_signed_note_and_its_rows_are_locked(signed, world):
    n, locked = signed.id, "signed and locked"
    for sql in (
        "UPDATE chart_note SET subjective = 'changed' WHERE id = %s",
        "UPDATE chart_note SET status = 'draft', signed_at = NULL, signed_by_id = NULL "
        "WHERE id = %s",
        "UPDATE chart_note SET pain_after = NULL WHERE id = %s",
        "DELETE FROM chart_note WHERE id = %s",
        "UPDATE note_minutes SET minutes = 60 WHERE note_id = %s",
        "DELETE FROM note_minutes WHERE note_id = %s",
        "INSERT INTO note_minutes (practice_id, client_id, note_id, cpt_code, minutes) "
        "SELECT practice_id, client_id, id, '97140', 10 FROM chart_note WHERE id = %s",
        "UPDATE note_diagnosis SET code = 'M54.59' WHERE note_id = %s",
        "DELETE FROM note_diagnosis WHERE note_id = %s",
        "INSERT INTO note_diagnosis (practice_id, client_id, note_id, position, code) "
        "SELECT practice_id, client_id, id, 2, 'M62.830' FROM chart_note WHERE id = %s",
        "UPDATE note_body_region SET region = 'calf-l' WHERE note_id = %s",
        "DELETE FROM note_body_region WHERE note_id = %s",
        "INSERT INTO note_body_region (practice_id, client_id, note_id, region) "
        "SELECT practice_id, client_id, id, 'foot-r' FROM chart_note WHERE id = %s",
    ):
        _refused(sql, [n], locked)
    # Moving a child row from a draft note onto the signed one is refused too.
    draft = make_note(world.a.therapist, world.a.c1, world.a.provider.id)
    _refused("UPDATE note_minutes SET note_id = %s WHERE note_id = %s", [n, draft.id], locked)
    # Not content: the appointment link (SET NULL when the appointment goes).
    _allowed("UPDATE chart_note SET appointment_id = NULL WHERE id = %s", [n])


def test_addenda_only_on_signed_notes_and_append_only(signed, world):
    draft = make_note(world.a.therapist, world.a.c1, world.a.provider.id)
    sql = (
        "INSERT INTO note_addendum (practice_id, client_id, note_id, author_id, body, created_at) "
        "SELECT practice_id, client_id, id, %s, 'Late entry.', %s FROM chart_note WHERE id = %s"
    )
    _refused(sql, [world.a.owner.id, T0, draft.id], "signed notes only")
    _allowed(sql, [world.a.owner.id, T0, signed.id])
    _refused("UPDATE note_addendum SET body = 'x'", (), "append-only")
    _refused("DELETE FROM note_addendum", (), "append-only")


def test_an_issued_invoice_is_frozen(app, world):
    a = world.a
    inv = _insert("invoice", practice_id=a.practice.id, client_id=a.c1.id, created_at=T0)

    def line(kind="visit", cents=10000):
        return _insert(
            "invoice_line",
            practice_id=a.practice.id,
            invoice_id=inv,
            kind=kind,
            description="60-minute massage",
            unit_cents=cents,
            amount_cents=cents,
        )

    first = line()
    _allowed("UPDATE invoice_line SET description = 'draft: still free' WHERE id = %s", [first])
    _allowed(
        "UPDATE invoice SET status = 'open', number = 'INV-1', total_cents = 10000, "
        "issued_at = %s WHERE id = %s",
        [T0, inv],
    )
    frozen = "an issued invoice never changes"
    _refused("UPDATE invoice SET total_cents = 1 WHERE id = %s", [inv], frozen)
    _refused("UPDATE invoice SET number = 'INV-2' WHERE id = %s", [inv], frozen)
    _refused("UPDATE invoice SET status = 'draft' WHERE id = %s", [inv], frozen)
    with pytest.raises(IntegrityError, match=frozen), database.atomic():
        line("adjustment", -1500)
    _refused(
        "UPDATE invoice_line SET unit_cents = 1, amount_cents = 1 WHERE id = %s", [first], frozen
    )
    _refused("DELETE FROM invoice_line WHERE id = %s", [first], frozen)
    # Payments move on an issued invoice: paid_cents and its status are not frozen.
    _allowed("UPDATE invoice SET paid_cents = 10000, status = 'paid' WHERE id = %s", [inv])


def test_a_stored_document_never_changes(app, world):
    doc = _insert(
        "stored_document",
        practice_id=world.a.practice.id,
        client_id=world.a.c1.id,
        kind="invoice",
        filename="INV-1.pdf",
        data=b"%PDF-1.7 ...",
        sha256="a" * 64,
        size_bytes=12,
        created_at=T0,
    )
    changes = "an issued document never changes"
    _refused("UPDATE stored_document SET data = %s WHERE id = %s", [b"other", doc], changes)
    _refused("UPDATE stored_document SET sha256 = %s WHERE id = %s", ["b" * 64, doc], changes)
    _refused("UPDATE stored_document SET client_id = NULL WHERE id = %s", [doc], changes)
    _refused("DELETE FROM stored_document WHERE id = %s", [doc], "never deleted")
    _allowed("UPDATE stored_document SET title = 'Invoice INV-1' WHERE id = %s", [doc])


# --- the credit ledger ----------------------------------------------------------------------


def _purchase_with_one_credit(side):
    definition = _insert(
        "package_definition",
        practice_id=side.practice.id,
        name="1 x 60",
        sessions=1,
        price_cents=9000,
        created_at=T0,
    )
    purchase = _insert(
        "package_purchase",
        practice_id=side.practice.id,
        client_id=side.c1.id,
        definition_id=definition,
        name="1 x 60",
        sessions_total=1,
        price_cents=9000,
        status="active",
        created_at=T0,
    )
    _ledger(side, purchase, "purchase", 1, 1)
    return purchase


def _ledger(side, purchase, kind, delta, balance_after):
    return _insert(
        "credit_ledger",
        practice_id=side.practice.id,
        client_id=side.c1.id,
        purchase_id=purchase,
        kind=kind,
        delta=delta,
        balance_after=balance_after,
        created_at=T0,
    )


def _redeem_sql(side, purchase):
    return (
        "INSERT INTO credit_ledger (practice_id, client_id, purchase_id, kind, delta, "
        "balance_after, created_at) VALUES (%s, %s, %s, 'redeem', -1, 0, %s)",
        [side.practice.id, side.c1.id, purchase, T0],
    )


def test_the_credit_ledger_keeps_its_running_balance_and_is_append_only(app, world):
    a = world.a
    purchase = _purchase_with_one_credit(a)
    mismatch = "credit ledger balance mismatch"
    with pytest.raises(IntegrityError, match=mismatch), database.atomic():
        _ledger(a, purchase, "redeem", -1, 1)  # as if the credit were still there
    with pytest.raises(IntegrityError, match=mismatch), database.atomic():
        _ledger(a, purchase, "cancel_return", 1, 3)
    with pytest.raises(IntegrityError), database.atomic():  # CHECK (balance_after >= 0)
        _ledger(a, purchase, "redeem", -2, -1)
    _ledger(a, purchase, "redeem", -1, 0)
    _refused("UPDATE credit_ledger SET balance_after = 1", (), "append-only")
    _refused(
        "UPDATE credit_ledger SET note = 'x' WHERE purchase_id = %s", [purchase], "append-only"
    )
    _refused("DELETE FROM credit_ledger WHERE purchase_id = %s", [purchase], "append-only")


# --- two transactions at once ------------------------------------------------------------


def _wait_until_blocked(pid, seconds=10):
    """Until backend `pid` waits for a lock (watched from a connection of its own)."""
    with psycopg.connect(database.database, autocommit=True) as watcher:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            row = watcher.execute(
                "SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [pid]
            ).fetchone()
            if row and row[0] == "Lock":
                return True
            time.sleep(0.02)
    return False


def _race(first, second):
    """Transaction A runs `first` and stays open; B runs `second` meanwhile; then A commits.
    Returns (whether B had to wait for A, B's error or None when B committed)."""
    url = database.database
    with psycopg.connect(url) as a, psycopg.connect(url) as b:
        a.execute(*first)
        outcome = {}

        def run_b():
            try:
                b.execute(*second)
                b.commit()
            except psycopg.Error as exc:
                b.rollback()
                outcome["error"] = exc

        pid = b.info.backend_pid
        thread = threading.Thread(target=run_b)
        thread.start()
        waited = _wait_until_blocked(pid)
        a.commit()
        thread.join(30)
        assert not thread.is_alive()
    return waited, outcome.get("error")


def test_two_transactions_cannot_both_take_the_last_credit(app, world):
    a = world.a
    purchase = _purchase_with_one_credit(a)
    redeem = _redeem_sql(a, purchase)
    waited, error = _race(redeem, redeem)
    assert waited, "the second insert did not wait for the first (purchase row not locked)"
    assert isinstance(error, psycopg.IntegrityError) and "balance mismatch" in str(error)
    rows = database.execute_sql(
        "SELECT kind, balance_after FROM credit_ledger WHERE purchase_id = %s ORDER BY id",
        [purchase],
    ).fetchall()
    assert rows == [("purchase", 1), ("redeem", 0)]


def _appointment_type(side):
    return _insert(
        "appointment_type",
        practice_id=side.practice.id,
        name="60-minute massage",
        duration_minutes=60,
        created_at=T0,
    )


def _appointment_sql(side, type_id, start, minutes=60, provider=None, room=None, status=None):
    cols = {
        "practice_id": side.practice.id,
        "client_id": side.c1.id,
        "provider_id": (provider or side.provider).id,
        "appointment_type_id": type_id,
        "room_id": room,
        "starts_at": start,
        "ends_at": start + dt.timedelta(minutes=minutes),
        "blocked_until": start + dt.timedelta(minutes=minutes + 15),
        "status": status or "booked",
        "created_at": T0,
    }
    names = ", ".join(cols)
    marks = ", ".join(["%s"] * len(cols))
    return f"INSERT INTO appointment ({names}) VALUES ({marks})", list(cols.values())


def test_double_booking_is_refused(app, world):
    a = world.a
    t = _appointment_type(a)
    room = _insert("room", practice_id=a.practice.id, name="Room 1", created_at=T0)
    _allowed(*_appointment_sql(a, t, T0, room=room))
    half_past = T0 + dt.timedelta(minutes=30)
    _refused(*_appointment_sql(a, t, half_past), match="overlaps")
    # the 15-minute buffer (blocked_until) counts; right after it is free
    _refused(*_appointment_sql(a, t, T0 + dt.timedelta(minutes=60)), match="overlaps")
    _allowed(*_appointment_sql(a, t, T0 + dt.timedelta(minutes=75)))
    # the room: another provider, same room, same time
    sql = _appointment_sql(a, t, half_past, provider=a.provider2, room=room)
    _refused(*sql, match="overlaps")
    _refused(*sql, match="room_id")
    _allowed(*_appointment_sql(a, t, half_past, provider=a.provider2))
    # moving a visit onto another
    later = T0 + dt.timedelta(hours=4)
    _allowed(*_appointment_sql(a, t, later))
    end = half_past + dt.timedelta(hours=1)
    _refused(
        "UPDATE appointment SET starts_at = %s, ends_at = %s, blocked_until = %s "
        "WHERE starts_at = %s AND provider_id = %s",
        [half_past, end, end, later, a.provider.id],
        "overlaps",
    )
    # cancelled visits do not block; a visit longer than a day is refused
    _allowed(*_appointment_sql(a, t, half_past, status="cancelled"))
    _refused(*_appointment_sql(a, t, T0 + dt.timedelta(days=2), minutes=25 * 60), match="a day")


def test_two_transactions_cannot_book_the_same_time(app, world):
    a = world.a
    t = _appointment_type(a)
    first = _appointment_sql(a, t, T0)
    second = _appointment_sql(a, t, T0 + dt.timedelta(minutes=30))
    waited, error = _race(first, second)
    assert waited, "the second booking did not wait for the first"
    assert isinstance(error, psycopg.IntegrityError) and "overlaps" in str(error)
    (count,) = database.execute_sql(
        "SELECT count(*) FROM appointment WHERE provider_id = %s", [a.provider.id]
    ).fetchone()
    assert count == 1
