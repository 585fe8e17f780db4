"""Guards at the desk (issue 11 item 3): a client booked into overlapping or back-to-back
visits with two providers is warned about (staff may book anyway with a reason); check-in
only on the visit's day; a no-show after the grace period offers the no-show fee."""

import datetime as dt

import pytest

from portal.models import Appointment, AuditLog, Invoice
from portal.services import scheduling as svc
from tests.conftest import login
from tests.desk.conftest import DAY, book, local_utc


def test_back_to_back_with_two_providers_warns_and_books_with_a_reason(app, client, desk):
    a = desk.a
    with app.test_request_context():
        first = book(a, 9, provider=a.provider)  # 9-10 with one therapist
    login(client, a.frontdesk)
    data = {
        "client_id": a.c1.id,
        "appointment_type_id": a.t60.id,
        "provider_id": a.provider2.id,
        "room_id": 0,
        "date": DAY.isoformat(),
        "time": "10:00",
    }
    r = client.post("/provider/schedule/new", data=data)
    body = r.get_data(as_text=True)
    assert r.status_code == 409
    assert "another visit with another provider" in body and "Back to back with" in body
    assert "Give a reason to book anyway" in body
    assert Appointment.select().count() == 1
    data["override_reason"] = "Massage, then a physio session next door, as planned"
    r = client.post("/provider/schedule/new", data=data)
    assert r.status_code == 302
    second = Appointment.select().order_by(Appointment.id.desc()).get()
    assert second.override_reason.startswith("Massage, then a physio")
    row = AuditLog.get((AuditLog.action == "appointment.book") & (AuditLog.object_id == second.id))
    assert "overridden" in row.detail and "physio" not in row.detail  # no free text in the log
    page = client.get(f"/provider/appointments/{second.id}").get_data(as_text=True)
    assert "Booked despite another visit" in page
    assert first.id != second.id


def test_overlap_is_refused_online_and_moving_into_one_warns(app, desk):
    a = desk.a
    with app.test_request_context():
        book(a, 10, provider=a.provider)
        with pytest.raises(svc.ClientConflict) as exc:
            book(a, 10, minute=30, provider=a.provider2)
        assert [k for k, _ in exc.value.conflicts] == ["overlap"]
        with pytest.raises(svc.BookingError, match="already have a visit"):
            book(a, 10, minute=30, provider=a.provider2, online=True)
        later = book(a, 14, provider=a.provider2)
        with pytest.raises(svc.ClientConflict):
            svc.move(later, starts_at=local_utc(DAY, 11))  # right after 10-11
        moved = svc.move(later, starts_at=local_utc(DAY, 11), override_reason="asked for it")
        assert moved.override_reason == "asked for it"
        # a different client, or the same therapist back to back: no warning
        assert book(a, 11, minute=15, client=a.c2, provider=a.provider).id
        plan = svc.plan_series(
            practice=a.practice,
            provider=a.provider2,
            appt_type=a.t60,
            first_start=local_utc(DAY, 8, 45),
            every_weeks=1,
            count=2,
            client=a.c1,
        )
        assert plan[0][1] and "another provider" in plan[0][1] and plan[1][1] is None


def test_check_in_only_on_the_visits_day(app, client, desk, now):
    a = desk.a
    with app.test_request_context():
        appt = book(a, 10)
        with pytest.raises(svc.BookingError, match="Check-in opens"):
            svc.check_in(appt)  # two days early
    login(client, a.frontdesk)
    page = client.get(f"/provider/appointments/{appt.id}").get_data(as_text=True)
    assert "Check-in opens at" in page and ">Check in</a>" not in page
    r = client.post(f"/provider/appointments/{appt.id}/check-in", follow_redirects=True)
    assert "Check-in opens at" in r.get_data(as_text=True)
    assert Appointment.get_by_id(appt.id).status == "booked"
    now["now"] = appt.starts_at - dt.timedelta(hours=3)  # the window: 4 hours before
    client.post("/logout")
    login(client, a.frontdesk)
    assert ">Check in</a>" in client.get(f"/provider/appointments/{appt.id}").get_data(as_text=True)
    assert client.post(f"/provider/appointments/{appt.id}/check-in").status_code == 302
    assert Appointment.get_by_id(appt.id).status == "checked_in"
    # the day after, a booked visit can no longer be checked in
    with app.test_request_context():
        other = book(a, 15, client=a.c2)
    now["now"] = local_utc(DAY + dt.timedelta(days=1), 9)
    with app.test_request_context(), pytest.raises(svc.BookingError, match="only on the visit"):
        svc.check_in(other)


def test_no_show_after_the_grace_period_offers_the_fee(app, client, desk, now):
    a = desk.a
    with app.test_request_context():
        appt = book(a, 10)
    now["now"] = appt.starts_at + dt.timedelta(minutes=5)
    login(client, a.frontdesk)
    page = client.get(f"/provider/appointments/{appt.id}").get_data(as_text=True)
    assert "No-show" not in page  # inside the grace period
    now["now"] = appt.starts_at + dt.timedelta(minutes=16)
    client.post("/logout")
    login(client, a.frontdesk)
    page = client.get(f"/provider/appointments/{appt.id}").get_data(as_text=True)
    assert "Not checked in 15 minutes after the start" in page and "$95.00" in page
    r = client.post(f"/provider/appointments/{appt.id}/no-show")
    assert r.status_code == 302
    assert r.headers["Location"].endswith(f"/provider/billing/checkout/{appt.id}")
    fee = Invoice.get(Invoice.appointment == appt.id)
    assert (fee.reason, fee.total_cents, fee.status) == ("no_show", 9500, "open")
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "due $95.00" in page
