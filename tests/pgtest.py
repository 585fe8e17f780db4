"""PostgreSQL for the suite (`make test-pg`): a fresh database per test app, as SQLite has
a new file.

PORTAL_DATABASE_URL names the server and a base name (scripts/test-pg.sh makes a throwaway
cluster and sets it). The first app migrates a template database, and the process works in
one copy of it (CREATE DATABASE ... TEMPLATE). Each later test app gets that copy emptied:
every row deleted with the triggers off (session_replication_role), sequences restarted,
the data version moved on (~0.06 s, where a new copy costs 0.1 to 1.5 s on a busy
machine). A test that changed the schema (a migration down, a scratch table) leaves a
different schema fingerprint behind: the next app then gets a new copy of the template.
"""

import itertools
import os
from urllib.parse import urlsplit, urlunsplit

import psycopg

from portal.db import IS_POSTGRES, url_from_env

_counter = itertools.count(1)
_made = []  # databases of earlier tests, dropped when the next one is made
_template = None


def _with_db(url, name):
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


def _base_name():
    return (urlsplit(url_from_env()).path.lstrip("/") or "portal_test").replace("-", "_")


def admin():
    conn = psycopg.connect(_with_db(url_from_env(), "postgres"), autocommit=True)
    return conn


def _drop(conn, name):
    conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def create(template=None):
    """A new empty database (or a copy of `template`); returns its URL."""
    name = f"{_base_name()}_{os.getpid()}_{next(_counter)}"
    with admin() as conn:
        while _made:
            _drop(conn, _made.pop())
        if template:
            # A template must have no other session: end the pool's idle ones.
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                (template,),
            )
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}" STRATEGY FILE_COPY')
        else:
            conn.execute(f'CREATE DATABASE "{name}"')
    return _with_db(url_from_env(), name)


def name_of(url):
    return urlsplit(url).path.lstrip("/")


def forget_later(url):
    """Drop this database when the next one is made."""
    _made.append(name_of(url))


def _ensure_base():
    """The database PORTAL_DATABASE_URL names: apps made without a URL of their own (the
    configuration tests) and processes started with the plain environment use it."""
    with admin() as conn:
        name = _base_name()
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def template_url(make_migrated):
    """The migrated template (made once per process by `make_migrated(url)`)."""
    global _template
    if _template is None:
        _ensure_base()
        url = create()
        make_migrated(url)
        _template = name_of(url)
    return _with_db(url_from_env(), _template)


_work = None  # (url, schema fingerprint) of this process's working copy

_FINGERPRINT = """SELECT
    (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = current_schema()),
    (SELECT count(*) FROM pg_trigger), (SELECT count(*) FROM pg_constraint),
    (SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = current_schema()),
    (SELECT string_agg(name, ',' ORDER BY name) FROM schema_migration)"""

KEEP = ("schema_migration", "data_version")


def fresh_url(make_migrated):
    """A migrated, empty database for one test app."""
    global _work
    from portal.db import database

    if not database.deferred:
        database.close_all()  # the previous app's pooled connections
    template = name_of(template_url(make_migrated))
    if _work is not None and _reset(_work):
        return _work[0]
    url = create(template)
    with psycopg.connect(url, autocommit=True) as conn:
        _work = (url, conn.execute(_FINGERPRINT).fetchone())
    return url


def _reset(work):
    """Empty the working copy; False when its schema changed (then it is dropped)."""
    url, fingerprint = work
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        try:
            same = conn.execute(_FINGERPRINT).fetchone() == fingerprint
        except psycopg.Error:
            same = False
        if same:
            tables = [
                t
                for (t,) in conn.execute(
                    "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
                )
                if t not in KEEP
            ]
            seqs = [  # the kept tables' rows stay: so does where their ids go on
                s
                for (s,) in conn.execute("SELECT sequencename FROM pg_sequences")
                if not s.startswith(tuple(f"{t}_" for t in KEEP))
            ]
            with conn.transaction():
                conn.execute("SET LOCAL session_replication_role = replica")
                conn.execute(";".join(f'DELETE FROM "{t}"' for t in tables))
                conn.execute(";".join(f'ALTER SEQUENCE "{s}" RESTART' for s in seqs))
                conn.execute("UPDATE data_version SET n = n + 1")
            return True
    forget_later(url)
    return False


def drop_all_of_this_process():
    if not IS_POSTGRES:
        return
    prefix = f"{_base_name()}_{os.getpid()}_"
    with admin() as conn:
        rows = conn.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE %s", (prefix + "%",)
        ).fetchall()
        for (name,) in rows:
            _drop(conn, name)
