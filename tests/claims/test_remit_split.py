"""835s that answer one claim in several CLPs: a payer splitting a claim over two CLP loops
with the same patient control number (CLP01), and a reversal in a later transaction set
(ST/SE) than the payer's new answer. Posted through the import service on the test's
SQLite file; every file passes pyx12 first and the same file again changes nothing
(tests/claims/test_remit_edges.imported)."""

import pytest

from portal.models import Claim, ClaimLine, ClaimProblem, Invoice, RemittanceClaim
from tests.claims.era import interchange, transaction
from tests.claims.test_remit_edges import (
    CORRECTED,
    ORIGINAL,
    REVERSAL,
    claim_money_of,
    imported,
    submitted,
)

THREE_LINES = (("97124", 45, 3, 9000), ("97140", 30, 2, 7000), ("97124", 30, 2, 6000))

# Lines 1-2 paid at the fee schedule in one CLP ...
LINES_1_2_PAID = ["CLP*V91P1*1*160*128*0*12*BHH9101*11*1",
                  "SVC*HC:97124*90*72**3", "DTM*472*20261102", "CAS*CO*45*18",
                  "SVC*HC:97140*70*56**2", "DTM*472*20261102", "CAS*CO*45*14"]  # fmt: skip
# ... line 3 paid, or denied, in another (the same procedure as line 1, no REF*6R).
LINE_3_PAID = ["CLP*V91P1*1*60*48*0*12*BHH9102*11*1",
               "SVC*HC:97124*60*48**2", "DTM*472*20261102", "CAS*CO*45*12"]  # fmt: skip
LINE_3_DENIED = ["CLP*V91P1*4*60*0*0*12*BHH9102*11*1",
                 "SVC*HC:97124*60*0**2", "DTM*472*20261102", "CAS*CO*50*60"]  # fmt: skip


def _lines(claim):
    rows = ClaimLine.select().where(ClaimLine.claim == claim.id).order_by(ClaimLine.position)
    return [(ln.paid_cents, ln.adjusted_cents) for ln in rows]


def _posted_rows(claim):
    return list(
        RemittanceClaim.select()
        .where((RemittanceClaim.claim == claim.id) & (RemittanceClaim.outcome == "posted"))
        .order_by(RemittanceClaim.id)
    )


@pytest.mark.parametrize(
    "body, payment, money, lines, denied",
    [
        (LINES_1_2_PAID + LINE_3_PAID, "176", ("paid", 17600, 0, 4400, 0),
         [(7200, 1800), (5600, 1400), (4800, 1200)], []),
        (LINES_1_2_PAID + LINE_3_DENIED, "128", ("partially_paid", 12800, 0, 3200, 6000),
         [(7200, 1800), (5600, 1400), (0, 0)], ["97124: $60.00 not paid"]),
        (LINE_3_DENIED + LINES_1_2_PAID, "128", ("partially_paid", 12800, 0, 3200, 6000),
         [(7200, 1800), (5600, 1400), (0, 0)], ["97124: $60.00 not paid"]),
    ],
    ids=["both paid", "paid then denied", "denied then paid"],
)  # fmt: skip
def test_a_claim_split_over_two_clps_takes_its_status_from_both(
    side, body, payment, money, lines, denied
):
    c = submitted(side, "V91P1", lines=THREE_LINES)
    text = interchange([transaction(body, payment=payment, trace="EFT91")])
    result = imported(side.practice.id, text)
    assert len(result.posted) == 2 and not result.unmatched
    assert claim_money_of(c) == money
    assert _lines(c) == lines  # line 3 is line 3, not line 1 again
    problems = [p.message for p in ClaimProblem.select().where(ClaimProblem.claim == c.id)]
    assert [m.split(" — ")[0] for m in problems] == denied
    assert [r.status_code for r in _posted_rows(c)] == [
        s.split("*")[2] for s in body if s.startswith("CLP*")
    ]
    assert not Invoice.select().where(Invoice.client == c.client_id).exists()


