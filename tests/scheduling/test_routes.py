"""Scheduling routes: the provider's pages, the client portal, the public page and feed."""

import datetime as dt
import re

import pytest

from portal.booking import start_param
from portal.models import (
    Appointment,
    AppointmentMinutes,
    AppointmentType,
    AuditLog,
    AvailabilityException,
    BookingPolicy,
    Client,
    ClientConsent,
    OutboxMessage,
    ProviderHours,
    Room,
    User,
    UserToken,
)
from portal.services import scheduling as svc
from tests.conftest import PASSWORD, login
from tests.scheduling.conftest import local_utc

DAY = dt.date(2026, 6, 3)


def _appt(side, hour=10, client=None, provider=None, day=DAY):
    return svc.book(
        practice=side.practice,
        client=client or side.c1,
        appt_type=side.t60,
        provider=provider or side.provider,
        starts_at=local_utc(day, hour),
    )


# --- provider pages ------------------------------------------------------------------


def test_day_view_shows_appointments_and_audits(app, client, sched):
    a = sched.a
    with app.test_request_context():
        _appt(a, 10)
        _appt(a, 13, client=a.c2, provider=a.provider2)
    login(client, a.frontdesk)
    r = client.get(f"/provider/schedule/?date={DAY.isoformat()}&provider=all")
    body = r.get_data(as_text=True)
    assert r.status_code == 200
    assert a.c1.display_name in body and a.c2.display_name in body
    assert "10:00–11:00 AM" in body
    # free half hours link to a new appointment there; booked time has none
    assert f"time=09:00&amp;provider={a.provider.id}" in body
    assert f"time=10:30&amp;provider={a.provider.id}" not in body
    assert f"time=11:00&amp;provider={a.provider.id}" not in body  # the 15-minute buffer
    assert f"time=11:30&amp;provider={a.provider.id}" in body
    assert f"time=10:30&amp;provider={a.provider2.id}" in body
    assert AuditLog.select().where(AuditLog.action == "schedule.view").count() == 1
    # HTMX asks for the block only
    r = client.get(f"/provider/schedule/?date={DAY.isoformat()}", headers={"HX-Request": "true"})
    frag = r.get_data(as_text=True)
    assert "<html" not in frag and "schedule-toolbar" in frag
    assert "HX-Request" in r.headers["Vary"]
    r = client.get(f"/provider/schedule/?date={DAY.isoformat()}&view=week&provider=all")
    assert a.c2.display_name in r.get_data(as_text=True)


def test_therapist_defaults_to_own_column(app, client, sched):
    a = sched.a
    with app.test_request_context():
        _appt(a, 10)
        _appt(a, 13, client=a.c2, provider=a.provider2)
    login(client, a.therapist)
    body = client.get(f"/provider/schedule/?date={DAY.isoformat()}").get_data(as_text=True)
    assert a.c1.display_name in body and a.c2.display_name not in body


def test_book_move_cancel_through_forms(app, client, sched, now):
    a = sched.a
    login(client, a.frontdesk)
    data = {
        "client_id": a.c1.id,
        "appointment_type_id": a.t60.id,
        "provider_id": a.provider.id,
        "room_id": 0,
        "date": DAY.isoformat(),
        "time": "10:00",
    }
    r = client.post("/provider/schedule/new", data=data)
    assert r.status_code == 302
    appt = Appointment.get()
    assert appt.starts_at == local_utc(DAY, 10)
    r = client.post("/provider/schedule/new", data={**data, "client_id": a.c2.id})
    assert r.status_code == 409
    assert "just taken" in r.get_data(as_text=True)
    r = client.post("/provider/schedule/new", data={**data, "client_id": 999999})
    assert r.status_code == 404  # no such client here (the finder posts an id; access checks it)
    r = client.post(
        f"/provider/appointments/{appt.id}/edit",
        data={
            "provider_id": a.provider2.id,
            "room_id": 0,
            "date": DAY.isoformat(),
            "time": "11:30",
            "length": 90,
            "notes": "bring a pillow",
        },
    )
    assert r.status_code == 302
    appt = Appointment.get_by_id(appt.id)
    assert appt.provider_id == a.provider2.id
    assert appt.ends_at - appt.starts_at == dt.timedelta(minutes=90)
    assert appt.notes == "bring a pillow"
    now["now"] = appt.starts_at - dt.timedelta(hours=3)
    login(client, a.frontdesk)  # the idle session ended while the clock moved
    r = client.post(f"/provider/appointments/{appt.id}/cancel", data={})
    assert r.status_code == 302
    appt = Appointment.get_by_id(appt.id)
    assert appt.status == "late_cancelled" and appt.fee_due_cents == 4000


def test_series_form_lists_conflicts_first(app, client, sched):
    a = sched.a
    with app.test_request_context():
        _appt(a, 10, client=a.c2, day=DAY + dt.timedelta(weeks=1))
    login(client, a.owner)
    data = {
        "client_id": a.c1.id,
        "appointment_type_id": a.t60.id,
        "provider_id": a.provider.id,
        "room_id": 0,
        "date": DAY.isoformat(),
        "time": "10:00",
        "repeat_weeks": 1,
        "repeat_count": 3,
    }
    r = client.post("/provider/schedule/new", data=data)
    body = r.get_data(as_text=True)
    assert r.status_code == 200 and "Conflict" in body and "2 of 3 dates are free" in body
    assert Appointment.select().count() == 1
    r = client.post("/provider/schedule/new", data={**data, "confirm_series": "yes"})
    assert r.status_code == 302
    assert Appointment.select().where(Appointment.client == a.c1.id).count() == 2


