"""Login throttling per account and per address: after 10 failures a clear "try again in N
minutes", the real password refused while locked, and free again after the window."""

import datetime as dt

import pytest

from portal import clock
from portal.models import AuditLog, LoginAttempt
from tests.conftest import PASSWORD, login


@pytest.fixture
def now(monkeypatch):
    """A controllable clock: now["t"] is what portal.clock.utcnow() returns."""
    state = {"t": dt.datetime(2026, 3, 2, 15, 0, 0)}
    monkeypatch.setattr(clock, "utcnow", lambda: state["t"])
    return state


def _fail(client, email, n, environ=None):
    for _ in range(n):
        r = client.post(
            "/login",
            data={"email": email, "password": "not the right password"},
            environ_base=environ or {},
        )
        assert r.status_code == 401
        assert "do not match an active account" in r.get_data(as_text=True)
        # and what to do about it (the same words whether or not the account exists)
        assert "or choose “Forgot your password?” below" in r.get_data(as_text=True)


def test_ten_failures_lock_the_account_with_a_clear_message(client, world, now):
    owner = world.a.owner
    _fail(client, owner.email, 10)
    r = login(client, owner)  # the real password, while locked
    assert r.status_code == 429
    body = r.get_data(as_text=True)
    assert "Try again in 15 minutes" in body
    assert client.get("/provider/").status_code == 302  # not logged in
    assert AuditLog.select().where(AuditLog.action == "login.throttled").count() == 1
    assert AuditLog.select().where(AuditLog.action == "login.failed").count() == 10

    now["t"] += dt.timedelta(minutes=6)
    r = login(client, owner)
    assert r.status_code == 429
    assert "Try again in 9 minutes" in r.get_data(as_text=True)

    # After the window the real user gets in again (no lock for good).
    now["t"] += dt.timedelta(minutes=9, seconds=1)
    r = login(client, owner)
    assert r.status_code == 302 and r.headers["Location"] == "/provider/"


def test_nine_failures_do_not_lock(client, world, now):
    _fail(client, world.a.owner.email, 9)
    assert login(client, world.a.owner).status_code == 302


def test_the_lock_is_per_account(client, world, now):
    _fail(client, world.a.owner.email, 10)
    # the same address, another account: still fine (the address limit is higher)
    assert login(client, world.a.therapist).status_code == 302


def test_account_lock_holds_from_any_address(client, world, now):
    for i in range(10):
        _fail(client, world.a.owner.email, 1, {"REMOTE_ADDR": f"10.0.0.{i + 1}"})
    r = client.post(
        "/login",
        data={"email": world.a.owner.email, "password": PASSWORD},
        environ_base={"REMOTE_ADDR": "10.9.9.9"},
    )
    assert r.status_code == 429


def test_e_mail_case_and_spaces_do_not_dodge_the_lock(client, world, now):
    email = world.a.owner.email
    _fail(client, email.upper(), 5)
    _fail(client, " " + email + " ", 5)
    assert login(client, world.a.owner).status_code == 429


def test_per_address_limit(client, world, now, app):
    limit = app.config["LOGIN_MAX_FAILURES_ADDRESS"]
    env = {"REMOTE_ADDR": "192.0.2.7"}
    for i in range(limit):
        _fail(client, f"nobody{i}@example.com", 1, env)
    r = client.post(
        "/login", data={"email": world.a.owner.email, "password": PASSWORD}, environ_base=env
    )
    assert r.status_code == 429
    assert "Try again in 15 minutes" in r.get_data(as_text=True)
    # Another address is not affected.
    r = client.post(
        "/login",
        data={"email": world.a.owner.email, "password": PASSWORD},
        environ_base={"REMOTE_ADDR": "192.0.2.8"},
    )
    assert r.status_code == 302
    now["t"] += dt.timedelta(minutes=16)
    client.post("/logout")
    r = client.post(
        "/login", data={"email": world.a.owner.email, "password": PASSWORD}, environ_base=env
    )
    assert r.status_code == 302


def test_throttled_attempts_do_not_extend_the_lock(client, world, now):
    _fail(client, world.a.owner.email, 10)
    for _ in range(5):
        now["t"] += dt.timedelta(minutes=2)
        assert login(client, world.a.owner).status_code == 429
    now["t"] += dt.timedelta(minutes=5, seconds=1)
    assert login(client, world.a.owner).status_code == 302


def test_attempts_store_no_e_mail_address(client, world, now):
    _fail(client, world.a.owner.email, 1)
    row = LoginAttempt.select().get()
    assert world.a.owner.email not in row.account_key and len(row.account_key) == 64


def test_old_attempts_and_sessions_are_pruned(app, client, world, now):
    from portal import sessions
    from portal.models import UserSession

    login(client, world.a.owner)
    client.post("/logout")
    _fail(client, world.a.therapist.email, 3)
    now["t"] += dt.timedelta(days=2)
    _fail(client, world.a.therapist.email, 1)
    login(client, world.a.owner)  # a live session
    with app.test_request_context():
        sessions.prune()
    assert LoginAttempt.select().count() == 2  # the last failure and the last success
    assert UserSession.select().count() == 2  # the ended one is under 30 days old
    now["t"] += dt.timedelta(days=31)
    with app.test_request_context():
        sessions.prune()
    assert LoginAttempt.select().count() == 0
    assert UserSession.select().count() == 0  # past the absolute limit long ago
