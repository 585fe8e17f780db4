"""Online backup while the portal writes, and the integrity check a restore runs first.

The SQLite file's backup: on PostgreSQL, pg_dump does it (docs/deploy.md) and the commands
say so.
"""

import os
import sqlite3
import threading
import time

import pytest

from portal import cli
from portal.db import IS_POSTGRES, database

sqlite_only = pytest.mark.skipif(IS_POSTGRES, reason="the SQLite file's backup")


@pytest.mark.skipif(not IS_POSTGRES, reason="on PostgreSQL only")
def test_on_postgresql_backup_and_check_db_point_to_pg_dump(app, tmp_path):
    for args in (["backup", str(tmp_path)], ["check-db"]):
        result = app.test_cli_runner().invoke(args=args)
        assert result.exit_code == 1 and "pg_dump" in result.output, args
    assert os.listdir(tmp_path) == ["instance"] or not os.listdir(tmp_path)


def _writer(path, stop, committed, started):
    """Another writer with its own connection: one row per transaction, as fast as it can."""
    con = sqlite3.connect(path, timeout=30, isolation_level=None)
    con.execute("PRAGMA busy_timeout=30000")
    try:
        i = 0
        while not stop.is_set():
            i += 1
            con.execute("BEGIN IMMEDIATE")
            con.execute(
                "INSERT INTO login_attempt (account_key, ip, at, success) "
                "VALUES (?, '203.0.113.1', '2026-03-02 15:00:00', 0)",
                (f"row-{i}",),
            )
            con.execute("COMMIT")
            committed.append(i)
            if i == 200:
                started.set()
    finally:
        con.close()


@sqlite_only
def test_backup_while_another_thread_writes(app, tmp_path):
    path = app.config["DATABASE"]
    database.close()
    stop, started, committed = threading.Event(), threading.Event(), []
    t = threading.Thread(target=_writer, args=(path, stop, committed, started))
    t.start()
    try:
        assert started.wait(10)
        before = len(committed)  # every row up to here was committed before the backup
        with app.app_context():
            dest = cli.backup(str(tmp_path / "copy.sqlite3"))
        during = len(committed)
        deadline = time.monotonic() + 10  # the writer goes on after the backup (no lock left)
        while len(committed) <= during and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        stop.set()
        t.join(10)
    assert len(committed) > during >= before >= 200  # the writer kept going throughout
    con = sqlite3.connect(dest)
    try:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        keys = {r[0] for r in con.execute("SELECT account_key FROM login_attempt")}
        assert {f"row-{i}" for i in range(1, before + 1)} <= keys
        assert len(keys) <= len(committed)
        # A self-contained file, not one that needs a -wal next to it.
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    finally:
        con.close()
    assert oct(os.stat(dest).st_mode & 0o777) == "0o600"
    assert not os.path.exists(dest + ".part")


@sqlite_only
def test_backup_command_into_a_folder_and_check_db(app, tmp_path, world):
    runner = app.test_cli_runner()
    folder = tmp_path / "backups"  # does not exist yet: it is made
    result = runner.invoke(args=["backup", str(folder)])
    assert result.exit_code == 0, result.output
    (name,) = os.listdir(folder)
    assert name.startswith("portal-") and name.endswith(".sqlite3")
    assert f"Backup written and checked: {folder / name}" in result.output

    result = runner.invoke(args=["check-db", str(folder / name)])
    assert result.exit_code == 0 and result.output.startswith("ok: ")
    # The copy holds the data.
    con = sqlite3.connect(folder / name)
    try:
        assert con.execute("SELECT count(*) FROM user").fetchone()[0] == 10
    finally:
        con.close()
    # The live database checks too (no argument).
    assert runner.invoke(args=["check-db"]).exit_code == 0


@sqlite_only
def test_backup_command_to_a_file(app, tmp_path):
    dest = tmp_path / "nightly.sqlite3"
    result = app.test_cli_runner().invoke(args=["backup", str(dest)])
    assert result.exit_code == 0, result.output
    assert cli.check_db(str(dest)) == []


@sqlite_only
def test_check_db_refuses_bad_files(app, tmp_path):
    runner = app.test_cli_runner()
    missing = tmp_path / "missing.sqlite3"
    result = runner.invoke(args=["check-db", str(missing)])
    assert result.exit_code == 1 and "no such file" in result.output
    assert not missing.exists()  # checking never creates a file

    junk = tmp_path / "junk.sqlite3"
    junk.write_bytes(b"this is not a database" * 100)
    result = runner.invoke(args=["check-db", str(junk)])
    assert result.exit_code == 1 and "FAILED" in result.output

    other = tmp_path / "other.sqlite3"
    con = sqlite3.connect(other)
    con.execute("CREATE TABLE t (x)")
    con.close()
    result = runner.invoke(args=["check-db", str(other)])
    assert result.exit_code == 1 and "not a portal database" in result.output


@sqlite_only
def test_check_db_finds_a_corrupt_copy(app, tmp_path, world):
    dest = cli_backup(app, tmp_path / "c.sqlite3")
    data = bytearray(open(dest, "rb").read())
    page = 4096
    # Scribble over the middle of the file's pages (not the header).
    for i in range(page * 2, len(data) - 16, page):
        data[i + 8 : i + 200] = os.urandom(192)
    open(dest, "wb").write(bytes(data))
    result = app.test_cli_runner().invoke(args=["check-db", dest])
    assert result.exit_code == 1 and "FAILED" in result.output


def cli_backup(app, dest):
    with app.app_context():
        return cli.backup(str(dest))
