"""The one scoping helper: every query for practice or client data goes through here.

Rules:
- staff see rows of their own practice (model field `practice`);
- a therapist, when the practice says so, sees only clients assigned to them;
- a client user sees only rows whose `client` is their own client record, and
  practice-wide rows only of models that set `client_visible = True`
  (e.g. appointment types, packages for sale);
- a foreign or missing id answers 404 and writes an `access.denied` audit row; when the
  object belongs to another practice, that practice's log gets a row too (`_denied`).
"""

import datetime as dt
import secrets
from functools import wraps

from flask import abort, request
from flask_login import current_user

from portal import audit
from portal.db import database, model_from_row
from portal.inputs import bounded_int
from portal.models import ROLE_THERAPIST, STAFF_ROLES, Client


def _client_field(model):
    if model is Client:
        return model.id
    return getattr(model, "client", None)


def scoped(model, user=None, query=None):
    """A select of `model` limited to what `user` (default: the current user) may see."""
    user = user or current_user._get_current_object()  # one proxy look-up
    if not user or not user.is_authenticated:
        abort(404)
    query = query if query is not None else model.select()
    query = query.where(model.practice == user.practice_id)
    client_field = _client_field(model)
    if user.is_client:
        if client_field is not None:
            query = query.where(client_field == user.client_id)
        elif not getattr(model, "client_visible", False):
            query = query.where(False)
    elif user.role == ROLE_THERAPIST and client_field is not None:
        practice = user.practice
        if not practice.therapists_see_all_clients:
            own = Client.select(Client.id).where(
                (Client.practice == user.practice_id) & (Client.therapist == user.provider_id)
            )
            query = query.where(client_field.in_(own))
    return query


# --- the same scoped SQL, built once per process ------------------------------------------
# Peewee spends 0.1-0.3 ms building a query, several times what SQLite takes to run a
# one-row lookup. prebuilt_scoped() lets peewee build the query ONCE per process and user
# "shape" (role, the therapist-own-clients setting, which ids are NULL) with sentinel ids in
# place of the user's, then runs that exact SQL with the user's values: same statement, same
# scoping, no per-request SQL generation.

S_PRACTICE, S_CLIENT, S_PROVIDER, S_ID = -9_100_001, -9_100_002, -9_100_003, -9_100_004
_PREBUILT = {}
_SENTINEL_TYPES = (int, dt.datetime)  # extra sentinels may be datetimes (cut-off times)


class _SentinelPractice:
    def __init__(self, see_all):
        self.therapists_see_all_clients = see_all


class _SentinelUser:
    """Stands in for the user while peewee builds the SQL: the same role and setting, ids
    replaced by sentinels (None stays None, so `IS NULL` is built where the user has none)."""

    is_authenticated = True

    def __init__(self, user, see_all):
        self.role = user.role
        self.is_client = user.is_client
        self.is_staff = user.is_staff
        self.is_owner = user.is_owner
        self.practice_id = S_PRACTICE if user.practice_id is not None else None
        self.client_id = S_CLIENT if user.client_id is not None else None
        self.provider_id = S_PROVIDER if user.provider_id is not None else None
        self.practice = _SentinelPractice(see_all)


def prebuilt_scoped(key, model, build, user=None, extra=None):
    """(sql, params) of `build(scoped(model, sentinel_user), sentinel_user)`, built once per
    process for this key and user shape, with the user's ids (and `extra`, sentinel -> value)
    in params. `build` may only branch on the user's role and the practice setting."""
    user = user or current_user._get_current_object()  # one proxy look-up
    if not user or not user.is_authenticated:
        abort(404)
    see_all = None
    if user.role == ROLE_THERAPIST:
        see_all = bool(user.practice.therapists_see_all_clients)
    shape = (
        key,
        model,
        user.role,
        see_all,
        user.practice_id is None,
        user.client_id is None,
        user.provider_id is None,
    )
    hit = _PREBUILT.get(shape)
    if hit is None:
        fake = _SentinelUser(user, see_all)
        hit = _PREBUILT[shape] = build(scoped(model, user=fake), fake).sql()
    sql, params = hit
    values = {
        S_PRACTICE: user.practice_id,
        S_CLIENT: user.client_id,
        S_PROVIDER: user.provider_id,
        **(extra or {}),
    }
    return sql, [values.get(p, p) if type(p) in _SENTINEL_TYPES else p for p in params]


def _fetch_one(model, object_id, user):
    sql, params = prebuilt_scoped(
        "get_or_404",
        model,
        lambda q, u: q.where(model.id == S_ID).limit(1),
        user=user,
        extra={S_ID: object_id},
    )
    row = database.execute_sql(sql, params).fetchone()
    return None if row is None else model_from_row(model, row)


def get_or_404(model, object_id, audit_action=None, user=None, query=None):
    """Fetch one scoped object or answer 404 (writing `access.denied`).

    With `audit_action` (e.g. "client.view"), a successful fetch is audited too, as a view
    (`audit.record_view`: repeats by the same user inside 10 minutes share one row).
    """
    object_id = bounded_int(object_id)  # None when not a whole number the database can hold
    obj = None
    if object_id is not None:
        if query is None:
            obj = _fetch_one(model, object_id, user)
        else:
            obj = scoped(model, user=user, query=query).where(model.id == object_id).first()
    if obj is None:
        _denied(model, object_id, user)
        abort(404)
    if audit_action:
        audit.record_view(audit_action, obj=obj)  # a view: one row per user, object, 10 min
    return obj


def _denied(model, object_id, user=None):
    """Audit a refused id. A probe of another practice's object is written twice: in the
    prober's log (who, from where) and in the log of the practice that owns the object
    (what was tried, and nothing about the prober); a shared random reference lets the
    server's operator match the two rows."""
    object_type = model.__name__.lower()
    detail = f"{request.method} {request.endpoint}"
    user = user or current_user._get_current_object()
    owner = None
    if object_id is not None and getattr(user, "is_authenticated", False):
        client_field = _client_field(model)
        columns = [model.practice] + ([client_field] if client_field is not None else [])
        owner = model.select(*columns).where(model.id == object_id).tuples().first()
    if owner is None or owner[0] == user.practice_id:
        audit.record("access.denied", object_type=object_type, object_id=object_id, detail=detail)
        return
    ref = secrets.token_hex(5)
    audit.record(
        "access.denied", object_type=object_type, object_id=object_id, detail=f"{detail} ref {ref}"
    )
    audit.record_probe(
        owner[0],
        object_type,
        object_id,
        owner[1] if len(owner) > 1 else None,
        f"{detail} by a user of another practice (ref {ref})",
    )


def deny():
    """Refuse with 404 and an audit row (used for role checks)."""
    audit.record("access.denied", detail=f"{request.method} {request.endpoint} role")
    abort(404)


def roles_required(*roles):
    """Staff view decorator: only these roles; anyone else gets 404 (audited)."""
    roles = roles or STAFF_ROLES

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                from portal.auth import login_manager

                return login_manager.unauthorized()
            if current_user.role not in roles:
                deny()
            return view(*args, **kwargs)

        return wrapped

    return decorator