def test_check_in_shows_warnings_and_check_out_records_minutes(app, client, sched, now):
    a = sched.a
    with app.test_request_context():
        appt = _appt(a, 10)
    login(client, a.therapist)
    r = client.get(f"/provider/appointments/{appt.id}/check-in")
    body = r.get_data(as_text=True)
    assert r.status_code == 200 and "Insurance" in body and "Intake" in body
    # two days early: check-in is only on the visit's day
    assert client.post(f"/provider/appointments/{appt.id}/check-in").status_code == 302
    assert Appointment.get_by_id(appt.id).status == "booked"
    now["now"] = appt.starts_at - dt.timedelta(minutes=20)
    login(client, a.therapist)
    assert client.post(f"/provider/appointments/{appt.id}/check-in").status_code == 302
    assert Appointment.get_by_id(appt.id).status == "checked_in"
    r = client.get(f"/provider/appointments/{appt.id}/check-out")
    assert 'value="97124"' in r.get_data(as_text=True)
    r = client.post(
        f"/provider/appointments/{appt.id}/check-out",
        data={"cpt_code": ["97124", "97140", ""], "minutes": ["40", "abc", ""]},
    )
    assert r.status_code == 400 and "whole minutes" in r.get_data(as_text=True)
    assert Appointment.get_by_id(appt.id).status == "checked_in"
    r = client.post(
        f"/provider/appointments/{appt.id}/check-out",
        data={"cpt_code": ["97124", "97140", ""], "minutes": ["40", "20", ""]},
    )
    assert r.status_code == 302
    views = app.view_functions
    if "provider.checkout_payment" in views:
        assert f"/{appt.id}" in r.headers["Location"]
    elif "provider.note_for_appointment" not in views:
        assert "/provider/schedule/" in r.headers["Location"]
    rows = {m.cpt_code: m.minutes for m in AppointmentMinutes.select()}
    assert rows == {"97124": 40, "97140": 20}
    assert Appointment.get_by_id(appt.id).status == "completed"


def test_no_show_and_undo_routes(app, client, sched, now):
    a = sched.a
    with app.test_request_context():
        appt = _appt(a, 10)
    login(client, a.frontdesk)
    client.post(f"/provider/appointments/{appt.id}/no-show")
    assert Appointment.get_by_id(appt.id).status == "booked"  # not yet started
    now["now"] = appt.starts_at + dt.timedelta(minutes=10)
    login(client, a.frontdesk)
    client.post(f"/provider/appointments/{appt.id}/no-show")
    assert Appointment.get_by_id(appt.id).status == "booked"  # inside the 15-minute grace
    now["now"] = appt.starts_at + dt.timedelta(minutes=15)
    login(client, a.frontdesk)
    client.post(f"/provider/appointments/{appt.id}/no-show")
    appt = Appointment.get_by_id(appt.id)
    assert appt.status == "no_show" and appt.fee_due_cents == 9500
    client.post(f"/provider/appointments/{appt.id}/undo")
    assert Appointment.get_by_id(appt.id).status == "booked"


def test_working_hours_read_what_a_therapist_types(client, sched):
    """'9-5', '9am-12pm, 1 to 5pm' and '09:00–17:00' are saved as the hours they mean and
    shown back as 24-hour ranges; an ambiguous '1-5' is refused by its day, nothing saved."""
    a = sched.a
    login(client, a.owner)
    url = f"/provider/schedule/hours/{a.provider.id}"
    typed = {"day0": "9-5", "day1": "9am-12pm, 1 to 5pm", "day2": "09:00\u201317:00"}
    r = client.post(url, data=typed | {f"day{i}": "" for i in range(3, 7)})
    assert r.status_code == 302
    hours = ProviderHours.select().where(ProviderHours.provider == a.provider.id)
    assert sorted((h.weekday, h.start_minute, h.end_minute) for h in hours) == [
        (0, 540, 1020),
        (1, 540, 720),
        (1, 780, 1020),
        (2, 540, 1020),
    ]
    page = client.get(url).get_data(as_text=True)
    assert 'value="09:00-17:00"' in page and 'value="09:00-12:00, 13:00-17:00"' in page

    r = client.post(url, data={"day0": "1-5", "day1": "9-5"} | {f"day{i}": "" for i in range(2, 7)})
    html = r.get_data(as_text=True)
    assert r.status_code == 400
    error = re.search(r'<p class="error" id="day0-error">([^<]*)</p>', html).group(1)
    assert error == "&#34;1-5&#34;: morning or afternoon? Write 1am-5am or 1pm-5pm."
    assert 'id="day1-error"' not in html and 'value="1-5"' in html  # as typed, to mend
    assert ProviderHours.select().where(ProviderHours.provider == a.provider.id).count() == 4


