"""Referral / authorization state, as a table."""

import datetime as dt

import pytest

from portal.rules.coverage import invalid_document, state, visits_left

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
