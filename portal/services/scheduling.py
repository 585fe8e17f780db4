"""Scheduling use cases: slots, book, move/resize, cancel, no-show, check-in, check-out,
recurring series and reminders.

Each write runs in ONE `database.atomic("IMMEDIATE")` with its audit rows and emits its
event inside that transaction. Double-booking is refused twice: the overlap is re-checked
inside the IMMEDIATE transaction (which serialises writers), and triggers in the database
abort any INSERT/UPDATE that would overlap anyway.
"""

import datetime as dt
import uuid

from peewee import IntegrityError, fn

from portal import audit, clock, mail
from portal.db import database
from portal.models import (
    Appointment,
    AppointmentMinutes,
    AppointmentType,
    AppointmentTypeCode,
    AppointmentTypeProvider,
    AvailabilityException,
    BookingPolicy,
    Provider,
    ProviderHours,
    Room,
)
from portal.models.scheduling import (
    ACTIVE_STATUSES,
    CANCELLED_STATUSES,
    STATUS_BOOKED,
    STATUS_CANCELLED,
    STATUS_CHECKED_IN,
    STATUS_COMPLETED,
    STATUS_LATE_CANCELLED,
    STATUS_NO_SHOW,
)
from portal.rules import slots as slot_rules
from portal.services import events


class BookingError(Exception):
    """A booking or change the rules refuse; the message is for the person."""


class SlotTaken(BookingError):
    """The time was just taken; `next_slots` offers the next free starts (naive UTC)."""

    def __init__(self, message="That time was just taken.", next_slots=()):
        super().__init__(message)
        self.next_slots = list(next_slots)


# --- reading -----------------------------------------------------------------------------


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


def _busy(column, value, start_utc, end_utc, exclude_id=None):
    """(starts_at, blocked_until) of active appointments touching [start_utc, end_utc)."""
    q = (
        Appointment.select(Appointment.starts_at, Appointment.blocked_until)
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


def _local_day_bounds(tz, start_date, end_date):
    lo = slot_rules.to_utc(dt.datetime.combine(start_date, dt.time()), tz) - dt.timedelta(hours=2)
    hi = slot_rules.to_utc(
        dt.datetime.combine(end_date + dt.timedelta(days=1), dt.time()), tz
    ) + dt.timedelta(hours=2)
    return lo, hi


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
    lo, hi = _local_day_bounds(tz, start_date, end_date)
    busy = _busy(Appointment.provider, getattr(provider, "id", provider), lo, hi, exclude_id)
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
        busy=busy,
        duration_minutes=appt_type.duration_minutes,
        buffer_after_minutes=appt_type.buffer_after_minutes,
        step_minutes=policy.slot_step_minutes,
        not_before=not_before,
        not_after=not_after,
    )
    rooms = active_rooms(practice.id)
    if rooms and for_client and found:
        hold = dt.timedelta(minutes=appt_type.duration_minutes + appt_type.buffer_after_minutes)
        room_busy = {r.id: _busy(Appointment.room, r.id, lo, hi, exclude_id) for r in rooms}
        found = [
            t
            for t in found
            if any(
                not any(slot_rules.overlaps(t, t + hold, s, e) for s, e in busy_r)
                for busy_r in room_busy.values()
            )
        ]
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


def active_rooms(practice_id):
    return list(
        Room.select()
        .where((Room.practice == practice_id) & (Room.active == True))  # noqa: E712
        .order_by(Room.name)
    )


def next_slots(provider, appt_type, after_utc, *, practice, for_client, limit=5, exclude_id=None):
    tz = practice.tz
    start = slot_rules.to_local(after_utc, tz).date()
    found = []
    for week in range(0, 8):
        a = start + dt.timedelta(days=7 * week)
        b = a + dt.timedelta(days=6)
        if provider is None:
            found += [
                t
                for t in free_slots_any(appt_type, a, b, practice=practice, for_client=for_client)
                if t >= after_utc
            ]
        else:
            found += [
                t
                for t in free_slots(
                    provider,
                    appt_type,
                    a,
                    b,
                    practice=practice,
                    for_client=for_client,
                    exclude_id=exclude_id,
                )
                if t >= after_utc
            ]
        if len(found) >= limit:
            break
    return found[:limit]


