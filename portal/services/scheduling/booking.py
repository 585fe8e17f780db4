"""Booking and changing a visit's time: one appointment, a weekly series, a move or
resize (another provider or room, staff notes).

Online bookings must fall on a free slot within the policy; staff bookings may fall
outside working hours but never overlap.
"""

import datetime as dt
import uuid

from peewee import IntegrityError

from portal import audit, clock
from portal.db import database
from portal.models import Appointment
from portal.rules import appointments as rules
from portal.rules import slots as slot_rules
from portal.rules.appointments import BookingError
from portal.services import events
from portal.services.scheduling.catalog import active_rooms, policy_for, providers_for_type
from portal.services.scheduling.guards import check_client, conflicts_for
from portal.services.scheduling.notices import queue_confirmation
from portal.services.scheduling.slots import (
    MAX_VISIT_MINUTES,
    SlotTaken,
    free_room,
    free_slots,
    is_free,
    nearest_slots,
    next_slots,
    visit_times,
    what_blocks,
)

MAX_SERIES = 52


def _check_bookable(practice, client, appt_type, provider, online):
    if appt_type.practice_id != practice.id or client.practice_id != practice.id:
        raise BookingError("That appointment type is not offered here.")
    if not appt_type.active or (online and not appt_type.online_bookable):
        raise BookingError("That appointment type cannot be booked online.")
    if online and not policy_for(practice.id).online_booking_enabled:
        raise BookingError("Online booking is turned off. Please call the practice.")
    if provider is not None and provider.practice_id != practice.id:
        raise BookingError("That provider is not part of this practice.")


def _on_a_free_slot(provider, appt_type, starts_at, practice, now, exclude_id=None):
    """Online: the start is one of the provider's free slots for clients that day."""
    day = slot_rules.to_local(starts_at, practice.tz).date()
    slots = free_slots(
        provider,
        appt_type,
        day,
        day,
        practice=practice,
        for_client=True,
        exclude_id=exclude_id,
        now=now,
    )
    return starts_at in slots


def _free_provider(candidates, appt_type, starts_at, blocked_until, practice, online, now):
    for prov in candidates:
        if online:
            ok = _on_a_free_slot(prov, appt_type, starts_at, practice, now)
        else:
            ok = is_free(prov.id, None, starts_at, blocked_until)
        if ok:
            return prov
    return None


def _booking_room(practice, room_id, starts_at, blocked_until, online, taken):
    """The room for a new visit: online, any free room when the practice has rooms;
    for staff, the chosen one (if any) when it is free."""
    if room_id is None and online:
        room_id = free_room(practice.id, starts_at, blocked_until)
        if room_id is None and active_rooms(practice.id):
            raise taken()
    elif room_id is not None and not is_free(None, room_id, starts_at, blocked_until):
        raise BookingError("That room is in use at that time.")
    return room_id


def _staff_taken(provider, appt_type, starts_at, blocked_until, practice, exclude_id=None):
    """Staff: what blocks the time (a buffer, said so, in the practice's wall time) and
    the provider's free times nearest to it that day."""
    return SlotTaken(
        next_slots=nearest_slots(
            provider, appt_type, starts_at, practice=practice, exclude_id=exclude_id
        ),
        reason=what_blocks(provider.id, starts_at, blocked_until, practice.tz, exclude_id),
    )


def _taken(provider, appt_type, starts_at, blocked_until, practice, online):
    if online or provider is None:
        return SlotTaken(
            next_slots=next_slots(
                provider, appt_type, starts_at, practice=practice, for_client=online
            )
        )
    return _staff_taken(provider, appt_type, starts_at, blocked_until, practice)


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
    override_reason="",
):
    """Book one appointment. provider=None means "any provider who offers the type".
    Raises SlotTaken (with next slots), ClientConflict (the client's other visits with
    another provider: staff book anyway by giving `override_reason`) or BookingError.
    Returns the Appointment."""
    _check_bookable(practice, client, appt_type, provider, online)
    starts_at, ends_at, blocked_until = visit_times(appt_type, starts_at, duration_minutes)
    now = clock.utcnow()
    if starts_at < now - dt.timedelta(days=1) and online:
        raise BookingError("That time has passed.")
    candidates = [provider] if provider is not None else providers_for_type(appt_type)

    def taken():
        return _taken(provider, appt_type, starts_at, blocked_until, practice, online)

    try:
        with database.atomic("IMMEDIATE"):
            chosen = _free_provider(
                candidates, appt_type, starts_at, blocked_until, practice, online, now
            )
            if chosen is None:
                raise taken()
            room_id = _booking_room(
                practice, getattr(room, "id", room), starts_at, blocked_until, online, taken
            )
            reason = check_client(
                client.id,
                starts_at,
                ends_at,
                chosen.id,
                online=online,
                override_reason=override_reason,
            )
            appt = Appointment.create(
                practice=practice.id,
                client=client.id,
                provider=chosen.id,
                appointment_type=appt_type.id,
                room=room_id,
                starts_at=starts_at,
                ends_at=ends_at,
                blocked_until=blocked_until,
                status=rules.BOOKED,
                notes=notes or "",
                series_id=series_id,
                booked_online=online,
                booked_by=getattr(user, "id", None),
                override_reason=reason,
            )
            detail = "online" if online else "staff"
            if reason:
                detail += ", client overlap overridden"
            audit.record("appointment.book", obj=appt, user=user, detail=detail)
            events.appointment_booked.send(appt)
            if send_confirmation:
                queue_confirmation(appt, practice, client)
    except IntegrityError as exc:
        if "overlaps" in str(exc):
            raise taken() from exc
        raise
    return appt


