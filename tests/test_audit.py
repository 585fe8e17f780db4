"""The append-only audit log: rows for login, failed login, logout, denial and a PHI view;
UPDATE and DELETE refused by the database's triggers; no PHI values in rows."""

import sqlite3

import psycopg
import pytest
from peewee import IntegrityError

from portal import audit
from portal.db import IS_POSTGRES, database
from portal.models import AuditLog
from tests.conftest import login


def _shell(app):
    """A connection of its own, as someone with a shell (sqlite3 or psql) has, and the
    error its driver raises for a refused write."""
    if IS_POSTGRES:
        return psycopg.connect(app.config["DATABASE_URL"], autocommit=True), psycopg.IntegrityError
    return sqlite3.connect(app.config["DATABASE"]), sqlite3.IntegrityError


def _rows(action):
    return list(AuditLog.select().where(AuditLog.action == action).order_by(AuditLog.id))


def test_login_failed_login_and_logout_are_audited(client, world):
    env = {"REMOTE_ADDR": "198.51.100.4"}
    client.post(
        "/login",
        data={"email": world.a.owner.email, "password": "wrong password!!"},
        environ_base=env,
    )
    client.post(
        "/login", data={"email": "ghost@example.com", "password": "whatever pass"}, environ_base=env
    )
    r = client.post(
        "/login",
        data={"email": world.a.owner.email, "password": "correct horse battery staple 42"},
        environ_base=env,
    )
    assert r.status_code == 302
    client.post("/logout", environ_base=env)

    failed = _rows("login.failed")
    assert [f.detail for f in failed] == ["bad password", "unknown account"]
    assert failed[0].user_id == world.a.owner.id and failed[0].practice_id == world.a.practice.id
    assert failed[1].user_id is None and failed[1].practice_id is None
    assert all(f.ip == "198.51.100.4" for f in failed)
    (ok,) = _rows("login")
    assert ok.user_id == world.a.owner.id and ok.practice_id == world.a.practice.id
    assert ok.ip == "198.51.100.4" and ok.at is not None
    (out,) = _rows("logout")
    assert out.user_id == world.a.owner.id
    # The typed e-mail and passwords are never stored.
    for row in AuditLog.select():
        for value in (row.detail, row.object_type, row.action):
            assert "ghost@" not in value and "wrong password" not in value


def test_denial_is_audited(client, world):
    login(client, world.a.cu1)
    assert client.get("/provider/").status_code == 404
    (row,) = _rows("access.denied")
    assert row.user_id == world.a.cu1.id and row.practice_id == world.a.practice.id
    assert "provider.home" in row.detail


def test_client_portal_home_records_a_phi_view(client, world):
    login(client, world.a.cu1)
    assert client.get("/portal/").status_code == 200
    (row,) = _rows("client.view")
    assert row.client_id == world.a.c1.id
    assert row.object_type == "client" and row.object_id == world.a.c1.id
    assert row.user_id == world.a.cu1.id and row.practice_id == world.a.practice.id
    assert world.a.c1.last_name not in row.detail and world.a.c1.first_name not in row.detail


def test_get_or_404_audits_views_and_foreign_ids(ctx, world):
    from flask_login import login_user

    from portal.access import get_or_404
    from portal.models import Client

    login_user(world.a.therapist)
    c = get_or_404(Client, world.a.c1.id, audit_action="client.view")
    assert c.id == world.a.c1.id
    from werkzeug.exceptions import NotFound

    with pytest.raises(NotFound):
        get_or_404(Client, world.b.c1.id, audit_action="client.view")
    with pytest.raises(NotFound):
        get_or_404(Client, "not-a-number")
    actions = [
        (r.action, r.object_id, r.practice_id, r.user_id)
        for r in AuditLog.select().order_by(AuditLog.id)
    ]
    a, b, user = world.a.practice.id, world.b.practice.id, world.a.therapist.id
    assert actions == [
        ("client.view", world.a.c1.id, a, user),
        ("access.denied", world.b.c1.id, a, user),
        ("access.denied", world.b.c1.id, b, None),  # practice b learns of the probe
        ("access.denied", None, a, user),
    ]


def test_update_and_delete_on_the_audit_log_fail(app, world):
    with app.test_request_context():
        audit.record("test.row", detail="x", practice_id=world.a.practice.id)
    row = AuditLog.select().order_by(AuditLog.id.desc()).get()
    with pytest.raises(IntegrityError, match="append-only"), database.atomic():
        AuditLog.update(detail="changed").where(AuditLog.id == row.id).execute()
    with pytest.raises(IntegrityError, match="append-only"), database.atomic():
        AuditLog.delete().where(AuditLog.id == row.id).execute()
    with pytest.raises(IntegrityError), database.atomic():
        row.delete_instance()
    # Through a connection of its own as well (e.g. someone with a shell).
    con, refused = _shell(app)
    try:
        with pytest.raises(refused, match="append-only"):
            con.execute("UPDATE audit_log SET action = 'x'")
        with pytest.raises(refused, match="append-only"):
            con.execute("DELETE FROM audit_log")
    finally:
        con.close()
    assert AuditLog.get_by_id(row.id).detail == "x"
    database.close()


def test_audit_detail_is_capped(app, world):
    with app.test_request_context():
        audit.record("test.long", detail="a" * 1000)
    assert len(AuditLog.get(AuditLog.action == "test.long").detail) == 255


def test_a_view_repeated_inside_the_window_shares_one_row(ctx, world, monkeypatch):
    import datetime as dt

    from flask import current_app
    from flask_login import login_user, logout_user

    from portal import clock
    from portal.access import get_or_404
    from portal.models import Client

    t = {"now": dt.datetime(2026, 11, 28, 9, 0, 0)}
    monkeypatch.setattr(clock, "utcnow", lambda: t["now"])
    login_user(world.a.therapist)
    for _ in range(3):
        get_or_404(Client, world.a.c1.id, audit_action="client.view")
    get_or_404(Client, world.a.c2.id, audit_action="client.view")  # another object
    audit.record_view("client.view", obj=world.a.c1, detail="other page")  # other detail
    assert len(_rows("client.view")) == 3
    # Denials and changes are never folded together.
    audit.record("client.update", obj=world.a.c1)
    audit.record("client.update", obj=world.a.c1)
    assert len(_rows("client.update")) == 2
    # Another process (nothing remembered) finds the row in the database: no new row.
    current_app.extensions["audit_views_seen"].clear()
    t["now"] += dt.timedelta(minutes=9)
    get_or_404(Client, world.a.c1.id, audit_action="client.view")
    assert len(_rows("client.view")) == 3
    # Another user: their own row.
    logout_user()
    login_user(world.a.owner)
    get_or_404(Client, world.a.c1.id, audit_action="client.view")
    assert [r.user_id for r in _rows("client.view")][-1] == world.a.owner.id
    # The window has passed for the therapist's first view: a new row.
    logout_user()
    login_user(world.a.therapist)
    t["now"] += dt.timedelta(minutes=2)
    get_or_404(Client, world.a.c1.id, audit_action="client.view")
    rows = _rows("client.view")
    assert len(rows) == 5
    assert (rows[-1].user_id, rows[-1].object_id) == (world.a.therapist.id, world.a.c1.id)
    assert rows[-1].at == t["now"]