def day_appointments(practice_id, provider_ids, start_utc, end_utc, include_cancelled=True):
    """Appointments starting in [start_utc, end_utc) for these providers (index on
    (provider_id, starts_at)), with their type and client loaded."""
    from portal.models import Client

    q = (
        Appointment.select(Appointment, AppointmentType, Client)
        .join(AppointmentType, on=Appointment.appointment_type == AppointmentType.id)
        .switch(Appointment)
        .join(Client, on=Appointment.client == Client.id)
        .where(
            (Appointment.practice == practice_id)
            & Appointment.provider.in_(list(provider_ids))
            & (Appointment.starts_at >= start_utc)
            & (Appointment.starts_at < end_utc)
        )
        .order_by(Appointment.starts_at)
    )
    if not include_cancelled:
        q = q.where(Appointment.status.not_in(CANCELLED_STATUSES))
    return list(q)


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
    """Like day_appointments, for the day and week views: plain rows (one constant SQL
    statement on the (provider_id, starts_at) index, no ORM row building)."""
    from types import SimpleNamespace

    from portal.models.scheduling import STATUS_LABELS

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


# --- writing -----------------------------------------------------------------------------


def _check_free(practice, provider_id, room_id, starts_at, blocked_until, exclude_id=None):
    """Inside the transaction: is the provider (and room) free for [starts_at, blocked_until)?"""
    for column, value in ((Appointment.provider, provider_id), (Appointment.room, room_id)):
        if value is None:
            continue
        if _busy(column, value, starts_at, blocked_until, exclude_id):
            return False
    return True


def _pick_room(practice_id, starts_at, blocked_until, exclude_id=None):
    for room in active_rooms(practice_id):
        if not _busy(Appointment.room, room.id, starts_at, blocked_until, exclude_id):
            return room.id
    return None


def _times(appt_type, starts_at, duration_minutes=None):
    starts_at = starts_at.replace(second=0, microsecond=0)
    minutes = duration_minutes or appt_type.duration_minutes
    ends_at = starts_at + dt.timedelta(minutes=minutes)
    return starts_at, ends_at, ends_at + dt.timedelta(minutes=appt_type.buffer_after_minutes)


