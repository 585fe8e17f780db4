"""PostgreSQL for the suite (`make test-pg`): a database per test app, as SQLite has a file.

PORTAL_DATABASE_URL names the server and a base name (scripts/test-pg.sh makes a throwaway
cluster and sets it). The first app migrates a template database; each later app gets a
copy of it (CREATE DATABASE ... TEMPLATE, ~0.1 s), dropped once the next one is made.
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


def template_url(make_migrated):
    """The migrated template (made once per process by `make_migrated(url)`)."""
    global _template
    if _template is None:
        url = create()
        make_migrated(url)
        _template = name_of(url)
    return _with_db(url_from_env(), _template)


def fresh_url(make_migrated):
    """A migrated database of its own for one test app."""
    template = name_of(template_url(make_migrated))
    url = create(template)
    forget_later(url)
    return url


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
