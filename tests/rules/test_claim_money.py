"""Claim money as the rule book states it: the client's share, AR aging, 835 posting."""

import datetime as dt

import pytest

from portal.rules import claim_money as money
from portal.rules.claim_money import Adj, RemitClaim, RemitLine

D = dt.date
TODAY = D(2026, 12, 1)


@pytest.mark.parametrize(
    "units, fees, allowed, missing",
    [
        ({"97124": 4}, {"97124": 2500}, 10000, ()),
        ({"97124": 2, "97140": 2}, {"97124": 2500, "97140": 3000}, 11000, ()),
        ({"97124": 2, "97112": 1}, {"97124": 2500}, 5000, ("97112",)),
        ({}, {"97124": 2500}, 0, ()),
    ],
)
def test_allowed_amount_from_the_fee_schedule(units, fees, allowed, missing):
    assert money.allowed_amount(units, fees) == (allowed, missing)


# allowed, deductible left, copay, coinsurance % -> (deductible, copay, coinsurance, total)
@pytest.mark.parametrize(
    "allowed, deductible, copay, coins, parts",
    [
        (10000, 0, 4000, None, (0, 4000, 0, 4000)),  # a $40 copay
        (10000, None, None, 20, (0, 0, 2000, 2000)),  # 20% coinsurance
        (10000, 3000, None, 20, (3000, 0, 1400, 4400)),  # deductible first, 20% of the rest
        (10000, 3000, 4000, None, (3000, 4000, 0, 7000)),  # deductible, then the copay
        (10000, 50000, 4000, None, (10000, 0, 0, 10000)),  # deductible up to the allowed amount
        (10000, 9000, 4000, None, (9000, 1000, 0, 10000)),  # never more than allowed
        (3000, 0, 4000, None, (0, 3000, 0, 3000)),  # copay above the allowed amount
        (10000, 0, 4000, 20, (0, 4000, 0, 4000)),  # a copay plan: no coinsurance on top
        (10000, 0, 0, 20, (0, 0, 2000, 2000)),  # copay 0: the coinsurance applies
        (7001, 0, None, 20, (0, 0, 1400, 1400)),  # 14.002 -> 14.00
        (7003, 0, None, 50, (0, 0, 3502, 3502)),  # 35.015 -> 35.02 (half up)
        (10000, 0, None, 100, (0, 0, 10000, 10000)),
        (10000, None, None, None, (0, 0, 0, 0)),  # nothing known: nothing estimated
        (0, 5000, 4000, 20, (0, 0, 0, 0)),  # no fee schedule price
    ],
)
def test_client_share_at_check_out(allowed, deductible, copay, coins, parts):
    est = money.estimate_client_share(
        allowed, deductible_remaining_cents=deductible, copay_cents=copay,
        coinsurance_percent=coins,
    )  # fmt: skip
    got = (est.deductible_cents, est.copay_cents, est.coinsurance_cents, est.total_cents)
    assert got == parts
    assert est.total_cents <= allowed
    assert est.payer_cents == allowed - est.total_cents


@pytest.mark.parametrize(
    "deductible, copay, oop, parts, capped",
    [
        (3000, 4000, 5000, (3000, 2000, 0, 5000), True),  # the out-of-pocket maximum's room
        (3000, 4000, 0, (0, 0, 0, 0), True),  # maximum reached: the plan pays it all
        (3000, 4000, 9000, (3000, 4000, 0, 7000), False),
    ],
)
def test_client_share_stops_at_the_out_of_pocket_maximum(deductible, copay, oop, parts, capped):
    est = money.estimate_client_share(
        10000, deductible_remaining_cents=deductible, copay_cents=copay,
        out_of_pocket_remaining_cents=oop,
    )  # fmt: skip
    got = (est.deductible_cents, est.copay_cents, est.coinsurance_cents, est.total_cents)
    assert (got, est.capped_by_out_of_pocket) == (parts, capped)


