"""Posting one payer answer to a claim (services/claims/posting.py) beyond the 835 fixture:
a reversal (CLP02 22) takes the payment back with negative postings and no invoice, the
payment posted again afterwards; what is auto-adjusted and what stays open."""

import datetime as dt

import pytest

from portal.models import (
    Claim,
    ClaimEvent,
    ClaimLine,
    ClaimPosting,
    ClaimProblem,
    ClaimWriteOff,
    Invoice,
)
from portal.rules.claim_money import Adj
from portal.services import invoicing
from portal.services.claims import history, posting, queries
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


# --- the client's share against the check-out estimate --------------------------------------


def _estimate(claim, cents, paid=False):
    """The client's estimated share invoiced at check-out (and paid there, when `paid`)."""
    inv = invoicing.create_invoice(
        practice_id=claim.practice_id, client_id=claim.client_id,
        appointment_id=claim.appointment_id, reason="insurance_share",
        lines=[{"kind": "patient_responsibility", "description": "Estimated copay",
                "unit_cents": cents}],
    )  # fmt: skip
    if paid:
        invoicing.record_payment(inv, method="cash", amount_cents=cents, receipt=False)
    return Invoice.get_by_id(inv.id)


def _overpaid(claim):
    return ClaimProblem.get_or_none(
        (ClaimProblem.claim == claim.id) & (ClaimProblem.code == "client_overpaid")
    )


def test_a_claim_paid_in_full_tells_of_the_estimate_the_client_paid(claim):
    """The payer paid everything it allowed (no PR): the $20 the client paid at check-out
    is the client's money, to refund."""
    _estimate(claim, 2000, paid=True)
    result = posting.post(claim, _answer(claim, "1", 7000, [Adj("CO", "45", 2000)]))
    assert result.invoice is None
    problem = _overpaid(claim)
    assert problem is not None and "refund $20.00" in problem.message


def test_an_unpaid_estimate_above_the_share_is_replaced_by_the_share(claim):
    """The estimate ($40) was not paid yet and the payer says the client owes $25: the
    client is asked for $25, not $40 (the estimate is voided), and nothing is refunded."""
    estimate = _estimate(claim, 4000)
    result = posting.post(
        claim, _answer(claim, "1", 5000, [Adj("CO", "45", 1500), Adj("PR", "3", 2500)])
    )
    assert Invoice.get_by_id(estimate.id).status == "void"
    assert result.invoice is not None and result.invoice.total_cents == 2500
    assert _overpaid(claim) is None
    open_ = Invoice.select().where((Invoice.client == claim.client_id)
                                   & (Invoice.status != "void"))  # fmt: skip
    assert sum(i.total_cents for i in open_) == 2500


def test_a_reversal_does_not_tell_of_an_overpayment(claim):
    _estimate(claim, 2500, paid=True)
    posting.post(claim, _answer(claim, "1", 5000, [Adj("CO", "45", 1500), Adj("PR", "3", 2500)]))
    result = posting.post(
        claim, _answer(claim, "22", -5000, [Adj("CO", "45", -1500), Adj("PR", "3", -2500)])
    )
    assert result.invoice is None and _overpaid(claim) is None
    result = posting.post(
        claim, _answer(claim, "1", 5500, [Adj("CO", "45", 1500), Adj("PR", "3", 2000)])
    )
    assert result.invoice is None and "refund $5.00" in _overpaid(claim).message


# --- a secondary payer ---------------------------------------------------------------------


@pytest.fixture
def with_secondary(claim, world):
    a = world.a
    second = cf.payer(a.practice, name="Second Mutual")
    sec_policy = cf.policy(a.practice, a.c1, second, rank="secondary")
    return claim, sec_policy


def _secondary_claim(primary, sec_policy, status="submitted"):
    c = Claim.get_by_id(primary.id)
    return Claim.create(
        practice=c.practice_id, client=c.client_id, appointment=c.appointment_id,
        policy=sec_policy, payer=sec_policy.payer_id, provider=c.provider_id,
        rank="secondary", primary_claim=c.id, status=status,
        patient_control_number=c.patient_control_number + "S", service_date=c.service_date,
        total_cents=c.total_cents, primary_paid_cents=c.paid_cents,
    )  # fmt: skip


def _secondary_answer(sec, status, paid, adjustments):
    pr = sum(a.cents for a in adjustments if a.group == "PR")
    return posting.PayerAnswer(status, sec.total_cents, paid, pr,
                               (posting.PaidLine(None, 0, paid, tuple(adjustments)),))  # fmt: skip


