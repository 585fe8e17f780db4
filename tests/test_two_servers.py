"""Two app servers, one database (docs/deploy.md, PostgreSQL): what one serves, the other
knows at once.

Two gunicorn instances serve the portal on two ports against the same database (the test's
PostgreSQL database under `make test-pg`, else one SQLite file), render cache on, as Caddy
balances them. One browser talks to both (cookies do not carry a port, so they go to both,
as through one proxy): a login on A is a login on B, a page B keeps rendered changes as
soon as A writes, failed logins on A count on B, a logout on A ends the session on B.
"""

import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import time
from html.parser import HTMLParser
from http.cookiejar import CookieJar
from urllib.error import HTTPError, URLError
from urllib.parse import urlencode
from urllib.request import HTTPCookieProcessor, HTTPRedirectHandler, Request, build_opener
from zoneinfo import ZoneInfo

import pytest

from portal.db import IS_POSTGRES, data_version, database, q
from portal.models import Appointment, AppointmentType, Client
from tests import factories
from tests.conftest import ICD10_INDEX, PASSWORD
from tests.forms import Forms

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GUNICORN = os.path.join(os.path.dirname(sys.executable), "gunicorn")
MAX_FAILURES = 3  # PORTAL_LOGIN_MAX_FAILURES_ACCOUNT of both servers


# --- a browser: one cookie jar, redirects not followed ---------------------------------------


class _NoRedirect(HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # the 30x comes back as it is


class Browser:
    def __init__(self):
        self.opener = build_opener(HTTPCookieProcessor(CookieJar()), _NoRedirect)

    def get(self, url):
        return self._open(Request(url))

    def post(self, url, data):
        return self._open(Request(url, data=urlencode(data).encode(), method="POST"))

    def _open(self, req):
        try:
            with self.opener.open(req, timeout=15) as resp:
                return resp.status, resp.headers, resp.read().decode()
        except HTTPError as err:
            with err:
                return err.code, err.headers, err.read().decode()


def page_form(html):
    """The fields of the page's own form (the one posting back to the page's URL)."""
    parser = Forms()
    parser.feed(html)
    own = [fields for attrs, fields in parser.forms if not attrs.get("action")]
    assert own, "no form posting back to the page"
    return dict(own[0])


# --- two gunicorn instances ----------------------------------------------------------------


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _server_env(app, instance):
    # This run's settings only (PORTAL_SPEEDUPS kept: the suite runs both ways).
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
    if "PORTAL_SPEEDUPS" in os.environ:
        env["PORTAL_SPEEDUPS"] = os.environ["PORTAL_SPEEDUPS"]
    env.update(
        PYTHONPATH=ROOT,  # this checkout's portal
        PORTAL_INSTANCE_PATH=instance,  # each server its own folder: nothing shared by file
        PORTAL_SECRET_KEY=app.secret_key,  # one key for cookies and CSRF tokens on both
        PORTAL_DEV="1",  # plain http on 127.0.0.1
        PORTAL_PAGE_CACHE="1",
        PORTAL_ICD10_INDEX=ICD10_INDEX,
        PORTAL_ARGON2_TIME_COST="1",
        PORTAL_ARGON2_MEMORY_COST="1024",
        PORTAL_ARGON2_PARALLELISM="1",
        PORTAL_LOGIN_MAX_FAILURES_ACCOUNT=str(MAX_FAILURES),
    )
    if IS_POSTGRES:
        env["PORTAL_DATABASE_URL"] = app.config["DATABASE_URL"]
    else:
        env["PORTAL_DATABASE"] = app.config["DATABASE"]
    return env


def _wait_ready(proc, url, log):
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"gunicorn exited ({proc.returncode}):\n{_tail(log)}")
        try:
            if Browser().get(url + "/healthz")[0] == 200:
                return
        except (URLError, ConnectionError):
            pass
        time.sleep(0.1)
    pytest.fail(f"gunicorn did not answer on {url}:\n{_tail(log)}")


def _tail(path):
    with open(path) as fh:
        return fh.read()[-4000:]


@pytest.fixture
def servers(app, tmp_path):
    """(A's URL, B's URL): two gunicorn instances, one worker each (so that B's second load
    of a page reaches the worker that rendered the first) with gunicorn.conf.py's threads."""
    procs = []
    urls, logs = [], []
    for name in ("a", "b"):
        port = _free_port()
        log = str(tmp_path / f"gunicorn-{name}.log")
        with open(log, "w") as out:
            procs.append(
                subprocess.Popen(
                    [GUNICORN, "-c", "gunicorn.conf.py", "-w", "1", "-b", f"127.0.0.1:{port}"]
                    + ["wsgi:app"],
                    cwd=ROOT,
                    env=_server_env(app, str(tmp_path / f"instance-{name}")),
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            )
        urls.append(f"http://127.0.0.1:{port}")
        logs.append(log)
    try:
        for proc, url, log in zip(procs, urls, logs, strict=True):
            _wait_ready(proc, url, log)
        yield tuple(urls)
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGINT)  # gunicorn's quick shutdown
        for proc in procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    for log in logs:  # no server error, whatever the requests were
        assert "Traceback" not in _tail(log), _tail(log)


