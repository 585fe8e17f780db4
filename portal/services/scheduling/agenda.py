"""The day and the week as a user may see them: the practice's providers, their working
hours and exceptions on a date, and the appointments of a time range, scoped by
`portal.access.scoped` (a therapist of a practice that keeps clients apart sees only
their own clients' visits).

Rows are light (AgendaRow, one query on the (provider_id, starts_at) index with the type
and the client's name joined): a busy day shows a hundred of them, and building a model
object for each, with its type and client, would cost about three times as much.
"""

import datetime as dt
from dataclasses import dataclass

from peewee import Value

from portal import access
from portal.models import (
    Appointment,
    AppointmentType,
    AvailabilityException,
    Client,
    Provider,
    ProviderHours,
)
from portal.rules import slots as slot_rules
from portal.rules.appointments import CANCELLED_STATUSES, LABELS


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


def day_bounds(tz, first_day, days=1):
    """Naive UTC of local midnight at the start of `first_day` and `days` later."""
    start = slot_rules.to_utc(dt.datetime.combine(first_day, dt.time()), tz)
    end = dt.datetime.combine(first_day + dt.timedelta(days=days), dt.time())
    return start, slot_rules.to_utc(end, tz)


def day_rows(provider_ids, start_utc, end_utc, *, user=None, include_cancelled=True):
    """The appointments starting in [start_utc, end_utc) with these providers that `user`
    (default: the current user) may see, in start order."""
    ids = [int(getattr(p, "id", p)) for p in provider_ids]
    if not ids:
        return []
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
    return [
        AgendaRow(*row[:10], client_name=f"{row[11] or row[10]} {row[12]}")
        for row in access.scoped(Appointment, user=user, query=query).tuples()
    ]


def working_day(provider_ids, day):
    """(weekly hours, exceptions) of these providers on `day`, as rows (provider_id,
    weekday, start, end) and (provider_id, kind, start, end) for rules.day_grid; one
    query for both."""
    ids = list(provider_ids)
    if not ids:
        return [], []
    weekly = ProviderHours.select(
        ProviderHours.provider,
        Value(WEEKLY),
        ProviderHours.start_minute,
        ProviderHours.end_minute,
    ).where(ProviderHours.provider.in_(ids) & (ProviderHours.weekday == day.weekday()))
    dated = AvailabilityException.select(
        AvailabilityException.provider,
        AvailabilityException.kind,
        AvailabilityException.start_minute,
        AvailabilityException.end_minute,
    ).where(AvailabilityException.provider.in_(ids) & (AvailabilityException.on_date == day))
    hours, exceptions = [], []
    for pid, kind, start, end in weekly.union_all(dated).tuples():
        if kind == WEEKLY:
            hours.append((pid, day.weekday(), start, end))
        else:
            exceptions.append((pid, kind, start, end))
    return hours, exceptions
