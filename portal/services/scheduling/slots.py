"""Free times: when a provider (and a room) can take a visit, by the weekly hours, the
date's exceptions, the bookings with their buffers and, for clients, the policy's lead
time and horizon (the arithmetic is `portal.rules.slots`)."""

import datetime as dt

from portal import clock
from portal.models import Appointment, AvailabilityException, ProviderHours
from portal.rules import slots as slot_rules
from portal.rules.appointments import CANCELLED_STATUSES, BookingError
from portal.services.scheduling.catalog import active_rooms, policy_for, providers_for_type

MAX_VISIT_MINUTES = 720
WEEKS_SEARCHED = 8  # for the next free starts offered when a time is taken


class SlotTaken(BookingError):
    """The time was just taken; `next_slots` offers the next free starts (naive UTC);
    `reason`, for staff, says what blocks it when that is more than a visit then."""

    def __init__(self, message="That time was just taken.", next_slots=(), reason=""):
        super().__init__(message)
        self.next_slots = list(next_slots)
        self.reason = reason


def visit_times(appt_type, starts_at, duration_minutes=None):
    """(starts_at, ends_at, blocked_until) of a visit of this type: whole minutes, the
    type's length unless another is given, then the type's buffer."""
    starts_at = starts_at.replace(second=0, microsecond=0)
    minutes = duration_minutes or appt_type.duration_minutes
    ends_at = starts_at + dt.timedelta(minutes=minutes)
    return starts_at, ends_at, ends_at + dt.timedelta(minutes=appt_type.buffer_after_minutes)


def _touching(column, value, start_utc, end_utc, exclude_id, *fields):
    """`fields` of the active appointments (column == value) touching [start_utc, end_utc)."""
    q = (
        Appointment.select(*fields)
        .where(
            (column == value)
            & (Appointment.starts_at > start_utc - dt.timedelta(days=1))
            & (Appointment.starts_at < end_utc)
            & (Appointment.blocked_until > start_utc)
            & Appointment.status.not_in(CANCELLED_STATUSES)
        )
        .tuples()
    )
    if exclude_id:
        q = q.where(Appointment.id != exclude_id)
    return list(q)


def busy(column, value, start_utc, end_utc, exclude_id=None):
    """(starts_at, blocked_until) of active appointments touching [start_utc, end_utc)."""
    fields = (Appointment.starts_at, Appointment.blocked_until)
    return _touching(column, value, start_utc, end_utc, exclude_id, *fields)


def is_free(provider_id, room_id, starts_at, blocked_until, exclude_id=None):
    """Inside the transaction: is the provider (and room) free for [starts_at, blocked_until)?"""
    for column, value in ((Appointment.provider, provider_id), (Appointment.room, room_id)):
        if value is not None and busy(column, value, starts_at, blocked_until, exclude_id):
            return False
    return True


def free_room(practice_id, starts_at, blocked_until, exclude_id=None):
    """The first active room free for [starts_at, blocked_until), or None."""
    for room in active_rooms(practice_id):
        if not busy(Appointment.room, room.id, starts_at, blocked_until, exclude_id):
            return room.id
    return None


def _local_day_bounds(tz, start_date, end_date):
    lo = slot_rules.to_utc(dt.datetime.combine(start_date, dt.time()), tz) - dt.timedelta(hours=2)
    hi = slot_rules.to_utc(
        dt.datetime.combine(end_date + dt.timedelta(days=1), dt.time()), tz
    ) + dt.timedelta(hours=2)
    return lo, hi


def _availability(provider, start_date, end_date):
    hours = list(
        ProviderHours.select(
            ProviderHours.weekday, ProviderHours.start_minute, ProviderHours.end_minute
        )
        .where(ProviderHours.provider == provider)
        .tuples()
    )
    exceptions = list(
        AvailabilityException.select(
            AvailabilityException.on_date,
            AvailabilityException.kind,
            AvailabilityException.start_minute,
            AvailabilityException.end_minute,
        )
        .where(
            (AvailabilityException.provider == provider)
            & (AvailabilityException.on_date.between(start_date, end_date))
        )
        .tuples()
    )
    return hours, exceptions


def _with_a_free_room(found, appt_type, rooms, lo, hi, exclude_id):
    hold = dt.timedelta(minutes=appt_type.duration_minutes + appt_type.buffer_after_minutes)
    room_busy = [busy(Appointment.room, r.id, lo, hi, exclude_id) for r in rooms]
    return [
        t
        for t in found
        if any(
            not any(slot_rules.overlaps(t, t + hold, s, e) for s, e in busy_r)
            for busy_r in room_busy
        )
    ]


