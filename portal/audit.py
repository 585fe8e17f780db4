"""Writing and reading the append-only audit log."""

import datetime as dt

from flask import current_app, has_request_context, request
from flask_login import current_user

from portal import clock
from portal.db import IS_POSTGRES, database, q
from portal.models import AuditLog, Client, User


def _request_user():
    """The signed-in user of this request, or None."""
    if not has_request_context():
        return None
    who = current_user._get_current_object()  # one proxy look-up, not three
    return who if who and who.is_authenticated else None


def client_ip():
    if not has_request_context():
        return ""
    return request.remote_addr or ""


def record(
    action,
    obj=None,
    client=None,
    detail="",
    user=None,
    practice_id=None,
    object_type=None,
    object_id=None,
):
    """Append one audit row. `detail` must never hold PHI values (names of fields are fine)."""
    if user is None:
        user = _request_user()
    if obj is not None:
        object_type = object_type or type(obj).__name__.lower()
        object_id = object_id if object_id is not None else obj.id
        if practice_id is None:
            practice_id = getattr(obj, "practice_id", None)
    client_id = None
    if client is not None:
        client_id = client if isinstance(client, int) else client.id
    elif isinstance(obj, Client):
        client_id = obj.id
    elif obj is not None and hasattr(obj, "client_id"):
        client_id = obj.client_id
    if practice_id is None and user is not None:
        practice_id = user.practice_id
    values = (
        clock.utcnow(),
        practice_id,
        user.id if user is not None else None,
        action,
        object_type or "",
        object_id,
        client_id,
        client_ip(),
        (detail or "")[:255],
    )
    # The INSERT peewee would build, built once: peewee spends ~0.15 ms generating it.
    database.execute_sql(
        _INSERT_SQL,
        [None if v is None else f.db_value(v) for f, v in zip(_INSERT_FIELDS, values, strict=True)],
    )


def last_editor(object_type, object_id, actions, me):
    """Who last did one of `actions` to an object, for a "saved meanwhile by ..." message:
    their name, or None when it was `me` (another tab of mine) or nobody recorded."""
    last = (
        AuditLog.select(AuditLog.user_id)
        .where(
            (AuditLog.object_type == object_type)
            & (AuditLog.object_id == object_id)
            & AuditLog.action.in_(actions)
        )
        .order_by(AuditLog.id.desc())
        .scalar()
    )
    if last is None or last == me.id:
        return None
    return User.select(User.name).where(User.id == last).scalar() or "someone else"


def record_probe(practice_id, object_type, object_id, client_id, detail):
    """A row in the log of the practice that owns an object someone of another practice
    tried to reach: what was tried, when, on which object, and nothing about the prober
    (no user, no address; the prober's own practice has those in its own row)."""
    AuditLog.insert(
        at=clock.utcnow(),
        practice_id=practice_id,
        user_id=None,
        action="access.denied",
        object_type=object_type,
        object_id=object_id,
        client_id=client_id,
        ip="",
        detail=(detail or "")[:255],
    ).execute()


# A PHI view repeated by the same user (same action, object and detail) inside this many
# minutes is covered by the row its first view wrote: the log still says who saw what, and
# when to within the window, without a write (and the database's write lock) on every reload
# of a page or download of a document. Changes, denials, logins: every one is a row.
VIEW_WINDOW_MINUTES = 10


def record_view(action, obj=None, detail="", minutes=VIEW_WINDOW_MINUTES, object_type=None):
    """Audit a PHI view: one row per user, action, object and `minutes` window."""
    user = _request_user()
    if user is None or minutes <= 0:
        return record(action, obj=obj, detail=detail, object_type=object_type)
    object_id = None
    if obj is not None:
        object_type = object_type or type(obj).__name__.lower()
        object_id = obj.id
    detail = (detail or "")[:255]
    now = clock.utcnow()
    since_at = (now - dt.timedelta(minutes=minutes)).replace(microsecond=0)
    # This process remembers the newest such row it wrote or found (audit rows are never
    # changed or deleted): while that row is inside the window, the SELECT below would
    # find it, so it is skipped. The SELECT walks the practice's rows of the window (index
    # practice_id, at); it runs once per key, process and window.
    seen_at = current_app.extensions.setdefault("audit_views_seen", {})
    key = (database.database, user.practice_id, user.id, action, object_type, object_id, detail)
    known = seen_at.get(key)
    if known is not None and known >= since_at:
        return
    practice_id = getattr(obj, "practice_id", None) or user.practice_id
    seen = database.execute_sql(
        _SEEN_SQL,
        [
            practice_id,
            since_at if IS_POSTGRES else since_at.strftime("%Y-%m-%d %H:%M:%S"),
            user.id,
            action,
            object_type or "",
            object_id,
            detail,
        ],
    ).fetchone()
    if seen is None:
        record(action, obj=obj, detail=detail, user=user, object_type=object_type)
        found = now  # record() stamps the row with clock.utcnow(), at or after `now`
    else:
        found = since_at  # the row found is at or after the window's start
    if len(seen_at) > 10_000:
        seen_at.clear()
    seen_at[key] = found


_INSERT_FIELDS = (
    AuditLog.at,
    AuditLog.practice_id,
    AuditLog.user_id,
    AuditLog.action,
    AuditLog.object_type,
    AuditLog.object_id,
    AuditLog.client_id,
    AuditLog.ip,
    AuditLog.detail,
)
_INSERT_SQL = q(
    "INSERT INTO audit_log ({}) VALUES ({})".format(
        ", ".join(f'"{f.column_name}"' for f in _INSERT_FIELDS),
        ", ".join("?" * len(_INSERT_FIELDS)),
    )
)
_SEEN_SQL = q(
    "SELECT 1 FROM audit_log WHERE practice_id = ? AND at >= ? AND user_id = ? "
    "AND action = ? AND object_type = ? AND object_id {} ? AND detail = ? LIMIT 1".format(
        "IS NOT DISTINCT FROM" if IS_POSTGRES else "IS"
    )
)
