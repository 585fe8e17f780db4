"""Referral / authorization state, as a table."""

import datetime as dt

import pytest

from portal.rules.coverage import (
    invalid_document,
    later_plan_year,
    plan_year_start,
    stale_verification,
    state,
    visits_left,
)

D = dt.date
ON = D(2026, 11, 3)


@pytest.mark.parametrize(
    "start, end, allowed, used, expected",
    [
        (D(2026, 12, 1), None, None, 0, ("not_started", "starts Dec 1, 2026")),
        (D(2026, 1, 1), D(2026, 11, 2), 10, 0, ("expired", "expired Nov 2, 2026")),
        (D(2026, 1, 1), D(2026, 11, 3), 10, 0, ("ok", "10 of 10 visits left, until Nov 3, 2026")),
        (D(2026, 11, 3), None, 6, 6, ("used_up", "used up (6 of 6 visits)")),
        (D(2026, 1, 1), None, 6, 7, ("used_up", "used up (7 of 6 visits)")),
        (D(2026, 1, 1), None, 6, 5, ("last", "1 visit left of 6")),
        (D(2026, 1, 1), None, None, 40, ("ok", "no visit limit")),
        (D(2026, 1, 1), D(2027, 1, 31), 12, 4, ("ok", "8 of 12 visits left, until Jan 31, 2027")),
        (D(2026, 1, 1), D(2025, 1, 1), 12, 12, ("expired", "expired Jan 1, 2025")),
    ],
)
def test_state(start, end, allowed, used, expected):
    assert state(start, end, allowed, used, ON) == expected


@pytest.mark.parametrize(
    "per_year, reported, since, expected",
    [(20, 8, 0, 12), (20, 8, 3, 9), (20, None, 0, 20), (20, 19, 5, 0), (None, 3, 1, None)],
)
def test_visits_left(per_year, reported, since, expected):
    assert visits_left(per_year, reported, since) == expected


@pytest.mark.parametrize(
    "noun, state_, text, referring, expected",
    [
        (
            "referral",
            "not_started",
            "starts Dec 1, 2026",
            "",
            "The referral for Aetna only starts Dec 1, 2026; Aetna requires a valid one: ask "
            "the client's physician for a new referral and add it (Add a referral, on the "
            "client's insurance), or bill the visit as self-pay.",
        ),
        (
            "prior authorization",
            "expired",
            "expired Nov 2, 2026",
            "",
            "The prior authorization for Aetna expired Nov 2, 2026; Aetna requires a valid one: "
            "ask Aetna for a new authorization and add it (Add an authorization, on the "
            "client's insurance), or bill the visit as self-pay.",
        ),
    ],
)
def test_an_invalid_document_says_what_to_do(noun, state_, text, referring, expected):
    assert invalid_document(noun, "Aetna", state_, text, referring) == expected


@pytest.mark.parametrize(
    "on_date, month, start",
    [
        (D(2026, 3, 5), 1, D(2026, 1, 1)),
        (D(2026, 1, 1), 1, D(2026, 1, 1)),
        (D(2026, 12, 31), 1, D(2026, 1, 1)),
        (D(2026, 6, 30), 7, D(2025, 7, 1)),
        (D(2026, 7, 1), 7, D(2026, 7, 1)),
        (D(2026, 2, 1), 12, D(2025, 12, 1)),
        (D(2026, 12, 1), 12, D(2026, 12, 1)),
    ],
)
def test_plan_year_start(on_date, month, start):
    assert plan_year_start(on_date, month) == start


@pytest.mark.parametrize(
    "verified_on, on_date, month, later",
    [
        (D(2025, 11, 3), D(2026, 1, 2), 1, True),  # a new calendar year
        (D(2026, 1, 1), D(2026, 12, 31), 1, False),  # the call on the year's first day
        (D(2025, 11, 3), D(2026, 1, 2), 7, False),  # a July plan: same year until June 30
        (D(2026, 6, 15), D(2026, 7, 1), 7, True),  # and a new one on July 1
        (D(2026, 7, 1), D(2027, 6, 30), 7, False),
        (D(2026, 6, 30), D(2026, 6, 30), 7, False),  # the call on the visit's day
    ],
)
def test_later_plan_year(verified_on, on_date, month, later):
    assert later_plan_year(verified_on, on_date, month) is later


def test_a_stale_verification_names_a_plan_year_that_does_not_start_in_january():
    july = stale_verification("Regence", D(2026, 6, 15), D(2026, 7, 8), 7)
    assert july.startswith(
        "Benefits were last verified Jun 15, 2026, before this plan year (it began Jul 1, "
        "2026): call Regence to verify them again"
    )
    calendar = stale_verification("Regence", D(2025, 11, 3), D(2026, 1, 2), 1)
    assert calendar.startswith(
        "Benefits were last verified Nov 3, 2025, before this plan year: call Regence"
    )