def test_the_secondary_denies_and_the_client_owes_the_primarys_share(with_secondary):
    primary, sec_policy = with_secondary
    first = posting.post(
        primary, _answer(primary, "1", 5000, [Adj("CO", "45", 1500), Adj("PR", "3", 2500)])
    )
    assert first.invoice is None  # waits for the secondary
    sec = _secondary_claim(primary, sec_policy)
    result = posting.post(
        sec, _secondary_answer(sec, "4", 0, [Adj("OA", "23", 6500), Adj("CO", "27", 2500)])
    )
    assert result.status == "denied"
    assert result.invoice is not None and result.invoice.total_cents == 2500


def test_the_secondary_pays_the_share_and_the_estimate_is_the_clients(with_secondary):
    primary, sec_policy = with_secondary
    _estimate(primary, 2500, paid=True)
    posting.post(
        primary, _answer(primary, "1", 5000, [Adj("CO", "45", 1500), Adj("PR", "3", 2500)])
    )
    sec = _secondary_claim(primary, sec_policy)
    result = posting.post(sec, _secondary_answer(sec, "2", 2500, [Adj("OA", "23", 6500)]))
    assert result.invoice is None
    assert "refund $25.00" in _overpaid(sec).message


# --- a visit split into claim parts (over six lines) ---------------------------------------


@pytest.fixture
def two_parts(claim):
    """The visit's claim in two parts (parts 1 and 2 of one visit, same payer)."""
    one = Claim.get_by_id(claim.id)
    two = Claim.create(
        practice=one.practice_id, client=one.client_id, appointment=one.appointment_id,
        policy=one.policy_id, payer=one.payer_id, provider=one.provider_id, part=2,
        status="submitted", patient_control_number=one.patient_control_number + "P2",
        service_date=one.service_date, total_cents=3500,
    )  # fmt: skip
    ClaimLine.create(practice=one.practice_id, claim=two, position=1,
                     service_date=one.service_date, cpt_code="97140", minutes=15, units=1,
                     pointers="A", charge_cents=3500)  # fmt: skip
    return one, two


def test_the_first_part_answered_waits_for_the_other_part(two_parts):
    """Part 1 paid in full (no PR) while part 2 is unanswered: the $25 paid at check-out
    is not called an overpayment yet (part 2 may carry the copay); it does, and the visit
    settles with nothing to refund and no note left on part 1."""
    one, two = two_parts
    _estimate(one, 2500, paid=True)
    first = posting.post(one, _answer(one, "1", 7000, [Adj("CO", "45", 2000)]))
    assert first.invoice is None and _overpaid(one) is None
    last_event = ClaimEvent.select().where(ClaimEvent.claim == one.id).order_by(
        ClaimEvent.id.desc()).get()  # fmt: skip
    assert "waits for the visit's other part (part 2)" in last_event.reason
    second = posting.post(two, _answer(two, "1", 1000, [Adj("PR", "3", 2500)]))
    assert second.invoice is None  # the $25 paid at check-out is the copay
    assert _overpaid(one) is None and _overpaid(two) is None
    assert not ClaimProblem.select().where(ClaimProblem.code == "client_overpaid").exists()


def test_the_last_part_settles_the_visit_once_and_clears_an_early_note(two_parts):
    """Neither part puts anything on the client: the $25 paid at check-out is refunded
    once, told on the last part answered; an overpayment note stored early on part 1
    (before this rule) is cleared then."""
    one, two = two_parts
    _estimate(one, 2500, paid=True)
    posting.post(one, _answer(one, "1", 7000, [Adj("CO", "45", 2000)]))
    history.add_problem(one, "client_overpaid", "refund $25.00 (early)", source="835")
    result = posting.post(two, _answer(two, "1", 3500, []))
    assert result.invoice is None
    assert "refund $25.00" in _overpaid(two).message
    assert _overpaid(one) is None and not Claim.get_by_id(one.id).held


def test_the_share_of_both_parts_is_invoiced_once_when_the_last_is_answered(two_parts):
    """Nothing collected at check-out; each part has a share: one invoice for both, when
    the second part is answered."""
    one, two = two_parts
    first = posting.post(
        one, _answer(one, "1", 5000, [Adj("CO", "45", 1500), Adj("PR", "1", 2500)])
    )
    assert first.invoice is None
    second = posting.post(two, _answer(two, "1", 2000, [Adj("PR", "3", 1500)]))
    assert second.invoice is not None and second.invoice.total_cents == 4000
    open_ = Invoice.select().where(Invoice.client == one.client_id)
    assert [i.total_cents for i in open_] == [4000]


# --- a write-off, then the payer pays after all ----------------------------------------------


