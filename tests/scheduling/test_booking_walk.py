"""What a new client meets when booking online on a phone (a walk through the public page,
sign-up, confirmation, the portal and cancelling): each page says which time zone its
times are in, an empty week says what to do next, a time taken meanwhile says which one
and offers the next, and the confirmation names the visit."""

import datetime as dt
import re

from portal.booking import start_param
from portal.models import Appointment, AppointmentType, Practice, ProviderHours
from portal.services import scheduling as svc
from tests.conftest import login
from tests.scheduling.conftest import local_utc

DAY = dt.date(2026, 6, 3)  # a Wednesday; the fixed clock says Monday 1 June 2026, 08:00


def _no_hours(provider):
    ProviderHours.delete().where(ProviderHours.provider == provider.id).execute()


def test_the_slot_picker_names_the_practices_time_zone(app, client, sched):
    a = sched.a
    body = client.get(f"/book/{a.practice.id}?type={a.t60.id}").get_data(as_text=True)
    assert "Times are Los Angeles time (PDT)." in body
    login(client, a.cu1)
    body = client.get(f"/portal/book?type={a.t60.id}").get_data(as_text=True)
    assert "Times are Los Angeles time (PDT)." in body


def test_an_empty_week_says_what_to_do(app, client, sched):
    """No free time with the chosen therapist this week: the page names the week and
    offers the next week, anyone available and the practice's phone."""
    a = sched.a
    _no_hours(a.provider)
    Practice.update(phone="(503) 555-0100").where(Practice.id == a.practice.id).execute()
    url = f"/book/{a.practice.id}?type={a.t60.id}&provider={a.provider.id}"
    r = client.get(url)
    body = r.get_data(as_text=True)
    assert r.status_code == 200
    assert f"No free times with {a.provider.first_name} from Mon 1 Jun to Sun 7 Jun." in body
    assert "Try the next week" in body and "date=2026-06-08" in body
    assert f"type={a.t60.id}&amp;provider=any" in body and "Try anyone available" in body
    assert 'href="tel:5035550100"' in body and "(503) 555-0100" in body
    # Anyone available, with nobody free either: no "anyone" link to itself.
    _no_hours(a.provider2)
    body = client.get(f"/book/{a.practice.id}?type={a.t60.id}").get_data(as_text=True)
    assert "No free times from Mon 1 Jun to Sun 7 Jun." in body
    assert "Try anyone available" not in body and "Try the next week" in body
    # The last week online booking reaches: it says how far, and to call for later.
    body = client.get(f"/book/{a.practice.id}?type={a.t60.id}&date=2026-07-01").get_data(
        as_text=True
    )
    assert "Try the next week" not in body
    assert "Online booking reaches 30 days ahead; for a later date, call the practice" in body


def test_a_practice_without_a_phone_still_says_to_call(app, client, sched):
    a = sched.a
    _no_hours(a.provider)
    _no_hours(a.provider2)
    Practice.update(phone="").where(Practice.id == a.practice.id).execute()
    login(client, a.cu1)
    body = client.get(f"/portal/book?type={a.t60.id}").get_data(as_text=True)
    assert "No free times from Mon 1 Jun to Sun 7 Jun." in body
    assert "Or call the practice." in body and "tel:" not in body


def test_the_booking_pages_show_the_time_with_its_zone(app, client, sched):
    a = sched.a
    start = start_param(local_utc(DAY, 11))
    account = f"/book/{a.practice.id}/account?type={a.t60.id}&provider=any&start={start}"
    body = client.get(account).get_data(as_text=True)
    assert "Wednesday 3 June 2026, 11:00 AM PDT" in body
    login(client, a.cu1)
    body = client.get(f"/portal/book/confirm?type={a.t60.id}&provider=any&start={start}").get_data(
        as_text=True
    )
    assert "Wednesday 3 June 2026, 11:00 AM PDT" in body


def test_a_time_taken_meanwhile_says_which_and_offers_the_next(app, client, sched):
    a = sched.a
    start = local_utc(DAY, 10)
    with app.test_request_context():
        svc.book(
            practice=a.practice, client=a.c2, appt_type=a.t60, provider=a.provider, starts_at=start
        )
    login(client, a.cu1)
    url = (
        f"/portal/book/confirm?type={a.t60.id}&provider={a.provider.id}&start={start_param(start)}"
    )
    r = client.post(url)
    body = r.get_data(as_text=True)
    assert r.status_code == 409
    assert "<h1>That time was just taken</h1>" in body
    assert "Wednesday 3 June 2026, 10:00 AM PDT with" in body
    assert "was booked by someone else a moment ago" in body
    # the way back keeps the chosen therapist
    assert f"/portal/book?type={a.t60.id}&amp;provider={a.provider.id}" in body
    assert Appointment.select().where(Appointment.client == a.c1.id).count() == 0


def test_the_confirmation_names_the_visit(app, client, sched):
    """After booking (and after cancelling), the message says which visit, not only
    "Booked."; the client without forms to sign lands on the list with it."""
    a = sched.a
    start = local_utc(DAY, 9)
    login(client, a.cu1)
    r = client.post(
        f"/portal/book/confirm?type={a.t60.id}&provider={a.provider.id}&start={start_param(start)}",
        follow_redirects=True,
    )
    body = r.get_data(as_text=True)
    assert r.status_code == 200
    name = a.provider.first_name
    assert f"Booked: 60-minute massage with {name}, Wednesday 3 June 2026, 9:00 AM." in body
    appt = Appointment.get(Appointment.client == a.c1.id)
    r = client.post(f"/portal/appointments/{appt.id}/cancel", follow_redirects=True)
    body = r.get_data(as_text=True)
    assert f"Cancelled: 60-minute massage with {name}, Wednesday 3 June 2026, 9:00 AM." in body


def test_the_password_rule_sits_by_the_password_field(app, client, sched):
    a = sched.a
    start = start_param(local_utc(DAY, 11))
    body = client.get(
        f"/book/{a.practice.id}/account?type={a.t60.id}&provider=any&start={start}"
    ).get_data(as_text=True)
    assert 'aria-describedby="password-help"' in body
    assert '<p class="help" id="password-help">At least 12 characters' in body


def test_booking_is_offered_only_where_something_can_be_booked(app, client, sched):
    """The login page links the public booking page of a practice with a service clients
    can book online, not of one just set up with none; that page, empty, says to call."""
    a, b = sched.a, sched.b
    body = client.get("/login").get_data(as_text=True)
    assert f'href="/book/{a.practice.id}"' in body and f'href="/book/{b.practice.id}"' in body
    AppointmentType.update(online_bookable=False).where(
        AppointmentType.practice == b.practice.id
    ).execute()
    Practice.update(phone="(503) 555-0111").where(Practice.id == b.practice.id).execute()
    body = client.get("/login").get_data(as_text=True)
    assert f'href="/book/{a.practice.id}"' in body and f'href="/book/{b.practice.id}"' not in body
    body = client.get(f"/book/{b.practice.id}").get_data(as_text=True)
    assert "Nothing can be booked online right now. To book, call the practice:" in body
    assert 'href="tel:5035550111"' in body


def test_the_chosen_therapist_is_marked_for_screen_readers_too(app, client, sched):
    a = sched.a
    body = client.get(f"/book/{a.practice.id}?type={a.t60.id}&provider={a.provider2.id}").get_data(
        as_text=True
    )
    marked = re.findall(r'<a class="choice selected"[^>]*aria-current="true">([^<]*)<', body)
    current = [name for name in marked if name.strip()]  # (the service's name is in <strong>)
    assert current == [f"{a.provider2.first_name} {a.provider2.last_name}"], current
