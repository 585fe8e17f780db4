"""A render cache for the pages staff keep open and reload all day (provider home, day and
week view): the rendered page is kept per process and served again while nothing it could
show has changed.

What "nothing changed" means:

- **Data.** Triggers (migration 0007; on PostgreSQL at commit) add one to `data_version.n`
  on every INSERT, UPDATE and DELETE of every table except EXCLUDED_TABLES: tables
  written on hot paths whose rows no cached page shows (audit log, sessions, throttling,
  one-time links, outbox). A page that shows one of those tables must not be cached.
  Every request reads n with one SQL statement; n is part of the key, so any write
  anywhere, by any process, makes every cached page a miss. A later migration that
  creates a table must call `add_change_triggers(db, table)` (or add the table to
  EXCLUDED_TABLES with a reason); tests/test_pagecache.py fails on a table that has
  neither, and the cache switches itself off (with a warning) when it finds one at run
  time.
- **Time.** The current minute is part of the key (pages show "today" and the unsigned
  notes older than a day). UTC minutes begin when local ones do (offsets are whole minutes).
- **Who and which request.** Endpoint, user, the server-side session row and the raw CSRF
  secret of the cookie session (the page embeds a token made from it), host, path and
  query string, and the HTMX headers that change what `render()` returns.

Never served from or stored in the cache: methods other than GET; a session holding flashes
or no CSRF secret yet; a user without a server-side session. Stored only: status 200,
text/html, no Set-Cookie, the cookie session left unchanged by the render. Stored are the
body and the headers the view set; after_request handlers (security headers, Cache-Control:
no-store, the session's Vary: Cookie) run on hits as on misses, and so do the auth checks
(before_request handlers and the decorators above @cached_page).

Side effects a render must have on every request (the PHI view audit) are registered with
`each_time(fn, *args)`: called at once, and called again on every hit of what was stored.

Configuration: PAGE_CACHE (on/off), PAGE_CACHE_ENTRIES, PAGE_CACHE_BYTES (per process).
"""

import logging
import threading
from collections import OrderedDict
from functools import wraps

from flask import Response, current_app, g, request, session
from flask_login import current_user

from portal import clock, ddl
from portal.db import data_version, database

log = logging.getLogger(__name__)

# --- the data version: which tables bump it ----------------------------------------------

# Tables whose writes never change what a cached staff page shows, and that are written on
# hot paths (every page view, every login). A page showing one of them must not be cached.
EXCLUDED_TABLES = frozenset(
    {
        "audit_log",  # each PHI view writes a row; cached pages never show audit rows
        "user_session",  # last_seen_at every 30 s per session; revocation is checked by auth
        "login_attempt",  # throttling, written on every login
        "user_token",  # invitation and reset links (owner's user pages are not cached)
        "outbox_message",  # mail queue (the owner's outbox page is not cached)
        "schema_migration",  # migration bookkeeping
        "data_version",  # the counter itself
    }
)
TRIGGER_EVENTS = (("ins", "INSERT"), ("upd", "UPDATE"), ("del", "DELETE"))


def is_excluded(table):
    return table in EXCLUDED_TABLES or table.startswith("sqlite_")


# PostgreSQL: one deferred constraint trigger per table (migration 0007's function), fired
# at commit so that a reader never sees the new n before the new rows.
def pg_change_trigger_sql(name, table, events="INSERT OR UPDATE OR DELETE", when=None):
    cond = f" WHEN ({when})" if when else ""
    return (
        f'CREATE CONSTRAINT TRIGGER "{name}" AFTER {events} ON "{table}" '
        f"DEFERRABLE INITIALLY DEFERRED FOR EACH ROW{cond} "
        "EXECUTE FUNCTION portal_bump_data_version()"
    )


def trigger_names(table, db=database):
    if ddl.is_postgres(db):
        return [f"{table}_dv"]
    return [f"{table}_dv_{suffix}" for suffix, _ in TRIGGER_EVENTS]


