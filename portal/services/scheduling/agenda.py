"""The day and the week: the appointments of a time range for the day and week views."""

import datetime as dt
from types import SimpleNamespace

from portal.db import database
from portal.models.scheduling import STATUS_LABELS


def _dt(value):
    if value is None or isinstance(value, dt.datetime):
        return value
    return dt.datetime.fromisoformat(value)


_DAY_SQL = (
    "SELECT a.id, a.status, a.starts_at, a.ends_at, a.blocked_until, a.provider_id, a.client_id, "
    "a.fee_due_cents, t.name, t.color, c.first_name, c.preferred_name, c.last_name "
    "FROM appointment a "
    "JOIN appointment_type t ON t.id = a.appointment_type_id "
    "JOIN client c ON c.id = a.client_id "
    "WHERE a.provider_id IN ({marks}) AND a.starts_at >= ? AND a.starts_at < ? "
    "AND a.practice_id = ? {status} ORDER BY a.starts_at"
)


def day_rows(practice_id, provider_ids, start_utc, end_utc, include_cancelled=True):
    """For the day and week views: plain rows (one constant SQL statement on the
    (provider_id, starts_at) index, no ORM row building)."""
    ids = [int(getattr(p, "id", p)) for p in provider_ids]
    if not ids:
        return []
    sql = _DAY_SQL.format(
        marks=",".join("?" * len(ids)),
        status="" if include_cancelled else "AND a.status NOT IN ('cancelled', 'late_cancelled')",
    )
    fmt = "%Y-%m-%d %H:%M:%S"
    cursor = database.execute_sql(
        sql, [*ids, start_utc.strftime(fmt), end_utc.strftime(fmt), int(practice_id)]
    )
    out = []
    for aid, status, s, e, bu, pid, cid, fee, tname, color, first, pref, last in cursor:
        starts, ends = _dt(s), _dt(e)
        out.append(
            SimpleNamespace(
                id=aid,
                status=status,
                status_label=STATUS_LABELS.get(status, status),
                starts_at=starts,
                ends_at=ends,
                blocked_until=_dt(bu),
                duration_minutes=int((ends - starts).total_seconds() // 60),
                provider_id=pid,
                client_id=cid,
                fee_due_cents=fee,
                appointment_type=SimpleNamespace(name=tname, color=color),
                client=SimpleNamespace(display_name=f"{pref or first} {last}"),
            )
        )
    return out
