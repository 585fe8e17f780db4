"""The day grid's arithmetic: rows, columns and heights of visits, working hours and free
half hours; the week list; which providers a schedule link shows."""

import datetime as dt
import random
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from portal.rules import day_grid as G

LA = ZoneInfo("America/Los_Angeles")
DAY = dt.date(2026, 6, 3)  # a Wednesday; PDT is UTC-7
WEDNESDAY = 2


def visit(provider_id, hour, minute=0, minutes=60, buffer=15, status="booked", color="#4A7C59"):
    start = dt.datetime.combine(DAY, dt.time(hour, minute)) + dt.timedelta(hours=7)
    return SimpleNamespace(
        provider_id=provider_id,
        starts_at=start,
        ends_at=start + dt.timedelta(minutes=minutes),
        blocked_until=start + dt.timedelta(minutes=minutes + buffer),
        status=status,
        type_color=color,
    )


def nine_to_five(*provider_ids):
    return [(pid, WEDNESDAY, 9 * 60, 17 * 60) for pid in provider_ids]


def layout(appts, hours=None, exceptions=(), providers=(1, 2)):
    hours = nine_to_five(*providers) if hours is None else hours
    work = G.working_ranges(DAY, providers, hours, exceptions)
    return G.day_layout(DAY, LA, list(providers), work, appts)


def free_times(grid, provider_id):
    return [f.time for f in grid.free if f.provider_id == provider_id]


def test_an_empty_day_spans_8_to_7_with_a_row_every_15_minutes():
    grid = layout([], hours=[])
    assert grid.rows == (19 - 8) * 4
    assert [h.label for h in grid.hours][:3] == ["8 AM", "9 AM", "10 AM"]
    assert grid.hours[-1].label == "6 PM" and grid.hours[0].row == 1 and grid.hours[1].row == 5
    assert grid.blocks == grid.work == grid.free == [] and grid.count == 0


@pytest.mark.parametrize(
    "hour, minute, minutes, row, span",
    [
        # starts        length -> row   rows tall
        (8, 0, 60, 1, 4),
        (10, 0, 60, 9, 4),
        (10, 30, 90, 11, 6),
        (10, 10, 50, 9, 4),  # rounded into its quarter hour
        (12, 0, 5, 17, 1),  # never less than one row
        (12, 0, 20, 17, 2),
    ],
)
def test_a_visit_takes_its_rows(hour, minute, minutes, row, span):
    grid = layout([visit(1, hour, minute, minutes)])
    (block,) = grid.blocks
    assert (block.row, block.span, block.col) == (row, span, 2)
    assert block.start == dt.datetime.combine(DAY, dt.time(hour, minute))
    assert block.color == "c-4a7c59"


def test_columns_follow_the_providers_order():
    grid = layout([visit(2, 9), visit(1, 9)], providers=(2, 1))
    assert [(b.appt.provider_id, b.col) for b in grid.blocks] == [(2, 2), (1, 3)]


