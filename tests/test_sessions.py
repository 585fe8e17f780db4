"""Server-side sessions: a new one on login, idle and absolute limits on a controlled clock,
logout, password change and disabling a user end sessions on the server."""

import datetime as dt

import pytest

from portal import clock
from portal.models import AuditLog, UserSession
from tests.conftest import PASSWORD, login
from tests.statements import Statements


@pytest.fixture
def now(monkeypatch):
    state = {"t": dt.datetime(2026, 3, 2, 15, 0, 0)}
    monkeypatch.setattr(clock, "utcnow", lambda: state["t"])
    return state


def _cookie(client, app):
    c = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    return c.value if c else None


def _session_data(client):
    with client.session_transaction() as s:
        return dict(s)


def _with_cookie(app, value):
    other = app.test_client()
    other.set_cookie(app.config["SESSION_COOKIE_NAME"], value)
    return other


def test_login_rotates_the_session(app, client, world):
    client.get("/login")
    before_cookie = _cookie(client, app)
    before = _session_data(client)
    assert before_cookie and "_user_id" not in before
    login(client, world.a.owner)
    after = _session_data(client)
    assert _cookie(client, app) != before_cookie
    assert after["_user_id"] and after.get("csrf_token") != before.get("csrf_token")
    # The pre-login cookie does not authenticate.
    assert _with_cookie(app, before_cookie).get("/provider/").status_code == 302
    # A second login gets another server-side token; only its hash is stored.
    token1 = after["_user_id"]
    client.post("/logout")
    login(client, world.a.owner)
    token2 = _session_data(client)["_user_id"]
    assert token1 != token2
    assert not UserSession.select().where(UserSession.token_hash.in_([token1, token2])).exists()
    assert UserSession.select().where(UserSession.user == world.a.owner.id).count() == 2


def test_logout_revokes_the_session_on_the_server(app, client, world):
    login(client, world.a.owner)
    cookie = _cookie(client, app)
    assert client.get("/provider/").status_code == 200
    r = client.post("/logout")
    assert r.status_code == 302 and r.headers["Location"] == "/login"
    # A copy of the old cookie (e.g. stolen) no longer works.
    stolen = _with_cookie(app, cookie)
    assert stolen.get("/provider/").status_code == 302
    row = UserSession.get(UserSession.user == world.a.owner.id)
    assert row.revoked_at is not None and row.revoked_reason == "logout"
    assert AuditLog.select().where(AuditLog.action == "logout").count() == 1


def test_logout_is_post_only(client, world):
    login(client, world.a.owner)
    assert client.get("/logout").status_code == 405
    assert client.get("/provider/").status_code == 200


def test_staff_idle_timeout_is_15_minutes(client, world, now):
    login(client, world.a.therapist)
    now["t"] += dt.timedelta(minutes=14)
    assert client.get("/provider/").status_code == 200
    now["t"] += dt.timedelta(minutes=14)  # activity keeps the session alive
    assert client.get("/provider/").status_code == 200
    now["t"] += dt.timedelta(minutes=15, seconds=1)
    r = client.get("/provider/")
    assert r.status_code == 302 and r.headers["Location"].startswith("/login")
    assert "Your session ended" in client.get("/login").get_data(as_text=True)
    row = UserSession.get(UserSession.user == world.a.therapist.id)
    assert row.revoked_reason == "idle"
    assert AuditLog.select().where(AuditLog.action == "session.expired").count() == 1
    # Going back in time does not revive it.
    now["t"] -= dt.timedelta(minutes=10)
    assert client.get("/provider/").status_code == 302


def test_client_idle_timeout_is_longer(client, world, now, app):
    login(client, world.a.cu1)
    now["t"] += dt.timedelta(minutes=20)
    assert client.get("/portal/").status_code == 200
    now["t"] += dt.timedelta(minutes=app.config["CLIENT_IDLE_MINUTES"], seconds=1)
    assert client.get("/portal/").status_code == 302


def test_idle_limit_is_configurable(tmp_path, monkeypatch):
    from portal.db import database
    from tests import factories
    from tests.conftest import make_app

    state = {"t": dt.datetime(2026, 3, 2, 15, 0, 0)}
    monkeypatch.setattr(clock, "utcnow", lambda: state["t"])
    app = make_app(tmp_path, STAFF_IDLE_MINUTES=5)
    try:
        with app.test_request_context():
            p = factories.practice()
            user = factories.user(p, "frontdesk")
        c = app.test_client()
        login(c, user)
        state["t"] += dt.timedelta(minutes=5, seconds=1)
        assert c.get("/provider/").status_code == 302
    finally:
        database.close()


def test_absolute_limit_of_12_hours(client, world, now):
    login(client, world.a.frontdesk)
    for _ in range(71):  # active every 10 minutes: 11 h 50 min
        now["t"] += dt.timedelta(minutes=10)
        assert client.get("/provider/").status_code == 200
    now["t"] += dt.timedelta(minutes=10, seconds=1)
    assert client.get("/provider/").status_code == 302
    assert UserSession.get(UserSession.user == world.a.frontdesk.id).revoked_reason == "absolute"


def test_password_change_ends_other_sessions_but_keeps_this_one(app, world):
    owner = world.a.owner
    here, elsewhere = app.test_client(), app.test_client()
    login(here, owner)
    login(elsewhere, owner)
    assert elsewhere.get("/provider/").status_code == 200
    new = "a much better passphrase 2026"
    r = here.post("/account/password", data={"current": PASSWORD, "password": new, "confirm": new})
    assert r.status_code == 302
    assert here.get("/provider/").status_code == 200
    assert elsewhere.get("/provider/").status_code == 302
    row = AuditLog.select().where(AuditLog.action == "password.changed").get()
    assert row.detail == "ended 1 other sessions" and new not in row.detail
    # The new password works; the old one does not.
    third = app.test_client()
    assert login(third, owner).status_code == 401
    assert login(third, owner, password=new).status_code == 302


