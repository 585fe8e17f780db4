"""Writing and reading the append-only audit log."""

from flask import has_request_context, request
from flask_login import current_user

from portal import clock
from portal.db import database
from portal.models import AuditLog, Client


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
    if user is None and has_request_context():
        who = current_user._get_current_object()  # one proxy look-up, not three
        if who and who.is_authenticated:
            user = who
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
_INSERT_SQL = "INSERT INTO audit_log ({}) VALUES ({})".format(
    ", ".join(f'"{f.column_name}"' for f in _INSERT_FIELDS), ", ".join("?" * len(_INSERT_FIELDS))
)
