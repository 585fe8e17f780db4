"""`flask db copy --to URL`: a SQLite practice moved to an empty PostgreSQL database, checked.

The source is the test app's SQLite file with the demo practice (issued invoices, signed
notes with an addendum, stored documents, credits) and a received clearinghouse file of
300 KB; each target is a scratch database on the server PORTAL_TEST_PG_ADMIN names.
"""

import hashlib
import itertools
import os
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from playhouse.migrations import Runner

import portal.db
from portal import dbcopy, ddl, demo
from portal.db import IS_POSTGRES, MIGRATIONS_DIR, database
from portal.dbcopy import BOOKKEEPING, Report
from portal.models import ClearinghouseConnection, ClearinghouseFile, Room

ADMIN = os.environ.get("PORTAL_TEST_PG_ADMIN", "").strip()


NO_SERVER = "needs a PostgreSQL server: make test-pg runs it"
ON_PG = "the copy reads the SQLite database: this process runs on PostgreSQL"


def needs_pg(test):
    test = pytest.mark.skipif(not ADMIN, reason=NO_SERVER)(test)
    return pytest.mark.skipif(IS_POSTGRES, reason=ON_PG)(test)


_names = itertools.count(1)


def _on(url, name):
    return urlunsplit(urlsplit(url)._replace(path="/" + name))