def test_owner_settings_type_hours_exception_room_policy(app, client, sched):
    a = sched.a
    login(client, a.owner)
    r = client.post(
        "/provider/schedule/types/new",
        data={
            "name": "90-minute massage",
            "duration_minutes": 90,
            "price": "130",
            "color": "#2f6f8f",
            "buffer_after_minutes": 15,
            "online_bookable": "y",
            "active": "y",
            "provider_ids": [a.provider.id],
            "codes": "97124 60\n97140 30",
        },
    )
    assert r.status_code == 302
    t = AppointmentType.get(AppointmentType.name == "90-minute massage")
    assert t.price_cents == 13000 and {c.cpt_code for c in svc.type_codes(t)} == {
        "97124",
        "97140",
    }
    r = client.post(
        "/provider/schedule/types/new",
        data={
            "name": "x",
            "duration_minutes": 30,
            "price": "-3",
            "color": "#2f6f8f",
            "buffer_after_minutes": 0,
            "codes": "bad",
        },
    )
    assert r.status_code == 400
    r = client.post(
        f"/provider/schedule/hours/{a.provider.id}",
        data={"day0": "09:00-12:00, 13:00-17:00", "day1": "", "day2": "10:00-14:00"}
        | {f"day{i}": "" for i in range(3, 7)},
    )
    assert r.status_code == 302
    hours = ProviderHours.select().where(ProviderHours.provider == a.provider.id)
    assert sorted((h.weekday, h.start_minute, h.end_minute) for h in hours) == [
        (0, 540, 720),
        (0, 780, 1020),
        (2, 600, 840),
    ]
    r = client.post(
        f"/provider/schedule/hours/{a.provider.id}",
        data={"day0": "17:00-09:00"} | {f"day{i}": "" for i in range(1, 7)},
    )
    assert r.status_code == 400 and "after the start" in r.get_data(as_text=True)
    client.post(
        f"/provider/schedule/hours/{a.provider.id}/exceptions",
        data={"on_date": DAY.isoformat(), "kind": "off", "note": ""},
    )
    exc = AvailabilityException.get()
    assert exc.start_minute is None and exc.kind == "off"
    client.post(f"/provider/schedule/exceptions/{exc.id}/delete")
    assert AvailabilityException.select().count() == 0
    client.post("/provider/schedule/rooms", data={"name": "Garden room"})
    room = Room.get()
    client.post(f"/provider/schedule/rooms/{room.id}/toggle")
    assert not Room.get_by_id(room.id).active
    r = client.post(
        "/provider/schedule/policy",
        data={
            "min_lead_minutes": 30,
            "max_days_ahead": 90,
            "cancellation_window_hours": 48,
            "late_cancel_fee": "25",
            "no_show_fee": "50.50",
            "slot_step_minutes": 30,
            "reminder_hours": 24,
            "online_booking_enabled": "y",
            "check_in_window_minutes": 240,
            "no_show_grace_minutes": 15,
        },
    )
    assert r.status_code == 302
    pol = BookingPolicy.get(BookingPolicy.practice == a.practice.id)
    assert (pol.late_cancel_fee_cents, pol.no_show_fee_cents, pol.cancellation_window_hours) == (
        2500,
        5050,
        48,
    )
    assert client.get("/provider/schedule/settings").status_code == 200


def test_calendar_feed_issue_fetch_revoke(app, client, sched):
    a = sched.a
    with app.test_request_context():
        _appt(a, 10)
    login(client, a.therapist)
    r = client.post(f"/provider/schedule/feed/{a.provider.id}", data={"action": "new"})
    body = r.get_data(as_text=True)
    url = re.search(r'value="(http[^"]+\.ics)"', body).group(1)
    path = url.split("127.0.0.1:5000")[-1].split("localhost")[-1]
    anon = app.test_client()
    r = anon.get(path)
    assert r.status_code == 200 and r.mimetype == "text/calendar"
    ics = r.get_data(as_text=True)
    assert "Appointment: 60-minute massage" in ics and a.c1.last_name not in ics
    client.post(f"/provider/schedule/feed/{a.provider.id}", data={"action": "revoke"})
    assert anon.get(path).status_code == 404
    assert anon.get("/calendar/not-a-token.ics").status_code == 404


def test_client_appointments_section(app, client, sched):
    a = sched.a
    with app.test_request_context():
        _appt(a, 10)
    login(client, a.owner)
    r = client.get(f"/provider/clients/{a.c1.id}/appointments", headers={"HX-Request": "1"})
    body = r.get_data(as_text=True)
    assert r.status_code == 200 and "<html" not in body and "60-minute massage" in body
    assert AuditLog.select().where(AuditLog.action == "client.appointments_view").count() == 1


def test_home_panel_lists_today(app, client, sched, now):
    a = sched.a
    with app.test_request_context():
        _appt(a, 10, day=dt.date(2026, 6, 1))
    login(client, a.therapist)
    body = client.get("/provider/").get_data(as_text=True)
    assert "Today&#39;s appointments" in body or "Today's appointments" in body
    assert a.c1.display_name in body


# --- client portal -------------------------------------------------------------------


