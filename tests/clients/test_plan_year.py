"""A benefit year that does not start in January: recorded with the verification (the
month the payer says it starts), offered again with the next one, refused when it is not a
month, and kept by migration 0033 (existing verifications read as calendar years)."""

import datetime as dt

import pytest
from peewee import IntegrityError

from portal.db import database, runner
from portal.models import BenefitsVerification
from tests.clients import helpers as h
from tests.conftest import login


def _form(pol, **kw):
    data = {"verified_on": f"{dt.date.today().year}-01-01", "covered": "y", "copay": "40"}
    data.update(kw)
    return data


def test_the_benefit_year_month_is_recorded_and_offered_again(app, client, world):
    pol = h.policy(world.a.practice, world.a.c1)
    url = f"/provider/policies/{pol.id}/verifications/new"
    login(client, world.a.frontdesk)
    page = client.get(url).get_data(as_text=True)
    assert '<label for="plan_year_month">Benefit year starts</label>' in page
    assert '<option selected value="1">January 1 (the calendar year)</option>' in page
    assert client.post(url, data=_form(pol, plan_year_month="7")).status_code == 302
    assert BenefitsVerification.get().plan_year_month == 7
    page = client.get(url).get_data(as_text=True)  # the next call: the plan's year again
    assert '<option selected value="7">July 1</option>' in page
    for bad in ("13", "0", "July"):
        r = client.post(url, data=_form(pol, plan_year_month=bad))
        assert r.status_code == 400, bad
        assert 'id="plan_year_month-error"' in r.get_data(as_text=True)  # by the field
    assert BenefitsVerification.select().count() == 1
    # another practice's policy: 404; logged out: to the login page
    other = h.policy(world.b.practice, world.b.c1)
    r = client.post(f"/provider/policies/{other.id}/verifications/new", data=_form(other))
    assert r.status_code == 404
    client.post("/logout")
    r = client.post(url, data=_form(pol, plan_year_month="7"))
    assert r.status_code in (302, 401) and BenefitsVerification.select().count() == 1


def test_migration_0033_reads_existing_verifications_as_calendar_years(app, world):
    pol = h.policy(world.a.practice, world.a.c1)
    before = BenefitsVerification.create(
        practice=world.a.practice,
        client=world.a.c1,
        policy=pol,
        verified_on=dt.date(2026, 3, 2),
        plan_year_month=7,
    )
    r = runner()
    (name,) = [m.name for m in r.status() if m.name.startswith("0033")]
    reverted = r.down(name)  # and every later migration
    assert reverted[-1] == name
    columns = {c.name for c in database.get_columns("benefits_verification")}
    assert "plan_year_month" not in columns
    assert r.up() == list(reversed(reverted))
    # a verification kept through the down reads as a calendar year (as before 0033)
    assert BenefitsVerification.get_by_id(before.id).plan_year_month == 1
    for bad in (0, 13):
        with pytest.raises(IntegrityError), database.atomic():
            BenefitsVerification.create(
                practice=world.a.practice,
                client=world.a.c1,
                policy=pol,
                verified_on=dt.date(2026, 3, 2),
                plan_year_month=bad,
            )
