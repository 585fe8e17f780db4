"""The demo practice: loading it twice keeps the data and adds no rows (every area's loader)."""

import datetime as dt
import zoneinfo

import pytest

from portal import clock, demo
from portal.db import database
from portal.models import Appointment, AppointmentType, Claim, Client, Practice, ProviderHours
from portal.rules.appointments import CANCELLED_STATUSES
from portal.services import coverage, superbills
from tests.conftest import login


def _counts():
    skip = {"schema_migration", "audit_log", "login_attempt", "user_session"}
    tables = [t for t in database.get_tables() if t not in skip and not t.startswith("sqlite_")]
    return {t: database.execute_sql(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}


def test_demo_loads_twice_without_duplicates(ctx):
    demo.load()
    first = _counts()
    assert first["practice"] == 1 and first["user"] >= 4 and first["provider"] >= 2
    demo.load()
    second = _counts()
    assert second == first, {t: (first[t], second[t]) for t in first if first[t] != second[t]}


def test_demo_logins_work(app):
    # Not under the `ctx` fixture: its app context (and flask-login's g) would be shared
    # by every test-client request.
    with app.test_request_context():
        demo.load()
    for email, password in demo.DEMO_PASSWORDS.items():
        c = app.test_client()
        r = login(c, email, password=password)
        assert r.status_code == 302, email
        home = "/portal/" if email.startswith("client") else "/provider/"
        assert r.headers["Location"] == home
        assert c.get(home).status_code == 200, email


def test_demo_command_prints_the_logins(app):
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    for email, password in demo.DEMO_PASSWORDS.items():
        assert email in result.output and password in result.output
    again = app.test_cli_runner().invoke(args=["demo"])
    assert again.exit_code == 0


def test_every_demo_visit_billed_to_insurance_has_a_policy_to_bill(ctx):
    """The desk's demo day: an insurance visit of a client with no policy on file would
    only ever warn at check-in and make no claim."""
    demo.load()
    visits = (
        Appointment.select().join(AppointmentType).where(AppointmentType.bill_insurance == True)  # noqa: E712
    )
    assert visits.count() > 0
    for visit in visits:
        day = clock.local_date(visit.starts_at, visit.practice.tz)
        policies = coverage.active_policies(visit.client)
        assert any(p.covers(day) for p in policies), (visit.client.legal_name, day)


def test_every_demo_visit_is_in_its_therapists_hours_and_none_overlap(ctx):
    """The claims demo's visits were at 7:00 AM, before the practice opens, and some on
    Maya's days off: every visit of the demo now sits in its therapist's working hours
    (ProviderHours), and no two of one therapist overlap (buffer included)."""
    demo.load()
    hours = {}
    for h in ProviderHours.select():
        hours.setdefault((h.provider_id, h.weekday), []).append((h.start_minute, h.end_minute))
    visits = list(
        Appointment.select()
        .where(Appointment.status.not_in(CANCELLED_STATUSES))
        .order_by(Appointment.provider, Appointment.starts_at)
    )
    claimed = {c.appointment_id for c in Claim.select(Claim.appointment)}
    assert len(claimed) >= 10 and claimed <= {v.id for v in visits}
    for v in visits:
        start = clock.to_local(v.starts_at, v.practice.tz)
        end = clock.to_local(v.ends_at, v.practice.tz)
        first = start.hour * 60 + start.minute
        last = first + int((end - start).total_seconds() // 60)
        windows = hours.get((v.provider_id, start.weekday()), [])
        assert any(s <= first and last <= e for s, e in windows), (v.id, start, windows)
    for before, after in zip(visits, visits[1:], strict=False):
        if before.provider_id == after.provider_id:
            assert before.blocked_until <= after.starts_at, (before.id, after.id)


@pytest.mark.parametrize("day", [dt.date(2026, 12, 1), dt.date(2026, 12, 5), dt.date(2026, 12, 7)])
def test_the_demo_client_has_a_paid_visit_for_a_superbill_whatever_the_day_and_hour(
    ctx, monkeypatch, day
):
    """Loaded on a Tuesday just after midnight in the practice's zone, the demo client had
    no completed visit paid in full (the eight days around today held none for them before
    that morning), so no superbill could be made: the URL-map world then had none and the
    access matrix failed on those mornings. Tuesday, Saturday and Monday, at 00:30."""
    tz = zoneinfo.ZoneInfo("America/Los_Angeles")  # the demo practice's (checked below)
    local = dt.datetime.combine(day, dt.time(0, 30), tzinfo=tz)
    now = local.astimezone(dt.UTC).replace(tzinfo=None)
    monkeypatch.setattr(clock, "utcnow", lambda: now)
    demo.load()
    client = Client.get(Client.email == "client@demo.example")
    assert clock.today(Practice.get().tz) == day
    visits = superbills.candidates(client, day - dt.timedelta(days=30), day)
    assert any(v.eligible for v in visits), [(v.appointment_id, v.paid_in_full) for v in visits]
