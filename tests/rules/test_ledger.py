"""Package credit arithmetic and invoice rules, as tables that read like the rule book."""

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal.rules import billing as B
from portal.rules import ledger as L
from portal.rules.money import parse_dollars


@pytest.mark.parametrize(
    "price, sessions, expected",
    [
        (42500, 5, [8500, 8500, 8500, 8500, 8500]),
        (10000, 3, [3334, 3333, 3333]),
        (1, 3, [1, 0, 0]),
        (0, 2, [0, 0]),
        (99999, 10, [10000] * 9 + [9999]),
    ],
)
def test_session_prices_add_up(price, sessions, expected):
    assert L.session_prices(price, sessions) == expected
    assert sum(expected) == price


@pytest.mark.parametrize(
    "price, sessions, words",
    [
        (42500, 5, "$85.00"),
        (10000, 3, "$33.33 to $33.34"),  # not "$33.33": three of those are $99.99
        (37500, 3, "$125.00"),
        (99999, 10, "$99.99 to $100.00"),
    ],
)
def test_per_session_words(price, sessions, words):
    assert L.per_session_words(price, sessions) == words


@pytest.mark.parametrize(
    "price, balance, used, next_price, refund",
    [
        (42500, 5, 0, 8500, 42500),  # nothing used: everything refundable
        (42500, 4, 8500, 8500, 34000),
        (10000, 3, 0, 3334, 10000),
        (10000, 2, 3334, 3333, 6666),  # the first visit cost 3334
        (10000, 1, 6667, 3333, 3333),
        (10000, 2, 3333, 3334, 6667),  # the 3334 visit given back: the next one costs 3334
    ],
)
def test_redeem_price_and_refund_of_unused(price, balance, used, next_price, refund):
    assert L.redeem_price(price, balance, used) == next_price
    assert L.unused_value(price, used) == refund


def test_no_credit_left_is_an_explicit_error():
    with pytest.raises(L.NoCreditLeft, match="No package credit"):
        L.redeem_price(42500, 0, 42500)
    with pytest.raises(L.NoCreditLeft):
        L.apply(0, -1)


@pytest.mark.parametrize(
    "balance, delta, after",
    [(5, -1, 4), (1, -1, 0), (0, 1, 1), (4, 1, 5), (3, -3, 0)],
)
def test_apply(balance, delta, after):
    assert L.apply(balance, delta) == after


@pytest.mark.parametrize("deltas", [[-1], [5, -6], [2, -1, -1, -1]])
def test_balance_never_below_zero(deltas):
    with pytest.raises(L.LedgerError):
        L.balance(deltas)


def test_liability_is_unused_value():
    assert L.liability([(42500, 8500), (10000, 6667), (5000, 5000)]) == 34000 + 3333
    with pytest.raises(L.LedgerError, match="worth more"):
        L.unused_value(10000, 10001)


def _play(price, sessions, moves):
    """Play redeems (None) and give-backs (the index of a visit holding a credit) on a
    package; (prices of the visits holding a credit, credits left)."""
    held, left = [], sessions
    for move in moves:
        if move is None:
            used = L.used_value([(-1, p) for p in held])
            held.append(L.redeem_price(price, left, used))
            left -= 1
        else:
            held.pop(move)
            left += 1
    return held, left


def _histories(steps, held=0, left=3):
    yield ()
    if steps:
        moves = [(None, held + 1, left - 1)] if left else []
        moves += [(i, held - 1, left + 1) for i in range(held)]
        for move, h, n in moves:
            for rest in _histories(steps - 1, h, n):
                yield (move, *rest)


def test_every_order_on_three_sessions_for_100_adds_up():
    """Every history of up to 8 redeems and give-backs (of any visit, not only the last)
    on 3 sessions for $100: the visits used plus the refund of the rest is $100, every
    credit 3333 or 3334, and the credits left split the unused value the same way."""
    count = 0
    for moves in _histories(8):
        held, left = _play(10000, 3, moves)
        refund = L.unused_value(10000, sum(held))
        assert sum(held) + refund == 10000 and set(held) <= {3333, 3334}, moves
        if left:
            assert set(L.session_prices(refund, left)) <= {3333, 3334}, moves
        count += 1
    assert count > 300


@given(
    price=st.integers(min_value=0, max_value=10_000_000),
    sessions=st.integers(min_value=1, max_value=100),
    data=st.data(),
)
def test_property_visits_and_refund_add_up_to_the_price(price, sessions, data):
    """Any history of redeems and give-backs of any visit, then a refund of what is left:
    the per-visit prices of the visits kept plus the refund equal the amount paid; none
    negative, none more than a cent from price / sessions."""
    moves, held = [], 0
    for _ in range(data.draw(st.integers(0, 3 * sessions))):
        if held < sessions and (held == 0 or data.draw(st.booleans())):
            moves.append(None)
            held += 1
        else:
            moves.append(data.draw(st.integers(0, held - 1)))
            held -= 1
    kept, _ = _play(price, sessions, moves)
    refund = L.unused_value(price, sum(kept))
    assert refund >= 0 and sum(kept) + refund == price
    low, high = price // sessions, -(-price // sessions)
    assert all(low <= p <= high for p in kept)