def test_a_split_claims_client_share_is_invoiced_once_and_both_problems_kept(side):
    """Copay in one CLP, deductible and a denied line in the other: one invoice for the
    client's share of the whole claim, and the denials of both CLPs stay on the claim and
    on the remittance's lines."""
    c = submitted(side, "V92P1", lines=THREE_LINES)
    first = ["CLP*V92P1*1*160*47*25*12*BHH9201*11*1",
             "SVC*HC:97124*90*47**3", "DTM*472*20261102", "CAS*CO*45*18", "CAS*PR*3*25",
             "SVC*HC:97140*70*0**2", "DTM*472*20261102", "CAS*CO*96*70"]  # fmt: skip
    second = [
        "CLP*V92P1*1*60*28*20*12*BHH9202*11*1",
        "SVC*HC:97124*60*28**2",
        "DTM*472*20261102",
        "CAS*CO*45*12",
        "CAS*PR*1*20",
    ]
    text = interchange([transaction(first + second, payment="75", trace="EFT92")])
    result = imported(side.practice.id, text)
    assert claim_money_of(c) == ("partially_paid", 7500, 4500, 3000, 7000)
    assert _lines(c) == [(4700, 1800), (0, 0), (2800, 1200)]
    (inv,) = Invoice.select().where(Invoice.client == c.client_id)
    assert [i.id for i in result.invoices] == [inv.id] and inv.total_cents == 4500
    assert sorted((ln.description.split(":")[0], ln.amount_cents) for ln in inv.lines) == [
        ("Copay", 2500), ("Deductible", 2000)]  # fmt: skip
    (problem,) = ClaimProblem.select().where(ClaimProblem.claim == c.id)
    assert problem.message.startswith("97140: $70.00 not paid")
    rows = _posted_rows(c)
    assert [r.note.split(" — ")[0] for r in rows] == ["97140: $70.00 not paid", ""]


def test_a_split_claims_problems_from_both_clps_are_kept(side):
    """The denied CLP first, then the one denying another line: both denials stay."""
    c = submitted(side, "V93P1", lines=THREE_LINES)
    first = ["CLP*V93P1*1*160*72*0*12*BHH9301*11*1",
             "SVC*HC:97124*90*72**3", "DTM*472*20261102", "CAS*CO*45*18",
             "SVC*HC:97140*70*0**2", "DTM*472*20261102", "CAS*CO*96*70"]  # fmt: skip
    second = [s.replace("V91P1", "V93P1") for s in LINE_3_DENIED]
    text = interchange([transaction(second + first, payment="72", trace="EFT93")])
    imported(side.practice.id, text)
    assert claim_money_of(c) == ("partially_paid", 7200, 0, 1800, 13000)
    problems = sorted(p.message.split(" — ")[0] for p in
                      ClaimProblem.select().where(ClaimProblem.claim == c.id))  # fmt: skip
    assert problems == ["97124: $60.00 not paid", "97140: $70.00 not paid"]


# --- a reversal in another transaction set than the new answer -----------------------------


def test_a_reversal_in_a_later_transaction_set_goes_before_the_new_answer(side):
    c = submitted(side, "V31P1", lines=(("97124", 45, 3, 12000),))
    imported(side.practice.id, interchange([transaction(ORIGINAL, payment="56", trace="EFT31")]))
    (first,) = Invoice.select().where(Invoice.client == c.client_id)
    corrected = transaction(CORRECTED, payment="86", trace="EFT33")
    taken_back = transaction(REVERSAL, payment="56", credit="D", trace="EFT34", control="0002")
    result = imported(side.practice.id, interchange([corrected, taken_back], control=88002))
    assert len(result.posted) == 2 and len(result.remittances) == 2
    claim = Claim.get_by_id(c.id)
    assert claim_money_of(c) == ("partially_paid", 8600, 1000, 2400, 0)
    assert claim.payer_claim_number == "BHH3102"
    invoices = {i.status: i for i in Invoice.select().where(Invoice.client == c.client_id)}
    assert invoices["void"].id == first.id and invoices["open"].total_cents == 1000
    assert not ClaimProblem.select().where(ClaimProblem.claim == c.id).exists()
    by_trace = {r.trace_number: r for r in result.remittances}
    rows = {r.remittance_id: r.status_code for r in RemittanceClaim.select()
            .where(RemittanceClaim.claim == c.id)}  # fmt: skip
    assert rows[by_trace["EFT33"].id] == "1" and rows[by_trace["EFT34"].id] == "22"