def _books(claim_id):
    """(charged, paid + client share + adjusted + written off + open, written off, open)."""
    c = Claim.get_by_id(claim_id)
    settled = c.paid_cents + c.patient_resp_cents + c.adjusted_cents + c.written_off_cents
    return c.total_cents, settled + c.balance_cents, c.written_off_cents, c.balance_cents


@pytest.mark.parametrize(
    ("repaid", "recovered", "left_open"),
    [
        ([Adj("CO", "45", 2000)], 3000, 0),  # paid in full: the whole write-off recovered
        ([Adj("CO", "45", 1000), Adj("CO", "96", 2000)], 1000, 0),  # part of it
    ],
)
def test_money_that_arrives_for_a_written_off_amount_recovers_the_write_off(
    claim, repaid, recovered, left_open
):
    """An AR ledger's rule: the payer paid $50 and denied $30 (CO 96), the desk wrote the
    $30 off; the payer then reprocesses (a reversal and a new payment). What it pays beyond
    the open balance recovers the write-off (a negative write-off row), so the books add
    up: charged = paid + client share + adjusted + written off + open."""
    posting.post(claim, _answer(claim, "1", 5000, [Adj("CO", "45", 1000), Adj("CO", "96", 3000)]))
    posting.write_off(claim, 3000, "Denied as non-covered, not appealed")
    assert Claim.get_by_id(claim.id).status == "closed"
    posting.post(claim, _answer(claim, "22", -5000, [Adj("CO", "45", -1000),
                                                     Adj("CO", "96", -3000)]))  # fmt: skip
    assert _books(claim.id) == (9000, 9000, 3000, 6000)  # the reversal reopens the balance
    paid = 9000 - sum(a.cents for a in repaid)
    posting.post(claim, _answer(claim, "1", paid, repaid))
    assert _books(claim.id) == (9000, 9000, 3000 - recovered, left_open)
    rows = [(w.amount_cents, w.reason) for w in ClaimWriteOff.select().order_by(ClaimWriteOff.id)]
    payer = Claim.get_by_id(claim.id).payer.name
    assert rows == [
        (3000, "Denied as non-covered, not appealed"),
        (-recovered, f"Recovered: paid by {payer} after the write-off"),
    ]
    event = ClaimEvent.select().where(ClaimEvent.action == "write_off_recovered").get()
    assert event.amount_cents == -recovered and "Recovered" in event.reason
    # the lists and the aging report read the same balance as the claim page
    [(balance,)] = Claim.select(queries.balance_sql()).where(Claim.id == claim.id).tuples()
    assert balance == left_open


def test_a_payment_within_the_open_balance_recovers_nothing(claim):
    posting.post(claim, _answer(claim, "1", 5000, [Adj("CO", "45", 1000), Adj("CO", "96", 3000)]))
    posting.write_off(claim, 1000, "Part of the denial, not appealed")
    assert _books(claim.id) == (9000, 9000, 1000, 2000)
    line = claim.lines.get()
    extra = posting.PayerAnswer("1", 0, 2000, 0, (posting.PaidLine(line, 2000, 2000, (),
                                                                 charge_cents=0),))  # fmt: skip
    posting.post(claim, extra)  # the payer pays the $20 still open: nothing to recover
    assert _books(claim.id) == (9000, 9000, 1000, 0)
    assert [w.amount_cents for w in ClaimWriteOff.select()] == [1000]


@pytest.mark.parametrize(("extra", "status", "written_off"), [(3000, "paid", 0),
                                                            (1000, "closed", 2000)])  # fmt: skip
def test_a_closed_claim_the_payer_pays_after_all_is_reopened_as_paid(
    claim, extra, status, written_off
):
    """No reversal first: the payer sends the money it denied on a claim the desk wrote off
    and closed. When that money takes the whole write-off back the claim says what the payer
    now says (paid); with part of the write-off left it stays closed (nothing is open)."""
    posting.post(claim, _answer(claim, "1", 5000, [Adj("CO", "45", 1000), Adj("CO", "96", 3000)]))
    posting.write_off(claim, 3000, "Denied as non-covered, not appealed")
    assert Claim.get_by_id(claim.id).status == "closed"
    line = claim.lines.get()
    answer = posting.PayerAnswer("1", 0, extra, 0, (posting.PaidLine(line, extra, extra, (),
                                                                   charge_cents=0),))  # fmt: skip
    result = posting.post(claim, answer)
    c = Claim.get_by_id(claim.id)
    assert (c.status, result.status, result.status_changed) == (status, status, status != "closed")
    assert _books(claim.id) == (9000, 9000, written_off, 0)
    event = ClaimEvent.select().where(ClaimEvent.action == "posted").order_by(-ClaimEvent.id).get()
    assert (event.from_status, event.to_status) == ("closed", status)
