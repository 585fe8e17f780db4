"""Desk fixtures: the scheduling world (a fixed clock, types, hours, a policy) plus an
insurance-billed type, and helpers to book and reach a visit's day."""

import datetime as dt

import pytest

from portal.models import AppointmentType, AppointmentTypeCode, AppointmentTypeProvider
from portal.services import scheduling as svc
from tests.scheduling.conftest import NOW, local_utc, now, sched  # noqa: F401

DAY = dt.date(2026, 6, 3)  # a Wednesday; the clock starts on Monday 1 June, 8:00


@pytest.fixture
def desk(sched):  # noqa: F811
    """sched, plus per practice an insurance-billed 60-minute type (97124 45 + 97140 15)."""
    for key in ("a", "b"):
        side = getattr(sched, key)
        t = AppointmentType.create(
            practice=side.practice,
            name="Therapeutic massage (insurance)",
            duration_minutes=60,
            price_cents=11000,
            buffer_after_minutes=15,
            bill_insurance=True,
        )
        for code, m in (("97124", 45), ("97140", 15)):
            AppointmentTypeCode.create(
                practice=side.practice, appointment_type=t, cpt_code=code, minutes=m
            )
        for prov in (side.provider, side.provider2):
            AppointmentTypeProvider.create(
                practice=side.practice, appointment_type=t, provider=prov
            )
        side.tins = t
    return sched


def book(side, hour, *, client=None, provider=None, appt_type=None, day=DAY, minute=0, **kw):
    return svc.book(
        practice=side.practice,
        client=client or side.c1,
        appt_type=appt_type or side.t60,
        provider=provider or side.provider,
        starts_at=local_utc(day, hour, minute),
        **kw,
    )


__all__ = ["NOW", "DAY", "book", "local_utc"]
