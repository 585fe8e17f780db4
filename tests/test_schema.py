"""The migrated schema matches the models, and migrations go all up, all down, and up again."""

import sqlite3

from peewee import ForeignKeyField

from portal.db import database, runner
from portal.models import ALL_MODELS


def test_every_model_column_exists_in_migrated_schema(app):
    for model in ALL_MODELS:
        table = model._meta.table_name
        cols = {r[1] for r in database.execute_sql(f'PRAGMA table_info("{table}")').fetchall()}
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
    tables = {
        row[0]
        for row in database.execute_sql(
            "SELECT name FROM sqlite_master WHERE type='table'"
        ).fetchall()
    }
    assert tables <= {"schema_migration"}, tables
    assert r.up() == names
    for model in ALL_MODELS:
        assert model.table_exists()


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


def _schema():
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