@pytest.mark.parametrize(
    "kwargs",
    [{"copay_cents": -1}, {"deductible_remaining_cents": -5}, {"coinsurance_percent": 120}],
)
def test_client_share_refuses_nonsense(kwargs):
    with pytest.raises(ValueError):
        money.estimate_client_share(10000, **kwargs)


@pytest.mark.parametrize(
    "claim_date, bucket",
    [(D(2026, 12, 1), "0-30"), (D(2026, 12, 5), "0-30"), (D(2026, 11, 1), "0-30"),
     (D(2026, 10, 31), "31-60"), (D(2026, 10, 2), "31-60"), (D(2026, 10, 1), "61-90"),
     (D(2026, 9, 2), "61-90"), (D(2026, 9, 1), "90+"), (D(2025, 1, 1), "90+")],
)  # fmt: skip
def test_age_buckets(claim_date, bucket):
    assert money.age_bucket(claim_date, TODAY) == bucket


def test_ar_aging_per_payer():
    rows = [
        ("Blue Harbor", D(2026, 11, 20), 10000),
        ("Blue Harbor", D(2026, 10, 15), 5000),
        ("Blue Harbor", D(2026, 10, 14), 2500),
        ("auto Mutual", D(2026, 6, 1), 40000),
        ("auto Mutual", D(2026, 11, 30), 0),  # paid off: not aging
        ("Cedar Health", D(2026, 9, 15), 7500),
    ]
    table = money.ar_aging(rows, TODAY)
    assert [r.payer for r in table.rows] == ["auto Mutual", "Blue Harbor", "Cedar Health"]
    harbor = table.rows[1]
    assert harbor.buckets == {"0-30": 10000, "31-60": 7500, "61-90": 0, "90+": 0}
    assert harbor.counts == {"0-30": 1, "31-60": 2, "61-90": 0, "90+": 0}
    assert (harbor.total_cents, harbor.count) == (17500, 3)
    assert table.rows[0].buckets["90+"] == 40000 and table.rows[0].count == 1
    assert table.totals.buckets == {"0-30": 10000, "31-60": 7500, "61-90": 7500, "90+": 40000}
    assert table.totals.total_cents == 65000 and table.totals.payer == "All payers"


def test_the_lines_apart_are_not_the_payers():
    """What is being corrected and what no payer received are in the total owed, not in
    "All payers": the three add up to it."""
    totals = money.AgingRow("Total owed", buckets={"0-30": 300, "31-60": 50, "61-90": 0,
                                                   "90+": 20})  # fmt: skip
    totals.counts.update({"0-30": 3, "31-60": 1, "90+": 1})
    table = money.AgingTable([], totals)
    table.correcting.add("0-30", 100)
    table.not_received.add("90+", 20)
    assert table.payers.buckets == {"0-30": 200, "31-60": 50, "61-90": 0, "90+": 0}
    assert table.payers.count == 3
    assert table.correcting.payer == money.CORRECTING == "Being corrected, sent earlier"
    parts = table.payers.total_cents + table.correcting.total_cents
    assert parts + table.not_received.total_cents == totals.total_cents


def test_ar_aging_of_nothing():
    table = money.ar_aging([], TODAY)
    assert table.rows == [] and table.totals.total_cents == 0


PAID = RemitClaim("1", 10000, 8000, 0, lines=(
    RemitLine(10000, 8000, (Adj("CO", "45", 2000),), "97124"),))  # fmt: skip
PARTIAL = RemitClaim("1", 20000, 6000, 8000, lines=(
    RemitLine(10000, 2000, (Adj("CO", "45", 2000), Adj("PR", "1", 5000), Adj("PR", "3", 1000)),
              "97124"),
    RemitLine(10000, 4000, (Adj("CO", "45", 2000), Adj("PR", "3", 2000), Adj("PR", "2", 2000)),
              "97140"),
))  # fmt: skip
DENIED = RemitClaim("4", 10000, 0, 0, adjustments=(Adj("CO", "50", 10000),))
SECONDARY = RemitClaim("2", 10000, 1500, 500, lines=(
    RemitLine(10000, 1500, (Adj("OA", "23", 8000), Adj("PR", "2", 500))),))  # fmt: skip


