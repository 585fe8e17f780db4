"""The render cache of the provider home and the day/week view (portal/pagecache.py), and
the data version its entries are keyed by (migration 0007's triggers)."""

import datetime as dt
import logging
import re

import pytest

from portal import clock, pagecache
from portal.db import data_version, database, q
from portal.models import Appointment, AuditLog, Client, UserSession
from portal.services import scheduling as svc
from tests.conftest import form_version
from tests.conftest import login as _login
from tests.scheduling import conftest as scheduling_fixtures
from tests.scheduling.conftest import local_utc

# the scheduling fixtures: a fixed clock (Monday 1 June 2026, 08:00 in Los Angeles), an
# appointment type and working hours for both practices of the world
now = scheduling_fixtures.now
sched = scheduling_fixtures.sched

TODAY = dt.date(2026, 6, 1)  # the scheduling fixtures' clock: Monday 1 June 2026, 08:00 LA
DAY_URL = f"/provider/schedule/?date={TODAY.isoformat()}&provider=all"
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def login(client, user):
    """Log in and open the home page, as after a real login (the redirect): login starts a
    fresh cookie session, and that first page stores the session's CSRF secret, so it
    renders without the cache (see test_no_csrf_secret_yet_renders_and_stores_nothing)."""
    _login(client, user)
    assert client.get("/provider/").status_code in (200, 404)


def _n():
    n = data_version()
    assert n is not None
    return n


def _stats(app):
    return pagecache.stats(app)


def _book(app, side, hour, client=None, provider=None):
    with app.test_request_context():
        return svc.book(
            practice=side.practice,
            client=client or side.c1,
            appt_type=side.t60,
            provider=provider or side.provider,
            starts_at=local_utc(TODAY, hour),
        )


