"""835s that answer one claim in several CLPs: a payer splitting a claim over two CLP loops
with the same patient control number (CLP01), and a reversal in a later transaction set
(ST/SE) than the payer's new answer. Posted through the import service on the test's
SQLite file; every file passes pyx12 first and the same file again changes nothing
(tests/claims/test_remit_edges.imported)."""

import pytest

from portal.models import (
    Claim,
    ClaimEvent,
    ClaimLine,
    ClaimProblem,
    Invoice,
    Remittance,
    RemittanceClaim,
)
from portal.services import invoicing
from portal.services.claims import unmatched
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


# ... a copay in one CLP (and a line denied), a deductible in the other: one invoice of the
# client's share of the whole claim, its reasons named.
COPAY_AND_DENIED = ["CLP*V91P1*1*160*47*25*12*BHH9101*11*1",
                    "SVC*HC:97124*90*47**3", "DTM*472*20261102", "CAS*CO*45*18", "CAS*PR*3*25",
                    "SVC*HC:97140*70*0**2", "DTM*472*20261102", "CAS*CO*96*70"]  # fmt: skip
DEDUCTIBLE = ["CLP*V91P1*1*60*28*20*12*BHH9102*11*1", "SVC*HC:97124*60*28**2",
              "DTM*472*20261102", "CAS*CO*45*12", "CAS*PR*1*20"]  # fmt: skip
SHARE = [(4500, [("Copay", 2500), ("Deductible", 2000)])]


def _invoices(claim, live=False):
    """[(total, [(what, cents)])] of the client's invoices, oldest first (live: not void)."""
    found = Invoice.select().where(Invoice.client == claim.client_id).order_by(Invoice.id)
    if live:
        found = found.where(Invoice.status != "void")
    return [(inv.total_cents, sorted((ln.description.split(":")[0], ln.amount_cents)
                                     for ln in inv.lines)) for inv in found]  # fmt: skip


# A split claim's cases (its CLPs, the payment, what the claim and its lines end with, the
# invoices of the client's share), one table for the claim posted from one file and for it
# matched by hand
SPLIT_CASES = pytest.mark.parametrize(
    "body, payment, money, lines, denied, invoices",
    [
        (LINES_1_2_PAID + LINE_3_PAID, "176", ("paid", 17600, 0, 4400, 0),
         [(7200, 1800), (5600, 1400), (4800, 1200)], [], []),
        (LINES_1_2_PAID + LINE_3_DENIED, "128", ("partially_paid", 12800, 0, 3200, 6000),
         [(7200, 1800), (5600, 1400), (0, 0)], ["97124: $60.00 not paid"], []),
        (LINE_3_DENIED + LINES_1_2_PAID, "128", ("partially_paid", 12800, 0, 3200, 6000),
         [(7200, 1800), (5600, 1400), (0, 0)], ["97124: $60.00 not paid"], []),
        (COPAY_AND_DENIED + DEDUCTIBLE, "75", ("partially_paid", 7500, 4500, 3000, 7000),
         [(4700, 1800), (0, 0), (2800, 1200)], ["97140: $70.00 not paid"], SHARE),
        (DEDUCTIBLE + COPAY_AND_DENIED, "75", ("partially_paid", 7500, 4500, 3000, 7000),
         [(4700, 1800), (0, 0), (2800, 1200)], ["97140: $70.00 not paid"], SHARE),
    ],
    ids=["both paid", "paid then denied", "denied then paid", "copay then deductible",
         "deductible then copay"],
)  # fmt: skip


