"""What a practice offers for booking: appointment types and their default codes, who
offers them, rooms, and the booking policy."""

from portal.models import (
    AppointmentType,
    AppointmentTypeCode,
    AppointmentTypeProvider,
    BookingPolicy,
    Practice,
    Provider,
    Room,
)


def policy_for(practice_id):
    """The practice's booking policy (an unsaved default row when none is stored)."""
    pid = getattr(practice_id, "id", practice_id)
    policy = BookingPolicy.get_or_none(BookingPolicy.practice == pid)
    return policy or BookingPolicy(practice=pid)


def type_codes(appt_type):
    return list(
        AppointmentTypeCode.select()
        .where(AppointmentTypeCode.appointment_type == appt_type)
        .order_by(AppointmentTypeCode.id)
    )


def type_provider_ids(appt_type):
    return [
        pid
        for (pid,) in AppointmentTypeProvider.select(AppointmentTypeProvider.provider)
        .where(AppointmentTypeProvider.appointment_type == appt_type)
        .tuples()
    ]


def providers_for_type(appt_type):
    return list(
        Provider.select()
        .join(AppointmentTypeProvider, on=AppointmentTypeProvider.provider == Provider.id)
        .where(
            (AppointmentTypeProvider.appointment_type == appt_type)
            & (Provider.active == True)  # noqa: E712
            & (Provider.practice == appt_type.practice_id)
        )
        .order_by(Provider.first_name, Provider.last_name)
    )


def bookable_types(practice_id, online_only=False):
    q = AppointmentType.select().where(
        (AppointmentType.practice == practice_id) & (AppointmentType.active == True)  # noqa: E712
    )
    if online_only:
        q = q.where(AppointmentType.online_bookable == True)  # noqa: E712
    return list(q.order_by(AppointmentType.duration_minutes, AppointmentType.name))


def practices_with_online_services(limit):
    """The first `limit` practices (id, name) with an active service clients may book
    online (whether online booking is on is their policy's say: policy_for)."""
    offered = AppointmentType.select(AppointmentType.practice).where(
        (AppointmentType.active == True)  # noqa: E712
        & (AppointmentType.online_bookable == True)  # noqa: E712
    )
    return list(
        Practice.select(Practice.id, Practice.name)
        .where(Practice.id.in_(offered))
        .order_by(Practice.id)
        .limit(limit)
    )


def all_types(practice_id):
    """Every type of the practice, active first (the settings page)."""
    return list(
        AppointmentType.select()
        .where(AppointmentType.practice == practice_id)
        .order_by(AppointmentType.active.desc(), AppointmentType.name)
    )


def active_rooms(practice_id):
    return list(
        Room.select()
        .where((Room.practice == practice_id) & (Room.active == True))  # noqa: E712
        .order_by(Room.name)
    )


def all_rooms(practice_id):
    return list(Room.select().where(Room.practice == practice_id).order_by(Room.name))