def book(
    *,
    practice,
    client,
    appt_type,
    starts_at,
    provider=None,
    room=None,
    notes="",
    user=None,
    online=False,
    series_id=None,
    duration_minutes=None,
    send_confirmation=True,
):
    """Book one appointment. provider=None means "any provider who offers the type".

    Online bookings must fall on a free slot within the policy; staff bookings may fall
    outside working hours but never overlap. Raises SlotTaken (with next slots) or
    BookingError. Returns the Appointment.
    """
    if appt_type.practice_id != practice.id or client.practice_id != practice.id:
        raise BookingError("That appointment type is not offered here.")
    if not appt_type.active or (online and not appt_type.online_bookable):
        raise BookingError("That appointment type cannot be booked online.")
    if online and not policy_for(practice.id).online_booking_enabled:
        raise BookingError("Online booking is turned off. Please call the practice.")
    starts_at, ends_at, blocked_until = _times(appt_type, starts_at, duration_minutes)
    now = clock.utcnow()
    if starts_at < now - dt.timedelta(days=1) and online:
        raise BookingError("That time has passed.")
    candidates = [provider] if provider is not None else providers_for_type(appt_type)
    if provider is not None and provider.practice_id != practice.id:
        raise BookingError("That provider is not part of this practice.")
    room_id = getattr(room, "id", room)
    try:
        with database.atomic("IMMEDIATE"):
            chosen = None
            for prov in candidates:
                if online:
                    tz = practice.tz
                    day = slot_rules.to_local(starts_at, tz).date()
                    ok = starts_at in free_slots(
                        prov, appt_type, day, day, practice=practice, for_client=True, now=now
                    )
                else:
                    ok = _check_free(practice, prov.id, None, starts_at, blocked_until)
                if ok:
                    chosen = prov
                    break
            if chosen is None:
                raise SlotTaken(
                    next_slots=next_slots(
                        provider, appt_type, starts_at, practice=practice, for_client=online
                    )
                )
            if room_id is None and online:
                room_id = _pick_room(practice.id, starts_at, blocked_until)
                if active_rooms(practice.id) and room_id is None:
                    raise SlotTaken(
                        next_slots=next_slots(
                            provider, appt_type, starts_at, practice=practice, for_client=online
                        )
                    )
            elif room_id is not None and not _check_free(
                practice, None, room_id, starts_at, blocked_until
            ):
                raise BookingError("That room is in use at that time.")
            appt = Appointment.create(
                practice=practice.id,
                client=client.id,
                provider=chosen.id,
                appointment_type=appt_type.id,
                room=room_id,
                starts_at=starts_at,
                ends_at=ends_at,
                blocked_until=blocked_until,
                status=STATUS_BOOKED,
                notes=notes or "",
                series_id=series_id,
                booked_online=online,
                booked_by=getattr(user, "id", None),
            )
            audit.record(
                "appointment.book",
                obj=appt,
                user=user,
                detail="online" if online else "staff",
            )
            events.appointment_booked.send(appt)
            if send_confirmation:
                queue_confirmation(appt, practice, client)
    except IntegrityError as exc:
        if "overlaps" in str(exc):
            raise SlotTaken(
                next_slots=next_slots(
                    provider, appt_type, starts_at, practice=practice, for_client=online
                )
            ) from exc
        raise
    return appt


def _require_active(appt):
    if appt.status not in (STATUS_BOOKED, STATUS_CHECKED_IN):
        raise BookingError("Only a booked or checked-in appointment can be changed.")


def move(
    appt,
    *,
    starts_at=None,
    duration_minutes=None,
    provider=None,
    room=None,
    user=None,
    online=False,
    keep_room=True,
):
    """Move and/or resize an appointment (and change its provider or room)."""
    _require_active(appt)
    practice = appt.practice
    appt_type = appt.appointment_type
    new_start = starts_at or appt.starts_at
    new_duration = duration_minutes or appt.duration_minutes
    if new_duration <= 0 or new_duration > 720:
        raise BookingError("Enter a length between 1 and 720 minutes.")
    new_start, ends_at, blocked_until = _times(appt_type, new_start, new_duration)
    new_provider = provider or appt.provider
    if new_provider.practice_id != appt.practice_id:
        raise BookingError("That provider is not part of this practice.")
    room_id = getattr(room, "id", room) if room is not None or not keep_room else appt.room_id
    try:
        with database.atomic("IMMEDIATE"):
            if online:
                day = slot_rules.to_local(new_start, practice.tz).date()
                ok = new_start in free_slots(
                    new_provider,
                    appt_type,
                    day,
                    day,
                    practice=practice,
                    for_client=True,
                    exclude_id=appt.id,
                )
            else:
                ok = _check_free(
                    practice, new_provider.id, None, new_start, blocked_until, exclude_id=appt.id
                )
            if not ok:
                raise SlotTaken(
                    next_slots=next_slots(
                        new_provider,
                        appt_type,
                        new_start,
                        practice=practice,
                        for_client=online,
                        exclude_id=appt.id,
                    )
                )
            if room_id is not None and not _check_free(
                practice, None, room_id, new_start, blocked_until, exclude_id=appt.id
            ):
                if online:
                    room_id = _pick_room(practice.id, new_start, blocked_until, exclude_id=appt.id)
                    if room_id is None:
                        raise SlotTaken(next_slots=[])
                else:
                    raise BookingError("That room is in use at that time.")
            changed = []
            if new_start != appt.starts_at:
                changed.append("starts_at")
            if ends_at != appt.ends_at:
                changed.append("ends_at")
            if new_provider.id != appt.provider_id:
                changed.append("provider")
            if room_id != appt.room_id:
                changed.append("room")
            Appointment.update(
                starts_at=new_start,
                ends_at=ends_at,
                blocked_until=blocked_until,
                provider=new_provider.id,
                room=room_id,
            ).where(Appointment.id == appt.id).execute()
            audit.record("appointment.move", obj=appt, user=user, detail=",".join(changed))
            appt = Appointment.get_by_id(appt.id)
            if online or changed:
                queue_confirmation(appt, practice, appt.client, kind="appointment.moved")
    except IntegrityError as exc:
        if "overlaps" in str(exc):
            raise SlotTaken(next_slots=[]) from exc
        raise
    return appt