def test_client_books_reschedules_and_cancels(app, client, sched, now):
    a = sched.a
    login(client, a.cu1)
    r = client.get(f"/portal/book?type={a.t60.id}&provider=any&date={DAY.isoformat()}")
    body = r.get_data(as_text=True)
    assert r.status_code == 200 and "9:00 AM" in body
    start = start_param(local_utc(DAY, 9))
    confirm = f"/portal/book/confirm?type={a.t60.id}&provider=any&start={start}"
    assert client.get(confirm).status_code == 200
    r = client.post(confirm)
    assert r.status_code == 302
    appt = Appointment.get(Appointment.client == a.c1.id)
    assert appt.booked_online
    msg = OutboxMessage.get(OutboxMessage.kind == "appointment.booked")
    assert msg.to_addr == a.c1.email and msg.attachment.startswith("BEGIN:VCALENDAR")
    body = client.get("/portal/appointments").get_data(as_text=True)
    assert "Reschedule" in body and "can no longer be moved online" not in body
    r = client.get(f"/portal/appointments/{appt.id}/reschedule?date={DAY.isoformat()}")
    assert r.status_code == 200
    r = client.post(
        f"/portal/appointments/{appt.id}/reschedule",
        data={"start": start_param(local_utc(DAY, 14))},
    )
    assert r.status_code == 302
    assert Appointment.get_by_id(appt.id).starts_at == local_utc(DAY, 14)
    r = client.post(f"/portal/appointments/{appt.id}/cancel")
    assert r.status_code == 302
    appt = Appointment.get_by_id(appt.id)
    assert appt.status == "cancelled" and appt.fee_due_cents == 0


def test_client_late_cancel_shows_fee_and_cannot_reschedule(app, client, sched, now):
    a = sched.a
    with app.test_request_context():
        appt = _appt(a, 10)
    now["now"] = appt.starts_at - dt.timedelta(hours=2)
    login(client, a.cu1)
    r = client.get(f"/portal/appointments/{appt.id}/reschedule")
    assert r.status_code == 302
    # the list says why Reschedule is gone, and what to do instead
    body = client.get("/portal/appointments").get_data(as_text=True)
    assert f"/portal/appointments/{appt.id}/reschedule" not in body
    assert "Less than 24 hours away: it can no longer be moved online." in body
    body = client.get(f"/portal/appointments/{appt.id}/cancel").get_data(as_text=True)
    assert "$40.00" in body
    client.post(f"/portal/appointments/{appt.id}/cancel")
    appt = Appointment.get_by_id(appt.id)
    assert appt.status == "late_cancelled" and appt.fee_due_cents == 4000


def test_client_cancel_page_tells_the_fee_rule_before_confirming(app, client, sched, now):
    """Outside the window the page says there is no fee and until when (the practice's
    time); inside it, the fee; a practice without a fee says cancelling is free."""
    a = sched.a
    with app.test_request_context():
        appt = _appt(a, 10)  # Wednesday 3 June, 10:00 AM in Los Angeles
    login(client, a.cu1)
    body = client.get(f"/portal/appointments/{appt.id}/cancel").get_data(as_text=True)
    assert "No fee: you are cancelling more than 24 hours before your visit." in body
    assert "From Tuesday 2 June 2026, 10:00 AM, cancelling costs $40.00." in body
    now["now"] = appt.starts_at - dt.timedelta(hours=2)
    login(client, a.cu1)  # two days later: a new session
    body = client.get(f"/portal/appointments/{appt.id}/cancel").get_data(as_text=True)
    assert "a late-cancellation fee of $40.00 applies" in body and "No fee" not in body
    BookingPolicy.update(late_cancel_fee_cents=0).where(
        BookingPolicy.practice == a.practice.id
    ).execute()
    body = client.get(f"/portal/appointments/{appt.id}/cancel").get_data(as_text=True)
    assert "No fee: cancelling is free." in body and "late-cancellation fee" not in body


# --- public booking ------------------------------------------------------------------


