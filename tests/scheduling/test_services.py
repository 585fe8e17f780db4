"""Scheduling services against a real database: booking, overlaps (service and trigger),
moving, cancelling with the policy, no-shows, check-in/out, series, reminders, feeds."""

import datetime as dt

import pytest
from peewee import IntegrityError

from portal.db import database
from portal.models import Appointment, AppointmentMinutes, AuditLog, OutboxMessage, Room
from portal.services import calendar as cal
from portal.services import events
from portal.services import scheduling as svc
from tests.scheduling.conftest import local_utc

DAY = dt.date(2026, 6, 3)  # Wednesday, two days after NOW


def _book(side, hour, minute=0, provider=None, t=None, client=None, **kw):
    return svc.book(
        practice=side.practice,
        client=client or side.c1,
        appt_type=t or side.t60,
        provider=provider or side.provider,
        starts_at=local_utc(DAY, hour, minute),
        **kw,
    )


def test_book_writes_audit_event_and_confirmation_with_ics(ctx, sched):
    a = sched.a
    seen = []

    def receiver(appt):
        seen.append((appt.id, database.in_transaction()))

    events.appointment_booked.connect(receiver)
    try:
        appt = _book(a, 10)
    finally:
        events.appointment_booked.disconnect(receiver)
    assert seen == [(appt.id, True)]
    assert appt.ends_at - appt.starts_at == dt.timedelta(minutes=60)
    assert appt.blocked_until - appt.ends_at == dt.timedelta(minutes=15)
    assert AuditLog.select().where(AuditLog.action == "appointment.book").count() == 1
    msg = OutboxMessage.get(OutboxMessage.kind == "appointment.booked")
    assert msg.to_addr == a.c1.email
    assert "Wednesday 03 June 2026 at 10:00 AM" in msg.body
    assert a.c1.first_name not in msg.body and a.c1.last_name not in msg.body
    assert msg.attachment_name == "appointment.ics"
    assert "BEGIN:VEVENT" in msg.attachment and "DTSTART:20260603T170000Z" in msg.attachment
    assert a.c1.last_name not in msg.attachment


def test_overlap_is_refused_with_next_slots_and_buffer_counts(ctx, sched):
    a = sched.a
    _book(a, 10)
    with pytest.raises(svc.SlotTaken) as exc:
        _book(a, 10, 30, client=a.c2)
    assert exc.value.next_slots
    # 11:00 is inside the 15-minute buffer of the first visit
    with pytest.raises(svc.SlotTaken):
        _book(a, 11, client=a.c2)
    assert _book(a, 11, 15, client=a.c2).starts_at == local_utc(DAY, 11, 15)
    # the other provider is free at 10:00 (the client's 11:15 follows: said why)
    assert _book(a, 10, provider=a.provider2, client=a.c2, override_reason="two therapists")


def test_trigger_refuses_an_overlap_written_past_the_service(ctx, sched):
    a = sched.a
    first = _book(a, 10)
    with pytest.raises(IntegrityError, match="overlaps"), database.atomic():
        Appointment.create(
            practice=a.practice,
            client=a.c2,
            provider=a.provider,
            appointment_type=a.t60,
            starts_at=local_utc(DAY, 10, 45),
            ends_at=local_utc(DAY, 11, 45),
            blocked_until=local_utc(DAY, 11, 45),
        )
    second = _book(a, 12)
    with pytest.raises(IntegrityError, match="overlaps"), database.atomic():
        Appointment.update(
            starts_at=first.starts_at, ends_at=first.ends_at, blocked_until=first.blocked_until
        ).where(Appointment.id == second.id).execute()
    # a cancelled appointment does not block
    Appointment.update(status="cancelled").where(Appointment.id == first.id).execute()
    assert _book(a, 10, client=a.c2)


def test_room_trigger_and_service(ctx, sched):
    a = sched.a
    room = Room.create(practice=a.practice, name="Room 1")
    _book(a, 10, room=room)
    with pytest.raises(svc.BookingError, match="room"):
        _book(a, 10, provider=a.provider2, room=room, client=a.c2)
    with pytest.raises(IntegrityError, match="room_id"), database.atomic():
        Appointment.create(
            practice=a.practice,
            client=a.c2,
            provider=a.provider2,
            appointment_type=a.t60,
            room=room,
            starts_at=local_utc(DAY, 10),
            ends_at=local_utc(DAY, 11),
            blocked_until=local_utc(DAY, 11),
        )