def cancel(appt, *, user=None, by_client=False, waive_fee=False, now=None):
    """Cancel. Inside the policy's window it is a late cancellation with the fee due."""
    if appt.status not in (STATUS_BOOKED, STATUS_CHECKED_IN):
        raise BookingError("This appointment cannot be cancelled any more.")
    now = now or clock.utcnow()
    if by_client and appt.starts_at <= now:
        raise BookingError("This appointment has already started.")
    policy = policy_for(appt.practice_id)
    late = slot_rules.is_late_cancellation(appt.starts_at, now, policy.cancellation_window_hours)
    fee = policy.late_cancel_fee_cents if late and not (waive_fee and not by_client) else 0
    with database.atomic("IMMEDIATE"):
        fresh = Appointment.get_by_id(appt.id)
        if fresh.status not in (STATUS_BOOKED, STATUS_CHECKED_IN):
            raise BookingError("This appointment cannot be cancelled any more.")
        Appointment.update(
            status=STATUS_LATE_CANCELLED if late else STATUS_CANCELLED,
            cancelled_at=now,
            fee_due_cents=fee,
        ).where(Appointment.id == appt.id).execute()
        fresh = Appointment.get_by_id(appt.id)
        audit.record(
            "appointment.cancel",
            obj=fresh,
            user=user,
            detail=("late" if late else "on time") + (" by client" if by_client else ""),
        )
        events.appointment_cancelled.send(fresh, late=late)
        if fresh.client.email:
            mail.queue(
                fresh.client.email,
                f"Appointment cancelled: {fresh.practice.name}",
                _mail_body(fresh, "Your appointment has been cancelled."),
                practice=fresh.practice_id,
                kind="appointment.cancelled",
                dedupe_key=f"appt-cancel:{fresh.id}",
            )
    return fresh


def no_show(appt, *, user=None, waive_fee=False):
    if appt.status not in (STATUS_BOOKED, STATUS_CHECKED_IN):
        raise BookingError("Only a booked appointment can be marked as a no-show.")
    if appt.starts_at > clock.utcnow():
        raise BookingError("An appointment in the future cannot be a no-show yet.")
    policy = policy_for(appt.practice_id)
    with database.atomic("IMMEDIATE"):
        Appointment.update(
            status=STATUS_NO_SHOW,
            fee_due_cents=0 if waive_fee else policy.no_show_fee_cents,
        ).where(Appointment.id == appt.id).execute()
        fresh = Appointment.get_by_id(appt.id)
        audit.record("appointment.no_show", obj=fresh, user=user)
        events.appointment_no_show.send(fresh)
    return fresh


def check_in(appt, *, user=None):
    if appt.status != STATUS_BOOKED:
        raise BookingError("Only a booked appointment can be checked in.")
    with database.atomic("IMMEDIATE"):
        Appointment.update(status=STATUS_CHECKED_IN, checked_in_at=clock.utcnow()).where(
            Appointment.id == appt.id
        ).execute()
        fresh = Appointment.get_by_id(appt.id)
        audit.record("appointment.check_in", obj=fresh, user=user)
    return fresh