@pytest.mark.parametrize(
    "claim, paid, pr, write_off, prior, groups, status",
    [
        (PAID, 8000, 0, 2000, 0, {"CO": 2000}, "paid"),
        (PARTIAL, 6000, 8000, 4000, 0, {"CO": 4000, "PR": 10000}, "partially_paid"),
        (DENIED, 0, 0, 10000, 0, {"CO": 10000}, "denied"),
        (SECONDARY, 1500, 500, 0, 8000, {"OA": 8000, "PR": 500}, "partially_paid"),
    ],
)
def test_posting_a_remittance(claim, paid, pr, write_off, prior, groups, status):
    posting = money.post_remittance(claim)
    assert posting.paid_cents == paid
    assert posting.write_off_cents == write_off and posting.prior_payer_cents == prior
    assert posting.status == status
    if claim is PARTIAL:  # CLP05 says 80, the PR adjustments add to 100: shown, not hidden
        assert posting.patient_responsibility_cents == 10000
        assert posting.problems == (
            "The payer says the client owes $80.00 (CLP05) but its PR adjustments add up to "
            "$100.00.",
        )
    else:
        assert posting.patient_responsibility_cents == pr
        assert posting.problems == ()
    assert posting.by_group == groups


def test_posting_by_reason_gives_deductible_copay_coinsurance():
    fixed = RemitClaim("1", 20000, 6000, 10000, lines=PARTIAL.lines)
    posting = money.post_remittance(fixed)
    assert posting.problems == ()
    assert posting.by_reason == {("CO", "45"): 4000, ("PR", "1"): 5000, ("PR", "3"): 3000,
                                 ("PR", "2"): 2000}  # fmt: skip
    assert posting.paid_cents + posting.patient_responsibility_cents + posting.write_off_cents == (
        fixed.charge_cents
    )


def test_a_remittance_that_does_not_add_up_says_where():
    bad = RemitClaim("1", 10000, 8000, 0, lines=(
        RemitLine(10000, 8000, (Adj("CO", "45", 1500),), "97124"),))  # fmt: skip
    posting = money.post_remittance(bad)
    assert posting.problems == (
        "Line 1 (97124): charge $100.00 minus paid $80.00 is not the adjustments' $15.00.",
        "Charge $100.00 minus paid $80.00 is not the adjustments' $15.00.",
    )


def test_claim_level_adjustments_come_off_the_lines_payments():
    """The 835 guide's balance: CLP04 = the lines' SVC03 less the claim-level CAS (a
    deductible some payers take at claim level); no imbalance to report."""
    claim = RemitClaim("1", 16000, 8800, 4000, adjustments=(Adj("PR", "1", 4000),), lines=(
        RemitLine(9000, 7200, (Adj("CO", "45", 1800),), "97124"),
        RemitLine(7000, 5600, (Adj("CO", "45", 1400),), "97140")))  # fmt: skip
    posting = money.post_remittance(claim)
    assert posting.problems == () and posting.patient_responsibility_cents == 4000
    assert posting.status == "partially_paid"
    off = RemitClaim("1", 16000, 8800, 4000, adjustments=(Adj("PR", "1", 3000),),
                     lines=claim.lines)  # fmt: skip
    assert (
        "The lines' payments ($128.00) less the claim's own adjustments ($30.00) are not "
        "the claim's payment ($88.00)." in money.post_remittance(off).problems
    )