def test_online_booking_respects_hours_and_lead_time(ctx, sched, now):
    a = sched.a
    with pytest.raises(svc.SlotTaken):
        _book(a, 8, online=True)  # before opening
    now["now"] += dt.timedelta(minutes=30)
    with pytest.raises(svc.SlotTaken):
        svc.book(
            practice=a.practice,
            client=a.c1,
            appt_type=a.t60,
            provider=a.provider,
            starts_at=local_utc(dt.date(2026, 6, 1), 9),  # in 30 min: inside the lead time
            online=True,
        )
    appt = _book(a, 9, online=True, provider=None)  # "any"
    assert appt.booked_online and appt.provider_id in (a.provider.id, a.provider2.id)


def test_any_provider_takes_the_free_one(ctx, sched):
    a = sched.a
    _book(a, 10, provider=a.provider)
    appt = svc.book(
        practice=a.practice,
        client=a.c2,
        appt_type=a.t60,
        provider=None,
        starts_at=local_utc(DAY, 10),
        online=True,
    )
    assert appt.provider_id == a.provider2.id
    with pytest.raises(svc.SlotTaken):
        svc.book(
            practice=a.practice,
            client=a.c2,
            appt_type=a.t60,
            provider=None,
            starts_at=local_utc(DAY, 10),
            online=True,
        )


def test_move_and_resize(ctx, sched):
    a = sched.a
    appt = _book(a, 10)
    other = _book(a, 13, client=a.c2)
    moved = svc.move(appt, starts_at=local_utc(DAY, 11))
    assert moved.starts_at == local_utc(DAY, 11)
    resized = svc.move(moved, duration_minutes=90)
    assert resized.ends_at == local_utc(DAY, 12, 30)
    with pytest.raises(svc.SlotTaken):
        svc.move(resized, duration_minutes=110)  # would run into 13:00 with the buffer
    with pytest.raises(svc.SlotTaken):
        svc.move(other, starts_at=local_utc(DAY, 12))
    assert AuditLog.select().where(AuditLog.action == "appointment.move").count() == 2


def test_cancel_on_time_has_no_fee(ctx, sched):
    a = sched.a
    seen = []

    def receiver(appt, late):
        seen.append(late)

    events.appointment_cancelled.connect(receiver)
    try:
        appt = svc.cancel(_book(a, 10), by_client=True)
    finally:
        events.appointment_cancelled.disconnect(receiver)
    assert appt.status == "cancelled" and appt.fee_due_cents == 0
    assert seen == [False]


def test_late_cancellation_inside_the_window_records_the_fee(ctx, sched, now):
    a = sched.a
    appt = _book(a, 10)
    now["now"] = appt.starts_at - dt.timedelta(hours=5)
    seen = []

    def receiver(appt, late):
        seen.append(late)

    events.appointment_cancelled.connect(receiver)
    try:
        cancelled = svc.cancel(appt, by_client=True)
    finally:
        events.appointment_cancelled.disconnect(receiver)
    assert cancelled.status == "late_cancelled"
    assert cancelled.fee_due_cents == 4000
    assert seen == [True]
    assert Appointment.get_by_id(appt.id).fee_due_cents == 4000
    # staff may waive it
    appt2 = _book(a, 14, client=a.c2)
    assert svc.cancel(appt2, waive_fee=True).fee_due_cents == 0


def test_no_show_fee_and_undo(ctx, sched, now):
    a = sched.a
    appt = _book(a, 10)
    with pytest.raises(svc.BookingError):
        svc.no_show(appt)  # in the future
    now["now"] = appt.starts_at + dt.timedelta(minutes=20)
    marked = svc.no_show(appt)
    assert marked.status == "no_show" and marked.fee_due_cents == 9500
    assert svc.undo_status(marked).fee_due_cents == 0


def test_check_in_and_out_records_minutes_and_emits_completed(ctx, sched, now):
    a = sched.a
    appt = _book(a, 10)
    now["now"] = appt.starts_at - dt.timedelta(minutes=5)
    appt = svc.check_in(appt)
    assert appt.status == "checked_in" and appt.checked_in_at
    seen = []

    def receiver(appt):
        seen.append(
            (
                AppointmentMinutes.select()
                .where(AppointmentMinutes.appointment == appt.id)
                .count(),
                database.in_transaction(),
            )
        )

    events.appointment_completed.connect(receiver)
    try:
        done = svc.check_out(appt, {"97124": 45, "97140": 15})
    finally:
        events.appointment_completed.disconnect(receiver)
    assert done.status == "completed"
    assert seen == [(2, True)]
    rows = {m.cpt_code: m.minutes for m in done.minutes}
    assert rows == {"97124": 45, "97140": 15}
    with pytest.raises(svc.BookingError):
        svc.check_out(done, {"97124": 60})