class _Queries(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.count = 0

    def emit(self, record):
        if record.name == "peewee":
            self.count += 1


def _count_queries(fn):
    logger = logging.getLogger("peewee")
    handler, level = _Queries(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        result = fn()
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    return result, handler.count


# --- the data version ----------------------------------------------------------------------


def test_every_table_is_excluded_or_bumps_the_data_version(app):
    """Guards later migrations: a new table needs pagecache.add_change_triggers (or an
    entry in EXCLUDED_TABLES with its reason)."""
    tables, triggers = pagecache.tables_and_triggers(database)
    assert "data_version" in tables
    assert pagecache.tables_without_triggers(database) == []
    for table in pagecache.EXCLUDED_TABLES:
        assert table in tables, f"excluded table {table} does not exist (a typo?)"
    for table in tables - pagecache.EXCLUDED_TABLES:
        if not table.startswith("sqlite_"):
            names = set(pagecache.trigger_names(table))
            assert names <= {name for t, name in triggers if t == table}, table
    assert database.execute_sql("SELECT id, n FROM data_version").fetchall() == [(1, _n())]


def test_a_table_without_triggers_is_found_and_switches_the_cache_off(app, client, world):
    database.execute_sql("CREATE TABLE scratch_pad (id INTEGER PRIMARY KEY)")
    assert pagecache.tables_without_triggers(database) == ["scratch_pad"]
    login(client, world.a.therapist)
    first = client.get("/provider/")
    second = client.get("/provider/")
    assert first.status_code == second.status_code == 200
    assert _stats(app)["hits"] == _stats(app)["stores"] == 0
    pagecache.add_change_triggers(database, "scratch_pad")
    assert pagecache.tables_without_triggers(database) == []
    n = _n()
    database.execute_sql("INSERT INTO scratch_pad (id) VALUES (1)")
    assert _n() == n + 1
    pagecache.drop_change_triggers(database, "scratch_pad")
    assert pagecache.tables_without_triggers(database) == ["scratch_pad"]


def test_writes_to_page_data_bump_the_version(app, sched, now):
    a = sched.a
    n = _n()
    appt = _book(app, a, 10)
    assert _n() > n
    n = _n()
    Client.update(first_name="Renamed").where(Client.id == a.c1.id).execute()
    assert _n() == n + 1
    n = _n()
    Appointment.update(notes="quiet room").where(Appointment.id == appt.id).execute()
    assert _n() == n + 1
    n = _n()
    database.execute_sql(q("DELETE FROM appointment WHERE id = ?"), [appt.id])
    assert _n() == n + 1
    n = _n()
    Client.create(practice=a.practice, first_name="New", last_name="Person")
    assert _n() == n + 1


def test_hot_path_writes_do_not_bump_the_version(app, client, world):
    login(client, world.a.therapist)  # writes user_session, login_attempt, audit_log, user
    n = _n()
    AuditLog.create(at=clock.utcnow(), action="test.row", practice=world.a.practice.id)
    UserSession.update(last_seen_at=clock.utcnow()).execute()
    database.execute_sql("DELETE FROM login_attempt")
    assert _n() == n


# --- the cache -------------------------------------------------------------------------------


def test_second_get_of_home_is_a_hit_and_identical(app, client, world):
    login(client, world.a.therapist)
    first, q_miss = _count_queries(lambda: client.get("/provider/"))
    before = _stats(app)
    second, q_hit = _count_queries(lambda: client.get("/provider/"))
    after = _stats(app)
    assert first.status_code == second.status_code == 200
    assert second.get_data() == first.get_data()
    assert after["hits"] == before["hits"] + 1
    assert q_hit <= 3 < q_miss  # the session, the data version (and last_seen at most)
    # after_request ran on the hit too; the hit left the cookie session alone
    assert second.headers["Cache-Control"] == "no-store"
    assert "frame-ancestors 'none'" in second.headers["Content-Security-Policy"]
    assert second.headers["Content-Type"] == first.headers["Content-Type"]
    assert "HX-Request" in second.headers["Vary"]
    assert "Set-Cookie" not in second.headers


def test_a_change_through_the_routes_shows_at_once(app, client, sched, now):
    a = sched.a
    appt = _book(app, a, 10)
    login(client, a.frontdesk)
    body = client.get(DAY_URL).get_data(as_text=True)
    assert a.c1.display_name in body and "Checked in" not in body
    assert client.get(DAY_URL).get_data(as_text=True) == body  # a hit
    assert _stats(app)["hits"] == 1
    now["now"] = appt.starts_at - dt.timedelta(minutes=5)  # check-in opens on the visit's day
    login(client, a.frontdesk)
    assert client.post(f"/provider/appointments/{appt.id}/check-in").status_code == 302
    body = client.get(DAY_URL).get_data(as_text=True)
    assert "Checked in" in body
    url = f"/provider/clients/{a.c1.id}/edit"
    data = {"first_name": "Zebediah", "last_name": a.c1.last_name, "sex": "", "therapist": 0}
    r = client.post(url, data=dict(data, version=form_version(client, url)))
    assert r.status_code == 302
    client.get(f"/provider/clients/{a.c1.id}")  # shows the "Saved." flash
    body = client.get(DAY_URL).get_data(as_text=True)
    assert "Zebediah" in body
    # the home panel too
    assert "Zebediah" in client.get("/provider/").get_data(as_text=True)


def test_another_user_or_session_gets_its_own_page(app, sched, now):
    a = sched.a
    _book(app, a, 10)
    desk, therapist, desk2 = app.test_client(), app.test_client(), app.test_client()
    login(desk, a.frontdesk)
    login(therapist, a.therapist)
    login(desk2, a.frontdesk)  # the same user, another session
    r1 = desk.get("/provider/")
    assert desk.get("/provider/").get_data() == r1.get_data()
    hits = _stats(app)["hits"]
    r2 = therapist.get("/provider/")
    r3 = desk2.get("/provider/")
    assert _stats(app)["hits"] == hits  # both rendered
    assert a.therapist.name in r2.get_data(as_text=True)
    assert a.therapist.name not in r1.get_data(as_text=True)
    token1 = CSRF_META.search(r1.get_data(as_text=True)).group(1)
    token3 = CSRF_META.search(r3.get_data(as_text=True)).group(1)
    assert token1 != token3
    # each session's cached page carries a token its own session accepts
    assert desk2.get("/provider/").get_data() == r3.get_data()
    r = desk2.post("/logout", data={"csrf_token": token3}, csrf=False)
    assert r.status_code == 302


def test_a_flash_bypasses_the_cache(app, client, world):
    login(client, world.a.owner)
    client.get("/provider/")
    client.get("/provider/")
    assert _stats(app)["hits"] == 1
    with client.session_transaction() as sess:
        sess["_flashes"] = [("success", "Practice saved.")]
    before = _stats(app)
    r = client.get("/provider/")
    assert "Practice saved." in r.get_data(as_text=True)
    after = _stats(app)
    assert after["bypasses"] == before["bypasses"] + 1 and after["hits"] == before["hits"]
    r = client.get("/provider/")  # the flash was shown once, the cached page is back
    assert "Practice saved." not in r.get_data(as_text=True)
    assert _stats(app)["hits"] == after["hits"] + 1


def test_no_csrf_secret_yet_renders_and_stores_nothing(app, client, world):
    login(client, world.a.owner)
    with client.session_transaction() as sess:
        sess.pop("csrf_token", None)
    r = client.get("/provider/")
    assert r.status_code == 200 and "Set-Cookie" in r.headers  # the new secret
    assert _stats(app)["stores"] == 0
    token = CSRF_META.search(r.get_data(as_text=True)).group(1)
    client.get("/provider/")
    r = client.get("/provider/")
    assert _stats(app)["hits"] == 1
    assert CSRF_META.search(r.get_data(as_text=True)).group(1) == token  # stored after
    assert "Set-Cookie" not in r.headers


def test_the_next_minute_renders_again(app, client, world, monkeypatch):
    t = {"now": dt.datetime(2026, 6, 1, 15, 0, 5)}
    monkeypatch.setattr(clock, "utcnow", lambda: t["now"])
    login(client, world.a.therapist)
    client.get("/provider/")
    t["now"] = dt.datetime(2026, 6, 1, 15, 0, 50)
    client.get("/provider/")
    assert _stats(app)["hits"] == 1
    t["now"] = dt.datetime(2026, 6, 1, 15, 1, 0)
    client.get("/provider/")
    assert _stats(app)["hits"] == 1 and _stats(app)["stores"] == 2


def test_the_day_changes_at_local_midnight(app, client, sched, now):
    """The day view without a date shows "today" in the practice's zone: a cached page
    of yesterday is not served after local midnight."""
    a = sched.a
    login(client, a.frontdesk)
    now["now"] = dt.datetime(2026, 6, 2, 6, 59)  # 23:59 on 1 June in Los Angeles
    login(client, a.frontdesk)
    assert "Monday 1 June 2026" in client.get("/provider/schedule/").get_data(as_text=True)
    now["now"] = dt.datetime(2026, 6, 2, 6, 59, 30)
    assert "Monday 1 June 2026" in client.get("/provider/schedule/").get_data(as_text=True)
    assert _stats(app)["hits"] == 1
    now["now"] = dt.datetime(2026, 6, 2, 7, 0)
    assert "Tuesday 2 June 2026" in client.get("/provider/schedule/").get_data(as_text=True)


def test_logged_out_and_client_users_never_see_a_cached_page(app, client, world):
    staff = app.test_client()
    login(staff, world.a.owner)
    staff.get("/provider/")
    staff.get("/provider/")
    hits = _stats(app)["hits"]
    r = client.get("/provider/")
    assert r.status_code == 302 and "/login" in r.headers["Location"]
    login(client, world.a.cu1)
    assert client.get("/provider/").status_code == 404
    assert client.get(DAY_URL).status_code == 404
    assert _stats(app)["hits"] == hits


def test_after_logout_the_old_cookie_is_sent_to_login(app, client, world):
    login(client, world.a.therapist)
    client.get("/provider/")
    assert client.get("/provider/").status_code == 200
    cookie = client.get_cookie("portal_session").value
    client.post("/logout")
    client.set_cookie("portal_session", cookie)
    r = client.get("/provider/")
    assert r.status_code == 302 and "/login" in r.headers["Location"]


def test_htmx_block_and_full_page_are_cached_apart(app, client, sched, now):
    a = sched.a
    _book(app, a, 10)
    login(client, a.frontdesk)
    hx = {"HX-Request": "true", "HX-Target": "schedule-body"}
    full = client.get(DAY_URL).get_data(as_text=True)
    frag = client.get(DAY_URL, headers=hx).get_data(as_text=True)
    assert "<html" in full and "<html" not in frag and "schedule-toolbar" in frag
    assert _stats(app)["hits"] == 0
    assert client.get(DAY_URL).get_data(as_text=True) == full
    assert client.get(DAY_URL, headers=hx).get_data(as_text=True) == frag
    restore = client.get(DAY_URL, headers={**hx, "HX-History-Restore-Request": "true"})
    assert "<html" in restore.get_data(as_text=True)  # a history restore wants the page
    assert _stats(app)["hits"] == 2


def test_the_view_audit_runs_on_hits_too(app, client, sched, now):
    a = sched.a
    _book(app, a, 10)
    login(client, a.therapist)
    client.get(DAY_URL)
    client.get("/provider/")  # the home panel lists today's appointment
    details = {r.detail for r in AuditLog.select().where(AuditLog.action == "schedule.view")}
    assert details == {f"day view {TODAY.isoformat()} all", f"home panel {TODAY.isoformat()}"}
    before = _stats(app)
    client.get(DAY_URL)
    client.get("/provider/")
    after = _stats(app)
    assert after["hits"] == before["hits"] + 2
    assert after["replays"] == before["replays"] + 2  # one audit call per hit


def test_the_week_view_is_cached_and_follows_changes(app, client, sched, now):
    a = sched.a
    login(client, a.owner)
    url = f"/provider/schedule/?date={TODAY.isoformat()}&view=week&provider=all"
    assert a.c2.display_name not in client.get(url).get_data(as_text=True)
    client.get(url)
    assert _stats(app)["hits"] == 1
    _book(app, a, 13, client=a.c2, provider=a.provider2)
    assert a.c2.display_name in client.get(url).get_data(as_text=True)


def test_switched_off(app, client, world):
    app.config["PAGE_CACHE"] = False
    login(client, world.a.therapist)
    client.get("/provider/")
    client.get("/provider/")
    assert _stats(app)["hits"] == _stats(app)["stores"] == 0


def test_lru_bounds_entries_and_bytes():
    cache = pagecache.PageCache(max_entries=2, max_bytes=10_000)

    def entry(size):
        return pagecache._Entry(b"x" * size, [("Content-Type", "text/html")], ())

    cache.put("a", entry(100))
    cache.put("b", entry(100))
    assert cache.get("a") is not None  # a is now the most recent
    cache.put("c", entry(100))
    assert cache.get("b") is None and cache.get("a") and cache.get("c")
    cache.put("big", entry(9_000))  # over the byte cap with the others: they go
    assert len(cache) == 1 and cache.get("big") and cache.bytes <= 10_000
    cache.put("huge", entry(20_000))  # larger than the whole cache: never stored
    assert cache.get("huge") is None and cache.get("big")
    assert cache.stats["evictions"] == 3


@pytest.mark.parametrize("config", [{"PAGE_CACHE_ENTRIES": 1}])
def test_entry_cap_from_config(tmp_path, config):
    from tests.conftest import make_app

    app = make_app(tmp_path, **config)
    assert pagecache.cache_for(app).max_entries == 1
    assert pagecache.cache_for(app).max_bytes == 32 * 1024 * 1024