def test_public_booking_creates_client_and_user_then_confirms(app, client, sched, now):
    """Sign-up asks for a phone and consent, proves the e-mail before the account sees
    anything, and never tells whether the address already has an account (issue 12)."""
    a = sched.a
    r = client.get(f"/book/{a.practice.id}?type={a.t60.id}&provider={a.provider.id}")
    assert r.status_code == 200 and "Choose a time" in r.get_data(as_text=True)
    start = start_param(local_utc(DAY, 11))
    account = (
        f"/book/{a.practice.id}/account?type={a.t60.id}&provider={a.provider.id}&start={start}"
    )
    form = {
        "first_name": "Nia",
        "last_name": "Okafor",
        "email": "nia@example.com",
        "date_of_birth": "1990-05-06",
        "phone": "503-555-0177",
        "password": "password",
        "confirm": "password",
        "consent": "y",
    }
    r = client.post(account, data=form)
    assert r.status_code == 400 and "common" in r.get_data(as_text=True)
    r = client.post(
        account,
        data={**form, "password": PASSWORD, "confirm": PASSWORD, "consent": "", "phone": ""},
    )
    page = r.get_data(as_text=True)
    assert r.status_code == 400 and "agree to the practice" in page and "phone number" in page
    assert Client.select().where(Client.email == "nia@example.com").count() == 0
    r = client.post(account, data={**form, "password": PASSWORD, "confirm": PASSWORD})
    # Post/redirect/get: reloading the answer does not send the form again.
    check_email = f"/book/{a.practice.id}/check-email"
    assert r.status_code == 303 and r.headers["Location"] == check_email
    new_reply = client.get(check_email).get_data(as_text=True)
    assert "Check your e-mail" in new_reply and "nia@" not in new_reply
    user = User.get(User.email == "nia@example.com")
    assert user.role == "client" and user.client.practice_id == a.practice.id
    assert user.email_unverified and user.client.phone == "503-555-0177"
    assert ClientConsent.get(ClientConsent.client == user.client_id).text.startswith("Cancel")
    # Logged in before confirming: the account sees nothing.
    r = client.post("/login", data={"email": "nia@example.com", "password": PASSWORD})
    assert client.get("/portal/").headers["Location"].endswith("/portal/confirm-email")
    assert client.get("/portal/documents").status_code == 302
    mail = OutboxMessage.get(OutboxMessage.kind == "verify")
    link = re.search(r"http://localhost(/signup/verify/\S+)", mail.body).group(1)
    assert client.get(link).status_code == 200  # a page with a button: a GET changes nothing
    assert User.get_by_id(user.id).email_unverified
    r = client.post(link)
    assert r.status_code == 303 and "/portal/book/confirm" in r.headers["Location"]
    assert not User.get_by_id(user.id).email_unverified
    assert client.post(link).status_code == 404  # used once
    r = client.post(r.headers["Location"])
    assert r.status_code == 302
    assert Appointment.get().client_id == user.client_id
    assert "?" not in r.headers["Location"]  # no ids in the address after booking
    # The same e-mail again: the same reply, and a login link to the address's owner.
    other = app.test_client()
    r = other.post(
        account,
        data={
            **form,
            "password": PASSWORD,
            "confirm": PASSWORD,
            "first_name": "Someone",
            "last_name": "Else",
        },
    )
    assert r.status_code == 303 and r.headers["Location"] == check_email  # the same reply
    assert Client.select().where(Client.email == "nia@example.com").count() == 1
    sent = OutboxMessage.get(OutboxMessage.kind == "signup_exists")
    assert sent.to_addr == "nia@example.com" and "/login" in sent.body


def test_public_sign_ups_are_limited_per_address_and_hour(app, sched, now):
    """A bot opening accounts (or probing which e-mails have one) from one address is
    stopped after SIGNUPS_PER_HOUR_PER_ADDRESS tries in an hour, with a 429 and a message;
    another address is not; an hour later the first one may again."""
    a = sched.a
    app.config["SIGNUPS_PER_HOUR_PER_ADDRESS"] = 3
    start = start_param(local_utc(DAY, 11))
    query = f"type={a.t60.id}&provider={a.provider.id}&start={start}"
    account = f"/book/{a.practice.id}/account?{query}"

    def sign_up(n, addr):
        form = {
            "first_name": "Bot",
            "last_name": f"Number{n}",
            "email": f"bot{n}@example.com",
            "date_of_birth": "1990-05-06",
            "phone": "503-555-0100",
            "password": PASSWORD,
            "confirm": PASSWORD,
            "consent": "y",
        }
        return app.test_client().post(account, data=form, environ_base={"REMOTE_ADDR": addr})

    for n in range(3):
        assert sign_up(n, "203.0.113.9").status_code == 303
    r = sign_up(3, "203.0.113.9")
    assert r.status_code == 429 and "Too many new accounts" in r.get_data(as_text=True)
    assert not User.select().where(User.email == "bot3@example.com").exists()
    assert sign_up(4, "198.51.100.20").status_code == 303  # another address
    # Sign-up tries never count toward login lockouts (those count failures).
    from portal.sessions import lockout_minutes

    with app.test_request_context(environ_base={"REMOTE_ADDR": "203.0.113.9"}):
        assert lockout_minutes("bot0@example.com", "203.0.113.9") == 0
    now["now"] += dt.timedelta(hours=1, minutes=1)
    assert sign_up(5, "203.0.113.9").status_code == 303