def free_slots(
    provider,
    appt_type,
    start_date,
    end_date,
    *,
    practice,
    for_client=False,
    exclude_id=None,
    now=None,
):
    """Free start times (naive UTC) for one provider and type over local dates."""
    tz = practice.tz
    policy = policy_for(practice.id)
    now = now or clock.utcnow()
    hours, exceptions = _availability(provider, start_date, end_date)
    lo, hi = _local_day_bounds(tz, start_date, end_date)
    taken = busy(Appointment.provider, getattr(provider, "id", provider), lo, hi, exclude_id)
    not_before = now
    not_after = None
    if for_client:
        not_before = now + dt.timedelta(minutes=policy.min_lead_minutes)
        not_after = now + dt.timedelta(days=policy.max_days_ahead)
    found = slot_rules.free_slots(
        tz=tz,
        start_date=start_date,
        end_date=end_date,
        weekly_hours=hours,
        exceptions=exceptions,
        busy=taken,
        duration_minutes=appt_type.duration_minutes,
        buffer_after_minutes=appt_type.buffer_after_minutes,
        step_minutes=policy.slot_step_minutes,
        not_before=not_before,
        not_after=not_after,
    )
    rooms = active_rooms(practice.id)
    if rooms and for_client and found:
        found = _with_a_free_room(found, appt_type, rooms, lo, hi, exclude_id)
    return found


def free_slots_any(appt_type, start_date, end_date, *, practice, for_client=True, now=None):
    """{start_utc: [provider, ...]} over every provider offering the type."""
    out = {}
    for prov in providers_for_type(appt_type):
        for t in free_slots(
            prov, appt_type, start_date, end_date, practice=practice, for_client=for_client, now=now
        ):
            out.setdefault(t, []).append(prov)
    return dict(sorted(out.items()))


def next_slots(provider, appt_type, after_utc, *, practice, for_client, limit=5, exclude_id=None):
    """The next `limit` free starts from `after_utc` (provider None: any provider)."""
    start = slot_rules.to_local(after_utc, practice.tz).date()
    found = []
    for week in range(WEEKS_SEARCHED):
        a = start + dt.timedelta(days=7 * week)
        b = a + dt.timedelta(days=6)
        if provider is None:
            times = free_slots_any(appt_type, a, b, practice=practice, for_client=for_client)
        else:
            times = free_slots(
                provider,
                appt_type,
                a,
                b,
                practice=practice,
                for_client=for_client,
                exclude_id=exclude_id,
            )
        found += [t for t in times if t >= after_utc]
        if len(found) >= limit:
            break
    return found[:limit]


def _clock_words(value, tz):
    return slot_rules.to_local(value, tz).strftime("%-I:%M %p")


def what_blocks(provider_id, starts_at, blocked_until, tz, exclude_id=None):
    """For staff: why the provider cannot take [starts_at, blocked_until) when the cause is
    a buffer (the one after the visit before, or the new visit's own running into the
    next visit), in the practice's wall time; "" when a visit itself is in the way."""
    fields = (Appointment.starts_at, Appointment.ends_at, Appointment.blocked_until)
    rows = _touching(
        Appointment.provider, provider_id, starts_at, blocked_until, exclude_id, *fields
    )
    if not rows:
        return ""
    if any(s <= starts_at < e for s, e, _ in rows):
        return ""  # a visit itself
    before = [b for s, e, b in rows if e <= starts_at < b]
    if before:
        until = _clock_words(max(before), tz)
        return (
            f"That time is in the buffer after the visit before, until {until}: "
            "choose a free time below."
        )
    nxt = min(s for s, _, _ in rows)
    return (
        f"A visit then, with its buffer after it, would run into the provider's next visit "
        f"at {_clock_words(nxt, tz)}: start earlier, or choose a time after that visit."
    )


def nearest_slots(provider, appt_type, starts_at, *, practice, exclude_id=None, limit=5):
    """For staff, when a time is taken: the provider's free starts nearest to it that day
    (earlier or later, in order), then the next ones after that day if too few."""
    day = slot_rules.to_local(starts_at, practice.tz).date()
    todays = free_slots(provider, appt_type, day, day, practice=practice, exclude_id=exclude_id)
    found = sorted(sorted(todays, key=lambda t: abs(t - starts_at))[:limit])
    if len(found) < limit:
        tomorrow = slot_rules.to_utc(
            dt.datetime.combine(day + dt.timedelta(days=1), dt.time()), practice.tz
        )
        found += next_slots(
            provider,
            appt_type,
            tomorrow,
            practice=practice,
            for_client=False,
            limit=limit - len(found),
            exclude_id=exclude_id,
        )
    return found