def undo_status(appt, *, user=None):
    """Back to booked (a mistaken check-in or no-show); fees are cleared."""
    if appt.status not in (STATUS_CHECKED_IN, STATUS_NO_SHOW):
        raise BookingError("Only a check-in or a no-show can be undone.")
    with database.atomic("IMMEDIATE"):
        Appointment.update(status=STATUS_BOOKED, checked_in_at=None, fee_due_cents=0).where(
            Appointment.id == appt.id
        ).execute()
        fresh = Appointment.get_by_id(appt.id)
        audit.record("appointment.undo", obj=fresh, user=user, detail=appt.status)
    return fresh


def check_out(appt, minutes_by_code, *, user=None):
    """Complete the visit: record minutes per CPT code and emit appointment_completed,
    all in one transaction (billing's receivers write inside it)."""
    if appt.status not in (STATUS_BOOKED, STATUS_CHECKED_IN):
        raise BookingError("Only a booked or checked-in appointment can be checked out.")
    cleaned = {}
    for code, minutes in minutes_by_code.items():
        code = (code or "").strip().upper()
        if not code:
            continue
        if not (len(code) == 5 and code.isalnum()):
            raise BookingError(f"{code} is not a CPT code (five characters).")
        if minutes is None or int(minutes) <= 0:
            continue
        if int(minutes) > 720:
            raise BookingError("Minutes per code must be at most 720.")
        cleaned[code] = cleaned.get(code, 0) + int(minutes)
    if not cleaned:
        raise BookingError("Record the minutes for at least one code.")
    now = clock.utcnow()
    with database.atomic("IMMEDIATE"):
        fresh = Appointment.get_by_id(appt.id)
        if fresh.status not in (STATUS_BOOKED, STATUS_CHECKED_IN):
            raise BookingError("This appointment was already checked out.")
        AppointmentMinutes.delete().where(AppointmentMinutes.appointment == appt.id).execute()
        for code, minutes in cleaned.items():
            AppointmentMinutes.create(
                practice=appt.practice_id,
                client=appt.client_id,
                appointment=appt.id,
                cpt_code=code,
                minutes=minutes,
            )
        Appointment.update(
            status=STATUS_COMPLETED,
            completed_at=now,
            checked_in_at=fresh.checked_in_at or now,
        ).where(Appointment.id == appt.id).execute()
        fresh = Appointment.get_by_id(appt.id)
        audit.record("appointment.check_out", obj=fresh, user=user, detail="minutes")
        events.appointment_completed.send(fresh)
    return fresh


# --- recurring ---------------------------------------------------------------------------


def plan_series(*, practice, provider, appt_type, first_start, every_weeks, count, room=None):
    """[(starts_at, problem or None)] for a series, before anything is booked."""
    if count > 52:
        raise BookingError("A series can hold at most 52 appointments.")
    starts = slot_rules.recurring_starts(first_start, practice.tz, every_weeks, count)
    plan = []
    room_id = getattr(room, "id", room)
    for s in starts:
        s, _e, blocked = _times(appt_type, s)
        problem = None
        if not _check_free(practice, provider.id, None, s, blocked):
            problem = "The provider is booked then."
        elif room_id and not _check_free(practice, None, room_id, s, blocked):
            problem = "The room is in use then."
        plan.append((s, problem))
    return plan


def book_series(
    *, practice, client, provider, appt_type, first_start, every_weeks, count, room=None, user=None
):
    """Book the free dates of a series in one transaction; returns (booked, skipped)."""
    series_id = uuid.uuid4().hex
    booked, skipped = [], []
    with database.atomic("IMMEDIATE"):
        for s, problem in plan_series(
            practice=practice,
            provider=provider,
            appt_type=appt_type,
            first_start=first_start,
            every_weeks=every_weeks,
            count=count,
            room=room,
        ):
            if problem:
                skipped.append((s, problem))
                continue
            booked.append(
                book(
                    practice=practice,
                    client=client,
                    provider=provider,
                    appt_type=appt_type,
                    starts_at=s,
                    room=room,
                    user=user,
                    series_id=series_id,
                    send_confirmation=False,
                )
            )
        if booked:
            queue_confirmation(booked[0], practice, client, series=booked)
    return booked, skipped