# --- moving ------------------------------------------------------------------------------


def _move_room(appt, room_id, new_start, blocked_until, online):
    if room_id is None or is_free(None, room_id, new_start, blocked_until, exclude_id=appt.id):
        return room_id
    if not online:
        raise BookingError("That room is in use at that time.")
    room_id = free_room(appt.practice_id, new_start, blocked_until, exclude_id=appt.id)
    if room_id is None:
        raise SlotTaken(next_slots=[])
    return room_id


def _check_move_free(appt, appt_type, practice, provider, new_start, blocked_until, online):
    if online:
        ok = _on_a_free_slot(provider, appt_type, new_start, practice, None, exclude_id=appt.id)
    else:
        ok = is_free(provider.id, None, new_start, blocked_until, exclude_id=appt.id)
    if not ok and not online:
        raise _staff_taken(provider, appt_type, new_start, blocked_until, practice, appt.id)
    if not ok:
        raise SlotTaken(
            next_slots=next_slots(
                provider,
                appt_type,
                new_start,
                practice=practice,
                for_client=online,
                exclude_id=appt.id,
            )
        )


def _changes(current, new_start, ends_at, provider_id, room_id):
    before = (current.starts_at, current.ends_at, current.provider_id, current.room_id)
    after = (new_start, ends_at, provider_id, room_id)
    names = ("starts_at", "ends_at", "provider", "room")
    return [name for name, b, a in zip(names, before, after, strict=True) if b != a]


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
    notes=None,
    override_reason="",
):
    """Move and/or resize an appointment (and change its provider, room or, with `notes`
    given, the staff notes), in one transaction. The client hears of a new time."""
    practice, appt_type = appt.practice, appt.appointment_type
    new_start = starts_at or appt.starts_at
    new_duration = duration_minutes or appt.duration_minutes
    if new_duration <= 0 or new_duration > MAX_VISIT_MINUTES:
        raise BookingError(f"Enter a length between 1 and {MAX_VISIT_MINUTES} minutes.")
    new_start, ends_at, blocked_until = visit_times(appt_type, new_start, new_duration)
    new_provider = provider or appt.provider
    if new_provider.practice_id != appt.practice_id:
        raise BookingError("That provider is not part of this practice.")
    room_id = getattr(room, "id", room) if room is not None or not keep_room else appt.room_id
    try:
        with database.atomic("IMMEDIATE"):
            current = Appointment.get_by_id(appt.id)
            rules.check(rules.CHANGE, current.status)
            _check_move_free(
                current, appt_type, practice, new_provider, new_start, blocked_until, online
            )
            room_id = _move_room(current, room_id, new_start, blocked_until, online)
            changed = _changes(current, new_start, ends_at, new_provider.id, room_id)
            fields = dict(starts_at=new_start, ends_at=ends_at, blocked_until=blocked_until)
            fields.update(provider=new_provider.id, room=room_id)
            if {"starts_at", "ends_at", "provider"} & set(changed):
                reason = check_client(
                    current.client_id,
                    new_start,
                    ends_at,
                    new_provider.id,
                    online=online,
                    override_reason=override_reason,
                    exclude_id=current.id,
                )
                if reason:
                    fields["override_reason"] = reason
                    changed.append("client overlap overridden")
            if notes is not None and notes != current.notes:
                fields["notes"] = notes
            Appointment.update(**fields).where(Appointment.id == appt.id).execute()
            audit.record("appointment.move", obj=current, user=user, detail=",".join(changed))
            if "notes" in fields:
                audit.record("appointment.edit", obj=current, user=user, detail="notes")
            appt = Appointment.get_by_id(appt.id)
            if online or changed:
                queue_confirmation(appt, practice, appt.client, kind="appointment.moved")
    except IntegrityError as exc:
        if "overlaps" in str(exc):
            raise SlotTaken(next_slots=[]) from exc
        raise
    return appt


# --- recurring ---------------------------------------------------------------------------


def plan_series(
    *, practice, provider, appt_type, first_start, every_weeks, count, room=None, client=None
):
    """[(starts_at, problem or None)] for a series, before anything is booked. With the
    client, a date where they see another provider at or right around that time is a
    problem too (left out, as a conflict)."""
    if count > MAX_SERIES:
        raise BookingError(f"A series can hold at most {MAX_SERIES} appointments.")
    starts = slot_rules.recurring_starts(first_start, practice.tz, every_weeks, count)
    plan = []
    room_id = getattr(room, "id", room)
    for s in starts:
        s, ends, blocked = visit_times(appt_type, s)
        problem = None
        if not is_free(provider.id, None, s, blocked):
            problem = "The provider is booked then."
        elif room_id and not is_free(None, room_id, s, blocked):
            problem = "The room is in use then."
        elif client is not None and conflicts_for(client.id, s, ends, provider.id):
            problem = "The client sees another provider at or right around that time."
        plan.append((s, problem))
    return plan


def book_series(
    *, practice, client, provider, appt_type, first_start, every_weeks, count, room=None, user=None
):
    """Book the free dates of a series in one transaction; returns (booked, skipped)."""
    series_id = uuid.uuid4().hex
    booked, skipped = [], []
    with database.atomic("IMMEDIATE"):
        plan = plan_series(
            practice=practice,
            provider=provider,
            appt_type=appt_type,
            first_start=first_start,
            every_weeks=every_weeks,
            count=count,
            room=room,
            client=client,
        )
        for s, problem in plan:
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
