"""Scheduling fixtures: a fixed clock, appointment types and working hours for world a/b."""

import datetime as dt

import pytest

from portal import clock
from portal.models import (
    AppointmentType,
    AppointmentTypeCode,
    AppointmentTypeProvider,
    BookingPolicy,
    ProviderHours,
)

# Monday 1 June 2026, 08:00 in Los Angeles (the factories' practice time zone)
NOW = dt.datetime(2026, 6, 1, 15, 0)


@pytest.fixture
def now(monkeypatch):
    state = {"now": NOW}
    monkeypatch.setattr(clock, "utcnow", lambda: state["now"])
    return state


def local_utc(day, hour, minute=0):
    """A Los Angeles wall time in June (PDT, UTC-7) as naive UTC."""
    return dt.datetime.combine(day, dt.time(hour, minute)) + dt.timedelta(hours=7)


@pytest.fixture
def sched(world, now):
    """Per practice: a 60-minute type (15 min buffer, 97124 x 60) offered by both
    providers, 9-17 every day, a policy with a 24 h window and fees."""
    out = {}
    for key in ("a", "b"):
        side = getattr(world, key)
        t60 = AppointmentType.create(
            practice=side.practice,
            name="60-minute massage",
            duration_minutes=60,
            price_cents=9500,
            buffer_after_minutes=15,
            bill_insurance=False,  # cash: checked out without a chart note (issue 11)
        )
        t30 = AppointmentType.create(
            practice=side.practice, name="30-minute massage", duration_minutes=30, price_cents=5500
        )
        AppointmentTypeCode.create(
            practice=side.practice, appointment_type=t60, cpt_code="97124", minutes=60
        )
        for t in (t60, t30):
            for prov in (side.provider, side.provider2):
                AppointmentTypeProvider.create(
                    practice=side.practice, appointment_type=t, provider=prov
                )
        for prov in (side.provider, side.provider2):
            for wd in range(7):
                ProviderHours.create(
                    practice=side.practice,
                    provider=prov,
                    weekday=wd,
                    start_minute=9 * 60,
                    end_minute=17 * 60,
                )
        BookingPolicy.create(
            practice=side.practice,
            min_lead_minutes=60,
            max_days_ahead=30,
            cancellation_window_hours=24,
            late_cancel_fee_cents=4000,
            no_show_fee_cents=9500,
        )
        side.t60, side.t30 = t60, t30
        out[key] = side
    return world
