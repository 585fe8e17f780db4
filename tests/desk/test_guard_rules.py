"""The desk's guards as pure rules: check-in only on the visit's day, the no-show grace
period, and one client's visits with two providers (overlapping or back to back)."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from portal.rules import appointments as rules

LA = ZoneInfo("America/Los_Angeles")
# Wednesday 3 June 2026, 10:00 in Los Angeles (PDT, UTC-7), as stored (naive UTC)
START = dt.datetime(2026, 6, 3, 17, 0)


def at(day, hour, minute=0):
    """A Los Angeles wall time in June as naive UTC."""
    return dt.datetime(2026, 6, day, hour, minute) + dt.timedelta(hours=7)


@pytest.mark.parametrize(
    "now, window, refusal",
    [
        (at(1, 10), 240, "Check-in opens at 6:00 AM on Wednesday 3 June"),  # two days early
        (at(2, 23, 59), 24 * 60, "Check-in opens at 12:00 AM on Wednesday 3 June"),  # not the day
        (at(3, 5, 59), 240, "Check-in opens at 6:00 AM"),
        (at(3, 6, 0), 240, None),
        (at(3, 9, 45), 15, None),
        (at(3, 9, 44), 15, "Check-in opens at 9:45 AM"),
        (at(3, 10, 30), 240, None),  # late is fine, on the day
        (at(3, 23, 59), 240, None),
        (at(4, 0, 1), 240, "This visit was on Wednesday 3 June"),
    ],
)
def test_check_in_only_on_the_visits_day_inside_the_window(now, window, refusal):
    got = rules.check_in_refusal(START, now, LA, window)
    if refusal is None:
        assert got is None
    else:
        assert got is not None and got.startswith(refusal), got


@pytest.mark.parametrize(
    "minutes_after_start, grace, allowed",
    [(-5, 15, False), (0, 0, True), (14, 15, False), (15, 15, True), (40, 15, True)],
)
def test_no_show_only_after_the_grace_period(minutes_after_start, grace, allowed):
    now = START + dt.timedelta(minutes=minutes_after_start)
    assert rules.no_show_due(START, now, grace) is (allowed and minutes_after_start >= 0)
    if allowed:
        status, fee = rules.no_show(
            "booked", starts_at=START, now=now, fee_cents=9500, grace_minutes=grace
        )
        assert (status, fee) == ("no_show", 9500)
    else:
        with pytest.raises(rules.BookingError):
            rules.no_show("booked", starts_at=START, now=now, fee_cents=9500, grace_minutes=grace)


def visit(vid, start_h, start_m, minutes, provider):
    s = at(3, start_h, start_m)
    return rules.OtherVisit(vid, s, s + dt.timedelta(minutes=minutes), provider)


@pytest.mark.parametrize(
    "other, expected",
    [
        (visit(1, 9, 0, 60, provider=2), rules.BACK_TO_BACK),  # 9-10 with another, then 10:00
        (visit(1, 9, 0, 50, provider=2), rules.BACK_TO_BACK),  # a 10-minute gap
        (visit(1, 8, 0, 60, provider=2), None),  # an hour apart
        (visit(1, 9, 30, 60, provider=2), rules.OVERLAP),
        (visit(1, 10, 0, 60, provider=2), rules.OVERLAP),
        (visit(1, 11, 0, 60, provider=2), rules.BACK_TO_BACK),  # right after
        (visit(1, 11, 16, 60, provider=2), None),
        (visit(1, 9, 0, 60, provider=1), None),  # the same therapist: a double session
    ],
)
def test_one_client_two_providers(other, expected):
    found = rules.client_conflicts(at(3, 10), at(3, 11), 1, [other])
    assert [kind for kind, _ in found] == ([expected] if expected else [])
