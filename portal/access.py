"""The one scoping helper: every query for practice or client data goes through here.

Rules:
- staff see rows of their own practice (model field `practice`);
- a therapist, when the practice says so, sees only clients assigned to them;
- a client user sees only rows whose `client` is their own client record, and
  practice-wide rows only of models that set `client_visible = True`
  (e.g. appointment types, packages for sale);
- a foreign or missing id answers 404 and writes an `access.denied` audit row.
"""

from functools import wraps

from flask import abort, request
from flask_login import current_user

from portal import audit, speedups
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


def _fetch_one(model, object_id, user):
    user = user or current_user._get_current_object()  # one proxy look-up
    if not user or not user.is_authenticated:
        abort(404)
    if not speedups.enabled():
        return scoped(model, user=user).where(model.id == object_id).first()
    sql, params = speedups.built_once(
        ("get_or_404", model, *scope_key(user)),
        lambda object_id: scoped(model, user=user).where(model.id == object_id).limit(1),
        {"object_id": object_id},
    )
    return next(iter(model.raw(sql, *params)), None)


def get_or_404(model, object_id, audit_action=None, user=None, query=None):
    """Fetch one scoped object or answer 404 (writing `access.denied`).

    With `audit_action` (e.g. "client.view"), a successful fetch is audited too, as a view
    (`audit.record_view`: repeats by the same user inside 10 minutes share one row).
    """
    try:
        object_id = int(object_id)
    except (TypeError, ValueError):
        object_id = None
    obj = None
    if object_id is not None:
        if query is None:
            obj = _fetch_one(model, object_id, user)
        else:
            obj = scoped(model, user=user, query=query).where(model.id == object_id).first()
    if obj is None:
        audit.record(
            "access.denied",
            object_type=model.__name__.lower(),
            object_id=object_id,
            detail=f"{request.method} {request.endpoint}",
        )
        abort(404)
    if audit_action:
        audit.record_view(audit_action, obj=obj)  # a view: one row per user, object, 10 min
    return obj


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