def test_check_out_rolls_back_when_a_receiver_fails(ctx, sched):
    a = sched.a
    appt = _book(a, 10)

    def boom(appt):
        raise RuntimeError("billing failed")

    events.appointment_completed.connect(boom)
    try:
        with pytest.raises(RuntimeError):
            svc.check_out(appt, {"97124": 60})
    finally:
        events.appointment_completed.disconnect(boom)
    assert Appointment.get_by_id(appt.id).status == "booked"
    assert AppointmentMinutes.select().count() == 0


@pytest.mark.parametrize(
    "minutes, message",
    [({}, "at least one"), ({"9712": 30}, "not a CPT"), ({"97124": 900}, "720")],
)
def test_check_out_refuses_bad_minutes(ctx, sched, minutes, message):
    appt = _book(sched.a, 10)
    with pytest.raises(svc.BookingError, match=message):
        svc.check_out(appt, minutes)


def test_series_lists_conflicts_then_books_the_free_dates(ctx, sched):
    a = sched.a
    blocker = svc.book(
        practice=a.practice,
        client=a.c2,
        appt_type=a.t60,
        provider=a.provider,
        starts_at=local_utc(DAY + dt.timedelta(weeks=2), 10),
    )
    plan = svc.plan_series(
        practice=a.practice,
        provider=a.provider,
        appt_type=a.t60,
        first_start=local_utc(DAY, 10),
        every_weeks=1,
        count=4,
    )
    assert [p is None for _, p in plan] == [True, True, False, True]
    assert Appointment.select().count() == 1  # nothing booked by planning
    booked, skipped = svc.book_series(
        practice=a.practice,
        client=a.c1,
        provider=a.provider,
        appt_type=a.t60,
        first_start=local_utc(DAY, 10),
        every_weeks=1,
        count=4,
    )
    assert len(booked) == 3 and len(skipped) == 1
    assert len({b.series_id for b in booked}) == 1
    assert blocker.id not in [b.id for b in booked]
    msg = OutboxMessage.get(
        (OutboxMessage.kind == "appointment.booked") & (OutboxMessage.to_addr == a.c1.email)
    )
    assert msg.attachment.count("BEGIN:VEVENT") == 3


def test_reminders_are_sent_once_and_again_after_a_move(ctx, sched, now):
    a = sched.a
    appt = _book(a, 10)
    _book(a, 10, client=a.c2, provider=a.provider2, send_confirmation=False)
    far = svc.book(
        practice=a.practice,
        client=a.c2,
        appt_type=a.t60,
        provider=a.provider,
        starts_at=local_utc(DAY + dt.timedelta(days=5), 10),
    )
    now["now"] = appt.starts_at - dt.timedelta(hours=23)
    assert svc.send_reminders() == 2
    assert svc.send_reminders() == 0
    reminders = OutboxMessage.select().where(OutboxMessage.kind == "appointment.reminder")
    assert reminders.count() == 2
    for m in reminders:
        assert a.c1.last_name not in m.body and a.c2.last_name not in m.body
        assert "/portal/appointments" in m.body
    svc.move(appt, starts_at=local_utc(DAY, 9))
    assert svc.send_reminders() == 1
    assert far.id not in {int(m.dedupe_key.split(":")[1]) for m in reminders}


def test_provider_feed_has_types_not_names_and_can_be_revoked(ctx, sched):
    a = sched.a
    _book(a, 10)
    token = cal.new_feed_token(a.provider)
    row = cal.feed_for_token(token)
    body = cal.provider_feed_ics(a.provider, a.practice)
    assert row.provider_id == a.provider.id
    assert "SUMMARY:Appointment: 60-minute massage" in body
    assert a.c1.first_name not in body and a.c1.last_name not in body
    second = cal.new_feed_token(a.provider)
    assert cal.feed_for_token(token) is None and cal.feed_for_token(second)
    cal.revoke_feed(a.provider)
    assert cal.feed_for_token(second) is None


def test_slot_search_uses_hours_bookings_and_the_lead_time(ctx, sched):
    a = sched.a
    _book(a, 10)
    slots = svc.free_slots(a.provider, a.t60, DAY, DAY, practice=a.practice, for_client=True)
    local = [(s - dt.timedelta(hours=7)).strftime("%H:%M") for s in slots]
    # 9:00 would run (with its 15-minute buffer) into the 10:00 visit; 16:00 ends at 17:00
    assert local[0] == "11:15" and local[-1] == "16:00"


