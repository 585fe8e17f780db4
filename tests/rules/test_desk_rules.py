"""The desk's pure rules (portal/rules/desk.py), table-driven: when check-out waits for the
chart note, the next visit's suggested date, a tip's checks and its one-tap suggestions."""

import datetime as dt

import pytest

from portal.rules import desk as rules

MON = dt.date(2026, 11, 30)


@pytest.mark.parametrize(
    ("state", "insurance", "cash_ok", "refusal"),
    [
        (rules.NOTE_SIGNED, True, False, None),
        (rules.NOTE_DRAFT, True, True, rules.NEEDS_NOTE_INSURANCE),
        (rules.NOTE_NONE, False, False, rules.NEEDS_NOTE_PRACTICE),
        (rules.NOTE_NONE, False, True, None),
    ],
)
def test_check_out_waits_for_the_note_only_where_it_must(state, insurance, cash_ok, refusal):
    got = rules.checkout_note_refusal(
        state, billed_to_insurance=insurance, cash_without_note=cash_ok
    )
    assert got == refusal


@pytest.mark.parametrize(
    ("previous", "expected"),
    [
        ([], MON + dt.timedelta(weeks=2)),  # no rhythm yet: the default
        ([MON - dt.timedelta(weeks=3)], MON + dt.timedelta(weeks=3)),
        ([MON - dt.timedelta(days=1)], MON + dt.timedelta(weeks=1)),  # at least a week
        ([MON - dt.timedelta(weeks=20)], MON + dt.timedelta(weeks=8)),  # at most eight
        ([MON + dt.timedelta(days=7)], MON + dt.timedelta(weeks=2)),  # later dates ignored
    ],
)
def test_the_next_visit_keeps_the_clients_rhythm_and_weekday(previous, expected):
    got = rules.suggested_next_date(MON, previous)
    assert got == expected and got.weekday() == MON.weekday()


@pytest.mark.parametrize(
    ("visit", "expected"),
    [
        (11000, [(15, 1700), (18, 2000), (20, 2200)]),  # $16.50 -> $17, $19.80 -> $20
        (13000, [(15, 2000), (18, 2300), (20, 2600)]),  # $19.50 -> $20, $23.40 -> $23
        (9500, [(15, 1400), (18, 1700), (20, 1900)]),  # $14.25 -> $14, $17.10 -> $17
        (10000, [(15, 1500), (18, 1800), (20, 2000)]),
        (0, []),
    ],
)
def test_tip_suggestions_round_half_a_dollar_up(visit, expected):
    assert rules.tip_suggestions(visit) == expected


@pytest.mark.parametrize(
    ("cents", "result"),
    [(None, 0), (0, 0), (500, 500), (100_000, 100_000), (-1, "negative"), (100_001, "over")],
)
def test_a_tip_is_optional_positive_and_at_most_a_thousand_dollars(cents, result):
    if isinstance(result, str):
        with pytest.raises(ValueError, match=result):
            rules.check_tip(cents, 0)
    else:
        assert rules.check_tip(cents, 0) == result


def test_a_large_sale_asks_first():
    assert rules.needs_confirmation(20001, 20000)
    assert not rules.needs_confirmation(20000, 20000)
    assert rules.needs_confirmation(1, 0) and rules.needs_confirmation(1, -5)