def change_trigger_sql(table, db=database):
    """The statements that make writes to `table` bump data_version."""
    if ddl.is_postgres(db):
        return [pg_change_trigger_sql(f"{table}_dv", table)]
    return [
        f'CREATE TRIGGER "{table}_dv_{suffix}" AFTER {event} ON "{table}" '
        "BEGIN UPDATE data_version SET n = n + 1 WHERE id = 1; END"
        for suffix, event in TRIGGER_EVENTS
    ]


def add_change_triggers(db, table):
    """For migrations: make writes to `table` invalidate cached pages. (SQLite drops a
    table's triggers with it: a migration that rebuilds a table must call this again.)"""
    for sql in change_trigger_sql(table, db):
        db.execute_sql(sql)


def drop_change_triggers(db, table):
    for name in trigger_names(table, db):
        ddl.drop_trigger(db, name, table)


def tables_and_triggers(db):
    """(table names, {(table, trigger name)}) of this database."""
    if ddl.is_postgres(db):
        tables = db.execute_sql(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
        ).fetchall()
        triggers = db.execute_sql(
            "SELECT c.relname, t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE NOT t.tgisinternal"
        ).fetchall()
        return {t for (t,) in tables}, {(tbl, name) for tbl, name in triggers}
    rows = db.execute_sql(
        "SELECT type, name, tbl_name FROM sqlite_master WHERE type IN ('table', 'trigger')"
    ).fetchall()
    tables = {name for kind, name, _ in rows if kind == "table"}
    return tables, {(tbl, name) for kind, name, tbl in rows if kind == "trigger"}


def tables_without_triggers(db):
    """Tables neither excluded nor carrying all their change triggers (should be none)."""
    tables, triggers = tables_and_triggers(db)
    return sorted(
        t
        for t in tables
        if not is_excluded(t) and not all((t, n) in triggers for n in trigger_names(t, db))
    )


# --- the cache -----------------------------------------------------------------------------

HTMX_HEADERS = ("HX-Request", "HX-Target", "HX-History-Restore-Request", "HX-Boosted")
_HTMX_ENVIRON = tuple("HTTP_" + h.upper().replace("-", "_") for h in HTMX_HEADERS)
_ENTRY_OVERHEAD = 512  # bytes counted per entry for its key, headers and bookkeeping


class _Entry:
    __slots__ = ("body", "headers", "replays", "size")

    def __init__(self, body, headers, replays):
        self.body = body
        self.headers = headers
        self.replays = replays
        self.size = len(body) + sum(len(k) + len(v) for k, v in headers) + _ENTRY_OVERHEAD


class PageCache:
    """A per-process LRU of rendered pages (one per app), bounded in entries and bytes."""

    def __init__(self, max_entries, max_bytes):
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.bytes = 0
        self._entries = OrderedDict()
        self._lock = threading.Lock()
        self.schema_ok = None  # checked at first use: data_version and every trigger there
        self.checked_minute = None
        self.stats = dict.fromkeys(
            ("hits", "misses", "stores", "bypasses", "replays", "evictions"), 0
        )

    def get(self, key):
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
                self.stats["hits"] += 1
            else:
                self.stats["misses"] += 1
            return entry

    def put(self, key, entry):
        if entry.size > self.max_bytes or self.max_entries < 1:
            return
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self.bytes -= old.size
            self._entries[key] = entry
            self.bytes += entry.size
            self.stats["stores"] += 1
            while len(self._entries) > self.max_entries or self.bytes > self.max_bytes:
                _, dropped = self._entries.popitem(last=False)
                self.bytes -= dropped.size
                self.stats["evictions"] += 1

    def clear(self):
        with self._lock:
            self._entries.clear()
            self.bytes = 0

    def __len__(self):
        return len(self._entries)


_create_lock = threading.Lock()


def cache_for(app):
    """This app's cache in this process (created at first use)."""
    cache = app.extensions.get("pagecache")
    if cache is None:
        with _create_lock:
            cache = app.extensions.get("pagecache")
            if cache is None:
                cache = app.extensions["pagecache"] = PageCache(
                    int(app.config.get("PAGE_CACHE_ENTRIES", 512)),
                    int(app.config.get("PAGE_CACHE_BYTES", 32 * 1024 * 1024)),
                )
    return cache