@pytest.mark.parametrize(
    ("paid", "client", "open_", "status"),
    [
        (7200, 0, 7000, "partially_paid"),  # one line's payment taken back: open again
        (7200, 1000, 0, "partially_paid"),  # the client owes a share
        (7200, 0, 0, "paid"),  # taken back and paid again in the same answer
        (0, 0, 16000, "accepted"),  # everything taken back: the payer's word is owed
    ],
)
def test_status_after_a_line_is_taken_back(paid, client, open_, status):
    assert money.status_after_take_back(paid, client, open_) == status


def test_a_reversal_takes_the_claim_back():
    reversal = RemitClaim("22", -10000, -8000, 0, adjustments=(Adj("CO", "45", -2000),))
    posting = money.post_remittance(reversal)
    assert posting.status == "accepted" and posting.problems == ()
    assert posting.paid_cents == -8000 and posting.write_off_cents == -2000


def test_an_unknown_group_is_reported():
    odd = RemitClaim("1", 10000, 8000, 0, adjustments=(Adj("XX", "45", 2000),))
    assert money.post_remittance(odd).problems == ("Unknown adjustment group XX.",)


@pytest.mark.parametrize(
    ("charge", "settled", "posted", "written_off", "recovered"),
    [
        (9000, 9000, 9000, 3000, 3000),  # paid in full after the write-off
        (9000, 8000, 8000, 3000, 2000),  # part of the write-off
        (9000, 7000, 2000, 1000, 0),  # within the open balance
        (9000, 9000, 500, 3000, 500),  # no more than this posting brought
        (9000, 9000, 9000, 0, 0),  # nothing written off
        (9000, 0, -9000, 3000, 0),  # a reversal recovers nothing (it reopens the balance)
    ],
)
def test_money_after_a_write_off_recovers_it(charge, settled, posted, written_off, recovered):
    assert money.recovered_write_off(charge, settled, posted, written_off) == recovered


def test_combine_adds_a_split_claims_answers_and_denies_only_when_every_part_does():
    paid = RemitClaim("1", 16000, 12800, 0, (),
                      (RemitLine(9000, 7200, (Adj("CO", "45", 1800),)),
                       RemitLine(7000, 5600, (Adj("CO", "45", 1400),))))  # fmt: skip
    denied = RemitClaim("4", 6000, 0, 0, (Adj("CO", "50", 6000),))
    whole = money.combine([denied, paid])
    assert (whole.status, whole.charge_cents, whole.paid_cents) == ("1", 22000, 12800)
    assert len(whole.lines) == 2 and whole.adjustments == (Adj("CO", "50", 6000),)
    posting = money.post_remittance(whole)
    assert posting.status == "partially_paid" and posting.by_group == {"CO": 9200}
    assert money.post_remittance(money.combine([paid, paid])).status == "paid"
    assert money.combine([denied, denied]).status == "4"


@pytest.mark.parametrize(
    "adjs, net",
    [
        ([], []),
        ([("CO", "45", 2000)], [("CO", "45", 2000)]),
        # a reversal and its correction: the payer's last word
        ([("CO", "45", 2000), ("CO", "45", -2000), ("CO", "45", 1500)], [("CO", "45", 1500)]),
        # an adjustment reversed and not given again is gone
        ([("CO", "45", 2000), ("PR", "1", 5000), ("PR", "1", -5000)], [("CO", "45", 2000)]),
        # groups and reasons kept apart, in the order each first came
        (
            [("PR", "2", 800), ("CO", "45", 1000), ("PR", "1", 300), ("PR", "2", 200)],
            [("PR", "2", 1000), ("CO", "45", 1000), ("PR", "1", 300)],
        ),
        # a negative net stays (a take-back the payer did not undo)
        ([("CO", "45", -500)], [("CO", "45", -500)]),
    ],
)
def test_net_adjustments_per_group_and_reason(adjs, net):
    got = money.net_adjustments(money.Adj(*a) for a in adjs)
    assert [(a.group, a.reason, a.cents) for a in got] == net
