"""What differs between SQLite and PostgreSQL, kept in portal/db.py and portal/ddl.py."""

import pytest
from peewee import IntegrityError

from portal import clock, ddl
from portal.db import IS_POSTGRES, database, describe, prefix_match, q, unique_violation
from portal.models import Remittance


def _remittance(practice, trace):
    return Remittance.create(
        practice=practice, trace_number=trace, sha256=trace * 32, payer_identifier="P1"
    )


def test_a_unique_violation_is_told_by_its_table_on_either_database(ctx, world):
    _remittance(world.a.practice, "T1")
    with pytest.raises(IntegrityError) as caught, database.atomic():
        _remittance(world.a.practice, "T1")
    assert unique_violation(caught.value, "remittance")
    assert not unique_violation(caught.value, "claim")
    with pytest.raises(IntegrityError) as other, database.atomic():
        Remittance.create(practice=world.a.practice, trace_number=None, sha256="T2" * 32)
    assert not unique_violation(other.value, "remittance")  # NOT NULL, not UNIQUE
    assert Remittance.select().count() == 1


def test_raw_sql_in_the_databases_paramstyle(ctx, world):
    sql = q("SELECT count(*) FROM practice WHERE name LIKE ? AND id > ?")
    assert ("%s" in sql) == IS_POSTGRES and ("%%" not in sql or IS_POSTGRES)
    assert database.execute_sql(sql, ["%", 0]).fetchone()[0] == 2
    assert clock.utcnow().year >= 2026


def test_sqlite_ddl_is_translated_for_postgresql():
    sql = ddl.translate(
        """CREATE TABLE client_preference (
        id INTEGER PRIMARY KEY,
        client_id INTEGER NOT NULL REFERENCES user (id),
        monthly_superbill INTEGER NOT NULL DEFAULT 0 CHECK (monthly_superbill IN (0, 1)),
        data BLOB, at DATETIME NOT NULL, name VARCHAR(255) COLLATE NOCASE
    )"""
    )
    assert "id BIGSERIAL PRIMARY KEY" in sql
    assert 'REFERENCES "user" (id)' in sql
    assert "monthly_superbill BOOLEAN NOT NULL DEFAULT FALSE" in sql and "IN (0, 1)" not in sql
    assert "data BYTEA" in sql and "at TIMESTAMP" in sql and "NOCASE" not in sql
    assert ddl.translate("CREATE TRIGGER t BEFORE DELETE ON x BEGIN SELECT 1; END") is None
    assert ddl.translate('DROP TABLE IF EXISTS "x"').endswith("CASCADE")


def test_where_the_data_lives_is_described_without_a_password(app):
    config = dict(app.config)
    if IS_POSTGRES:
        config["DATABASE_URL"] = "postgresql://portal:s3cret@db.example:5432/portal"
        assert describe(config) == "postgresql://portal:***@db.example:5432/portal"
    else:
        assert describe(config) == app.config["DATABASE"]


def test_a_prefix_match_ignores_case_and_takes_wildcards_literally(ctx, world):
    from portal.models import Client

    p = world.a.practice
    for last in ("O'Neil", "o_neil", "Oxford", "100% Cotton"):
        Client.create(practice=p, first_name="Ann", last_name=last)

    def found(text):
        rows = Client.select(Client.last_name).where(prefix_match(Client.last_name, text))
        return sorted(c.last_name for c in rows)

    assert found("o") == ["O'Neil", "Oxford", "o_neil"]
    assert found("O_") == ["o_neil"]  # "_" is a character here, not "any one"
    assert found("100%") == ["100% Cotton"] and found("1%") == []
    assert found("OXF") == ["Oxford"]


def test_every_flag_column_is_boolean_on_postgresql():
    """A BooleanField's column must be in ddl.BOOLEAN_COLUMNS (its migration adds it there):
    else PostgreSQL gets an INTEGER column that the model writes True/False into."""
    from peewee import BooleanField

    from portal.models import ALL_MODELS

    flags = {
        (m._meta.table_name, f.column_name)
        for m in ALL_MODELS
        for f in m._meta.sorted_fields
        if isinstance(f, BooleanField)
    }
    assert flags == ddl.BOOLEAN_COLUMNS