# --- invoices ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "n, label", [(1, "INV-000001"), (123, "INV-000123"), (1234567, "INV-1234567")]
)
def test_invoice_number(n, label):
    assert B.invoice_number(n) == label


@pytest.mark.parametrize(
    "kind, qty, unit, amount",
    [("visit", 1, 10000, 10000), ("fee", 2, 2500, 5000), ("adjustment", 1, -1500, -1500)],
)
def test_line_amount(kind, qty, unit, amount):
    assert B.line_amount(kind, qty, unit) == amount


@pytest.mark.parametrize(
    "kind, qty, unit, message",
    [
        ("visit", 1, -100, "Only an adjustment"),
        ("visit", 0, 100, "at least 1"),
        ("gift", 1, 100, "Unknown line kind"),
    ],
)
def test_line_amount_refusals(kind, qty, unit, message):
    with pytest.raises(B.BillingError, match=message):
        B.line_amount(kind, qty, unit)


def test_total_cannot_be_negative():
    assert B.invoice_total([10000, -1500]) == 8500
    with pytest.raises(B.BillingError):
        B.invoice_total([1000, -1500])


@pytest.mark.parametrize(
    "current, total, net, status",
    [
        ("open", 10000, 0, "open"),
        ("open", 10000, 4000, "partially_paid"),
        ("open", 10000, 10000, "paid"),
        ("paid", 10000, 6000, "partially_paid"),  # after a partial refund
        ("paid", 10000, 0, "open"),  # after a full refund
        ("open", 0, 0, "paid"),  # nothing to pay
        ("void", 10000, 0, "void"),
        ("draft", 10000, 0, "draft"),
    ],
)
def test_status_for(current, total, net, status):
    assert B.status_for(current, total, net) == status


@pytest.mark.parametrize(
    "current, new, ok",
    [
        ("draft", "open", True),
        ("open", "paid", True),
        ("open", "void", True),
        ("paid", "open", True),
        ("paid", "void", False),
        ("void", "open", False),
        ("partially_paid", "void", False),
        ("open", "draft", False),
    ],
)
def test_transitions(current, new, ok):
    if ok:
        assert B.check_transition(current, new) == new
    else:
        with pytest.raises(B.InvalidTransition, match=f"from {current} to {new}"):
            B.check_transition(current, new)


@pytest.mark.parametrize(
    "current, net, message",
    [("void", 0, "already void"), ("open", 500, "Refund the payments")],
)
def test_void_refusals(current, net, message):
    with pytest.raises(B.InvalidTransition, match=message):
        B.check_void(current, net)


@pytest.mark.parametrize(
    "current, balance, amount, message",
    [
        ("paid", 0, 100, "Only an open invoice"),
        ("open", 5000, 0, "above zero"),
        ("open", 5000, 5001, "more than the balance"),
    ],
)
def test_payment_refusals(current, balance, amount, message):
    with pytest.raises(B.BillingError, match=message):
        B.check_payment(current, balance, amount)


@pytest.mark.parametrize(
    "paid, refunded, amount, ok",
    [(10000, 0, 10000, True), (10000, 4000, 6000, True), (10000, 4000, 6001, False)],
)
def test_refund_limits(paid, refunded, amount, ok):
    if ok:
        B.check_refund(paid, refunded, amount)
    else:
        with pytest.raises(B.BillingError, match="more than what is left"):
            B.check_refund(paid, refunded, amount)


def test_net_paid():
    assert B.net_paid([5000, 5000], [2000]) == 8000
    with pytest.raises(B.BillingError):
        B.net_paid([1000], [2000])


@pytest.mark.parametrize(
    "text, cents",
    [("85", 8500), ("$1,085.50", 108550), ("0.5", 50), ("10000000", 1_000_000_000)],
)
def test_parse_dollars(text, cents):
    assert parse_dollars(text) == cents


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "Enter an amount."),
        ("abc", "Enter an amount like 85 or 85.50."),
        ("NaN", "Enter an amount like 85 or 85.50."),  # was decimal.InvalidOperation: a 500
        ("Infinity", "Enter an amount like 85 or 85.50."),
        ("sNaN", "Enter an amount like 85 or 85.50."),
        ("-5", "The amount cannot be negative."),
        ("1.005", "Use at most two decimal places."),
        ("1e20", "Enter at most $10,000,000.00."),  # past a database integer
        ("1e30", "Enter at most $10,000,000.00."),  # quantize() itself would raise
        ("0.0000000000000000000000000001", "Use at most two decimal places."),
    ],
)
def test_parse_dollars_refusals(text, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_dollars(text)


def test_parse_dollars_with_a_form_of_its_own_limit():
    """A form with a lower ceiling (a claim's payment) says its own limit."""
    assert parse_dollars("999,999.99", max_cents=99_999_999) == 99_999_999
    with pytest.raises(ValueError, match=re.escape("Enter at most $999,999.99.")):
        parse_dollars("1000000", max_cents=99_999_999)
    with pytest.raises(ValueError, match=re.escape("Enter at most $999,999.99.")):
        parse_dollars("9" * 25, max_cents=99_999_999)
    assert parse_dollars("10000000") == 1_000_000_000  # the default ceiling, $10,000,000