def test_password_change_needs_the_current_password_and_a_strong_new_one(client, world):
    login(client, world.a.owner)
    r = client.post(
        "/account/password",
        data={"current": "wrong password here", "password": "x" * 20, "confirm": "x" * 20},
    )
    assert r.status_code == 400
    assert "Your current password is not right." in r.get_data(as_text=True)
    r = client.post(
        "/account/password", data={"current": PASSWORD, "password": "short", "confirm": "short"}
    )
    assert r.status_code == 400
    assert "Use at least 12 characters." in r.get_data(as_text=True)


def test_disabling_a_user_ends_their_sessions(app, world):
    owner_c, therapist_c = app.test_client(), app.test_client()
    login(owner_c, world.a.owner)
    login(therapist_c, world.a.therapist)
    assert therapist_c.get("/provider/").status_code == 200
    r = owner_c.post(f"/provider/settings/staff/{world.a.therapist.id}/toggle")
    assert r.status_code == 302
    assert therapist_c.get("/provider/").status_code == 302
    row = UserSession.get(UserSession.user == world.a.therapist.id)
    assert row.revoked_reason == "disabled"
    assert login(app.test_client(), world.a.therapist).status_code == 401
    # Enabling again lets them log in again, with a new session.
    owner_c.post(f"/provider/settings/staff/{world.a.therapist.id}/toggle")
    assert login(therapist_c, world.a.therapist).status_code == 302
    assert therapist_c.get("/provider/").status_code == 200


def test_owner_cannot_disable_themself(client, world):
    login(client, world.a.owner)
    r = client.post(f"/provider/settings/staff/{world.a.owner.id}/toggle", follow_redirects=True)
    assert "You cannot disable your own account." in r.get_data(as_text=True)
    assert client.get("/provider/").status_code == 200


def test_each_request_loads_its_own_user_even_under_a_shared_context(app, ctx, world):
    """Under the `ctx` fixture all test-client requests share one app context (and `g`):
    one client's user must not leak into another client's request."""
    owner_c, client_c = app.test_client(), app.test_client()
    login(owner_c, world.a.owner)
    assert owner_c.get("/provider/").status_code == 200
    r = login(client_c, world.a.cu1)
    assert r.headers["Location"] == "/portal/"
    assert client_c.get("/provider/").status_code == 404
    assert app.test_client().get("/provider/").status_code == 302


# --- every request checks its session on the server ---------------------------------------


def test_a_session_revoked_or_a_user_disabled_elsewhere_ends_at_the_next_request(
    app, client, world, now
):
    from portal.db import database, q

    login(client, world.a.owner)
    with Statements() as seen:
        assert client.get("/provider/billing/").status_code == 200
    assert len(seen.reads_of('"user_session"')) == 1  # one read: session, user, practice
    # Revoked by another process (sqlite3 by hand): the next request is refused.
    database.execute_sql(
        "UPDATE user_session SET revoked_at = '2026-03-02 15:00:00', revoked_reason = 'x'"
    )
    r = client.get("/provider/billing/")
    assert r.status_code == 302 and r.headers["Location"].startswith("/login")

    login(client, world.a.therapist)
    assert client.get("/provider/").status_code == 200
    sql = q('UPDATE "user" SET active = ? WHERE id = ?')
    database.execute_sql(sql, [False, world.a.therapist.id])
    assert client.get("/provider/").status_code == 302


def test_last_seen_is_written_every_30_seconds_and_the_idle_limit_holds(app, client, world, now):
    login(client, world.a.therapist)
    assert client.get("/provider/").status_code == 200
    first = UserSession.get(UserSession.user == world.a.therapist.id).last_seen_at
    now["t"] += dt.timedelta(seconds=10)
    assert client.get("/provider/").status_code == 200  # under 30 s: no write
    assert UserSession.get(UserSession.user == world.a.therapist.id).last_seen_at == first
    now["t"] += dt.timedelta(seconds=25)
    assert client.get("/provider/").status_code == 200  # 35 s since: written again
    assert UserSession.get(UserSession.user == world.a.therapist.id).last_seen_at == now["t"]
    now["t"] += dt.timedelta(minutes=15, seconds=1)
    assert client.get("/provider/").status_code == 302
    assert UserSession.get(UserSession.user == world.a.therapist.id).revoked_reason == "idle"


def _varies_on_cookie(resp):
    return any(
        "cookie" in [v.strip().lower() for v in value.split(",")]
        for value in resp.headers.getlist("Vary")
    )


def test_unchanged_sessions_set_no_cookie_but_vary_on_it(app, client, world):
    first = client.get("/login")  # a new session (its CSRF secret): the cookie is set
    assert first.headers.get("Set-Cookie") and _varies_on_cookie(first)
    again = client.get("/login")  # same session, unchanged: no new cookie
    assert again.headers.get("Set-Cookie") is None and _varies_on_cookie(again)
    login(client, world.a.owner)
    client.get("/provider/billing/")
    page = client.get("/provider/billing/")
    assert page.status_code == 200 and page.headers.get("Set-Cookie") is None
    assert _varies_on_cookie(page)
    # A session emptied by logout deletes the cookie (Flask's own path).
    out = client.post("/logout")
    assert "Set-Cookie" in out.headers
