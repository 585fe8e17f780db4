"""The day and the week as a user may see them: the practice's providers, their working
hours and exceptions on a date, and the appointments of a time range, scoped by
`portal.access.scoped` (a therapist of a practice that keeps clients apart sees only
their own clients' visits).

Rows are light (AgendaRow, one query on the (provider_id, starts_at) index with the type
and the client's name joined): a busy day shows a hundred of them, and building a model
object for each, with its type and client, would cost about three times as much. The
providers come as ProviderName rows (the columns the calendar shows), not model objects.

These reads run on every schedule page and on the home page; with the speed-ups on
(portal/speedups.py) their SQL is built once per shape (how many providers, cancelled
visits or not, the user's scope) and run with the request's values.
"""

import datetime as dt
from dataclasses import dataclass

from flask_login import current_user
from peewee import Value

from portal import access, speedups
from portal.db import database
from portal.models import (
    Appointment,
    AppointmentType,
    AvailabilityException,
    Client,
    Provider,
    ProviderHours,
)
from portal.models.practice import provider_name
from portal.rules import slots as slot_rules
from portal.rules.appointments import CANCELLED_STATUSES, LABELS
from portal.services import reads


@dataclass(slots=True)
class AgendaRow:
    id: int
    status: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    blocked_until: dt.datetime
    provider_id: int
    client_id: int
    fee_due_cents: int
    type_name: str
    type_color: str
    client_name: str
    flagged: bool = False  # the client's intake raised a flag (set by the view)

    @property
    def status_label(self):
        return LABELS.get(self.status, self.status)


@dataclass(slots=True)
class ProviderName:
    """A provider as the calendar names them: a column head, an option, a label."""

    id: int
    first_name: str
    last_name: str
    credentials: str

    @property
    def display_name(self):
        return provider_name(self.first_name, self.last_name, self.credentials)


WEEKLY = "weekly"  # marks the weekly hours among a day's exceptions ("off", "extra")
_COLUMNS = (
    Appointment.id,
    Appointment.status,
    Appointment.starts_at,
    Appointment.ends_at,
    Appointment.blocked_until,
    Appointment.provider,
    Appointment.client,
    Appointment.fee_due_cents,
    AppointmentType.name,
    AppointmentType.color,
    Client.first_name,
    Client.preferred_name,
    Client.last_name,
)


def practice_providers(practice_id):
    """The practice's active providers by name (the day view's columns)."""
    return list(
        Provider.select()
        .where((Provider.practice == practice_id) & (Provider.active == True))  # noqa: E712
        .order_by(Provider.first_name, Provider.last_name)
    )


def _names_query(practice_id):
    return (
        Provider.select(Provider.id, Provider.first_name, Provider.last_name, Provider.credentials)
        .where((Provider.practice == practice_id) & (Provider.active == True))  # noqa: E712
        .order_by(Provider.first_name, Provider.last_name)
    )


def provider_names(practice_id):
    """The practice's active providers by name, as ProviderName rows (the calendar's
    columns and its provider choice)."""
    rows = reads.rows(("agenda.provider_names",), _names_query, {"practice_id": practice_id})
    return [ProviderName(*row) for row in rows]


def day_bounds(tz, first_day, days=1):
    """Naive UTC of local midnight at the start of `first_day` and `days` later."""
    start = slot_rules.to_utc(dt.datetime.combine(first_day, dt.time()), tz)
    end = dt.datetime.combine(first_day + dt.timedelta(days=days), dt.time())
    return start, slot_rules.to_utc(end, tz)


def _rows_query(ids, start_utc, end_utc, include_cancelled, user):
    query = (
        Appointment.select(*_COLUMNS)
        .join(AppointmentType, on=Appointment.appointment_type == AppointmentType.id)
        .switch(Appointment)
        .join(Client, on=Appointment.client == Client.id)
        .where(
            Appointment.provider.in_(ids)
            & (Appointment.starts_at >= start_utc)
            & (Appointment.starts_at < end_utc)
        )
        .order_by(Appointment.starts_at)
    )
    if not include_cancelled:
        query = query.where(Appointment.status.not_in(CANCELLED_STATUSES))
    return access.scoped(Appointment, user=user, query=query)


def _ids_values(ids, **values):
    """`values` and one named value per id (p0, p1 ...): SQL built once per id count; the
    build function takes them back, in order, as its **keywords."""
    return {**values, **{f"p{i}": pid for i, pid in enumerate(ids)}}


def day_rows(provider_ids, start_utc, end_utc, *, user=None, include_cancelled=True):
    """The appointments starting in [start_utc, end_utc) with these providers that `user`
    (default: the current user) may see, in start order."""
    ids = [int(getattr(p, "id", p)) for p in provider_ids]
    if not ids:
        return []
    user = user or current_user._get_current_object()  # one proxy look-up
    rows = reads.rows(
        ("agenda.day_rows", len(ids), include_cancelled, *access.scope_key(user)),
        lambda start, end, **p: _rows_query(list(p.values()), start, end, include_cancelled, user),
        _ids_values(ids, start=start_utc, end=end_utc),
    )
    return [AgendaRow(*row[:10], client_name=f"{row[11] or row[10]} {row[12]}") for row in rows]


def _working_query(ids, weekday, day):
    weekly = ProviderHours.select(
        ProviderHours.provider,
        Value(WEEKLY),
        ProviderHours.start_minute,
        ProviderHours.end_minute,
    ).where(ProviderHours.provider.in_(ids) & (ProviderHours.weekday == weekday))
    dated = AvailabilityException.select(
        AvailabilityException.provider,
        AvailabilityException.kind,
        AvailabilityException.start_minute,
        AvailabilityException.end_minute,
    ).where(AvailabilityException.provider.in_(ids) & (AvailabilityException.on_date == day))
    return weekly.union_all(dated)


def working_day(provider_ids, day):
    """(weekly hours, exceptions) of these providers on `day`, as rows (provider_id,
    weekday, start, end) and (provider_id, kind, start, end) for rules.day_grid; one
    query for both."""
    ids = list(provider_ids)
    if not ids:
        return [], []
    weekday = day.weekday()
    if not speedups.enabled():
        rows = _working_query(ids, weekday, day).tuples()
    else:
        sql, params = speedups.built_once(
            ("agenda.working_day", len(ids)),
            lambda weekday, day, **p: _working_query(list(p.values()), weekday, day),
            _ids_values(ids, weekday=weekday, day=day),
        )
        rows = database.execute_sql(sql, params)
    hours, exceptions = [], []
    for pid, kind, start, end in rows:
        if kind == WEEKLY:
            hours.append((pid, weekday, start, end))
        else:
            exceptions.append((pid, kind, start, end))
    return hours, exceptions