def test_the_day_widens_to_whole_hours_for_early_and_late_work():
    grid = layout([visit(1, 6, 30)], hours=[(1, WEDNESDAY, 7 * 60 + 30, 20 * 60 + 15)])
    assert grid.hours[0].label == "6 AM" and grid.hours[-1].label == "8 PM"
    assert grid.rows == (21 - 6) * 4
    assert grid.blocks[0].row == 3  # 6:30 is two quarter hours after 6:00
    (work,) = grid.work
    assert (work.row, work.span) == (7, (20 * 60 + 15 - 7 * 60 - 30) // 15)


def test_a_visit_running_past_midnight_ends_the_grid_at_midnight():
    grid = layout([visit(1, 23, 0, 120)])
    assert grid.hours[-1].label == "11 PM" and grid.rows == (24 - 8) * 4


def test_free_half_hours_skip_visits_and_their_buffer():
    grid = layout([visit(1, 10)])  # 10:00-11:00, buffer until 11:15
    times = free_times(grid, 1)
    assert times[:2] == ["09:00", "09:30"]
    assert "10:00" not in times and "10:30" not in times
    assert "11:00" not in times  # inside the buffer
    assert "11:30" in times and times[-1] == "16:30"
    assert len(free_times(grid, 2)) == 16  # the other provider: 9 to 5 all free


def test_free_half_hours_are_exactly_those_no_booking_overlaps():
    """The grid marks the half hours each booking touches; checked against the definition
    (a half hour [m, m + 30) is free when no booking [start, end) overlaps it) on many
    random working ranges and bookings, some outside the range or overlapping."""
    rng = random.Random(13)
    for _ in range(3000):
        s = rng.randrange(0, 1400)
        e = rng.randrange(s, 1441)
        busy = []
        for _ in range(rng.randrange(0, 6)):
            start = rng.randrange(-60, 1500)
            busy.append((start, start + rng.randrange(1, 200)))
        grid = G._free({1: [(s, e)]}, {1: busy}, lambda m: 1, {1: 2})
        expected = [
            m
            for m in range(s, e - G.FREE_MINUTES + 1, G.FREE_MINUTES)
            if not any(m < te and ts < m + G.FREE_MINUTES for ts, te in busy)
        ]
        assert [f.minute for f in grid] == expected, (s, e, busy)


def test_cancelled_visits_are_listed_apart_and_free_their_time():
    grid = layout([visit(1, 10, status="cancelled"), visit(1, 13, status="late_cancelled")])
    assert grid.blocks == [] and len(grid.cancelled) == 2
    assert "10:00" in free_times(grid, 1) and "13:00" in free_times(grid, 1)


def test_visits_say_their_times_as_the_page_prints_them():
    """The grid's "9:15–10:15 AM", the cancelled list's and the week's "9:15 AM", and the
    week's day headings are worked out once per visit (the C locale's strftime)."""
    grid = layout([visit(1, 11, 45), visit(1, 9, 5, 30), visit(2, 13, status="cancelled")])
    assert [b.times for b in grid.blocks] == ["11:45–12:45 PM", "9:05–9:35 AM"]
    for b in grid.blocks:
        assert b.times == f"{b.start.strftime('%-I:%M')}–{b.end.strftime('%-I:%M %p')}"
    assert [(c.appt.provider_id, c.time) for c in grid.cancelled] == [(2, "1:00 PM")]
    week = G.week_layout(G.monday_of(DAY), LA, [visit(1, 0, 30), visit(1, 12, 0)])
    wednesday = week.days[2]
    assert [v.time for v in wednesday.visits] == ["12:30 AM", "12:00 PM"]
    assert [v.start.strftime("%-I:%M %p") for v in wednesday.visits] == ["12:30 AM", "12:00 PM"]
    assert [d.label for d in week.days][:3] == ["Mon 1 Jun", "Tue 2 Jun", "Wed 3 Jun"]
    home = G.listed([visit(1, 9, 5), visit(1, 23, 30)], LA)  # 06:30 UTC the next day
    assert [(v.appt.starts_at.hour, v.time) for v in home] == [(16, "9:05 AM"), (6, "11:30 PM")]


def test_no_show_and_completed_visits_stay_on_the_grid():
    grid = layout([visit(1, 10, status="completed"), visit(1, 13, status="no_show")])
    assert grid.count == 2 and grid.cancelled == []


def test_time_off_and_extra_hours_change_the_lanes():
    exceptions = [(1, "off", 12 * 60, 13 * 60), (2, "extra", 18 * 60, 19 * 60)]
    grid = layout([], exceptions=exceptions)
    lanes = sorted((w.col, w.row, w.span) for w in grid.work)
    assert lanes == [(2, 5, 12), (2, 21, 16), (3, 5, 32), (3, 41, 4)]
    assert "12:00" not in free_times(grid, 1) and "18:00" in free_times(grid, 2)
    whole = layout([], exceptions=[(1, "off", None, None)])
    assert [w.col for w in whole.work] == [3] and free_times(whole, 1) == []


def test_a_free_cell_says_when_and_where():
    grid = layout([], providers=(7,), hours=[(7, WEDNESDAY, 13 * 60, 14 * 60)])
    assert [(f.time, f.label, f.col, f.row) for f in grid.free] == [
        ("13:00", "1:00 PM", 2, 21),
        ("13:30", "1:30 PM", 2, 23),
    ]


@pytest.mark.parametrize(
    "minute, label, hour",
    [
        (0, "12:00 AM", "12 AM"),
        (570, "9:30 AM", "9 AM"),
        (720, "12:00 PM", "12 PM"),
        (785, "1:05 PM", "1 PM"),
        (1439, "11:59 PM", "11 PM"),
    ],
)
def test_clock_labels(minute, label, hour):
    assert G.minute_label(minute) == label
    assert G.hour_label(minute) == hour
    t = dt.time(minute // 60, minute % 60)
    assert label == t.strftime("%-I:%M %p") and hour == t.strftime("%-I %p")


def test_the_week_lists_each_day_in_order():
    monday = G.monday_of(DAY)
    assert monday == dt.date(2026, 6, 1)
    late = visit(1, 23, 30)  # 06:30 UTC the next day: still Wednesday here
    week = G.week_layout(monday, LA, [visit(1, 9), visit(2, 10), late])
    assert [d.date.weekday() for d in week.days] == list(range(7))
    assert [len(d.visits) for d in week.days] == [0, 0, 3, 0, 0, 0, 0]
    assert week.days[2].visits[2].start == dt.datetime.combine(DAY, dt.time(23, 30))
    assert week.days[2].visits[0].color == "c-4a7c59"


P = [SimpleNamespace(id=i) for i in (3, 5, 8)]


@pytest.mark.parametrize(
    "selected, own, shown, key",
    [
        # ?provider=  user's own  -> columns   key
        ("all", 5, [3, 5, 8], "all"),
        ("8", 5, [8], "8"),
        ("", 5, [5], "5"),  # a therapist opens on their own column
        (None, None, [3, 5, 8], "all"),  # the front desk on everyone
        ("99", 5, [5], "5"),  # not one of ours: the default
        ("x", None, [3, 5, 8], "all"),
        (None, 42, [3, 5, 8], "all"),  # an inactive provider's user
    ],
)
def test_which_providers_a_link_shows(selected, own, shown, key):
    chosen, got = G.pick_providers(P, selected, own)
    assert ([p.id for p in chosen], got) == (shown, key)


@pytest.mark.parametrize(
    "color, css", [("#4a7c59", "c-4a7c59"), ("#2F6F8F", "c-2f6f8f"), (None, "c-"), ("", "c-")]
)
def test_colour_classes(color, css):
    assert G.color_class(color) == css
