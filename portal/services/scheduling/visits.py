"""A visit at the desk: check-in, check-out (complete), cancel, no-show, undo.

Every status change is checked once, inside its IMMEDIATE transaction, against the row as
stored then, by the transition table in `portal.rules.appointments`; the change, its audit
row and its event commit or roll back together.

Seams for other areas (`portal.services.events`): `appointment_completed` is sent by
check_out after the minutes are recorded, inside the transaction; billing (and later
claims and the client's share at the desk) extend check-out by receiving it, and abort it
by raising. `appointment_cancelled` and `appointment_no_show` carry the fee rules' result.
"""

from portal import audit, clock
from portal.db import database
from portal.models import Appointment, AppointmentMinutes
from portal.rules import appointments as rules
from portal.services import events
from portal.services.scheduling.catalog import policy_for
from portal.services.scheduling.notices import queue_cancellation


def _stored(appt):
    """The row as stored now (inside the transaction: what the rules must judge)."""
    return Appointment.get_by_id(appt.id)


def _write(appt_id, **fields):
    Appointment.update(**fields).where(Appointment.id == appt_id).execute()
    return Appointment.get_by_id(appt_id)


def check_in(appt, *, user=None, now=None):
    """Check in, on the visit's own day only (the policy's window before the start)."""
    now = now or clock.utcnow()
    policy = policy_for(appt.practice_id)
    with database.atomic("IMMEDIATE"):
        stored = _stored(appt)
        status = rules.check(rules.CHECK_IN, stored.status)
        refusal = rules.check_in_refusal(
            stored.starts_at, now, stored.practice.tz, policy.check_in_window_minutes
        )
        if refusal:
            raise rules.BookingError(refusal)
        fresh = _write(appt.id, status=status, checked_in_at=now)
        audit.record("appointment.check_in", obj=fresh, user=user)
    return fresh


def undo_status(appt, *, user=None):
    """Back to booked (a mistaken check-in or no-show); fees are cleared."""
    with database.atomic("IMMEDIATE"):
        before = _stored(appt).status
        status = rules.check(rules.UNDO, before)
        fresh = _write(appt.id, status=status, checked_in_at=None, fee_due_cents=0)
        audit.record("appointment.undo", obj=fresh, user=user, detail=before)
    return fresh


def _record_minutes(appt, minutes_by_code):
    AppointmentMinutes.delete().where(AppointmentMinutes.appointment == appt.id).execute()
    for code, minutes in minutes_by_code.items():
        AppointmentMinutes.create(
            practice=appt.practice_id,
            client=appt.client_id,
            appointment=appt.id,
            cpt_code=code,
            minutes=minutes,
        )


def check_out(appt, minutes_by_code, *, user=None):
    """Complete the visit: record minutes per CPT code and emit appointment_completed,
    all in one transaction (billing's receivers write inside it)."""
    cleaned = rules.visit_minutes(minutes_by_code)
    now = clock.utcnow()
    with database.atomic("IMMEDIATE"):
        stored = _stored(appt)
        status = rules.check(rules.CHECK_OUT, stored.status)
        _record_minutes(stored, cleaned)
        fresh = _write(
            appt.id,
            status=status,
            completed_at=now,
            checked_in_at=stored.checked_in_at or now,
        )
        audit.record("appointment.check_out", obj=fresh, user=user, detail="minutes")
        events.appointment_completed.send(fresh)
    return fresh


def cancel(appt, *, user=None, by_client=False, waive_fee=False, now=None):
    """Cancel. Inside the policy's window it is a late cancellation with the fee due."""
    now = now or clock.utcnow()
    policy = policy_for(appt.practice_id)
    with database.atomic("IMMEDIATE"):
        stored = _stored(appt)
        status, fee = rules.cancellation(
            stored.status,
            starts_at=stored.starts_at,
            now=now,
            window_hours=policy.cancellation_window_hours,
            fee_cents=policy.late_cancel_fee_cents,
            by_client=by_client,
            waive_fee=waive_fee,
        )
        late = status == rules.LATE_CANCELLED
        fresh = _write(appt.id, status=status, cancelled_at=now, fee_due_cents=fee)
        audit.record(
            "appointment.cancel",
            obj=fresh,
            user=user,
            detail=("late" if late else "on time") + (" by client" if by_client else ""),
        )
        events.appointment_cancelled.send(fresh, late=late)
        queue_cancellation(fresh)
    return fresh


def no_show(appt, *, user=None, waive_fee=False):
    policy = policy_for(appt.practice_id)
    with database.atomic("IMMEDIATE"):
        stored = _stored(appt)
        status, fee = rules.no_show(
            stored.status,
            starts_at=stored.starts_at,
            now=clock.utcnow(),
            fee_cents=policy.no_show_fee_cents,
            waive_fee=waive_fee,
            grace_minutes=policy.no_show_grace_minutes,
        )
        fresh = _write(appt.id, status=status, fee_due_cents=fee)
        audit.record("appointment.no_show", obj=fresh, user=user)
        events.appointment_no_show.send(fresh)
    return fresh