# --- mail and reminders ------------------------------------------------------------------


def _fmt(appt_or_dt, tz):
    value = getattr(appt_or_dt, "starts_at", appt_or_dt)
    return slot_rules.to_local(value, tz).strftime("%A %d %B %Y at %-I:%M %p")


def _link():
    from flask import current_app, has_app_context

    base = current_app.config.get("BASE_URL", "") if has_app_context() else ""
    return base.rstrip("/") + "/portal/appointments"


def _mail_body(appt, headline, series=None):
    practice = appt.practice
    lines = [headline, ""]
    for a in series or [appt]:
        lines.append("  " + _fmt(a, practice.tz))
    lines += [
        "",
        practice.name,
        ", ".join(x for x in (practice.address1, practice.city) if x),
        "",
        "To see, reschedule or cancel, log in: " + _link(),
    ]
    return "\n".join(lines) + "\n"


def queue_confirmation(appt, practice, client, kind="appointment.booked", series=None):
    if not client.email:
        return None
    from portal.services.calendar import appointment_ics

    headline = {
        "appointment.booked": "Your appointment is booked.",
        "appointment.moved": "Your appointment has moved.",
    }.get(kind, "Your appointment.")
    return mail.queue(
        client.email,
        f"Appointment {'confirmed' if kind == 'appointment.booked' else 'changed'}: "
        f"{practice.name}",
        _mail_body(appt, headline, series),
        practice=practice.id,
        kind=kind,
        dedupe_key=f"{kind}:{appt.id}:{appt.starts_at:%Y%m%d%H%M}",
        attachment_name="appointment.ics",
        attachment_type="text/calendar",
        attachment=appointment_ics(series or [appt], practice),
    )


def send_reminders(now=None, hours=None):
    """Queue a reminder for every booked appointment starting within `hours` (default: each
    practice's policy, 24) from now. A dedupe key per appointment and start time makes a
    second run send nothing; a moved appointment is reminded again. Returns the count."""
    now = now or clock.utcnow()
    if hours is None:
        longest = BookingPolicy.select(fn.MAX(BookingPolicy.reminder_hours)).scalar()
        horizon = max(24, longest or 24)
    else:
        horizon = hours
    q = Appointment.select().where(
        (Appointment.status == STATUS_BOOKED)
        & (Appointment.starts_at > now)
        & (Appointment.starts_at <= now + dt.timedelta(hours=horizon))
    )
    sent = 0
    policies = {}
    for appt in q:
        if hours is None:
            pol = policies.setdefault(appt.practice_id, policy_for(appt.practice_id))
            if appt.starts_at > now + dt.timedelta(hours=pol.reminder_hours):
                continue
        client = appt.client
        if not client.email:
            continue
        with database.atomic("IMMEDIATE"):
            msg = mail.queue(
                client.email,
                f"Reminder: your appointment at {appt.practice.name}",
                _mail_body(appt, "A reminder of your appointment:"),
                practice=appt.practice_id,
                kind="appointment.reminder",
                dedupe_key=f"reminder:{appt.id}:{appt.starts_at:%Y%m%d%H%M}",
            )
            if msg is not None:
                audit.record(
                    "appointment.reminder", obj=appt, practice_id=appt.practice_id, detail="queued"
                )
                sent += 1
    return sent


__all__ = [
    "ACTIVE_STATUSES",
    "BookingError",
    "SlotTaken",
    "STATUS_COMPLETED",
    "book",
    "book_series",
    "cancel",
    "check_in",
    "check_out",
    "free_slots",
    "move",
    "no_show",
    "plan_series",
    "send_reminders",
]
