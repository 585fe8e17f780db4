"""The app factory and its configuration: defaults, instance/config.py, PORTAL_* variables,
a secret key generated into the instance folder, and `flask db ...` through the CLI."""

import os
import re
import stat

import pytest

from portal import ROOT, create_app
from portal.config import DEFAULTS
from portal.db import IS_POSTGRES, database


@pytest.fixture
def bare_env(monkeypatch, tmp_path):
    """No PORTAL_* variable from the outside leaks in; the instance folder is in tmp_path."""
    for key in list(os.environ):
        # The process's choice of PostgreSQL (made at import) stays: its apps need the URL.
        if key.startswith("PORTAL_") and not (IS_POSTGRES and key == "PORTAL_DATABASE_URL"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("PORTAL_INSTANCE_PATH", str(tmp_path / "inst"))
    yield tmp_path / "inst"
    if not database.is_closed():
        database.close()


def test_defaults_apply_without_any_configuration(bare_env):
    app = create_app()
    assert app.instance_path == str(bare_env)
    assert app.config["DATABASE"] == str(bare_env / "portal.sqlite3")
    assert app.config["STAFF_IDLE_MINUTES"] == 15
    assert app.config["SESSION_ABSOLUTE_HOURS"] == 12
    assert app.config["LOGIN_MAX_FAILURES_ACCOUNT"] == 10
    assert app.config["PASSWORD_MIN_LENGTH"] == 12
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    # Outside local development the session cookie only travels over TLS.
    assert app.config["DEV"] is False
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SQLITE_SYNCHRONOUS"] == "NORMAL"


def test_instance_config_file_overrides_defaults(bare_env):
    bare_env.mkdir()
    (bare_env / "config.py").write_text(
        "STAFF_IDLE_MINUTES = 7\nDATABASE = 'other.sqlite3'\nMAIL_FROM = 'desk@example.com'\n"
    )
    app = create_app()
    assert app.config["STAFF_IDLE_MINUTES"] == 7
    assert app.config["DATABASE"] == str(bare_env / "other.sqlite3")
    assert app.config["MAIL_FROM"] == "desk@example.com"


def test_environment_overrides_instance_config_and_is_coerced(bare_env, monkeypatch):
    bare_env.mkdir()
    (bare_env / "config.py").write_text("STAFF_IDLE_MINUTES = 7\n")
    monkeypatch.setenv("PORTAL_STAFF_IDLE_MINUTES", "20")
    monkeypatch.setenv("PORTAL_DEV", "yes")
    monkeypatch.setenv("PORTAL_MAIL_USE_TLS", "0")
    monkeypatch.setenv("PORTAL_BASE_URL", "https://portal.example.com")
    monkeypatch.setenv("PORTAL_SECRET_KEY", "from-the-environment-" + "x" * 40)
    app = create_app()
    assert app.config["STAFF_IDLE_MINUTES"] == 20
    assert app.config["DEV"] is True
    assert app.config["SESSION_COOKIE_SECURE"] is False  # local development only
    assert app.config["MAIL_USE_TLS"] is False
    assert app.config["BASE_URL"] == "https://portal.example.com"
    assert app.config["SECRET_KEY"].startswith("from-the-environment-")
    assert not (bare_env / "secret_key").exists()


def test_secret_key_is_generated_once_into_the_instance_folder(bare_env):
    app1 = create_app()
    path = bare_env / "secret_key"
    assert path.exists()
    key = path.read_text().strip()
    assert len(key) >= 64 and app1.secret_key == key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    app2 = create_app()
    assert app2.secret_key == key  # reused, so sessions survive a restart


def test_each_install_gets_its_own_secret_key(tmp_path, monkeypatch, bare_env):
    a = create_app()
    monkeypatch.setenv("PORTAL_INSTANCE_PATH", str(tmp_path / "other"))
    b = create_app()
    assert a.secret_key != b.secret_key


def test_no_secret_key_in_the_code():
    pattern = re.compile(r"SECRET_KEY\"?\]?\s*[:=]\s*[\"'][^\"']+[\"']")
    for folder in ("portal",):
        for dirpath, _dirs, files in os.walk(os.path.join(ROOT, folder)):
            for name in files:
                if name.endswith(".py"):
                    text = open(os.path.join(dirpath, name), encoding="utf-8").read()
                    assert not pattern.search(text), f"a literal secret key in {name}"
    for name in ("wsgi.py", "gunicorn.conf.py"):
        assert "SECRET_KEY" not in open(os.path.join(ROOT, name), encoding="utf-8").read()
    assert "SECRET_KEY" not in DEFAULTS


@pytest.mark.skipif(IS_POSTGRES, reason="SQLite's pragmas")
def test_database_pragmas_on_every_connection(app):
    con = database.connection()
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert con.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert con.execute("PRAGMA busy_timeout").fetchone()[0] == 5000
    assert con.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL


def test_request_opens_and_closes_its_connection(app, client):
    database.close()
    assert client.get("/healthz").get_json() == {"ok": True, "warm": False}
    assert database.is_closed()


def test_cli_db_status_upgrade_and_down(app):
    runner = app.test_cli_runner()
    names = sorted(
        f[:-3]
        for f in os.listdir(os.path.join(ROOT, "migrations"))
        if re.match(r"\d{4}_.*\.py$", f)
    )
    result = runner.invoke(args=["db", "status"])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert [line.split()[0] for line in lines] == names
    assert all(re.search(r"applied \d{4}-\d{2}-\d{2} \d{2}:\d{2}$", line) for line in lines)

    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert "Already up to date." in result.output

    result = runner.invoke(args=["db", "down"])
    assert result.exit_code == 0, result.output
    assert f"Reverted: {names[-1]}" in result.output
    status = runner.invoke(args=["db", "status"]).output.strip().splitlines()
    assert status[-1].split() == [names[-1], "pending"]

    result = runner.invoke(args=["db", "down", "--all"])
    assert result.exit_code == 0, result.output
    status = runner.invoke(args=["db", "status"]).output
    assert "applied" not in status and status.count("pending") == len(names)
    assert runner.invoke(args=["db", "down", "--all"]).output.strip() == "Nothing to revert."

    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Applied: " + ", ".join(names))
    status = runner.invoke(args=["db", "status"]).output
    assert status.count("applied") == len(names)


def test_generic_error_pages(app, client):
    @app.route("/boom-test")
    def boom():
        raise RuntimeError("secret detail")

    r = client.get("/no/such/page")
    assert r.status_code == 404
    body = r.get_data(as_text=True)
    assert "Not found" in body and "Traceback" not in body

    app.config["PROPAGATE_EXCEPTIONS"] = False
    r = client.get("/boom-test")
    assert r.status_code == 500
    body = r.get_data(as_text=True)
    assert "Something went wrong" in body and "secret detail" not in body


def test_cli_create_owner_sends_a_one_time_link(app):
    from portal.models import OutboxMessage, Practice, User

    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["create-owner", "--practice", "Lakeside Massage", "--email", "Boss@Example.com"]
    )
    assert result.exit_code == 0, result.output
    assert "Choose the password at: http://localhost/account/set-password/" in result.output
    user = User.get(User.email == "boss@example.com")
    assert user.role == "owner" and user.password_hash is None
    assert user.practice_id == Practice.get(Practice.name == "Lakeside Massage").id
    assert OutboxMessage.get(OutboxMessage.to_addr == "boss@example.com").kind == "invite"
    again = runner.invoke(
        args=["create-owner", "--practice", "Lakeside Massage", "--email", "boss@example.com"]
    )
    assert again.exit_code != 0 and "exists already" in again.output
    assert Practice.select().where(Practice.name == "Lakeside Massage").count() == 1


def test_workers_starting_together_agree_on_one_secret_key(tmp_path):
    import threading

    from portal.config import _instance_secret

    keys, errors = [], []
    barrier = threading.Barrier(12)

    def start():
        try:
            barrier.wait()
            keys.append(_instance_secret(str(tmp_path)))
        except Exception as exc:  # noqa: BLE001 - any failure is the finding
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(keys) == 12 and len(set(keys)) == 1
    assert os.listdir(tmp_path) == ["secret_key"]