@SPLIT_CASES
def test_a_claim_split_over_two_clps_takes_its_status_from_both(
    side, body, payment, money, lines, denied, invoices
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
    assert _invoices(c) == invoices  # one for the claim's whole share, or none


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


# --- a split claim's CLPs matched by hand, one at a time -----------------------------------


def _unmatched(practice_id):
    return {r.payer_claim_number: r for r in unmatched.unmatched_lines(practice_id)}


@SPLIT_CASES
def test_a_split_claim_matched_by_hand_ends_as_if_posted_from_one_file(
    side, body, payment, money, lines, denied, invoices
):
    """Both CLPs name a claim the practice does not have (the payer mistyped CLP01): the
    desk matches them to the claim one at a time, and the claim ends as the one-file
    import above leaves it (its status from both answers, each line paid once, the
    denial kept, one invoice of the client's share of the whole claim), not as the last
    CLP alone says. The first match's invoice, nothing paid on it, is replaced by it (an
    issued invoice never changes: it is voided)."""
    c = submitted(side, "V91P1", lines=THREE_LINES)
    typo = [s.replace("CLP*V91P1*", "CLP*V91PX*") for s in body]
    text = interchange([transaction(typo, payment=payment, trace="EFT94")])
    result = imported(side.practice.id, text)
    assert not result.posted and len(result.unmatched) == 2
    for number in [s.split("*")[7] for s in body if s.startswith("CLP*")]:
        unmatched.match_line(_unmatched(side.practice.id)[number], c, user=side.frontdesk)
    assert claim_money_of(c) == money
    assert _lines(c) == lines
    problems = [p.message for p in ClaimProblem.select().where(ClaimProblem.claim == c.id)]
    assert [m.split(" — ")[0] for m in problems] == denied
    assert Remittance.get_by_id(result.remittances[0].id).unmatched_count == 0
    assert _invoices(c, live=True) == invoices
    replaced = Invoice.select().where((Invoice.client == c.client_id) & (Invoice.status == "void"))
    assert [inv.paid_cents for inv in replaced] == [0] * (len(_invoices(c)) - len(invoices))


def test_a_split_claims_second_clp_matched_by_hand_adds_to_the_one_posted(side):
    """The payer wrote CLP01 right in the first CLP (posted at import) and mistyped it in
    the second (matched by hand later): the denial of line 3 leaves the claim partially
    paid, with line 3 open, not denied."""
    c = submitted(side, "V95P1", lines=THREE_LINES)
    first = [s.replace("V91P1", "V95P1") for s in LINES_1_2_PAID]
    second = [s.replace("V91P1", "V95PX") for s in LINE_3_DENIED]
    result = imported(side.practice.id, interchange([transaction(first + second, payment="128",
                                                                 trace="EFT95")]))  # fmt: skip
    assert len(result.posted) == 1 and len(result.unmatched) == 1
    assert claim_money_of(c)[0] == "paid"
    out = unmatched.match_line(result.unmatched[0], c, user=side.frontdesk)
    assert out.status == "partially_paid"
    assert claim_money_of(c) == ("partially_paid", 12800, 0, 3200, 6000)
    assert _lines(c) == [(7200, 1800), (5600, 1400), (0, 0)]


def test_twin_clps_matched_by_hand_each_post_their_own_line(side):
    """A split claim's two CLPs alike in everything the unmatched list keeps (number,
    status, charge, paid, CLP07) but paying different procedures: each hand match posts
    its own CLP, so both lines are paid, once each."""
    c = submitted(side, "V96P1", lines=(("97124", 45, 3, 9000), ("97140", 45, 3, 9000)))
    body = ["CLP*V96PX*1*90*72*0*12*BHH9601*11*1", "SVC*HC:97124*90*72**3",
            "DTM*472*20261102", "CAS*CO*45*18",
            "CLP*V96PX*1*90*72*0*12*BHH9601*11*1", "SVC*HC:97140*90*72**3",
            "DTM*472*20261102", "CAS*CO*45*18"]  # fmt: skip
    result = imported(side.practice.id, interchange([transaction(body, payment="144",
                                                                 trace="EFT96")]))  # fmt: skip
    for line in result.unmatched:
        unmatched.match_line(line, c, user=side.frontdesk)
    assert claim_money_of(c) == ("paid", 14400, 0, 3600, 0)
    assert _lines(c) == [(7200, 1800), (7200, 1800)]


def test_a_split_claims_share_posted_at_import_then_matched_by_hand_is_one_invoice(side):
    """The copay's CLP posted at import (invoiced then: it was the claim's last answer in
    the file), the deductible's matched by hand: the copay's invoice, unpaid, is replaced
    by one of the whole share, and the claim's history says so."""
    c = submitted(side, "V97P1", lines=THREE_LINES)
    first = [s.replace("V91P1", "V97P1") for s in COPAY_AND_DENIED]
    second = [s.replace("V91P1", "V97PX") for s in DEDUCTIBLE]
    text = interchange([transaction(first + second, payment="75", trace="EFT97")])
    result = imported(side.practice.id, text)
    (early,) = Invoice.select().where(Invoice.client == c.client_id)
    assert early.total_cents == 2500
    out = unmatched.match_line(result.unmatched[0], c, user=side.frontdesk)
    assert _invoices(c, live=True) == SHARE and out.invoice.total_cents == 4500
    assert Invoice.get_by_id(early.id).status == "void"
    last = ClaimEvent.select().where(ClaimEvent.claim == c.id).order_by(ClaimEvent.id.desc())
    assert f"it replaces {early.number}, voided" in last.first().reason


def test_a_paid_share_invoice_is_kept_and_the_rest_invoiced(side):
    """The client paid the first CLP's copay before the second CLP was matched: that
    invoice stands, and the deductible is invoiced on its own."""
    c = submitted(side, "V98P1", lines=THREE_LINES)
    typo = [s.replace("CLP*V91P1*", "CLP*V98PX*") for s in COPAY_AND_DENIED + DEDUCTIBLE]
    result = imported(side.practice.id, interchange([transaction(typo, payment="75",
                                                                 trace="EFT98")]))  # fmt: skip
    lines = _unmatched(side.practice.id)
    unmatched.match_line(lines["BHH9101"], c, user=side.frontdesk)
    (first,) = Invoice.select().where(Invoice.client == c.client_id)
    invoicing.record_payment(first, method="cash", amount_cents=2500, user=side.frontdesk)
    unmatched.match_line(lines["BHH9102"], c, user=side.frontdesk)
    assert _invoices(c, live=True) == [(2500, [("Copay", 2500)]), (2000, [("Your share", 2000)])]
    assert Remittance.get_by_id(result.remittances[0].id).unmatched_count == 0
