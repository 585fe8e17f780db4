"""Issue 9, defect 9: the per-address lockout (password spraying) no longer locks out a
browser that logged in successfully before: a signed device cookie (OWASP's "device
cookies") lets it through on its own account, and failures under it are counted per device."""

import datetime as dt

import pytest

from portal import clock
from tests.conftest import PASSWORD, login

DEVICE_COOKIE = "portal_device"


@pytest.fixture
def now(monkeypatch):
    state = {"t": dt.datetime(2026, 3, 2, 15, 0, 0)}
    monkeypatch.setattr(clock, "utcnow", lambda: state["t"])
    return state


def _spray(app, n):
    """n failed logins from this address, each against a different (unknown) account."""
    c = app.test_client()
    for i in range(n):
        r = c.post("/login", data={"email": f"nobody{i}@example.com", "password": "Spring2026!"})
        assert r.status_code == 401


def _device_cookie(client):
    return client.get_cookie(DEVICE_COOKIE, path="/login")


def test_a_successful_login_leaves_a_signed_device_cookie(app, client, world, now):
    r = login(client, world.a.owner)
    assert r.status_code == 302
    cookie = _device_cookie(client)
    assert cookie is not None and cookie.http_only and cookie.path == "/login"
    assert str(world.a.owner.email) not in cookie.value


def test_address_lockout_lets_a_known_browser_through_on_its_own_account(app, world, now):
    known = app.test_client()
    assert login(known, world.a.owner).status_code == 302
    known.post("/logout")
    _spray(app, app.config["LOGIN_MAX_FAILURES_ADDRESS"])

    stranger = app.test_client()
    assert login(stranger, world.a.owner).status_code == 429  # spraying still locks the address
    assert login(known, world.a.owner).status_code == 302  # the known browser gets in
    known.post("/logout")
    # ... only on the account it logged in with before.
    assert login(known, world.a.therapist).status_code == 429


def test_a_forged_or_foreign_device_cookie_does_not_help(app, world, now):
    a = app.test_client()
    assert login(a, world.a.therapist).status_code == 302
    stolen = _device_cookie(a).value
    _spray(app, app.config["LOGIN_MAX_FAILURES_ADDRESS"])
    other = app.test_client()
    other.set_cookie(DEVICE_COOKIE, stolen[:-3] + "abc", path="/login")
    assert login(other, world.a.therapist).status_code == 429
    other.set_cookie(DEVICE_COOKIE, stolen, path="/login")
    assert login(other, world.a.owner).status_code == 429  # a cookie for another account


def test_failures_under_a_device_cookie_lock_that_device(app, world, now):
    known = app.test_client()
    assert login(known, world.a.owner).status_code == 302
    known.post("/logout")
    limit = app.config["LOGIN_MAX_FAILURES_ACCOUNT"]
    for _ in range(limit):
        assert login(known, world.a.owner, password="wrong password here").status_code == 401
    assert login(known, world.a.owner).status_code == 429  # the device is locked now
    now["t"] += dt.timedelta(minutes=16)
    assert login(known, world.a.owner).status_code == 302


def test_an_account_locked_by_strangers_still_opens_on_a_known_browser(app, world, now):
    known = app.test_client()
    assert login(known, world.a.owner).status_code == 302
    known.post("/logout")
    attacker = app.test_client()
    for _ in range(app.config["LOGIN_MAX_FAILURES_ACCOUNT"]):
        login(attacker, world.a.owner, password="guess guess guess")
    assert login(attacker, world.a.owner).status_code == 429
    assert login(known, world.a.owner, password=PASSWORD).status_code == 302
