"""The slot rule: table tests (both DST days included) and property tests."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portal.rules.slots import (
    Exception_,
    free_slots,
    is_late_cancellation,
    local_ranges,
    recurring_starts,
    to_local,
    to_utc,
)

NY = ZoneInfo("America/New_York")
D = dt.date
T = dt.datetime

# Monday 2026-03-02 .. the spring-forward Sunday 2026-03-08 .. the fall-back Sunday 2026-11-01
WEEKDAY_9_TO_5 = [(wd, 9 * 60, 17 * 60) for wd in range(7)]


def local_times(slots):
    return [to_local(s, NY).strftime("%Y-%m-%d %H:%M") for s in slots]


@pytest.mark.parametrize(
    "weekly, exceptions, on, expected",
    [
        ([(0, 540, 720)], [], D(2026, 3, 2), [(540, 720)]),
        ([(0, 540, 720), (0, 780, 1020)], [], D(2026, 3, 2), [(540, 720), (780, 1020)]),
        ([(0, 540, 720), (0, 700, 800)], [], D(2026, 3, 2), [(540, 800)]),
        ([(0, 540, 720)], [], D(2026, 3, 3), []),
        ([(0, 540, 1020)], [Exception_(D(2026, 3, 2), "off")], D(2026, 3, 2), []),
        (
            [(0, 540, 1020)],
            [Exception_(D(2026, 3, 2), "off", 720, 780)],
            D(2026, 3, 2),
            [(540, 720), (780, 1020)],
        ),
        ([], [Exception_(D(2026, 3, 3), "extra", 600, 660)], D(2026, 3, 3), [(600, 660)]),
        (
            [(0, 540, 1020)],
            [Exception_(D(2026, 3, 2), "off"), Exception_(D(2026, 3, 2), "extra", 600, 660)],
            D(2026, 3, 2),
            [(600, 660)],
        ),
        (
            [(0, 540, 1020)],
            [Exception_(D(2026, 3, 9), "off")],
            D(2026, 3, 2),
            [(540, 1020)],
        ),
    ],
)
def test_local_ranges(weekly, exceptions, on, expected):
    assert local_ranges(on, weekly, exceptions) == expected


@pytest.mark.parametrize(
    "local, edge, expected_utc",
    [
        (T(2026, 1, 15, 9, 0), "start", T(2026, 1, 15, 14, 0)),  # EST, UTC-5
        (T(2026, 7, 15, 9, 0), "start", T(2026, 7, 15, 13, 0)),  # EDT, UTC-4
        (T(2026, 3, 8, 2, 30), "start", T(2026, 3, 8, 7, 0)),  # in the gap: the jump
        (T(2026, 3, 8, 2, 30), "end", T(2026, 3, 8, 7, 0)),
        (T(2026, 11, 1, 1, 30), "start", T(2026, 11, 1, 6, 30)),  # twice: the later
        (T(2026, 11, 1, 1, 30), "end", T(2026, 11, 1, 5, 30)),  # twice: the earlier
    ],
)
def test_to_utc(local, edge, expected_utc):
    assert to_utc(local, NY, edge) == expected_utc


@pytest.mark.parametrize(
    "day, hours, duration, step, expected",
    [
        # An ordinary Monday, 9-12, 60-minute visits every 60 minutes
        (D(2026, 3, 2), (540, 720), 60, 60, ["09:00", "10:00", "11:00"]),
        # Spring forward: 9-12 on the 23-hour day is unaffected in wall time
        (D(2026, 3, 8), (540, 720), 60, 60, ["09:00", "10:00", "11:00"]),
        # Spring forward, 0-5 local is only 4 real hours: 1:00 then 3:00
        (D(2026, 3, 8), (0, 300), 60, 60, ["00:00", "01:00", "03:00", "04:00"]),
        # Fall back, 0-4 local is 5 real hours: 1:00 appears twice
        (D(2026, 11, 1), (0, 240), 60, 60, ["00:00", "01:00", "01:00", "02:00", "03:00"]),
        # Fall back, 9-17 is ordinary
        (D(2026, 11, 1), (540, 720), 90, 30, ["09:00", "09:30", "10:00", "10:30"]),
    ],
)
def test_slots_table_including_both_dst_days(day, hours, duration, step, expected):
    slots = free_slots(
        tz=NY,
        start_date=day,
        end_date=day,
        weekly_hours=[(day.weekday(), *hours)],
        duration_minutes=duration,
        step_minutes=step,
    )
    assert [s[-5:] for s in local_times(slots)] == expected
    assert all(b > a for a, b in zip(slots, slots[1:], strict=False))


def test_slots_skip_bookings_and_their_buffers():
    day = D(2026, 3, 2)  # EST: 9:00 local = 14:00 UTC
    booked = [(T(2026, 3, 2, 15, 0), T(2026, 3, 2, 16, 15))]  # 10:00-11:00 + 15 min buffer
    slots = free_slots(
        tz=NY,
        start_date=day,
        end_date=day,
        weekly_hours=[(0, 540, 780)],  # 9-13
        busy=booked,
        duration_minutes=60,
        buffer_after_minutes=15,
        step_minutes=15,
    )
    # 9:00 would hold the room until 10:15 (its own buffer): clash. After the booking's
    # buffer (11:15) every quarter hour until the last that ends by 13:00.
    assert local_times(slots) == [
        "2026-03-02 11:15",
        "2026-03-02 11:30",
        "2026-03-02 11:45",
        "2026-03-02 12:00",
    ]


def test_buffer_of_the_new_visit_may_not_run_into_the_next_booking():
    day = D(2026, 3, 2)
    booked = [(T(2026, 3, 2, 15, 0), T(2026, 3, 2, 16, 0))]  # 10:00-11:00 local
    slots = free_slots(
        tz=NY,
        start_date=day,
        end_date=day,
        weekly_hours=[(0, 540, 660)],  # 9-11
        busy=booked,
        duration_minutes=45,
        buffer_after_minutes=15,
        step_minutes=15,
    )
    # 9:00-9:45 + 15 buffer ends 10:00: fine; 9:15 would hold until 10:15: clash
    assert local_times(slots) == ["2026-03-02 09:00"]


def test_lead_time_and_furthest_day():
    slots = free_slots(
        tz=NY,
        start_date=D(2026, 3, 2),
        end_date=D(2026, 3, 4),
        weekly_hours=WEEKDAY_9_TO_5,
        duration_minutes=60,
        step_minutes=60,
        not_before=T(2026, 3, 2, 20, 0),  # 15:00 local on the 2nd
        not_after=T(2026, 3, 3, 15, 0),  # 10:00 local on the 3rd
    )
    assert local_times(slots) == [
        "2026-03-02 15:00",
        "2026-03-02 16:00",
        "2026-03-03 09:00",
        "2026-03-03 10:00",
    ]


@pytest.mark.parametrize(
    "starts, now, window, late",
    [
        (T(2026, 5, 2, 15), T(2026, 5, 1, 15), 24, False),  # exactly 24 h: on time
        (T(2026, 5, 2, 15), T(2026, 5, 1, 15, 1), 24, True),
        (T(2026, 5, 2, 15), T(2026, 4, 30, 15), 24, False),
        (T(2026, 5, 2, 15), T(2026, 5, 2, 14), 0, False),
        (T(2026, 5, 2, 15), T(2026, 5, 2, 14), 2, True),
    ],
)
def test_late_cancellation(starts, now, window, late):
    assert is_late_cancellation(starts, now, window) is late


def test_recurring_keeps_local_time_across_dst():
    first = to_utc(T(2026, 2, 23, 10, 0), NY)  # Monday 10:00 EST
    starts = recurring_starts(first, NY, 2, 4)
    assert local_times(starts) == [
        "2026-02-23 10:00",
        "2026-03-09 10:00",
        "2026-03-23 10:00",
        "2026-04-06 10:00",
    ]
    assert starts[1] - starts[0] == dt.timedelta(weeks=2, hours=-1)


# --- property tests -------------------------------------------------------------------

ranges_st = st.lists(
    st.tuples(st.integers(0, 6), st.integers(0, 95), st.integers(1, 48)).map(
        lambda t: (t[0], t[1] * 15, min(1440, t[1] * 15 + t[2] * 15))
    ),
    max_size=6,
)


@st.composite
def bookings(draw):
    out = []
    for _ in range(draw(st.integers(0, 8))):
        start = T(2026, 10, 30) + dt.timedelta(minutes=15 * draw(st.integers(0, 4 * 24 * 5)))
        length = dt.timedelta(minutes=draw(st.sampled_from([30, 45, 60, 75, 90, 120])))
        out.append((start, start + length))
    return out


@settings(max_examples=150, deadline=None)
@given(
    weekly=ranges_st,
    busy=bookings(),
    duration=st.sampled_from([30, 60, 90]),
    buffer=st.sampled_from([0, 10, 15, 30]),
    step=st.sampled_from([15, 30]),
    tzname=st.sampled_from(["America/New_York", "Europe/London", "Australia/Lord_Howe"]),
)
def test_property_no_slot_overlaps_a_booking_and_all_lie_in_hours(
    weekly, busy, duration, buffer, step, tzname
):
    tz = ZoneInfo(tzname)
    # 2026-10-30 .. 11-03 covers the fall-back in New York, 03-06 .. 03-10 the spring-forward
    fall_busy = busy
    for start_date in (D(2026, 10, 30), D(2026, 3, 6)):
        shift = dt.datetime.combine(start_date, dt.time()) - T(2026, 10, 30)
        busy = [(s + shift, e + shift) for s, e in fall_busy]
        end_date = start_date + dt.timedelta(days=4)
        slots = free_slots(
            tz=tz,
            start_date=start_date,
            end_date=end_date,
            weekly_hours=weekly,
            busy=busy,
            duration_minutes=duration,
            buffer_after_minutes=buffer,
            step_minutes=step,
        )
        hold = dt.timedelta(minutes=duration + buffer)
        length = dt.timedelta(minutes=duration)
        assert slots == sorted(set(slots))
        for s in slots:
            for bs, be in busy:
                assert not (s < be and bs < s + hold), (s, bs, be)
            # inside one working range of its local day, walked minute by minute
            local_start = to_local(s, tz)
            day = local_start.date()
            ranges = local_ranges(day, weekly, [])
            inside = False
            for rs, re_ in ranges:
                midnight = dt.datetime.combine(day, dt.time())
                lo = midnight + dt.timedelta(minutes=rs)
                hi = midnight + dt.timedelta(minutes=re_)
                t = s
                ok = True
                while t < s + length:
                    w = to_local(t, tz)
                    if not (lo <= w < hi):
                        ok = False
                        break
                    t += dt.timedelta(minutes=15)
                if ok and lo <= to_local(s + length - dt.timedelta(minutes=1), tz) < hi:
                    inside = True
                    break
            assert inside, (tzname, to_local(s, tz), ranges)
