"""Live updates by polling: 204 while nothing changed (no query beyond auth's), the badge
and the names of what changed when something did, the open thread reloading itself, and
polls that never keep an idle session alive."""

import datetime as dt
import json
import logging
import re

import pytest

from portal import clock
from portal.models import UserSession
from portal.models.messaging import MessageThread
from portal.services.messaging import threads as msg
from tests.conftest import login
from tests.messaging import helpers as h

HX = {"HX-Request": "true", "X-Portal-Background": "1"}


def poll_url(html):
    m = re.search(r'id="messages-live"[^>]*hx-get="([^"]+)"', html)
    assert m, html[:2000]
    return m.group(1).replace("&amp;", "&")


class Queries(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.sql = []

    def emit(self, record):
        if record.name == "peewee":
            self.sql.append(record.getMessage())


@pytest.fixture
def sql():
    logger = logging.getLogger("peewee")
    handler = Queries()
    old = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(old)


def test_the_inbox_badge_changes_without_a_reload(app, client, world, sql):
    login(client, world.a.therapist)
    page = client.get("/provider/messages/").get_data(as_text=True)
    url = poll_url(page)
    assert re.search(r'id="messages-badge" class="badge unread-badge hidden"', page)
    # Nothing changed: 204, and no SQL beyond the session check's data version.
    client.get(url, headers=HX)
    sql.sql.clear()
    r = client.get(url, headers=HX)
    assert r.status_code == 204 and r.data == b""
    assert all("data_version" in q or "user_session" in q for q in sql.sql), sql.sql
    assert len(sql.sql) <= 2
    with app.test_request_context():
        t = h.thread(world.a, body="New from the phone")
    r = client.get(url, headers=HX)
    assert r.status_code == 200
    body = r.get_data(as_text=True)
    assert re.search(
        r'<span id="messages-badge" class="badge unread-badge" [^>]*hx-swap-oob="true">1<', body
    )
    assert "New from the phone" not in body
    events = json.loads(r.headers["HX-Trigger"])
    assert set(events) == {"messages-changed", "unread-changed"}
    new_url = poll_url(body)
    assert new_url != url and client.get(new_url, headers=HX).status_code == 204
    # The inbox list reloads itself on "messages-changed": it is its own block.
    r = client.get("/provider/messages/", headers={**HX, "HX-Target": "thread-list"})
    frag = r.get_data(as_text=True)
    assert "<html" not in frag and frag.lstrip().startswith('<div id="thread-list"')
    assert f"/provider/messages/{t.id}" in frag


def test_an_open_thread_shows_the_reply_without_a_reload(app, client, world):
    with app.test_request_context():
        t = h.thread(world.a, body="Question")
    login(client, world.a.cu1)
    page = client.get(f"/portal/messages/{t.id}").get_data(as_text=True)
    url = poll_url(page)
    assert f"t={t.id}" in url
    assert client.get(url, headers=HX).status_code == 204
    with app.test_request_context():
        msg.send_message(t, h.user(world.a.therapist), "Answer from the therapist")
    r = client.get(url, headers=HX)
    assert set(json.loads(r.headers["HX-Trigger"])) == {
        "messages-changed",
        "thread-changed",
        "unread-changed",
    }
    assert ">1<" in r.get_data(as_text=True)  # the badge
    # The message list reloads itself (its block only) and marks the thread read.
    r = client.get(f"/portal/messages/{t.id}", headers={**HX, "HX-Target": "message-list"})
    frag = r.get_data(as_text=True)
    assert "<html" not in frag and "Answer from the therapist" in frag
    assert msg.read_upto(t.id, world.a.cu1.id) == MessageThread.get_by_id(t.id).last_message_id
    r = client.get(url, headers=HX)  # the read marker changed the data version
    assert r.status_code == 200 and ">0<" in r.get_data(as_text=True)


def test_the_poll_url_is_for_htmx_only(client, world):
    login(client, world.a.cu1)
    r = client.get("/portal/messages/live?v=1&s=0.0.0")
    assert r.status_code == 302 and r.headers["Location"] == "/portal/messages/"
    r = client.get("/portal/messages/summary")
    assert r.status_code == 302
    r = client.get("/portal/messages/live?v=x&s=garbage", headers=HX)
    assert r.status_code == 200 and "messages-live" in r.get_data(as_text=True)


def test_home_pages_say_a_message_is_waiting_never_what_it_says(app, client, world):
    with app.test_request_context():
        t = h.thread(world.a, body="Secret words about my knee", subject="Knee")
        msg.send_message(t, h.user(world.a.therapist), "Reply about the knee")
    login(client, world.a.cu1)
    page = client.get("/portal/").get_data(as_text=True)
    assert "A message from" in page and "is waiting for you" in page
    assert 'href="/portal/messages/"' in page
    assert "knee" not in page.lower()
    r = client.get("/portal/messages/summary", headers=HX)
    assert "is waiting for you" in r.get_data(as_text=True)
    client.get(f"/portal/messages/{t.id}")
    assert "is waiting for you" not in client.get("/portal/").get_data(as_text=True)
    client.post("/logout")
    login(client, world.a.frontdesk)
    page = client.get("/provider/").get_data(as_text=True)
    assert "1 conversation with an unread message." in page
    assert "/provider/messages/?unread=1" in page and "knee" not in page.lower()
    r = client.get("/provider/messages/summary", headers=HX)
    assert r.get_data(as_text=True).lstrip().startswith('<section class="card" id="messages-home"')


@pytest.fixture
def now(monkeypatch):
    state = {"t": dt.datetime(2026, 6, 1, 15, 0)}
    monkeypatch.setattr(clock, "utcnow", lambda: state["t"])
    return state


def test_polls_never_keep_an_idle_session_alive(app, client, world, now):
    login(client, world.a.frontdesk)
    url = poll_url(client.get("/provider/messages/").get_data(as_text=True))
    session = UserSession.get(UserSession.user == world.a.frontdesk.id)
    seen = session.last_seen_at
    for _ in range(14):
        now["t"] += dt.timedelta(minutes=1)
        assert client.get(url, headers=HX).status_code in (200, 204)
    assert UserSession.get_by_id(session.id).last_seen_at == seen
    now["t"] += dt.timedelta(minutes=1, seconds=1)  # 15 minutes idle: the staff limit
    r = client.get(url, headers=HX)
    assert r.status_code == 401 and r.headers["HX-Redirect"].startswith("/login")
    assert UserSession.get_by_id(session.id).revoked_reason == "idle"


def test_a_page_the_user_opens_still_counts_as_activity(app, client, world, now):
    login(client, world.a.frontdesk)
    for _ in range(20):
        now["t"] += dt.timedelta(minutes=1)
        assert client.get("/provider/messages/").status_code == 200


def test_a_reloaded_thread_sets_the_badge_at_once(app, client, world):
    with app.test_request_context():
        t = h.thread(world.a)
    login(client, world.a.therapist)
    page = client.get("/provider/messages/").get_data(as_text=True)
    assert re.search(r'id="messages-badge" class="badge unread-badge"[^>]*>1<', page)
    r = client.get(f"/provider/messages/{t.id}", headers={**HX, "HX-Target": "message-list"})
    frag = r.get_data(as_text=True)
    assert re.search(
        r'id="messages-badge" class="badge unread-badge hidden"[^>]*hx-swap-oob="true">0<', frag
    )
    # A full page that marks the thread read shows the new count in its own top bar.
    with app.test_request_context():
        from portal.services.messaging import threads as m

        m.send_message(t, h.user(world.a.cu1), "again")
    page = client.get(f"/provider/messages/{t.id}").get_data(as_text=True)
    assert re.search(r'id="messages-badge" class="badge unread-badge hidden"[^>]*>0<', page)