def test_a_sign_up_with_an_invited_address_gets_the_invitation_again(app, sched, now):
    """The address has only an invitation not accepted yet (here of the other practice's
    owner): no second account is opened for it, and the e-mail is the invitation's link
    again, not a login link to an account that does not exist. A disabled invitation gets
    nothing. The same reply either way."""
    from portal.services import staff as staff_service

    a, b = sched.a, sched.b
    start = start_param(local_utc(DAY, 11))
    account = (
        f"/book/{a.practice.id}/account?type={a.t60.id}&provider={a.provider.id}&start={start}"
    )
    with app.test_request_context():
        invited = staff_service.invite(b.practice, "kai@example.com", "Kai Lee", "frontdesk", None)
        gone = staff_service.invite(b.practice, "ro@example.com", "Ro Sun", "frontdesk", None)
        staff_service.set_active(gone, False)

    def sign_up(email):
        form = {"first_name": "Kai", "last_name": "Lee", "email": email,
                "date_of_birth": "1990-05-06", "phone": "503-555-0100",
                "password": PASSWORD, "confirm": PASSWORD, "consent": "y"}  # fmt: skip
        return app.test_client().post(account, data=form)

    before = OutboxMessage.select().count()
    r = sign_up("kai@example.com")
    assert r.status_code == 303 and r.headers["Location"] == f"/book/{a.practice.id}/check-email"
    assert User.select().where(User.email == "kai@example.com").count() == 1
    assert not Client.select().where(Client.email == "kai@example.com").exists()
    (mail,) = OutboxMessage.select().where(OutboxMessage.id > before)
    assert mail.kind == "signup_invited" and mail.to_addr == "kai@example.com"
    assert "invitation has not been used yet" in mail.body and "/login" not in mail.body
    tokens = UserToken.select().where(UserToken.user == invited.id).count()
    assert sign_up("kai@example.com").status_code == 303  # a second try within the hour
    assert OutboxMessage.select().where(OutboxMessage.kind == "signup_invited").count() == 1
    assert UserToken.select().where(UserToken.user == invited.id).count() == tokens  # none new
    link = re.search(r"http://localhost(/account/set-password/\S+)", mail.body).group(1)
    r = app.test_client().post(link, data={"password": PASSWORD, "confirm": PASSWORD})
    assert r.status_code == 302
    assert User.get_by_id(invited.id).password_hash is not None

    before = OutboxMessage.select().count()
    assert sign_up("ro@example.com").status_code == 303
    assert OutboxMessage.select().count() == before
    assert not Client.select().where(Client.email == "ro@example.com").exists()


def test_public_booking_unknown_practice_or_disabled(app, client, sched):
    assert client.get("/book/99999").status_code == 404
    BookingPolicy.update(online_booking_enabled=False).execute()
    assert client.get(f"/book/{sched.a.practice.id}").status_code == 404


# --- access --------------------------------------------------------------------------

STAFF_GETS = [
    "/provider/schedule/",
    "/provider/schedule/new",
    "/provider/appointments/{appt}",
    "/provider/appointments/{appt}/edit",
    "/provider/appointments/{appt}/check-in",
    "/provider/appointments/{appt}/check-out",
    "/provider/clients/{client}/appointments",
    "/provider/schedule/settings",
    "/provider/schedule/types/new",
    "/provider/schedule/types/{type}",
    "/provider/schedule/hours/{provider}",
    "/provider/schedule/policy",
    "/provider/schedule/feed/{provider}",
]
STAFF_POSTS = [
    "/provider/schedule/new",
    "/provider/appointments/{appt}/edit",
    "/provider/appointments/{appt}/cancel",
    "/provider/appointments/{appt}/no-show",
    "/provider/appointments/{appt}/undo",
    "/provider/appointments/{appt}/check-in",
    "/provider/appointments/{appt}/check-out",
    "/provider/schedule/types/{type}",
    "/provider/schedule/hours/{provider}",
    "/provider/schedule/hours/{provider}/exceptions",
    "/provider/schedule/exceptions/{exception}/delete",
    "/provider/schedule/rooms",
    "/provider/schedule/rooms/{room}/toggle",
    "/provider/schedule/policy",
    "/provider/schedule/feed/{provider}",
]
CLIENT_GETS = [
    "/portal/book",
    "/portal/book/confirm?type={type}&provider=any&start=20260603T1700",
    "/portal/appointments",
    "/portal/appointments/{appt}/cancel",
    "/portal/appointments/{appt}/reschedule",
]
CLIENT_POSTS = [
    "/portal/book/confirm?type={type}&provider=any&start=20260603T1700",
    "/portal/appointments/{appt}/cancel",
    "/portal/appointments/{appt}/reschedule",
]


def _ids(app, side):
    with app.test_request_context():
        appt = _appt(side, 12)
    exc = AvailabilityException.create(
        practice=side.practice, provider=side.provider, on_date=DAY, kind="off"
    )
    room = Room.create(practice=side.practice, name="R")
    return {
        "appt": appt.id,
        "client": side.c1.id,
        "type": side.t60.id,
        "provider": side.provider.id,
        "exception": exc.id,
        "room": room.id,
    }


def test_logged_out_is_sent_to_login(app, client, sched):
    ids = _ids(app, sched.a)
    for url in STAFF_GETS + CLIENT_GETS:
        r = client.get(url.format(**ids))
        assert r.status_code == 302 and "/login" in r.headers["Location"], url
    for url in STAFF_POSTS + CLIENT_POSTS:
        r = client.post(url.format(**ids))
        assert r.status_code in (302, 401) and "/login" in r.headers.get("Location", "/login"), url


def test_other_practice_ids_are_404_and_audited(app, client, sched):
    ids_b = _ids(app, sched.b)
    login(client, sched.a.owner)
    before = AuditLog.select().where(AuditLog.action == "access.denied").count()
    skip = {
        "/provider/schedule/",
        "/provider/schedule/new",
        "/provider/schedule/settings",
        "/provider/schedule/types/new",
        "/provider/schedule/policy",
        "/provider/schedule/rooms",
    }
    checked = 0
    for url in STAFF_GETS:
        if url in skip:
            continue
        r = client.get(url.format(**ids_b))
        assert r.status_code == 404, url
        checked += 1
    for url in STAFF_POSTS:
        if url in skip:
            continue
        r = client.post(url.format(**ids_b))
        assert r.status_code == 404, url
        checked += 1
    after = AuditLog.select().where(AuditLog.action == "access.denied").count()
    assert after - before >= checked
    assert Appointment.get_by_id(ids_b["appt"]).status == "booked"


