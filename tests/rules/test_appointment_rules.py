"""An appointment's life, as a rule book: which action moves it from which status to which,
what a cancellation or a no-show costs, and what check-out minutes must look like."""

import datetime as dt

import pytest

from portal.rules import appointments as R
from portal.rules.appointments import (
    BOOKED,
    CANCEL,
    CANCELLED,
    CHANGE,
    CHECK_IN,
    CHECK_OUT,
    CHECKED_IN,
    COMPLETED,
    LATE_CANCEL,
    LATE_CANCELLED,
    MARK_NO_SHOW,
    NO_SHOW,
    UNDO,
    BookingError,
    InvalidTransition,
)

ALLOWED = [
    # action         from          to
    (CHECK_IN, BOOKED, CHECKED_IN),
    (CHECK_OUT, BOOKED, COMPLETED),
    (CHECK_OUT, CHECKED_IN, COMPLETED),
    (CANCEL, BOOKED, CANCELLED),
    (CANCEL, CHECKED_IN, CANCELLED),
    (LATE_CANCEL, BOOKED, LATE_CANCELLED),
    (LATE_CANCEL, CHECKED_IN, LATE_CANCELLED),
    (MARK_NO_SHOW, BOOKED, NO_SHOW),
    (MARK_NO_SHOW, CHECKED_IN, NO_SHOW),
    (UNDO, CHECKED_IN, BOOKED),
    (UNDO, NO_SHOW, BOOKED),
    (CHANGE, BOOKED, BOOKED),
    (CHANGE, CHECKED_IN, CHECKED_IN),
]

REFUSED = [
    # action         from            what the person reads
    (CHECK_IN, CHECKED_IN, "Only a booked appointment can be checked in."),
    (CHECK_IN, COMPLETED, "Only a booked appointment can be checked in."),
    (CHECK_IN, CANCELLED, "Only a booked appointment can be checked in."),
    (CHECK_IN, NO_SHOW, "Only a booked appointment can be checked in."),
    (CHECK_OUT, COMPLETED, "can be checked out"),
    (CHECK_OUT, CANCELLED, "can be checked out"),
    (CHECK_OUT, LATE_CANCELLED, "can be checked out"),
    (CHECK_OUT, NO_SHOW, "can be checked out"),
    (CANCEL, COMPLETED, "cannot be cancelled any more"),
    (CANCEL, CANCELLED, "cannot be cancelled any more"),
    (CANCEL, NO_SHOW, "cannot be cancelled any more"),
    (LATE_CANCEL, LATE_CANCELLED, "cannot be cancelled any more"),
    (MARK_NO_SHOW, COMPLETED, "no-show"),
    (MARK_NO_SHOW, NO_SHOW, "no-show"),
    (MARK_NO_SHOW, CANCELLED, "no-show"),
    (UNDO, BOOKED, "Only a check-in or a no-show can be undone."),
    (UNDO, COMPLETED, "Only a check-in or a no-show can be undone."),
    (UNDO, CANCELLED, "Only a check-in or a no-show can be undone."),
    (UNDO, LATE_CANCELLED, "Only a check-in or a no-show can be undone."),
    (CHANGE, COMPLETED, "can be changed"),
    (CHANGE, CANCELLED, "can be changed"),
    (CHANGE, LATE_CANCELLED, "can be changed"),
    (CHANGE, NO_SHOW, "can be changed"),
]


@pytest.mark.parametrize("action, current, new", ALLOWED)
def test_allowed(action, current, new):
    assert R.check(action, current) == new
    assert action in R.allowed_actions(current)


@pytest.mark.parametrize("action, current, message", REFUSED)
def test_refused(action, current, message):
    with pytest.raises(InvalidTransition, match=message):
        R.check(action, current)
    assert action not in R.allowed_actions(current)


def test_everything_not_allowed_above_is_refused():
    allowed = {(a, s) for a in R.TRANSITIONS for s in R.STATUSES if a in R.allowed_actions(s)}
    assert allowed == {(a, s) for a, s, _ in ALLOWED}
    assert set(R.REFUSALS) == set(R.TRANSITIONS)
    assert set(R.LABELS) == set(R.STATUSES)