@pytest.fixture
def today_visit(app):
    """A practice with an owner, a therapist and a visit today at noon (practice time) of
    Rowan Quill, written before the servers start."""
    with app.test_request_context():
        p = factories.practice()
        prov = factories.provider(p)
        owner = factories.user(p, "owner")
        therapist = factories.user(p, "therapist", provider=prov)
        client = factories.client(p, first_name="Rowan", last_name="Quill", therapist=prov)
        kind = AppointmentType.create(practice=p, name="Swedish massage", duration_minutes=60)
        tz = ZoneInfo(p.timezone)
        noon = dt.datetime.combine(dt.datetime.now(tz).date(), dt.time(12), tz)
        starts = noon.astimezone(dt.UTC).replace(tzinfo=None)
        ends = starts + dt.timedelta(minutes=60)
        Appointment.create(
            practice=p,
            client=client,
            provider=prov,
            appointment_type=kind,
            starts_at=starts,
            ends_at=ends,
            blocked_until=ends,
        )
    return owner, therapist, client


def _login(browser, base, email, password):
    _, _, html = browser.get(base + "/login")
    token = page_form(html)["csrf_token"]
    return browser.post(
        base + "/login", {"csrf_token": token, "email": email, "password": password}
    )


def _quietly_rename(client, name):
    """Change the client's name in the database and put the data version back, as if
    nothing changed: a page served from the render cache still shows the old name."""
    n = data_version()
    Client.update(preferred_name=name).where(Client.id == client.id).execute()
    database.execute_sql(q("UPDATE data_version SET n = ? WHERE id = 1"), (n,))


def _away_from_minute_end():
    """The render cache keys on the minute: begin a few-step check well inside one."""
    left = 60 - time.time() % 60
    if left < 5:
        time.sleep(left + 0.2)


def test_two_servers_share_sessions_the_render_cache_and_throttling(servers, today_visit):
    a, b = servers
    owner, therapist, client = today_visit
    browser = Browser()

    # Logged in through A: B knows the session (a row in the database, one secret key).
    status, headers, _ = _login(browser, a, owner.email, PASSWORD)
    assert status == 302 and headers["Location"].endswith("/provider/")
    _away_from_minute_end()
    for _ in range(2):  # the first render adds the CSRF secret to the session: not stored
        status, _, html = browser.get(b + "/provider/")
        assert status == 200 and "Rowan Quill" in html

    # B serves its home from the render cache: a change that leaves the data version as it
    # was goes unseen (proof that the cache is on, and what is at stake below).
    _quietly_rename(client, "Ghost")
    status, _, html = browser.get(b + "/provider/")
    assert status == 200 and "Rowan Quill" in html and "Ghost" not in html

    # A write through A (the edit form read from B: its CSRF token is good on A) is on B's
    # cached home at once.
    status, _, html = browser.get(b + f"/provider/clients/{client.id}/edit")
    assert status == 200
    form = page_form(html)
    form["preferred_name"] = "Marigold"
    status, headers, _ = browser.post(a + f"/provider/clients/{client.id}/edit", form)
    assert status == 302, "the edit through A was refused"
    status, _, html = browser.get(b + "/provider/")
    assert status == 200 and "Marigold Quill" in html and "Ghost" not in html

    # Failed logins through A count on B: the account is locked there too.
    stranger = Browser()
    for _ in range(MAX_FAILURES):
        status, _, _ = _login(stranger, a, therapist.email, "not the password at all")
        assert status == 401
    status, _, html = _login(stranger, b, therapist.email, PASSWORD)
    assert status == 429 and "Too many failed attempts" in html

    # A logout through A ends the session on B.
    _, _, html = browser.get(b + "/provider/")
    status, _, _ = browser.post(a + "/logout", {"csrf_token": _csrf_meta(html)})
    assert status == 302
    status, headers, _ = browser.get(b + "/provider/")
    assert status == 302 and "/login" in headers["Location"]


def _csrf_meta(html):
    """The CSRF token of a page's <meta name="csrf-token"> (what HTMX sends)."""

    class Meta(HTMLParser):
        token = None

        def handle_starttag(self, tag, attrs):
            a = dict(attrs)
            if tag == "meta" and a.get("name") == "csrf-token":
                Meta.token = a.get("content")

    Meta().feed(html)
    assert Meta.token, "no csrf-token meta tag"
    return Meta.token