def test_clients_cannot_use_staff_pages_and_staff_cannot_use_client_pages(app, client, sched):
    ids = _ids(app, sched.a)
    login(client, sched.a.cu1)
    for url in STAFF_GETS:
        assert client.get(url.format(**ids)).status_code == 404, url
    for url in STAFF_POSTS:
        assert client.post(url.format(**ids)).status_code == 404, url
    staff = app.test_client()
    login(staff, sched.a.frontdesk)
    for url in CLIENT_GETS:
        assert staff.get(url.format(**ids)).status_code == 404, url


@pytest.mark.parametrize("role", ["frontdesk", "therapist"])
def test_owner_only_settings(app, client, sched, role):
    ids = _ids(app, sched.a)
    login(client, getattr(sched.a, role))
    for url in [
        "/provider/schedule/types/new",
        "/provider/schedule/types/{type}",
        "/provider/schedule/policy",
    ]:
        assert client.get(url.format(**ids)).status_code == 404, url
    for url in [
        "/provider/schedule/rooms",
        "/provider/schedule/rooms/{room}/toggle",
        "/provider/schedule/policy",
    ]:
        assert client.post(url.format(**ids)).status_code == 404, url


def test_therapist_manages_only_own_hours_and_feed(app, client, sched):
    a = sched.a
    login(client, a.therapist)
    assert client.get(f"/provider/schedule/hours/{a.provider.id}").status_code == 200
    assert client.get(f"/provider/schedule/hours/{a.provider2.id}").status_code == 404
    assert client.get(f"/provider/schedule/feed/{a.provider2.id}").status_code == 404


def test_another_clients_appointment_is_404_in_the_portal(app, client, sched):
    a = sched.a
    with app.test_request_context():
        theirs = _appt(a, 10, client=a.c2)
    login(client, a.cu1)
    assert client.get(f"/portal/appointments/{theirs.id}/cancel").status_code == 404
    assert client.post(f"/portal/appointments/{theirs.id}/cancel").status_code == 404
    assert (
        client.post(
            f"/portal/appointments/{theirs.id}/reschedule", data={"start": "20260603T2000"}
        ).status_code
        == 404
    )
    assert Appointment.get_by_id(theirs.id).status == "booked"
    body = client.get("/portal/appointments").get_data(as_text=True)
    assert "60-minute" not in body


def test_client_cannot_book_another_practices_type(app, client, sched):
    login(client, sched.a.cu1)
    url = f"/portal/book/confirm?type={sched.b.t60.id}&provider=any&start=20260603T1700"
    assert client.get(url).status_code == 404
    assert client.post(url).status_code == 404


def test_csrf_missing_is_400(app, client, sched):
    ids = _ids(app, sched.a)
    login(client, sched.a.owner)
    for url in STAFF_POSTS:
        r = client.post(url.format(**ids), data={}, csrf=False)
        assert r.status_code == 400, url
    cl = app.test_client()
    login(cl, sched.a.cu1)
    for url in CLIENT_POSTS:
        assert cl.post(url.format(**ids), data={}, csrf=False).status_code == 400, url
    anon = app.test_client()
    r = anon.post(
        f"/book/{sched.a.practice.id}/account?type={ids['type']}&start=20260603T1700",
        data={},
        csrf=False,
    )
    assert r.status_code == 400


def test_appointment_view_is_audited(app, client, sched):
    ids = _ids(app, sched.a)
    login(client, sched.a.frontdesk)
    client.get(f"/provider/appointments/{ids['appt']}")
    row = AuditLog.get(AuditLog.action == "appointment.view")
    assert row.client_id == sched.a.c1.id and row.object_id == ids["appt"]


def test_check_in_shows_the_insurance_warning_from_coverage(app, client, sched):
    from portal.models import InsurancePolicy, Payer

    a = sched.a
    payer = Payer.create(practice=a.practice, name="Blue Test Plan")
    InsurancePolicy.create(
        practice=a.practice,
        client=a.c1,
        payer=payer,
        member_id="M123",
        effective_date=dt.date(2026, 1, 1),
    )
    a.t60.bill_insurance = True  # a self-pay visit is not warned about the client's policy
    a.t60.save()
    with app.test_request_context():
        appt = _appt(a, 10)
    login(client, a.frontdesk)
    body = client.get(f"/provider/appointments/{appt.id}/check-in").get_data(as_text=True)
    assert "Benefits not verified for Blue Test Plan: call Blue Test Plan" in body
    assert "<h2>Intake</h2>" not in body  # clinical flags are for owner and therapists
    owner = app.test_client()
    login(owner, a.owner)
    body = owner.get(f"/provider/appointments/{appt.id}/check-in").get_data(as_text=True)
    assert "<h2>Intake</h2>" in body