def test_online_booking_can_be_turned_off(ctx, sched):
    from portal.models import BookingPolicy

    a = sched.a
    BookingPolicy.update(online_booking_enabled=False).where(
        BookingPolicy.practice == a.practice.id
    ).execute()
    with pytest.raises(svc.BookingError, match="turned off"):
        _book(a, 10, online=True)
    assert _book(a, 10).status == "booked"  # staff still book


def test_status_changes_are_judged_on_the_stored_row_not_the_callers_copy(ctx, sched, now):
    """Two tablets: one checks the visit out while the other still shows it booked. The
    stale copy's check-in, cancel, no-show, undo and move are refused, and nothing moves."""
    a = sched.a
    appt = _book(a, 10)
    stale = Appointment.get_by_id(appt.id)
    svc.check_out(appt, {"97124": 60})
    now["now"] = appt.starts_at + dt.timedelta(hours=2)
    refused = [
        (svc.check_in, {}, "Only a booked appointment can be checked in."),
        (svc.cancel, {}, "cannot be cancelled any more"),
        (svc.no_show, {}, "no-show"),
        (svc.undo_status, {}, "Only a check-in or a no-show can be undone."),
        (svc.move, {"starts_at": local_utc(DAY, 14)}, "can be changed"),
        (svc.check_out, {"minutes_by_code": {"97124": 30}}, "can be checked out"),
    ]
    for change, kw, message in refused:
        with pytest.raises(svc.BookingError, match=message):
            change(stale, **kw)
    stored = Appointment.get_by_id(appt.id)
    assert (stored.status, stored.starts_at, stored.fee_due_cents) == (
        "completed",
        appt.starts_at,
        0,
    )
    assert {m.minutes for m in stored.minutes} == {60}
    actions = {r.action for r in AuditLog.select()}
    assert not actions & {"appointment.cancel", "appointment.no_show", "appointment.move"}


def test_move_changes_time_and_staff_notes_in_one_write(ctx, sched):
    a = sched.a
    appt = _book(a, 10)
    moved = svc.move(appt, starts_at=local_utc(DAY, 12), notes="bring a pillow")
    assert (moved.starts_at, moved.notes) == (local_utc(DAY, 12), "bring a pillow")
    rows = [(r.action, r.detail) for r in AuditLog.select().where(AuditLog.object_id == appt.id)]
    assert ("appointment.move", "starts_at,ends_at") in rows
    assert ("appointment.edit", "notes") in rows
    # the same notes again: no second edit row
    svc.move(moved, notes="bring a pillow")
    assert AuditLog.select().where(AuditLog.action == "appointment.edit").count() == 1


def test_settings_writes_stay_inside_the_practice_and_refuse_bad_input(ctx, sched):
    from portal.models import AppointmentTypeProvider, AvailabilityException, BookingPolicy

    a, b = sched.a, sched.b
    t = svc.save_type(
        a.practice.id,
        user=None,
        provider_ids=[a.provider.id, b.provider.id],  # another practice's provider: ignored
        codes=[("97124", 60)],
        name="Hot stone",
        duration_minutes=75,
        price_cents=12000,
    )
    offered = AppointmentTypeProvider.select().where(AppointmentTypeProvider.appointment_type == t)
    assert [r.provider_id for r in offered] == [a.provider.id]
    assert [(c.cpt_code, c.minutes) for c in svc.type_codes(t)] == [("97124", 60)]
    svc.save_type(a.practice.id, user=None, appt_type=t, codes=[], name="Hot stones")
    assert svc.type_codes(t) == [] and svc.type_provider_ids(t) == []

    with pytest.raises(svc.BookingError, match="both times"):
        svc.add_exception(a.provider, on_date=DAY, kind="off", start=dt.time(9), user=None)
    with pytest.raises(svc.BookingError, match="time off or extra"):
        svc.add_exception(a.provider, on_date=DAY, kind="holiday", user=None)
    assert AvailabilityException.select().count() == 0
    row = svc.add_exception(
        a.provider, on_date=DAY, kind="extra", start=dt.time(18), end=dt.time(20), user=None
    )
    assert (row.start_minute, row.end_minute, row.practice_id) == (1080, 1200, a.practice.id)

    svc.save_hours(a.provider, {0: [(540, 720)], 3: [(600, 660), (700, 800)]}, user=None)
    assert svc.weekly_hours(a.provider)[3] == [(600, 660), (700, 800)]
    assert svc.weekly_hours(a.provider)[1] == []

    policy = svc.save_policy(
        a.practice.id, user=None, policy=svc.policy_for(a.practice.id), no_show_fee_cents=0
    )
    assert BookingPolicy.select().where(BookingPolicy.practice == a.practice.id).count() == 1
    assert svc.policy_for(a.practice.id).no_show_fee_cents == 0 == policy.no_show_fee_cents
