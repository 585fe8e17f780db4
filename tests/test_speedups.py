"""The speed-ups (portal/speedups.py): each gives the plain code's answers.

These tests make their own apps with SPEEDUPS on (and, to compare, off), whatever the
suite's PORTAL_SPEEDUPS says; the rest of the suite runs both ways.
"""

import datetime as dt
import time

import pytest

from portal import access, clock, speedups
from portal.db import database, q
from portal.models import ChartNote, Client, Practice, Provider, User, UserSession
from tests import factories
from tests.conftest import login, make_app
from tests.statements import Statements


@pytest.fixture(params=[True, False], ids=["speedups", "plain"])
def app(request, tmp_path):
    app = make_app(tmp_path, SPEEDUPS=request.param)
    database.connect(reuse_if_open=True)
    yield app
    if not database.is_closed():
        database.close()


@pytest.fixture
def fast_app(tmp_path):
    app = make_app(tmp_path, SPEEDUPS=True)
    database.connect(reuse_if_open=True)
    yield app
    if not database.is_closed():
        database.close()


def _cookie(client, app):
    c = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    return c.value if c else None


def _with_cookie(app, value):
    other = app.test_client()
    other.set_cookie(app.config["SESSION_COOKIE_NAME"], value)
    return other


def test_the_switch_selects_the_session_interface(app):
    on = isinstance(app.session_interface, speedups.CookieSessionInterface)
    assert on is app.config["SPEEDUPS"]


# --- the cookie session: a verified cookie value is not verified again ----------------------


def test_a_reused_cookie_gives_each_request_its_own_session(fast_app, world):
    app = fast_app
    client = app.test_client()
    login(client, world.a.owner)
    cookie = _cookie(client, app)
    iface = app.session_interface
    opened = []
    for _ in range(2):
        with app.test_request_context(
            "/provider/", headers={"Cookie": f"{app.config['SESSION_COOKIE_NAME']}={cookie}"}
        ) as rc:
            opened.append(iface.open_session(app, rc.request))
    first, second = opened
    assert cookie in iface._opened  # the second open was served from the verified cookie
    assert first == second and first["_user_id"]
    first.setdefault("_flashes", []).append(("info", "only for the first request"))
    first["tablet"] = True
    assert "_flashes" not in second and "tablet" not in second
    with app.test_request_context(
        "/provider/", headers={"Cookie": f"{app.config['SESSION_COOKIE_NAME']}={cookie}"}
    ) as rc:
        third = iface.open_session(app, rc.request)
    assert "_flashes" not in third and "tablet" not in third


def test_a_cookie_expires_and_a_changed_one_is_refused(app, world, monkeypatch):
    client = app.test_client()
    login(client, world.a.owner)
    cookie = _cookie(client, app)
    assert _with_cookie(app, cookie).get("/provider/").status_code == 200
    assert _with_cookie(app, cookie).get("/provider/").status_code == 200  # again
    # One character changed: a different value, verified afresh and refused.
    i = len(cookie) // 2
    forged = cookie[:i] + ("A" if cookie[i] != "A" else "B") + cookie[i + 1 :]
    assert _with_cookie(app, forged).get("/provider/").status_code == 302
    # The cookie's signature is older than the session lifetime: refused though it was
    # verified before (the age is checked on every request, as itsdangerous does).
    lifetime = app.permanent_session_lifetime.total_seconds()
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() + lifetime + 5)
    assert _with_cookie(app, cookie).get("/provider/").status_code == 302


# --- SQL built once: the same rows as the plain query -----------------------------------------


def _visible(model, user, ids):
    with_fast = {i for i in ids if access._fetch_one(model, i, user) is not None}
    plain = {i for i in ids if access.scoped(model, user=user).where(model.id == i).first()}
    assert with_fast == plain
    return with_fast


def test_one_row_fetches_see_what_scoped_sees(app, ctx, world):
    a, b = world.a, world.b
    ids = [a.c1.id, a.c2.id, b.c1.id, b.c2.id, 10_000]
    assert _visible(Client, a.owner, ids) == {a.c1.id, a.c2.id}
    assert _visible(Client, a.cu1, ids) == {a.c1.id}
    assert _visible(Client, b.frontdesk, ids) == {b.c1.id, b.c2.id}
    # A therapist who sees only their own clients: the setting is part of the key.
    assert _visible(Client, a.therapist, ids) == {a.c1.id, a.c2.id}
    Practice.update(therapists_see_all_clients=False).where(Practice.id == a.practice.id).execute()
    therapist = User.get_by_id(a.therapist.id)
    assert _visible(Client, therapist, ids) == {a.c1.id}
    fetched = access._fetch_one(Client, a.c1.id, a.owner)
    assert fetched.first_name == a.c1.first_name
    assert fetched.date_of_birth == a.c1.date_of_birth  # converted as peewee converts
    assert isinstance(fetched.created_at, dt.datetime)