def test_day_and_week_views_mark_intake_flags_for_clinical_staff_only(app, client, sched):
    """Issue 3: intake flags show on the therapist's schedule (details at check-in)."""
    import json

    from portal.models import IntakeSubmission

    a = sched.a
    with app.test_request_context():
        _appt(a, 10)
        _appt(a, 13, client=a.c2)
        for c, flags, at in (
            (a.c1, ["Blood clots"], dt.datetime(2026, 1, 1)),
            (a.c2, ["Pregnant"], dt.datetime(2026, 1, 1)),
            (a.c2, [], dt.datetime(2026, 2, 1)),
        ):  # c2's latest: no flag
            IntakeSubmission.create(
                practice=a.practice,
                client=c,
                form_title="Health history",
                answers_json="[]",
                flags_json=json.dumps(flags),
                signature_name="x",
                signed_at=at,
                content_sha256="0",
            )
    url = f"/provider/schedule/?date={DAY.isoformat()}&provider={a.provider.id}"
    login(client, a.therapist)
    for view in ("", "&view=week"):
        body = client.get(url + view).get_data(as_text=True)
        assert body.count("Intake flag") == 1, view
        assert "Blood clots" not in body  # the flag's text stays on the check-in page
    client.post("/logout")
    login(client, a.frontdesk)
    body = client.get(url).get_data(as_text=True)
    assert a.c1.display_name in body and "Intake flag" not in body


def test_a_therapist_kept_to_own_clients_sees_and_opens_only_their_visits(app, client, sched):
    """With the practice keeping clients apart, the day, week and home lists follow
    access.scoped like every other page: a visit of another therapist's client is not
    shown (its page is a 404 too), and every visit shown opens."""
    a = sched.a
    a.practice.therapists_see_all_clients = False
    a.practice.save()
    today = dt.date(2026, 6, 1)
    with app.test_request_context():
        own = [_appt(a, 10), _appt(a, 10, day=today)]
        # c2 is provider2's client, booked here in the therapist's own column
        other = [_appt(a, 13, client=a.c2), _appt(a, 13, client=a.c2, day=today)]
    login(client, a.therapist)
    pages = [
        f"/provider/schedule/?date={DAY.isoformat()}&provider=all",
        f"/provider/schedule/?date={DAY.isoformat()}&view=week&provider=all",
        "/provider/",
    ]
    for url in pages:
        body = client.get(url).get_data(as_text=True)
        assert a.c1.display_name in body and a.c2.display_name not in body, url
        linked = {int(n) for n in re.findall(r'href="/provider/appointments/(\d+)"', body)}
        assert linked and linked <= {x.id for x in own}, url
        for appointment_id in linked:
            assert client.get(f"/provider/appointments/{appointment_id}").status_code == 200
    for x in other:
        assert client.get(f"/provider/appointments/{x.id}").status_code == 404
    # the owner and the front desk see everyone's
    desk = app.test_client()
    login(desk, a.frontdesk)
    body = desk.get(pages[0]).get_data(as_text=True)
    assert a.c1.display_name in body and a.c2.display_name in body


def test_a_staff_booking_in_the_buffer_says_so_and_offers_that_days_nearest_times(
    app, client, sched, now
):
    """10:00 was the demo's 3:30 PM: booked 2:30-3:30 PM with a 15-minute buffer, 3:30 PM
    is blocked by the buffer only. The page says so (until 3:45 PM, the practice's wall
    time) and offers the free times of that day nearest to it, 3:45 PM first among them,
    not the next morning."""
    a = sched.a
    with app.test_request_context():
        _appt(a, 14, client=a.c1)
        Appointment.update(
            starts_at=local_utc(DAY, 14, 30),
            ends_at=local_utc(DAY, 15, 30),
            blocked_until=local_utc(DAY, 15, 45),
        ).execute()
    login(client, a.frontdesk)
    data = {
        "client_id": a.c2.id,
        "appointment_type_id": a.t60.id,
        "provider_id": a.provider.id,
        "room_id": 0,
        "date": DAY.isoformat(),
        "time": "15:30",
    }
    r = client.post("/provider/schedule/new", data=data)
    assert r.status_code == 409
    html = r.get_data(as_text=True)
    assert "just taken" not in html
    assert "in the buffer after the visit before, until 3:45 PM" in html
    offered = re.findall(r"<li>(\w{3} \d\d \w{3}, [\d:]+ [AP]M)</li>", html)
    assert offered == [
        "Wed 03 Jun, 12:45 PM",
        "Wed 03 Jun, 1:00 PM",
        "Wed 03 Jun, 1:15 PM",
        "Wed 03 Jun, 3:45 PM",
        "Wed 03 Jun, 4:00 PM",
    ]
    # the new visit's own buffer running into the next visit is said too
    r = client.post("/provider/schedule/new", data={**data, "time": "13:30"})
    assert r.status_code == 409
    assert "run into the provider&#39;s next visit at 2:30 PM" in r.get_data(as_text=True)
    # a visit itself in the way keeps the plain message
    r = client.post("/provider/schedule/new", data={**data, "time": "15:00"})
    assert "just taken" in r.get_data(as_text=True)
    assert Appointment.select().count() == 1
