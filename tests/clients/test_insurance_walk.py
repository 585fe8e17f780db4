"""What walking the insurance pages at the desk and on the phone found, one test a find.

Each test goes through the pages (the test client) on the test's real database file."""

import datetime as dt

from portal.models import BenefitsVerification, PriorAuthorization, Referral
from tests.clients import helpers as h
from tests.conftest import login


def _referral(w, **kw):
    data = dict(
        practice=w.a.practice,
        client=w.a.c1,
        referring_name="Dr Ada Lane",
        referring_npi="1234567893",
        diagnosis_codes="M54.50",
        referral_date=dt.date(2026, 1, 1),
    )
    data.update(kw)
    return Referral.create(**data)


def test_an_end_date_of_12_31_9999_reads_as_open_not_as_an_error(app, client, world):
    """Payers write 12/31/9999 for "no end": the client page and the check-in warnings
    counted visits up to the day after it, past the calendar's end, and answered 500."""
    pol = h.policy(world.a.practice, world.a.c1)
    _referral(world, policy=pol, visits_allowed=6, end_date=dt.date(9999, 12, 31))
    PriorAuthorization.create(
        practice=world.a.practice,
        client=world.a.c1,
        number="PA-1",
        visits_allowed=4,
        start_date=dt.date(1, 1, 1),
        end_date=dt.date(9999, 12, 31),
    )
    login(client, world.a.frontdesk)
    r = client.get(f"/provider/clients/{world.a.c1.id}")
    assert r.status_code == 200
    text = r.get_data(as_text=True)
    assert "6 of 6 visits left, until Dec 31, 9999" in text
    assert "4 of 4 visits left, until Dec 31, 9999" in text


def test_a_verification_dated_in_the_future_is_refused(app, client, world):
    """The call has happened: a date after today (a slip of the year) is refused next to the
    field, instead of being saved and breaking the visit count (a 500 at 12/31/9999)."""
    pol = h.policy(world.a.practice, world.a.c1)
    login(client, world.a.frontdesk)
    url = f"/provider/policies/{pol.id}/verifications/new"
    r = client.post(url, data={"verified_on": "9999-12-31", "visits_per_year": "20"})
    assert r.status_code == 400
    assert "The call cannot be in the future" in r.get_data(as_text=True)
    assert BenefitsVerification.select().count() == 0
    assert client.get(f"/provider/clients/{world.a.c1.id}").status_code == 200


def _billed_visit(w, local_day, hour, minute=0):
    """A completed visit of an insurance-billed type at a local time of the practice."""
    from tests.claims import factories as cf

    start = dt.datetime.combine(local_day, dt.time(hour, minute)).replace(tzinfo=w.a.practice.tz)
    start = start.astimezone(dt.UTC).replace(tzinfo=None)
    appt = cf.visit(w.a.practice, w.a.c1, w.a.provider, day=start.date(), hour=start.hour)
    appt.starts_at, appt.ends_at = start, start + dt.timedelta(hours=1)
    appt.blocked_until = appt.completed_at = appt.ends_at
    appt.save()
    return appt


def test_visits_left_counts_the_visit_on_the_day_of_the_call(app, client, world):
    """The desk calls in the morning (8 of 20 used) and the client comes that afternoon:
    that visit's claim cannot be in the payer's count yet, so it is one more used. It was
    left out (visits were counted from the day after the call): 12 left instead of 11."""
    pol = h.policy(world.a.practice, world.a.c1)
    BenefitsVerification.create(
        practice=world.a.practice,
        client=world.a.c1,
        policy=pol,
        verified_on=dt.date(2026, 11, 30),
        visits_per_year=20,
        visits_used=8,
    )
    _billed_visit(world, dt.date(2026, 11, 27), 10)  # before the call: in the payer's 8
    login(client, world.a.frontdesk)
    page = client.get(f"/provider/clients/{world.a.c1.id}").get_data(as_text=True)
    assert "12 of 20 visits left" in page
    _billed_visit(world, dt.date(2026, 11, 30), 15)  # the afternoon of the call
    page = client.get(f"/provider/clients/{world.a.c1.id}").get_data(as_text=True)
    assert "11 of 20 visits left" in page
    _billed_visit(world, dt.date(2026, 12, 1), 16, 30)  # 00:30 UTC on Dec 2
    page = client.get(f"/provider/policies/{pol.id}").get_data(as_text=True)
    assert "10 of 20 visits left" in page