def stats(app=None):
    """A copy of the counters (hits, misses, stores, bypasses, replays, evictions)."""
    cache = cache_for(app or current_app._get_current_object())
    return dict(cache.stats, entries=len(cache), bytes=cache.bytes)


def _schema_ready(cache, minute):
    """The triggers the data version relies on are all there (checked once, and again once
    a minute while they are not: a deployment may migrate after the app started)."""
    if cache.schema_ok or cache.checked_minute == minute:
        return cache.schema_ok
    cache.checked_minute = minute
    if data_version() is None:
        missing = ["data_version"]
    else:
        missing = tables_without_triggers(database)
    if missing:
        log.warning("page cache off: no data_version triggers on %s", ", ".join(missing))
    cache.schema_ok = not missing
    return cache.schema_ok


def _key(cache):
    """The cache key of this request, or None when it must not use the cache."""
    req = request._get_current_object()  # one proxy look-up each, not one per attribute
    sess = session._get_current_object()
    if req.method != "GET" or "_flashes" in sess:
        return None
    csrf_secret = sess.get("csrf_token")
    user = current_user._get_current_object()
    row = getattr(user, "current_session", None)
    if csrf_secret is None or row is None:
        return None
    minute = clock.utcnow().replace(second=0, microsecond=0)
    if not _schema_ready(cache, minute):
        return None
    n = g.get("data_version")  # read by auth's load_user before the view ran
    if n is None:
        n = data_version()
        if n is None:
            return None
    env = req.environ  # raw values: the key is as fine as the request (or finer)
    return (
        req.endpoint,
        user.id,
        row.id,
        csrf_secret,
        env.get("wsgi.url_scheme"),
        env.get("HTTP_HOST"),
        env.get("SCRIPT_NAME"),
        env.get("PATH_INFO"),
        env.get("QUERY_STRING"),
        *(env.get(h) for h in _HTMX_ENVIRON),
        minute,
        n,
    )


def each_time(fn, /, *args, **kwargs):
    """Call fn(*args, **kwargs) now and, when this render is stored, on every hit of it:
    for side effects every request must have (the PHI view audit). The arguments are kept
    with the page: pass plain values (strings, numbers), not request-bound objects."""
    replays = g.get("_pagecache_replays")
    if replays is not None:
        replays.append((fn, args, kwargs))
    return fn(*args, **kwargs)


def serve(render, /, *args, **kwargs):
    """The cached page for this request, or render(*args, **kwargs), stored when it may be.

    The version n is read before the render: a write committed during the render makes the
    page newer than its key, never older."""
    app = current_app._get_current_object()
    if not app.config.get("PAGE_CACHE", True):
        return render(*args, **kwargs)
    cache = cache_for(app)
    key = _key(cache)
    if key is None:
        cache.stats["bypasses"] += 1
        return render(*args, **kwargs)
    entry = cache.get(key)
    if entry is not None:
        for fn, a, kw in entry.replays:
            fn(*a, **kw)
            cache.stats["replays"] += 1
        return Response(entry.body, status=200, headers=entry.headers)
    replays = g._pagecache_replays = []
    try:
        resp = app.make_response(render(*args, **kwargs))
    finally:
        g.pop("_pagecache_replays", None)
    if (
        resp.status_code == 200
        and resp.mimetype == "text/html"
        and not resp.is_streamed
        and "Set-Cookie" not in resp.headers
        and not session.modified
        and "_flashes" not in session
    ):
        headers = [(k, v) for k, v in resp.headers.items() if k != "Content-Length"]
        cache.put(key, _Entry(resp.get_data(), headers, tuple(replays)))
    return resp


def cached_page(view):
    """View decorator (below @bp.route and any access decorator): serve(view)."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        return serve(view, *args, **kwargs)

    return wrapped
