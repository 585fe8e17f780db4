"""The practice's scheduling settings: appointment types (with who offers them and their
default CPT codes), providers' weekly hours and date exceptions, rooms, and the booking
policy. Each save is one IMMEDIATE transaction with its audit row."""

from portal import audit
from portal.db import database
from portal.models import (
    AppointmentType,
    AppointmentTypeCode,
    AppointmentTypeProvider,
    AvailabilityException,
    BookingPolicy,
    Provider,
    ProviderHours,
    Room,
)
from portal.models.scheduling import EXCEPTION_EXTRA, EXCEPTION_OFF
from portal.rules import schedule_input
from portal.rules.appointments import BookingError

# --- reading -----------------------------------------------------------------------------


def weekly_hours(provider):
    """{weekday: [(start_minute, end_minute)]} for all seven days."""
    out = {day: [] for day in range(7)}
    for weekday, start, end in (
        ProviderHours.select(
            ProviderHours.weekday, ProviderHours.start_minute, ProviderHours.end_minute
        )
        .where(ProviderHours.provider == provider.id)
        .order_by(ProviderHours.weekday, ProviderHours.start_minute)
        .tuples()
    ):
        out[weekday].append((start, end))
    return out


def exceptions_since(provider, since):
    return list(
        AvailabilityException.select()
        .where(
            (AvailabilityException.provider == provider.id)
            & (AvailabilityException.on_date >= since)
        )
        .order_by(AvailabilityException.on_date)
    )


# --- appointment types -------------------------------------------------------------------


def save_type(practice_id, *, user, appt_type=None, provider_ids=(), codes=(), **fields):
    """Create (appt_type None) or update a type with the practice's active providers among
    `provider_ids` offering it and its default (code, minutes); returns the type."""
    with database.atomic("IMMEDIATE"):
        if appt_type is None:
            appt_type = AppointmentType.create(practice=practice_id, **fields)
            action = "appointment_type.create"
        else:
            AppointmentType.update(**fields).where(AppointmentType.id == appt_type.id).execute()
            appt_type = AppointmentType.get_by_id(appt_type.id)
            action = "appointment_type.update"
        offered = Provider.select(Provider.id).where(
            (Provider.practice == practice_id)
            & (Provider.active == True)  # noqa: E712
            & Provider.id.in_(list(provider_ids))
        )
        AppointmentTypeProvider.delete().where(
            AppointmentTypeProvider.appointment_type == appt_type.id
        ).execute()
        for (pid,) in offered.tuples():
            AppointmentTypeProvider.create(
                practice=practice_id, appointment_type=appt_type.id, provider=pid
            )
        AppointmentTypeCode.delete().where(
            AppointmentTypeCode.appointment_type == appt_type.id
        ).execute()
        for code, minutes in codes:
            AppointmentTypeCode.create(
                practice=practice_id, appointment_type=appt_type.id, cpt_code=code, minutes=minutes
            )
        audit.record(action, obj=appt_type, user=user, detail="type, providers, codes")
    return appt_type


# --- hours and exceptions ----------------------------------------------------------------


def save_hours(provider, ranges_by_weekday, *, user):
    """Replace the provider's weekly hours: {weekday: [(start_minute, end_minute)]}."""
    with database.atomic("IMMEDIATE"):
        ProviderHours.delete().where(ProviderHours.provider == provider.id).execute()
        for weekday, ranges in sorted(ranges_by_weekday.items()):
            for start, end in ranges:
                ProviderHours.create(
                    practice=provider.practice_id,
                    provider=provider.id,
                    weekday=weekday,
                    start_minute=start,
                    end_minute=end,
                )
        audit.record("provider_hours.update", obj=provider, user=user, detail="weekly hours")


def add_exception(provider, *, on_date, kind, start=None, end=None, note="", user):
    """A date off (whole day without times) or extra hours; `start`/`end` are times of
    day. Raises BookingError with what to fix."""
    if kind not in (EXCEPTION_OFF, EXCEPTION_EXTRA):
        raise BookingError("Choose time off or extra hours.")
    start_minute, end_minute = schedule_input.exception_minutes(kind, start, end)
    with database.atomic("IMMEDIATE"):
        row = AvailabilityException.create(
            practice=provider.practice_id,
            provider=provider.id,
            on_date=on_date,
            kind=kind,
            start_minute=start_minute,
            end_minute=end_minute,
            note=(note or "").strip(),
        )
        audit.record("availability_exception.create", obj=row, user=user)
    return row


def delete_exception(row, *, user):
    with database.atomic("IMMEDIATE"):
        audit.record("availability_exception.delete", obj=row, user=user)
        row.delete_instance()


# --- rooms and the booking policy --------------------------------------------------------


def add_room(practice_id, name, *, user):
    with database.atomic("IMMEDIATE"):
        room = Room.create(practice=practice_id, name=name.strip())
        audit.record("room.create", obj=room, user=user)
    return room


def toggle_room(room, *, user):
    """An inactive room is not offered and not used for online bookings."""
    with database.atomic("IMMEDIATE"):
        Room.update(active=not room.active).where(Room.id == room.id).execute()
        audit.record("room.update", obj=room, user=user, detail="active")


def save_policy(practice_id, *, user, policy=None, **fields):
    """Store the practice's booking policy (one row per practice)."""
    with database.atomic("IMMEDIATE"):
        if policy is None or policy.id is None:
            policy = BookingPolicy.create(practice=practice_id, **fields)
        else:
            BookingPolicy.update(**fields).where(BookingPolicy.id == policy.id).execute()
            policy = BookingPolicy.get_by_id(policy.id)
        audit.record("booking_policy.update", obj=policy, user=user, detail=",".join(fields))
    return policy
