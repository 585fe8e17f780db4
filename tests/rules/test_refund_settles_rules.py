"""The settled amount of an invoice (portal/rules/billing.py), as the rule book reads: what a
refund that settles gave back is neither owed nor due again; what one the client will pay
another way gave back is due again."""

import pytest

from portal.rules import billing as B

SETTLES, AGAIN = True, False


@pytest.mark.parametrize(
    "payments, refunds, sums",
    [
        ([10000], [], (10000, 0, 0)),
        ([10000], [(3000, SETTLES)], (10000, 3000, 3000)),
        ([10000], [(3000, AGAIN)], (10000, 3000, 0)),
        ([6000, 4000], [(1000, SETTLES), (2000, AGAIN)], (10000, 3000, 1000)),
        ([10000], [(10000, SETTLES)], (10000, 10000, 10000)),
    ],
)
def test_invoice_sums(payments, refunds, sums):
    assert B.invoice_sums(payments, refunds) == sums


@pytest.mark.parametrize(
    "payments, refunds, message",
    [
        ([10000], [(10001, SETTLES)], "More was refunded than was paid"),
        ([10000], [(0, AGAIN)], "positive amounts"),
        ([0], [], "positive amounts"),
    ],
)
def test_invoice_sums_refusals(payments, refunds, message):
    with pytest.raises(B.BillingError, match=message):
        B.invoice_sums(payments, refunds)


@pytest.mark.parametrize(
    "total, settled, owed",
    [
        (10000, 0, 10000),
        (10000, 3000, 7000),
        (10000, 10000, 0),
        (10000, 12000, 0),  # a settling refund of an overpayment: never below zero
    ],
)
def test_owed_total(total, settled, owed):
    assert B.owed_total(total, settled) == owed


def test_a_settled_amount_is_never_negative():
    with pytest.raises(B.BillingError, match="cannot be negative"):
        B.owed_total(10000, -1)


# status, total, paid, refunded, settled -> balance due
@pytest.mark.parametrize(
    "status, total, paid, refunded, settled, balance",
    [
        # $100 paid in full, $30 refunded: settling, nothing due; due again, $30
        ("partially_paid", 10000, 10000, 3000, 3000, 0),
        ("partially_paid", 10000, 10000, 3000, 0, 3000),
        # half paid, $20 given back as goodwill: still the other half due, no more
        ("partially_paid", 10000, 5000, 2000, 2000, 5000),
        ("open", 10000, 0, 0, 0, 10000),
        ("paid", 10000, 10000, 3000, 0, 0),  # paid and void owe nothing
        ("void", 10000, 0, 0, 0, 0),
        ("partially_paid", 10000, 10000, 10000, 10000, 0),  # all given back, settled
        ("open", 10000, 10000, 10000, 0, 10000),  # all given back, due again
    ],
)
def test_balance_due(status, total, paid, refunded, settled, balance):
    assert B.balance_due(status, total, paid, refunded, settled) == balance


def test_balance_due_without_a_settled_amount_is_as_before():
    assert B.balance_due("partially_paid", 10000, 10000, 3000) == 3000


# current, total, net paid, settled -> status
@pytest.mark.parametrize(
    "current, total, net, settled, status",
    [
        ("paid", 10000, 7000, 3000, "paid"),  # $30 refunded, settling
        ("paid", 10000, 7000, 0, "partially_paid"),  # $30 refunded, due again
        ("paid", 10000, 0, 10000, "paid"),  # all given back, settled: nothing owed
        ("paid", 10000, 0, 0, "open"),  # all given back, due again
        ("partially_paid", 10000, 3000, 2000, "partially_paid"),
        ("partially_paid", 10000, 0, 5000, "open"),  # paid half, given back as goodwill
        ("open", 10000, 10000, 0, "paid"),
        ("void", 10000, 0, 3000, "void"),
        ("draft", 10000, 0, 0, "draft"),
    ],
)
def test_status_for_with_settled(current, total, net, settled, status):
    assert B.status_for(current, total, net, settled) == status


@pytest.mark.parametrize(
    "payment, refunded, amount, ok",
    [
        (10000, 0, 10000, True),  # a refund can't exceed what was paid, settling or not
        (10000, 7000, 3000, True),
        (10000, 7000, 3001, False),
    ],
)
def test_check_refund_is_by_what_was_paid(payment, refunded, amount, ok):
    if ok:
        B.check_refund(payment, refunded, amount)
    else:
        with pytest.raises(B.BillingError, match="more than what is left"):
            B.check_refund(payment, refunded, amount)


@pytest.mark.parametrize(
    "current, net, message",
    [
        ("open", 7000, "Refund the payments"),  # $30 of $100 refunded, settling or not
        ("paid", 0, "from paid to void"),  # all refunded and settled: paid, kept on record
    ],
)
def test_void_still_needs_nothing_kept(current, net, message):
    with pytest.raises(B.InvalidTransition, match=message):
        B.check_void(current, net)
