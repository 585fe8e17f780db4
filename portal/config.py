"""Configuration: defaults, then instance/config.py, then PORTAL_* environment variables."""

import os
import secrets

DEFAULTS = {
    "DATABASE": "portal.sqlite3",  # relative paths live in the instance folder
    # postgresql://user@host/db runs on PostgreSQL instead (docs/deploy.md); read from
    # PORTAL_DATABASE_URL when the process starts (portal/db.py).
    "DATABASE_URL": "",
    "SQLITE_SYNCHRONOUS": "NORMAL",  # WAL + NORMAL: durable across app crashes, fast commits
    "SQLITE_BUSY_TIMEOUT_MS": 5000,
    "DEV": False,  # local development: cookies without the Secure flag
    "BASE_URL": "http://127.0.0.1:5000",
    # Reverse proxies in front (Caddy: 1). Their X-Forwarded-For/-Proto give the client's
    # address (throttling, audit) and https (HSTS). 0 = none: such headers are ignored.
    "PROXY_COUNT": 0,
    "SESSION_COOKIE_NAME": "portal_session",
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_SECURE": True,
    "REMEMBER_COOKIE_DURATION": 0,
    "STAFF_IDLE_MINUTES": 15,
    "CLIENT_IDLE_MINUTES": 30,
    "SESSION_ABSOLUTE_HOURS": 12,
    "LOGIN_MAX_FAILURES_ACCOUNT": 10,
    "LOGIN_MAX_FAILURES_ADDRESS": 25,
    # Online booking: new client accounts one network address may open per hour.
    "SIGNUPS_PER_HOUR_PER_ADDRESS": 10,
    "LOGIN_LOCK_MINUTES": 15,
    "PASSWORD_MIN_LENGTH": 12,
    # argon2id cost; tests lower it to stay quick
    "ARGON2_TIME_COST": 3,
    "ARGON2_MEMORY_COST": 65536,
    "ARGON2_PARALLELISM": 2,
    "INVITE_VALID_HOURS": 72,
    "RESET_VALID_HOURS": 2,
    "MAIL_SERVER": "",
    "MAIL_PORT": 587,
    "MAIL_USERNAME": "",
    "MAIL_PASSWORD": "",
    "MAIL_USE_TLS": True,
    "MAIL_FROM": "portal@localhost",
    "UPLOAD_MAX_BYTES": 10 * 1024 * 1024,
    "MAX_CONTENT_LENGTH": 12 * 1024 * 1024,
    "STRIPE_SECRET_KEY": "",
    "STRIPE_PUBLISHABLE_KEY": "",
    "STRIPE_WEBHOOK_SECRET": "",
    "STRIPE_API_BASE": "",
    "CSP_EXTRA_FORM_ACTION": "https://checkout.stripe.com",
    "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session
    # Render cache of the provider home and the day/week view (portal/pagecache.py), per
    # process: entries are invalidated by any data write (SQLite triggers) and each minute.
    "PAGE_CACHE": True,
    # The ICD-10-CM search index file (built on first use); empty: in the instance folder.
    "ICD10_INDEX": "",
    # The speed-ups of portal/speedups.py (cookie session verified once, SQL built once).
    # Off: the plain code, same answers (the test suite runs both ways).
    "SPEEDUPS": True,
    "PAGE_CACHE_ENTRIES": 512,
    "PAGE_CACHE_BYTES": 32 * 1024 * 1024,
    # Background tasks (portal/tasks.py): Huey's queue in this SQLite file (relative paths
    # live in the instance folder), or in Redis when a URL is given (redis://host:6379/0).
    "TASKS_DATABASE": "tasks.sqlite3",
    "TASKS_REDIS_URL": "",
    "TASKS_IMMEDIATE": False,  # run tasks in-process, at once (tests)
    # Seconds the clearinghouse's SFTP server may take to answer (connect, log in, each step).
    "CLEARINGHOUSE_TIMEOUT": 20,
    # Messaging: how often an open page asks whether something changed (seconds; see
    # docs/messaging.md for why polling and what a poll costs).
    "MESSAGES_POLL_SECONDS": 5,
    # The owner's practice export (a ZIP of PHI in instance/exports/) is deleted from the
    # server this many hours after it was made.
    "PRACTICE_EXPORT_KEEP_HOURS": 24,
}


def _coerce(default, raw):
    if isinstance(default, bool):
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if isinstance(default, int):
        return int(raw)
    if default is None and raw.strip().isdigit():
        return int(raw)
    return raw


def load(app, test_config=None):
    app.config.from_mapping(DEFAULTS)
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
    for key, default in DEFAULTS.items():
        raw = os.environ.get("PORTAL_" + key)
        if raw is not None:
            app.config[key] = _coerce(default, raw)
    for key in ("SECRET_KEY",):
        if os.environ.get("PORTAL_" + key):
            app.config[key] = os.environ["PORTAL_" + key]
    if test_config is not None:
        app.config.update(test_config)
    if app.config["DEV"]:
        app.config["SESSION_COOKIE_SECURE"] = False
    if not os.path.isabs(app.config["DATABASE"]):
        app.config["DATABASE"] = os.path.join(app.instance_path, app.config["DATABASE"])
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret(app.instance_path)


def _instance_secret(instance_path):
    """A random key generated into the instance folder on first run; never one in the code."""
    os.makedirs(instance_path, exist_ok=True)
    path = os.path.join(instance_path, "secret_key")
    try:
        with open(path) as fh:
            key = fh.read().strip()
            if key:
                return key
    except FileNotFoundError:
        pass
    # Several gunicorn workers may start at once: write a complete file aside and link it
    # into place (atomic, refused when another worker won), then everyone reads the winner.
    tmp = f"{path}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
    finally:
        os.unlink(tmp)
    with open(path) as fh:
        return fh.read().strip()
