"""Shared fixtures: a real SQLite file per test app, a CSRF-aware test client, factories.

- `app`: a fresh app on a migrated database file in tmp_path (CSRF on, as in production).
- `client`: its test client; `client.post()` adds a valid CSRF token unless `csrf=False`.
- `login(client, user_or_email, password=PASSWORD)`.
- factories in tests/factories.py make practices, providers, users and clients.
- `live_server`: the app served by a real WSGI server on 127.0.0.1 (for the browser).
- Browser tests use Debian's Chromium through pytest-playwright (see tests/browser/).
"""

import hashlib
import os
import re
import tempfile
import threading

import pytest
from flask.testing import FlaskClient
from itsdangerous import URLSafeTimedSerializer
from werkzeug.serving import make_server

import portal
from portal import create_app
from portal.db import IS_POSTGRES, database, upgrade
from portal.services import icd10
from tests import factories, pgtest

PASSWORD = factories.PASSWORD
ARTIFACTS = os.path.join(os.path.dirname(os.path.dirname(__file__)), "test-artifacts")


class CsrfClient(FlaskClient):
    """A test client that sends a valid CSRF token with every POST (unless csrf=False)."""

    def csrf_token(self):
        with self.session_transaction() as sess:
            if "csrf_token" not in sess:
                sess["csrf_token"] = hashlib.sha1(os.urandom(64)).hexdigest()
            raw = sess["csrf_token"]
        return URLSafeTimedSerializer(self.application.secret_key, salt="wtf-csrf-token").dumps(raw)

    def post(self, *args, csrf=True, **kwargs):
        if csrf:
            data = kwargs.get("data")
            if data is None:
                data = {}
            if isinstance(data, dict):
                data = dict(data)
                data.setdefault("csrf_token", self.csrf_token())
                kwargs["data"] = data
            headers = dict(kwargs.pop("headers", {}) or {})
            headers.setdefault("X-CSRFToken", self.csrf_token())
            kwargs["headers"] = headers
        return super().post(*args, **kwargs)


# The ICD-10-CM index file is built once per machine and code-set version (~10 s), not per
# test: every test app reads the same file (read-only).
ICD10_INDEX = os.path.join(
    tempfile.gettempdir(),
    "portal-tests",
    f"icd10-{icd10.library_version()}-{icd10.FORMAT}.sqlite3",
)
icd10.set_path(ICD10_INDEX)  # for tests of the service without an app


def make_app(tmp_path, **overrides):
    """A test app; its SPEEDUPS setting comes from PORTAL_SPEEDUPS (on unless set to 0), so
    the suite runs both ways: `PORTAL_SPEEDUPS=0 pytest`."""
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret-" + os.urandom(8).hex(),
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "DATABASE": str(tmp_path / "portal.sqlite3"),
        "DEV": True,
        "ARGON2_TIME_COST": 1,
        "ARGON2_MEMORY_COST": 1024,
        "ARGON2_PARALLELISM": 1,
        "BASE_URL": "http://localhost",
        "SERVER_NAME": None,
        "ICD10_INDEX": ICD10_INDEX,
        "TASKS_IMMEDIATE": True,  # tasks run in-process; tests/test_tasks.py runs a consumer
    }
    config.update(overrides)
    if IS_POSTGRES and not config.get("DATABASE_URL"):
        # make test-pg: a migrated database of its own, copied from a template
        config["DATABASE_URL"] = pgtest.fresh_url(lambda url: _migrate(config, url))
    app = create_app(config)
    app.test_client_class = CsrfClient
    with app.app_context():
        upgrade()
    return app


def same_database(app):
    """make_app() settings for a second app on `app`'s database."""
    if IS_POSTGRES:
        return {"DATABASE_URL": app.config["DATABASE_URL"]}
    return {"DATABASE": app.config["DATABASE"]}


def database_env(app):
    """Environment variables for a process (flask, the consumer, gunicorn) on `app`'s
    database."""
    if IS_POSTGRES:
        return {"PORTAL_DATABASE_URL": app.config["DATABASE_URL"]}
    return {"PORTAL_DATABASE": app.config["DATABASE"]}


def _migrate(config, url):
    app = create_app({**config, "DATABASE_URL": url})
    with app.app_context():
        upgrade()
    database.close_all()


def pytest_sessionfinish(session, exitstatus):
    if IS_POSTGRES:
        if not database.deferred:
            database.close_all()
        pgtest.drop_all_of_this_process()


def pytest_report_header(config):
    on = os.environ.get("PORTAL_SPEEDUPS", "1").strip().lower() in {"1", "true", "yes", "on"}
    where = os.path.dirname(os.path.dirname(portal.__file__))
    db = "PostgreSQL (PORTAL_DATABASE_URL)" if IS_POSTGRES else "SQLite"
    return f"portal from {where}; speed-ups {'on' if on else 'off'} (PORTAL_SPEEDUPS); {db}"


@pytest.fixture
def app(tmp_path):
    app = make_app(tmp_path)
    # Tests use the ORM directly too: keep one connection open for the test body.
    database.connect(reuse_if_open=True)
    yield app
    if not database.is_closed():
        database.close()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def ctx(app):
    """An app + request context for calling services directly."""
    with app.test_request_context():
        yield app


def login(client, user_or_email, password=PASSWORD, follow=False):
    email = user_or_email if isinstance(user_or_email, str) else user_or_email.email
    return client.post(
        "/login", data={"email": email, "password": password}, follow_redirects=follow
    )


def form_version(client, url):
    """The hidden `version` of the edit form at `url`: a save says what it was opened on."""
    html = client.get(url).get_data(as_text=True)
    return re.search(r'name="version" type="hidden" value="([^"]*)"', html).group(1)


@pytest.fixture
def world(app):
    """Two practices, each with an owner, a therapist, front desk, and two clients with users."""
    with app.test_request_context():
        return factories.world()


@pytest.fixture
def live_server(app):
    """Serve `app` on 127.0.0.1 with a real threaded WSGI server; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    port = server.server_port
    app.config["BASE_URL"] = f"http://127.0.0.1:{port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()
    thread.join(timeout=5)


# --- Playwright with Debian's Chromium ------------------------------------------------

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser_type_launch_args():
    return {"executable_path": "/usr/bin/chromium", "args": CHROMIUM_ARGS, "headless": True}


@pytest.fixture(scope="session")
def browser_context_args():
    return {"viewport": {"width": 1024, "height": 768}}


@pytest.fixture
def screenshot(request):
    """screenshot(page, name): save a PNG under test-artifacts/ and return its path."""
    os.makedirs(ARTIFACTS, exist_ok=True)

    def take(page, name):
        path = os.path.join(ARTIFACTS, f"{name}.png")
        page.screenshot(path=path, full_page=True)
        assert os.path.getsize(path) > 1000
        return path

    return take


# --- the URL-map guards (tests/test_access_matrix.py, tests/test_no_server_errors.py) ------


@pytest.fixture(scope="session")
def url_world(tmp_path_factory):
    """The demo practice and a second practice in one database, built once per session
    (tests/urlmap_world.py); each guard opens its own copy."""
    from tests.urlmap_world import build_world  # it imports this module (make_app)

    return build_world(str(tmp_path_factory.mktemp("url_world")))
