"""Posting one payer answer to a claim (services/claims/posting.py) beyond the 835 fixture:
a reversal (CLP02 22) takes the payment back with negative postings and no invoice, the
payment posted again afterwards; what is auto-adjusted and what stays open."""

import datetime as dt

import pytest

from portal.models import Claim, ClaimEvent, ClaimPosting, Invoice
from portal.rules.claim_money import Adj
from portal.services.claims import posting
from tests.claims import factories as cf


@pytest.fixture
def claim(ctx, world):
    a = world.a
    return cf.claim(a.practice, a.c1, a.provider, status="submitted",
                    lines=(("97124", 45, 3, 9000),), day=dt.date(2026, 11, 2))  # fmt: skip


def _answer(claim, status, paid, adjustments):
    line = claim.lines.get()
    pr = sum(a.cents for a in adjustments if a.group == "PR")
    charge = line.charge_cents if paid >= 0 else -line.charge_cents  # a reversal's are < 0
    return posting.PayerAnswer(
        status, charge, paid, pr,
        (posting.PaidLine(line, paid + pr, paid, tuple(adjustments), charge_cents=charge),),
    )  # fmt: skip


def test_a_reversal_takes_the_payment_back_and_the_claim_is_paid_again(claim):
    posting.post(claim, _answer(claim, "1", 7000, [Adj("CO", "45", 2000)]))
    assert Claim.get_by_id(claim.id).status == "paid"
    result = posting.post(claim, _answer(claim, "22", -7000, [Adj("CO", "45", -2000)]))
    c = Claim.get_by_id(claim.id)
    assert result.status == "accepted" and c.status == "accepted"
    assert (c.paid_cents, c.adjusted_cents, c.allowed_cents) == (0, 0, 0)
    assert c.balance_cents == 9000 and c.lines.get().allowed_cents == 0
    assert result.invoice is None and not Invoice.select().exists()
    assert result.problems == []  # it adds up
    assert [p.paid_cents for p in ClaimPosting.select().order_by(ClaimPosting.id)] == [7000, -7000]
    posting.post(claim, _answer(claim, "1", 6500, [Adj("CO", "45", 2500)]))
    c = Claim.get_by_id(claim.id)
    assert (c.status, c.paid_cents, c.balance_cents, c.allowed_cents) == ("paid", 6500, 0, 6500)
    assert [e.to_status for e in ClaimEvent.select().where(ClaimEvent.action == "posted")] == [
        "paid",
        "accepted",
        "paid",
    ]


@pytest.mark.parametrize(
    ("adjustment", "adjusted", "open_"),
    [
        (Adj("CO", "45", 2000), 2000, 0),  # down to the fee schedule: settled
        (Adj("PI", "253", 2000), 2000, 0),  # sequestration
        (Adj("OA", "23", 2000), 2000, 0),  # the prior payer's share (a secondary)
        (Adj("CO", "97", 2000), 0, 2000),  # bundled: to appeal or write off
        (Adj("OA", "18", 2000), 0, 2000),  # duplicate: to look into
    ],
)
def test_what_is_settled_and_what_stays_open(claim, adjustment, adjusted, open_):
    posting.post(claim, _answer(claim, "1", 7000, [adjustment]))
    c = Claim.get_by_id(claim.id)
    assert (c.adjusted_cents, c.balance_cents) == (adjusted, open_)


def test_a_void_claim_takes_no_payment(claim):
    Claim.update(status="void").where(Claim.id == claim.id).execute()
    with pytest.raises(posting.PostingError, match="This claim is void"):
        posting.post(claim, _answer(claim, "1", 7000, [Adj("CO", "45", 2000)]))
    assert not ClaimPosting.select().exists()
