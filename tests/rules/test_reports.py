"""Revenue report arithmetic (portal/rules/reports.py), as tables."""

import datetime as dt

import pytest

from portal.rules import reports as r

D = dt.date


@pytest.mark.parametrize(
    ("total", "weights", "shares"),
    [
        (10000, [9000, 3500], [7200, 2800]),
        (100, [1, 1, 1], [34, 33, 33]),
        (-100, [1, 1, 1], [-34, -33, -33]),  # a refund splits like the payment
        (12500, [12500], [12500]),
        (500, [0, 0], [500, 0]),
        (0, [3, 4], [0, 0]),
        (1, [1, 1000], [0, 1]),
        (7, [], []),
    ],
)
def test_allocate_adds_up_exactly(total, weights, shares):
    got = r.allocate(total, weights)
    assert got == shares and sum(got) == (total if weights else 0)


def test_allocate_refuses_negative_weights():
    with pytest.raises(ValueError):
        r.allocate(10, [5, -1])


def test_totals_by_key_largest_first():
    rows = [("Acme", 5000, "p1"), ("Zenith", 100, "p2"), ("Acme", 2000, "p3"),
            ("Beta", 7000, "p4"), ("Gone", 0, "p5")]  # fmt: skip
    assert [(t.label, t.cents, t.count) for t in r.totals_by(rows)] == [
        ("Acme", 7000, 2),
        ("Beta", 7000, 1),
        ("Zenith", 100, 1),
        ("Gone", 0, 1),
    ]


def test_totals_by_counts_payments_once_and_refunds_not():
    """A payment spread over two lines of one key is one payment; a refund (source None)
    moves the amount and is no payment."""
    rows = [("97124", 7200, "pay-1"), ("97124", 1800, "pay-1"), ("97140", 3000, "pay-1"),
            ("97124", -900, None), ("Package sales", -5000, None)]  # fmt: skip
    assert [(t.label, t.cents, t.count) for t in r.totals_by(rows)] == [
        ("97124", 8100, 1),
        ("97140", 3000, 1),
        ("Package sales", -5000, 0),
    ]


def test_totals_by_groups_named_rows_by_identity_not_name():
    mi = r.Named(("payer", 7), "Blue Cross", ("payer ID 00710", "#7"), "00710")
    tx = r.Named(("payer", 9), "Blue Cross", ("payer ID 84980", "#9"), "84980")
    rows = [(mi, 5000, "p1"), (tx, 900, "p2"), (mi, -500, None), (r.Named("c", "Clients"), 1, "p3")]
    assert [(t.label, t.cents, t.count, t.ident) for t in r.totals_by(rows)] == [
        ("Blue Cross (payer ID 00710)", 4500, 1, "00710"),
        ("Blue Cross (payer ID 84980)", 900, 1, "84980"),
        ("Clients", 1, 1, ""),
    ]


def test_distinct_labels_use_the_first_mark_no_other_of_the_name_has():
    items = [
        # no payer ID on either: the place tells them apart
        r.Named(1, "Blue Cross", ("", "Detroit, MI", "#1")),
        r.Named(2, "blue  cross", ("", "Dallas, TX", "#2")),  # the same name to a reader
        # one NPI shared (a typo, a group's): credentials, then the record number
        r.Named(3, "Ana Lee", ("NPI 1234567893", "LMT", "#3")),
        r.Named(4, "Ana Lee", ("NPI 1234567893", "LMT", "#4")),
        r.Named(5, "Ana Lee", ("NPI 1234567893", "PT", "#5")),
        r.Named(6, "Zenith", ("payer ID Z1", "#6")),  # alone: the name only
        r.Named(7, "Plain"),
        r.Named(8, "Plain"),  # nothing to tell them apart by: the name (never seen in use)
    ]
    assert r.distinct_labels(items) == {
        1: "Blue Cross (Detroit, MI)",
        2: "blue  cross (Dallas, TX)",
        3: "Ana Lee (#3)",
        4: "Ana Lee (#4)",
        5: "Ana Lee (PT)",
        6: "Zenith",
        7: "Plain",
        8: "Plain",
    }


def test_csv_text_neutralises_what_a_spreadsheet_would_run():
    for name in ("=HYPERLINK(1)", "+1", "-2+3", "@SUM(A1)", "\tx", "\rx"):
        assert r.csv_text(name) == "'" + name
    for name in ("Blue Harbor Health", "97124", "", "O'Neil", "Ann-Marie"):
        assert r.csv_text(name) == name


def test_by_month_splits_client_and_payer_money():
    rows = [
        (D(2026, 11, 30), r.CLIENT, 4000),
        (D(2026, 12, 1), r.PAYER, 9600),
        (D(2026, 11, 2), r.PAYER, 500),
        (D(2026, 12, 31), r.CLIENT, -1000),
    ]
    months = r.by_month(rows)
    assert [(m.label, m.client_cents, m.payer_cents, m.total_cents) for m in months] == [
        ("November 2026", 4000, 500, 4500),
        ("December 2026", -1000, 9600, 8600),
    ]
    with pytest.raises(ValueError):
        r.by_month([(D(2026, 1, 1), "package_credit", 100)])


def test_by_month_shows_every_month_of_the_period_even_without_money():
    """An owner reading month by month sees a quiet month as $0, not a gap."""
    rows = [(D(2026, 11, 30), r.CLIENT, 4000), (D(2027, 1, 2), r.PAYER, 900)]
    months = r.by_month(rows, r.month_range(D(2026, 10, 15), D(2027, 1, 31)))
    assert [(m.label, m.total_cents) for m in months] == [
        ("October 2026", 0),
        ("November 2026", 4000),
        ("December 2026", 0),
        ("January 2027", 900),
    ]


def test_month_range():
    assert r.month_range(D(2026, 11, 15), D(2027, 2, 1)) == [
        D(2026, 11, 1), D(2026, 12, 1), D(2027, 1, 1), D(2027, 2, 1)
    ]  # fmt: skip