def test_nothing_leaves_a_finished_visit_but_undo_of_a_no_show():
    assert R.allowed_actions(COMPLETED) == frozenset()
    assert R.allowed_actions(CANCELLED) == frozenset()
    assert R.allowed_actions(LATE_CANCELLED) == frozenset()
    assert R.allowed_actions(NO_SHOW) == frozenset({UNDO})


T = dt.datetime(2026, 6, 3, 17, 0)  # the visit's start (naive UTC)
H = dt.timedelta(hours=1)


@pytest.mark.parametrize(
    "now, by_client, waive, expected",
    [
        # cancelled          by      waived  -> status, fee
        (T - 48 * H, True, False, (CANCELLED, 0)),  # outside the 24-hour window: free
        (T - 25 * H, False, False, (CANCELLED, 0)),
        (T - 23 * H, True, False, (LATE_CANCELLED, 4000)),  # inside it: the fee is due
        (T - 23 * H, False, False, (LATE_CANCELLED, 4000)),
        (T - 23 * H, False, True, (LATE_CANCELLED, 0)),  # staff may waive it
        (T - 23 * H, True, True, (LATE_CANCELLED, 4000)),  # a client may not
        (T + H, False, False, (LATE_CANCELLED, 4000)),  # staff, after the start
    ],
)
def test_cancellation_and_its_fee(now, by_client, waive, expected):
    got = R.cancellation(
        BOOKED,
        starts_at=T,
        now=now,
        window_hours=24,
        fee_cents=4000,
        by_client=by_client,
        waive_fee=waive,
    )
    assert got == expected


def test_a_client_cannot_cancel_a_started_visit_and_nobody_a_finished_one():
    with pytest.raises(BookingError, match="already started"):
        R.cancellation(BOOKED, starts_at=T, now=T, window_hours=24, fee_cents=0, by_client=True)
    with pytest.raises(InvalidTransition, match="cannot be cancelled"):
        R.cancellation(COMPLETED, starts_at=T, now=T - 48 * H, window_hours=24, fee_cents=0)


@pytest.mark.parametrize(
    "current, now, waive, expected",
    [
        (BOOKED, T + 10 * dt.timedelta(minutes=1), False, (NO_SHOW, 9500)),
        (CHECKED_IN, T, False, (NO_SHOW, 9500)),
        (BOOKED, T + H, True, (NO_SHOW, 0)),
        (BOOKED, T - dt.timedelta(minutes=1), False, "cannot be a no-show yet"),
        (COMPLETED, T + H, False, "no-show"),
    ],
)
def test_no_show_only_once_the_visit_was_due(current, now, waive, expected):
    if isinstance(expected, str):
        with pytest.raises(BookingError, match=expected):
            R.no_show(current, starts_at=T, now=now, fee_cents=9500, waive_fee=waive)
    else:
        assert R.no_show(current, starts_at=T, now=now, fee_cents=9500, waive_fee=waive) == (
            expected
        )


@pytest.mark.parametrize(
    "current, now, may",
    [
        (BOOKED, T - H, True),
        (BOOKED, T, False),  # started
        (CHECKED_IN, T - H, False),  # at the desk already
        (CANCELLED, T - 48 * H, False),
        (COMPLETED, T - H, False),
    ],
)
def test_what_a_client_may_change_online(current, now, may):
    assert R.client_may_change(current, starts_at=T, now=now) is may


@pytest.mark.parametrize(
    "minutes, expected",
    [
        ({"97124": 45, "97140": 15}, {"97124": 45, "97140": 15}),
        ({" 97124 ": 30, "97124": 30}, {"97124": 60}),  # the same code adds up
        ({"97124": 60, "97140": 0, "": 20}, {"97124": 60}),  # empty and zero rows drop
        ({"97124": 60, "97140": None}, {"97124": 60}),
        ({"g0283": 15}, {"G0283": 15}),
        ({"97124": 720}, {"97124": 720}),
    ],
)
def test_check_out_minutes(minutes, expected):
    assert R.visit_minutes(minutes) == expected


@pytest.mark.parametrize(
    "minutes, message",
    [
        ({}, "at least one"),
        ({"97124": 0}, "at least one"),
        ({"9712": 30}, "not a CPT code"),
        ({"97-24": 30}, "not a CPT code"),
        ({"97124": 721}, "at most 720"),
    ],
)
def test_check_out_minutes_refused(minutes, message):
    with pytest.raises(BookingError, match=message):
        R.visit_minutes(minutes)
