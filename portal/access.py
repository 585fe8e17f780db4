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

import secrets
from functools import wraps

from flask import abort, request
from flask_login import current_user
from peewee import JOIN

from portal import audit, speedups
from portal.db import database, models_from_row
from portal.inputs import bounded_int
from portal.login import login_manager
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


def scope_key(user):
    """Everything scoped() reads from a user: two users with the same key see the same rows
    (for SQL built once per key, portal/speedups.py)."""
    see_all = None
    if user.role == ROLE_THERAPIST:
        see_all = bool(user.practice.therapists_see_all_clients)
    return (user.role, user.practice_id, user.client_id, user.provider_id, see_all)


def _foreign_key(model, target):
    """The foreign key of `model` that points at `target` (exactly one)."""
    keys = [f for f in model._meta.sorted_fields if getattr(f, "rel_model", None) is target]
    if len(keys) != 1:
        raise ValueError(f"{model.__name__} has {len(keys)} keys to {target.__name__}")
    return keys[0]


def _one_row_query(model, object_id, user, joined):
    query = scoped(model, user=user, query=model.select(model, *joined))
    for target in joined:
        key = _foreign_key(model, target)
        how = JOIN.LEFT_OUTER if key.null else JOIN.INNER  # a client may have no therapist
        query = query.switch(model).join(target, how, on=(key == target.id), attr=key.name)
    return query.where(model.id == object_id).limit(1)


def _fetch_one(model, object_id, user, joined=()):
    user = user or current_user._get_current_object()  # one proxy look-up
    if not user or not user.is_authenticated:
        abort(404)
    if not speedups.enabled():
        return _one_row_query(model, object_id, user, joined).first()
    sql, params = speedups.built_once(
        ("get_or_404", model, joined, *scope_key(user)),
        lambda object_id: _one_row_query(model, object_id, user, joined),
        {"object_id": object_id},
    )
    if not joined:
        return next(iter(model.raw(sql, *params)), None)
    row = database.execute_sql(sql, params).fetchone()
    if row is None:
        return None
    obj, *others = models_from_row(row, model, *joined)
    for target, other in zip(joined, others, strict=True):
        setattr(obj, _foreign_key(model, target).name, other if other.id is not None else None)
    return obj


def get_or_404(model, object_id, audit_action=None, user=None, query=None, joined=()):
    """Fetch one scoped object or answer 404 (writing `access.denied`).

    `query`: a select of `model` narrowing what may be found (e.g. active forms only).
    `joined`: models the object has one foreign key to (e.g. Client), read in the same
    query and set on it (note.client). With `audit_action` (e.g. "client.view"), a
    successful fetch is audited too, as a view (`audit.record_view`: repeats by the same
    user inside 10 minutes share one row).
    """
    object_id = bounded_int(object_id)  # None when not a whole number the database can hold
    obj = None
    if object_id is not None and query is not None:
        obj = scoped(model, user=user, query=query).where(model.id == object_id).first()
    elif object_id is not None:
        obj = _fetch_one(model, object_id, user, tuple(joined))
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
                return login_manager.unauthorized()
            if current_user.role not in roles:
                deny()
            return view(*args, **kwargs)

        return wrapped

    return decorator