@pytest.fixture
def target_url():
    """A new empty database, dropped after the test."""
    name = f"cpy_{os.getpid()}_{next(_names)}"
    with psycopg.connect(ADMIN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    yield _on(ADMIN, name)
    with psycopg.connect(ADMIN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def practice_app(app):
    with app.test_request_context():
        demo.load()
    connection = ClearinghouseConnection.select().first()
    data = os.urandom(300_000)
    ClearinghouseFile.create(
        practice=connection.practice_id,
        sha256=hashlib.sha256(data).hexdigest(),
        size_bytes=len(data),
        data=data,
        remote_name="ERA-0001.835",
        kind="835",
    )
    Room.update(active=False).where(Room.id == Room.select().first().id).execute()
    return app


def _copy(app, url):
    return app.test_cli_runner().invoke(args=["db", "copy", "--to", url])


def _sqlite(sql, params=()):
    return database.execute_sql(sql, params).fetchall()


def _tables():
    rows = _sqlite("SELECT name FROM sqlite_master WHERE type = 'table'")
    return sorted(r[0] for r in rows if not r[0].startswith("sqlite_") and r[0] not in BOOKKEEPING)


def _counts(conn, tables):
    return {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}


def _user_triggers(conn):
    return conn.execute(
        "SELECT c.relname, t.tgname, t.tgenabled FROM pg_trigger t "
        "JOIN pg_class c ON c.oid = t.tgrelid WHERE NOT t.tgisinternal"
    ).fetchall()


def _tamper(conn, table, sql):
    """A change behind the portal's back (its guard triggers off for the moment)."""
    with conn.transaction():
        conn.execute(f'ALTER TABLE "{table}" DISABLE TRIGGER USER')
        conn.execute(sql)
        conn.execute(f'ALTER TABLE "{table}" ENABLE TRIGGER USER')


@needs_pg
def test_copy_moves_every_row_and_document(practice_app, target_url):
    tables = _tables()
    mine = {t: _sqlite(f'SELECT count(*) FROM "{t}"')[0][0] for t in tables}
    assert mine["invoice"] and mine["note_addendum"] and mine["credit_ledger"]
    assert mine["stored_document"] and mine["clearinghouse_file"]

    result = _copy(practice_app, target_url)
    assert result.exit_code == 0, result.output
    docs = mine["stored_document"] + mine["clearinghouse_file"]
    summary = (
        f"{len(tables)} tables, {sum(mine.values())} rows, {docs} documents copied and checked"
    )
    assert summary in result.output
    assert "  note_addendum " in result.output  # progress, table by table

    with psycopg.connect(target_url, autocommit=True) as pg:
        assert _counts(pg, tables) == mine
        _assert_values_survived(pg)
        _assert_sequences_continue(pg, tables)
        triggers = _user_triggers(pg)
        assert triggers and all(enabled == "O" for _, _, enabled in triggers), triggers
        if any(table == "audit_log" for table, _, _ in triggers):  # the PostgreSQL guards
            with pytest.raises(psycopg.IntegrityError):
                pg.execute("UPDATE audit_log SET action = 'x' WHERE id = 1")

        # Into the same (now not empty) database again: refused, nothing changed.
        before = _counts(pg, [*tables, "schema_migration"])
        again = _copy(practice_app, target_url)
        assert again.exit_code != 0
        assert "already holds data" in again.output and "Nothing was changed" in again.output
        assert _counts(pg, [*tables, "schema_migration"]) == before


def _assert_values_survived(pg):
    doc_id, data, sha = _sqlite("SELECT id, data, sha256 FROM stored_document LIMIT 1")[0]
    row = pg.execute("SELECT data, sha256 FROM stored_document WHERE id = %s", (doc_id,))
    assert row.fetchone() == (data, sha)
    big = _sqlite("SELECT id, data FROM clearinghouse_file")[0]
    got = pg.execute("SELECT id, data FROM clearinghouse_file").fetchone()
    assert got == big and len(got[1]) == 300_000
    for table, column in sorted(ddl.BOOLEAN_COLUMNS):
        flags = dict(_sqlite(f'SELECT id, "{column}" FROM "{table}"'))
        copied = dict(pg.execute(f'SELECT id, "{column}" FROM "{table}"').fetchall())
        assert copied == {i: None if v is None else bool(v) for i, v in flags.items()}, table
    assert False in dict(pg.execute("SELECT id, active FROM room").fetchall()).values()
    note_id, signed_at = _sqlite(
        "SELECT id, signed_at FROM chart_note WHERE signed_at IS NOT NULL LIMIT 1"
    )[0]
    copied = pg.execute("SELECT signed_at FROM chart_note WHERE id = %s", (note_id,)).fetchone()
    assert str(copied[0]) == signed_at
    received = _sqlite("SELECT received_at FROM clearinghouse_file")[0][0]
    assert str(pg.execute("SELECT received_at FROM clearinghouse_file").fetchone()[0]) == received
    dob = _sqlite("SELECT id, date_of_birth FROM client WHERE date_of_birth IS NOT NULL")[0]
    got = pg.execute("SELECT date_of_birth FROM client WHERE id = %s", (dob[0],)).fetchone()
    assert got[0].isoformat() == dob[1]


def _assert_sequences_continue(pg, tables):
    top = pg.execute("SELECT max(id) FROM audit_log").fetchone()[0]
    new = pg.execute(
        "INSERT INTO audit_log (at, action) VALUES (now(), 'test.after_copy') RETURNING id"
    ).fetchone()[0]
    assert new == top + 1
    for table in tables:
        largest = pg.execute(f'SELECT coalesce(max(id), 0) FROM "{table}"').fetchone()[0]
        following = pg.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id'))", (f'"{table}"',)
        ).fetchone()[0]
        assert following > largest, table


@needs_pg
def test_guard_triggers_do_not_stop_the_copy_and_guard_again_after(practice_app, target_url):
    # Guards as the PostgreSQL migrations write them (ddl.refuse), here refusing every
    # INSERT: the copy goes through, and afterwards they refuse again.
    target = dbcopy.connect(target_url)
    try:
        Runner(target, MIGRATIONS_DIR).up()
    finally:
        target.close()
    with psycopg.connect(target_url, autocommit=True) as pg:
        pg.execute(ddl.REFUSE_FUNCTION)
        for table in ("audit_log", "invoice_line"):
            pg.execute(ddl.refuse(f"{table}_test_guard", "BEFORE INSERT", table, "no"))
    result = _copy(practice_app, target_url)
    assert result.exit_code == 0, result.output
    with psycopg.connect(target_url, autocommit=True) as pg:
        assert _counts(pg, ["invoice_line"]) == {
            "invoice_line": _sqlite("SELECT count(*) FROM invoice_line")[0][0]
        }
        with pytest.raises(psycopg.IntegrityError, match="no"):
            pg.execute("INSERT INTO audit_log (at, action) VALUES (now(), 'after')")


@needs_pg
def test_check_reports_a_tampered_copy(practice_app, target_url):
    documents = _sqlite("SELECT count(*) FROM stored_document")[0][0]
    reads = _sqlite("SELECT count(*) FROM message_read")[0][0]
    target = dbcopy.connect(target_url)
    try:
        report = dbcopy.run(database, target, MIGRATIONS_DIR)
        assert report.ok, report.problems
        with psycopg.connect(target_url, autocommit=True) as pg:
            _tamper(pg, "client", "UPDATE client SET first_name = 'Mallory' WHERE id = 1")
            _tamper(pg, "message_read", "DELETE FROM message_read WHERE id = 1")
            _tamper(pg, "stored_document", "UPDATE stored_document SET data = data || 'x'::bytea")
        report = dbcopy.check(database, target)
    finally:
        target.close()
    problems = "\n".join(report.problems)
    assert "client: the copied values differ from SQLite's" in problems
    assert f"message_read: {reads} rows in SQLite, {reads - 1} copied" in problems
    assert "stored_document: the copied values differ" in problems
    assert f"stored_document: {documents} stored document(s) whose bytes do not match" in problems
    assert not report.ok


def _pg_tables(url):
    with psycopg.connect(url) as pg:
        rows = pg.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        return sorted(r[0] for r in rows)


@needs_pg
@pytest.mark.parametrize(
    ("change", "says"),
    [
        (
            "DELETE FROM schema_migration WHERE id = (SELECT max(id) FROM schema_migration)",
            "run `flask db upgrade` first",
        ),
        (
            "INSERT INTO schema_migration (name, applied) VALUES ('9999_future', '2030-01-01')",
            "migrations this code does not know (9999_future)",
        ),
    ],
    ids=["not-fully-migrated", "newer-than-the-code"],
)
def test_copy_refuses_a_source_the_code_does_not_match(app, target_url, change, says):
    database.execute_sql(change)
    result = _copy(app, target_url)
    assert result.exit_code != 0
    assert says in result.output and "Nothing was changed" in result.output
    assert _pg_tables(target_url) == []


@needs_pg
def test_copy_refuses_a_database_of_something_else(app, target_url):
    with psycopg.connect(target_url, autocommit=True) as pg:
        pg.execute("CREATE TABLE orders (id int)")
    result = _copy(app, target_url)
    assert result.exit_code != 0
    assert "tables that are not the portal's (orders)" in result.output
    assert _pg_tables(target_url) == ["orders"]


@needs_pg
def test_copy_refuses_what_it_cannot_reach(app):
    result = _copy(app, "sqlite:///elsewhere.sqlite3")
    assert result.exit_code != 0 and "must be a PostgreSQL URL" in result.output
    result = _copy(app, _on(ADMIN, "cpy_no_such_database"))
    assert result.exit_code != 0 and "cannot connect to the target database" in result.output


@needs_pg
def test_a_mismatch_fails_the_command(app, target_url, monkeypatch):
    monkeypatch.setattr(
        dbcopy, "check", lambda s, t: Report(3, 9, 0, ["client: 2 rows in SQLite, 1 copied"])
    )
    result = _copy(app, target_url)
    assert result.exit_code == 1
    assert "MISMATCH client: 2 rows in SQLite, 1 copied" in result.output
    assert "FAILED: 3 tables, 9 rows, 0 documents copied, 1 problem(s) found." in result.output


def test_copy_refuses_to_run_on_postgresql(app, monkeypatch):
    monkeypatch.setattr(portal.db, "IS_POSTGRES", True)
    result = _copy(app, "postgresql://postgres@localhost/cpy_never")
    assert result.exit_code != 0
    assert "This process runs on PostgreSQL" in result.output
