"""The demo practice: loading it twice keeps the data and adds no rows (every area's loader)."""

from portal import clock, demo
from portal.db import database
from portal.models import Appointment, AppointmentType
from portal.services import coverage
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