def test_built_once_swaps_every_kind_of_placeholder(app, ctx, world):
    when = dt.datetime(2026, 3, 2, 15, 0)

    def build(client_id, email, after):
        return (
            Client.select(Client.id)
            .where((Client.id == client_id) & (Client.email == email) & (Client.created_at > after))
            .limit(1)
        )

    for c in (world.a.c1, world.a.c2):
        values = {"client_id": c.id, "email": c.email, "after": when - dt.timedelta(days=3650)}
        sql, params = speedups.built_once(("test-kinds",), build, values)
        plain_sql, plain_params = build(**values).sql()
        assert (sql, params) == (plain_sql, plain_params)


def test_the_session_read_gives_the_user_and_practice(app, client, world):
    login(client, world.a.therapist)
    assert client.get("/provider/").status_code == 200
    from portal.sessions import find_session

    row = UserSession.get(UserSession.user == world.a.therapist.id)
    with app.test_request_context():
        found = find_session(row.token_hash)
    assert found.id == row.id and found.user.id == world.a.therapist.id
    assert found.user.practice.id == world.a.practice.id
    assert found.last_seen_at == row.last_seen_at
    with app.test_request_context():
        assert find_session("no such token") is None


def test_unsigned_note_count_is_the_same_both_ways(app, client, world):
    old = dt.datetime(2026, 1, 1)
    for c in (world.a.c1, world.a.c2, world.b.c1):
        ChartNote.create(
            practice=c.practice_id,
            client=c.id,
            provider=c.therapist_id,
            visit_date=old.date(),
            created_at=old,
            updated_at=old,
        )
    login(client, world.a.owner)  # the practice's drafts
    page = client.get("/provider/").get_data(as_text=True)
    assert '<strong class="count">2</strong> unsigned notes older than a day' in page
    client.post("/logout")
    login(client, world.a.therapist)  # their own: the first client's
    page = client.get("/provider/").get_data(as_text=True)
    assert '<strong class="count">1</strong> unsigned note older than a day' in page


def test_a_joined_fetch_of_a_missing_optional_row_gives_none(app, ctx, world):
    lone = factories.client(world.a.practice)  # no therapist
    found = access.get_or_404(Client, lone.id, user=world.a.owner, joined=(Provider,))
    assert found.id == lone.id and found.therapist is None and found.therapist_id is None
    other = access.get_or_404(Client, world.a.c1.id, user=world.a.owner, joined=(Provider,))
    assert other.therapist.id == world.a.provider.id
    assert other.therapist.last_name == world.a.provider.last_name


def test_the_client_page_of_a_client_without_a_therapist(app, client, world):
    lone = factories.client(world.a.practice, first_name="Lone")
    login(client, world.a.owner)
    page = client.get(f"/provider/clients/{lone.id}")
    assert page.status_code == 200 and "Lone" in page.get_data(as_text=True)
    assert "Therapist" not in page.get_data(as_text=True).split("</p>")[0]


@pytest.fixture
def now(monkeypatch):
    """The clock stands still at a fixed time; `now.advance(seconds=...)` moves it on."""

    class Now:
        t = dt.datetime(2026, 3, 2, 15, 0, 0)

        def advance(self, **delta):
            Now.t += dt.timedelta(**delta)

    monkeypatch.setattr(clock, "utcnow", lambda: Now.t)
    return Now()


def _session_reads(fn):
    with Statements() as seen:
        fn()
    return seen.reads_of('"user_session"')


def test_a_checked_session_is_reused_until_the_data_version_changes(fast_app, world, now):
    client = fast_app.test_client()
    login(client, world.a.owner)
    assert _session_reads(lambda: client.get("/provider/billing/")) != []  # read, kept
    assert _session_reads(lambda: client.get("/provider/billing/")) == []  # reused
    # Revoked by another process (SQL by hand): the trigger moves the data version on.
    database.execute_sql(q("UPDATE user_session SET revoked_at = ?"), [clock.utcnow()])
    r = client.get("/provider/billing/")
    assert r.status_code == 302 and r.headers["Location"].startswith("/login")
    login(client, world.a.therapist)
    assert client.get("/provider/").status_code == 200
    assert _session_reads(lambda: client.get("/provider/")) == []  # from the memo
    sql = q('UPDATE "user" SET active = ? WHERE id = ?')
    database.execute_sql(sql, [False, world.a.therapist.id])
    assert client.get("/provider/").status_code == 302  # the version changed: read again


def test_a_remembered_session_is_read_again_when_its_last_seen_is_due(fast_app, world, now):
    client = fast_app.test_client()
    login(client, world.a.owner)
    client.get("/provider/billing/")
    assert _session_reads(lambda: client.get("/provider/billing/")) == []
    now.advance(seconds=speedups.SESSION_REUSE_SECONDS)
    assert _session_reads(lambda: client.get("/provider/billing/")) != []  # and last_seen
    session = UserSession.get(UserSession.user == world.a.owner.id)
    assert session.last_seen_at == clock.utcnow()


def test_outside_an_app_the_plain_code_runs():
    assert speedups.enabled() is False
