"""The speed-ups a profile still shows paying for themselves, in one place, behind one switch.

`SPEEDUPS` (config, `PORTAL_SPEEDUPS=0` to turn off; on by default) selects them; with it
off every page runs the plain code and gives the same answers (the test suite runs both
ways: `PORTAL_SPEEDUPS=0 pytest`). Measured with `bench/pages.py` (CPU per request,
in-process) after the render cache and the plain query work; each one kept pays more than
10% on some main page:

- **The cookie session** (`CookieSessionInterface`, Flask's documented `session_interface`
  hook): the serializer is built once per secret key, and a cookie value this process has
  verified is not verified and decoded again while its signature is in date (a browser
  sends the same cookie until the session changes). The signature's age is checked on every
  request as itsdangerous would; each request gets its own copy. An unchanged session only
  adds "Vary: Cookie". Pays ~25% on the cheapest pages (render-cache hits, PDF downloads).
- **SQL built once** (`built_once`): peewee spends 0.1-0.3 ms turning a query into SQL,
  several times what SQLite takes to run a one-row lookup. A query used on every request
  (the session check, the scoped one-row fetch behind every detail page, the list counts)
  is turned into SQL once per key, with placeholder values where the request's values go,
  and then run with the request's values (peewee's public `Query.sql()`, `Model.raw()`,
  `Database.execute_sql()`). The key must name everything the query's shape depends on.
  Pays 2x on a stored-PDF download, 10-40% on detail pages.
- **Sessions this process checked, reused** (`remembered_session`): the session row with
  its user and practice, as values, while the data version (migrations 0007, 0008: any
  write to users or practices, a session revoked or deleted, by any process) is unchanged
  and the row's last_seen_at is under 30 s old (then auth writes it and the row is read
  again); every limit is still checked on every request. Saves the session query and three
  model instances read from a row: ~20% on the render cache's hits (provider home, day
  view, client home).

Gone, because they no longer paid 10% anywhere (or reached into library internals): a
key-caching itsdangerous signer, a `url_for` cache, an `ensure_sync` cache, flask-login's
`_load_user` override, peewee row readers built on its private names, and the security
headers appended to werkzeug's private header list.
"""

import copy
import datetime as dt
import threading
import time

from flask import current_app, has_app_context
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import BadSignature, URLSafeTimedSerializer
from peewee import ForeignKeyField

from portal.db import database


def init_app(app):
    if app.config["SPEEDUPS"]:
        app.session_interface = CookieSessionInterface()


def enabled():
    """The app's SPEEDUPS setting; outside an app (a service called from a script or a
    test without one) the plain code runs."""
    return has_app_context() and current_app.config["SPEEDUPS"]


# --- the cookie session ----------------------------------------------------------------------


class CookieSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session (its format, keys and checks), verified once per value."""

    _OPENED_MAX = 2048

    def __init__(self):
        self._serializers = {}
        self._opened = {}  # cookie value -> (serializer, data, signed at (unix seconds))

    def open_session(self, app, request):
        s = self.get_signing_serializer(app)
        if s is None:
            return None
        val = request.cookies.get(self.get_cookie_name(app))
        if not val:
            return self.session_class()
        max_age = int(app.permanent_session_lifetime.total_seconds())
        known = self._opened.get(val)
        if known is not None and known[0] is s:
            age = int(time.time()) - known[2]
            if 0 <= age <= max_age:
                return self.session_class(_copy_session(known[1]))
        try:
            data, signed_at = s.loads(val, max_age=max_age, return_timestamp=True)
        except BadSignature:
            return self.session_class()
        if len(self._opened) >= self._OPENED_MAX:
            self._opened.clear()
        self._opened[val] = (s, _copy_session(data), int(signed_at.timestamp()))
        return self.session_class(data)

    def save_session(self, app, session, response):
        # Most responses leave the session as it came: then only "Vary: Cookie" is due.
        # Anything else is Flask's own code.
        if not session.modified and not (session and self.should_set_cookie(app, session)):
            if session.accessed:
                response.vary.add("Cookie")
            return
        super().save_session(app, session, response)

    def get_signing_serializer(self, app):
        if not app.secret_key:
            return None
        keys = (*(app.config["SECRET_KEY_FALLBACKS"] or ()), app.secret_key)
        s = self._serializers.get(keys)
        if s is None:
            s = self._serializers[keys] = URLSafeTimedSerializer(
                list(keys),
                salt=self.salt,
                serializer=self.serializer,
                signer_kwargs={
                    "key_derivation": self.key_derivation,
                    "digest_method": self.digest_method,
                },
            )
        return s


def _copy_session(data):
    """A copy no request can change through another's: flat values are shared, anything
    else (flashes are a list) copied deeply."""
    if all(v is None or type(v) in (str, int, bool, float) for v in data.values()):
        return dict(data)
    return copy.deepcopy(data)


# --- SQL built once --------------------------------------------------------------------------

_BUILT = {}
_BUILT_MAX = 4096
_lock = threading.Lock()


def built_once(key, build, values):
    """(sql, params) of the query `build(**placeholders)` returns, with `values` in place.

    `values` maps each name `build` takes to this request's value. The SQL is built once per
    `key` with placeholder values (negative integers no row has, datetimes in 1900, strings
    starting with a NUL) and reused; `key` must name everything else the query's shape depends
    on (the model, the user's role and ids, a setting). Placeholders are matched in the
    parameters peewee produces, so each must stand alone as a parameter (compared, not
    computed with)."""
    hit = _BUILT.get(key)
    if hit is None:
        marks = {name: _placeholder(i, values[name]) for i, name in enumerate(values)}
        sql, params = build(**marks).sql()
        slots = {mark: name for name, mark in marks.items()}
        hit = (sql, [(slots[p], None) if _is_mark(p, slots) else (None, p) for p in params])
        with _lock:
            if len(_BUILT) >= _BUILT_MAX:
                _BUILT.clear()
            _BUILT[key] = hit
    sql, template = hit
    return sql, [values[name] if name is not None else p for name, p in template]


_MARK_BASE = -9_100_000_000


def _placeholder(i, value):
    if isinstance(value, dt.datetime):
        return dt.datetime(1900, 1, 1, 0, 0, i)
    if isinstance(value, str):
        return f"\0placeholder-{i}"
    return _MARK_BASE - i


def _is_mark(p, slots):
    try:
        return p in slots
    except TypeError:  # an unhashable parameter is never a placeholder
        return False


# --- sessions this process checked -----------------------------------------------------------

_SESSIONS = {}  # (database, token hash) -> (data version, last_seen_at, values per model)
_SESSIONS_MAX = 4096
SESSION_REUSE_SECONDS = 30  # sessions.load_user writes last_seen_at this often


def remembered_session(token_hash, now, version, find):
    """The session row (with .user and .user.practice) for this token hash, rebuilt from
    the values this process read before while the data `version` is the one they were read
    at and the row's last_seen_at is under SESSION_REUSE_SECONDS old; else find(token_hash)
    (and kept). Each request gets objects of its own."""
    key = (database.database, token_hash)
    hit = _SESSIONS.get(key) if version is not None else None
    if (
        hit is not None
        and hit[0] == version
        and (now - hit[1]).total_seconds() < (SESSION_REUSE_SECONDS)
    ):
        return _rebuild(hit[2])
    row = find(token_hash)
    if row is not None and version is not None:
        if len(_SESSIONS) >= _SESSIONS_MAX:
            _SESSIONS.clear()
        objects = (row, row.user, row.user.practice)
        _SESSIONS[key] = (version, row.last_seen_at, [(type(o), _values(o)) for o in objects])
    return row


def _values(obj):
    """A model instance's column values by field name (foreign keys as ids)."""
    return {
        f.name: getattr(obj, f.object_id_name if isinstance(f, ForeignKeyField) else f.name)
        for f in obj._meta.sorted_fields
    }


def _rebuild(kept):
    session, user, practice = (model(**values) for model, values in kept)
    user.practice = practice
    session.user = user
    return session
