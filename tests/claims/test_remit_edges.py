"""835 files as real payers and clearinghouses send them, posted through the import service
on the test's SQLite file: claim-level adjustments and claims with no service line, PLB
provider adjustments, the same claim twice (reversal and correction), split claims and
patient control numbers as payers echo them, several transaction sets and other
separators, notices, line take-backs, multi-reason CAS, and files that are not 835s.
Every file meant to be a valid 835 passes pyx12 before the portal reads it; every import
is one transaction, and the same file again changes nothing."""

import html
import io
import pathlib
import re

import pytest

from portal.models import (
    Claim,
    ClaimAdjustment,
    ClaimEvent,
    ClaimLine,
    ClaimPosting,
    ClaimProblem,
    Invoice,
    InvoiceLine,
    Remittance,
    RemittanceClaim,
    StoredDocument,
)
from portal.services.claims import remittances
from portal.services.claims.remittances import RemittanceError
from tests.claims import factories as cf
from tests.claims.era import interchange, transaction
from tests.conftest import login
from tests.x12.helpers import assert_valid

FIXTURES = pathlib.Path(__file__).parent.parent / "x12" / "fixtures"
MODELS = (Remittance, RemittanceClaim, ClaimPosting, ClaimAdjustment, ClaimEvent, Invoice,
          InvoiceLine, StoredDocument, ClaimProblem)  # fmt: skip


def counts():
    return {m.__name__: m.select().count() for m in MODELS}


def claim_money_of(claim):
    c = Claim.get_by_id(claim.id)
    return c.status, c.paid_cents, c.patient_resp_cents, c.adjusted_cents, c.balance_cents


def imported(practice_id, text, valid=True, **kw):
    """Import `text` (pyx12-checked first when it is meant to be valid), then check that the
    same bytes again are refused and change nothing."""
    if valid:
        assert_valid(text)
    data = text.encode("ascii")
    result = remittances.import_835(practice_id, data, **kw)
    before = counts()
    with pytest.raises(RemittanceError, match="nothing was posted again"):
        remittances.import_835(practice_id, data)
    assert counts() == before
    return result


def refused(practice_id, text, words):
    before = counts()
    with pytest.raises(RemittanceError, match=words) as err:
        remittances.import_835(practice_id, text.encode("ascii"))
    assert counts() == before
    return str(err.value)


def submitted(a, pcn, lines=(("97124", 45, 3, 9000), ("97140", 30, 2, 7000)), **kw):
    return cf.claim(a.practice, a.c1, a.provider, policy_obj=a.pol, status="submitted",
                    patient_control_number=pcn, lines=lines, **kw)  # fmt: skip


# --- 1. claim-level CAS, claims with no SVC loop ------------------------------------------


def test_a_claim_answered_without_service_lines(side):
    c = submitted(side, "V11P1", lines=(("97124", 45, 3, 12000),))
    body = ["CLP*V11P1*1*120*86*10*12*BHH1001*11*1", "CAS*CO*45*24", "CAS*PR*3*10",
            "NM1*QC*1*REYES*DANA****MI*XJH123456789", "DTM*232*20261102"]  # fmt: skip
    result = imported(side.practice.id, interchange([transaction(body, payment="86",
                                                                 trace="EFT11")]))  # fmt: skip
    (p,) = result.posted
    assert p.problems == []
    assert claim_money_of(c) == ("partially_paid", 8600, 1000, 2400, 0)
    assert Claim.get_by_id(c.id).allowed_cents == 9600
    (posting,) = ClaimPosting.select().where(ClaimPosting.claim == c.id)
    assert posting.claim_line_id is None and posting.paid_cents == 8600
    assert sorted((x.group_code, x.reason_code, x.amount_cents) for x in posting.adjustments) == [
        ("CO", "45", 2400), ("PR", "3", 1000)]  # fmt: skip
    (inv,) = result.invoices
    assert [(ln.description.split(":")[0], ln.amount_cents) for ln in inv.lines] == [
        ("Copay", 1000)]  # fmt: skip


def test_claim_level_cas_with_service_lines_balances(side):
    """The guide's balance: CLP04 = the lines' SVC03 less the claim-level adjustments (a
    deductible taken at claim level, as some payers report it)."""
    c = submitted(side, "V12P1")
    body = ["CLP*V12P1*1*160*88*40*12*BHH1002*11*1", "CAS*PR*1*40",
            "NM1*QC*1*REYES*DANA****MI*XJH123456789",
            "SVC*HC:97124*90*72**3", "DTM*472*20261102", "CAS*CO*45*18",
            "SVC*HC:97140*70*56**2", "DTM*472*20261102", "CAS*CO*45*14"]  # fmt: skip
    result = imported(side.practice.id, interchange([transaction(body, payment="88",
                                                                 trace="EFT12")]))  # fmt: skip
    (p,) = result.posted
    assert p.problems == []
    assert not ClaimProblem.select().where(ClaimProblem.claim == c.id).exists()
    assert claim_money_of(c) == ("partially_paid", 8800, 4000, 3200, 0)
    lines = list(ClaimLine.select().where(ClaimLine.claim == c.id).order_by(ClaimLine.position))
    assert [(ln.paid_cents, ln.adjusted_cents) for ln in lines] == [(7200, 1800), (5600, 1400)]
    assert sum(x.paid_cents for x in ClaimPosting.select().where(ClaimPosting.claim == c.id)) == (
        8800
    )
    (inv,) = result.invoices
    assert inv.total_cents == 4000 and inv.lines.get().description.startswith("Deductible")


# --- 2. PLB: provider-level adjustments ----------------------------------------------------

PAID_96 = ["CLP*V21P1*1*120*96*0*12*BHH2101*11*1", "NM1*QC*1*REYES*DANA****MI*XJH123456789",
           "SVC*HC:97124*120*96**4", "DTM*472*20261102", "CAS*CO*45*24"]  # fmt: skip
PLB = "PLB*1234567893*20261231*L6:INTEREST 2026Q4*-1.5*WO:OVERPAID CLM88123*20*FB:BAL2026*5"


def test_provider_level_adjustments_reconcile_and_are_shown(side):
    """BPR02 = 96 + 1.50 interest - 20 recouped - 5 forwarded = 72.50: the claim gets its
    96, no claim gets the PLB amounts, the remittance keeps and shows them."""
    c = submitted(side, "V21P1", lines=(("97124", 45, 3, 12000),))
    text = interchange([transaction(PAID_96, payment="72.5", trace="EFT21", plb=[PLB])])
    result = imported(side.practice.id, text)
    (row,) = result.remittances
    assert (row.payment_cents, row.provider_adjustment_cents) == (7250, 2350)
    assert claim_money_of(c) == ("paid", 9600, 0, 2400, 0)
    assert sum(p.paid_cents for p in ClaimPosting.select()) == 9600
    assert [(a.reason, a.reference, a.cents, a.words) for a in
            remittances.provider_adjustments(row)] == [
        ("L6", "INTEREST 2026Q4", -150, "Interest"),
        ("WO", "OVERPAID CLM88123", 2000, "Overpayment recovery"),
        ("FB", "BAL2026", 500, "Forwarding balance"),
    ]  # fmt: skip


def test_a_remittance_that_does_not_reconcile_is_refused(side):
    c = submitted(side, "V22P1", lines=(("97124", 45, 3, 12000),))
    body = [s.replace("V21P1", "V22P1") for s in PAID_96]
    text = interchange([transaction(body, payment="96", trace="EFT22", plb=[PLB])])
    message = refused(side.practice.id, text, "out of balance")
    assert "$96.00" in message and "$72.50" in message
    assert Claim.get_by_id(c.id).paid_cents == 0


# --- 3. the same claim twice: reversal and correction in one file --------------------------

ORIGINAL = [
    "CLP*V31P1*1*120*56*40*12*BHH3101*11*1",
    "NM1*QC*1*REYES*DANA****MI*XJH123456789",
    "SVC*HC:97124*120*56**4",
    "DTM*472*20261102",
    "CAS*CO*45*24",
    "CAS*PR*3*40",
]
REVERSAL = [
    "CLP*V31P1*22*-120*-56*-40*12*BHH3101*11*1",
    "NM1*QC*1*REYES*DANA****MI*XJH123456789",
    "SVC*HC:97124*-120*-56**-4",
    "DTM*472*20261102",
    "CAS*CO*45*-24",
    "CAS*PR*3*-40",
]
CORRECTED = [
    "CLP*V31P1*1*120*86*10*12*BHH3102*11*1",
    "NM1*QC*1*REYES*DANA****MI*XJH123456789",
    "SVC*HC:97124*120*86**4",
    "DTM*472*20261102",
    "CAS*CO*45*24",
    "CAS*PR*3*10",
]


@pytest.mark.parametrize("order", ["reversal first", "correction first"])
def test_a_reversal_and_its_correction_in_one_file(side, order):
    c = submitted(side, "V31P1", lines=(("97124", 45, 3, 12000),))
    imported(side.practice.id, interchange([transaction(ORIGINAL, payment="56", trace="EFT31")]))
    (first,) = Invoice.select().where(Invoice.client == c.client_id)
    assert first.total_cents == 4000 and first.status == "open"
    body = REVERSAL + CORRECTED if order == "reversal first" else CORRECTED + REVERSAL
    text = interchange([transaction(body, payment="30", trace="EFT32")], control=88002)
    result = imported(side.practice.id, text)
    assert len(result.posted) == 2 and not result.unmatched
    claim = Claim.get_by_id(c.id)
    assert claim_money_of(c) == ("partially_paid", 8600, 1000, 2400, 0)
    assert claim.payer_claim_number == "BHH3102"
    invoices = {i.status: i for i in Invoice.select().where(Invoice.client == c.client_id)}
    assert invoices["void"].id == first.id  # the $40 copay nobody paid yet is replaced
    assert invoices["open"].total_cents == 1000  # by the $10 the payer now says
    assert not ClaimProblem.select().where(ClaimProblem.claim == c.id).exists()


# --- 4. split claims, CLP01 as payers echo it, another practice's number -------------------


def test_both_parts_of_a_split_visit_in_one_file(side):
    p1 = submitted(side, "V41P1", lines=(("97124", 45, 3, 9000),))
    p2 = submitted(side, "V41P2", lines=(("97140", 30, 2, 7000),), appointment=False, part=2)
    Claim.update(appointment=p1.appointment_id).where(Claim.id == p2.id).execute()
    body = ["CLP*V41P1*1*90*47*25*12*BHH4101*11*1", "SVC*HC:97124*90*47**3",
            "CAS*CO*45*18", "CAS*PR*3*25",
            "CLP*V41P2*1*70*56*0*12*BHH4102*11*1", "SVC*HC:97140*70*56**2",
            "CAS*CO*45*14"]  # fmt: skip
    result = imported(side.practice.id, interchange([transaction(body, payment="103",
                                                                 trace="EFT41")]))  # fmt: skip
    assert len(result.posted) == 2
    assert claim_money_of(p1) == ("partially_paid", 4700, 2500, 1800, 0)
    assert claim_money_of(p2) == ("paid", 5600, 0, 1400, 0)
    (inv,) = result.invoices  # the visit's copay, once, when its last part is answered
    assert inv.total_cents == 2500 and inv.appointment_id == p1.appointment_id


def test_clp01_in_another_case_or_padded_matches_the_claim(side):
    c1 = submitted(side, "V43P1", lines=(("97124", 45, 3, 9000),))
    c2 = submitted(side, "V44P1", lines=(("97124", 45, 3, 9000),))
    lower = ["CLP*v43p1*1*90*72*0*12*BHH4301*11*1", "SVC*HC:97124*90*72**3", "CAS*CO*45*18"]
    result = imported(side.practice.id, interchange([transaction(lower, payment="72",
                                                                 trace="EFT43")]))  # fmt: skip
    assert not result.unmatched and claim_money_of(c1)[:2] == ("paid", 7200)
    # A payer that echoes CLP01 space-padded to a fixed width (pyx12 calls the trailing
    # spaces an error; the payer sends them all the same).
    padded = ["CLP* V44P1  *1*90*72*0*12*BHH4401*11*1", "SVC*HC:97124*90*72**3",
              "CAS*CO*45*18"]  # fmt: skip
    result = imported(side.practice.id, interchange([transaction(padded, payment="72",
                      trace="EFT44")], control=88002), valid=False)  # fmt: skip
    assert not result.unmatched and claim_money_of(c2)[:2] == ("paid", 7200)
    assert RemittanceClaim.get(RemittanceClaim.claim == c2.id).patient_control_number == "V44P1"


def test_another_practices_claim_number_is_unmatched_and_tells_nothing(side, world):
    b = world.b
    theirs = cf.claim(b.practice, b.c1, b.provider, status="submitted",
                      patient_control_number="V45P1", lines=(("97124", 45, 3, 9000),))  # fmt: skip
    body = ["CLP*V45P1*1*90*72*0*12*BHH4501*11*1", "SVC*HC:97124*90*72**3", "CAS*CO*45*18"]
    result = imported(side.practice.id, interchange([transaction(body, payment="72",
                                                                 trace="EFT45")]))  # fmt: skip
    assert not result.posted
    (line,) = result.unmatched
    assert line.claim_id is None and line.note.startswith(
        "No claim of the practice has this patient control number: nothing was posted."
    )  # the same words as for a number no practice has: nothing of practice B's shows
    assert claim_money_of(theirs) == ("submitted", 0, 0, 0, 9000)
    assert not ClaimPosting.select().exists() and not ClaimEvent.select().where(
        ClaimEvent.claim == theirs.id, ClaimEvent.action == "posted").exists()  # fmt: skip
    assert result.remittances[0].payer_id == side.payer.id  # not found through B's claim


# --- 5. several transaction sets, other separators ----------------------------------------


def test_several_transaction_sets_in_one_interchange(side):
    c1 = submitted(side, "V51P1", lines=(("97124", 45, 3, 9000),))
    c2 = submitted(side, "V52P1", lines=(("97124", 45, 3, 9000),))
    one = transaction(["CLP*V51P1*1*90*72*0*12*B5101*11*1", "SVC*HC:97124*90*72**3",
                       "CAS*CO*45*18"], payment="72", trace="EFT51")  # fmt: skip
    two = transaction(["CLP*V52P1*4*90*0*0*12*B5201*11*1", "SVC*HC:97124*90*0**3",
                       "CAS*CO*50*90"], payment="0", trace="CHK52", control="0002",
                      handling="H")  # fmt: skip
    result = imported(side.practice.id, interchange([one, two]))
    assert [(r.trace_number, r.payment_cents) for r in result.remittances] == [
        ("EFT51", 7200), ("CHK52", 0)]  # fmt: skip
    assert claim_money_of(c1)[:2] == ("paid", 7200)
    assert claim_money_of(c2)[:2] == ("denied", 0)
    assert {r.document_id for r in result.remittances} == {StoredDocument.get().id}


def _wrapped(text, width=80):
    flat = text.replace("\n", "")
    return "\n".join(flat[i : i + width] for i in range(0, len(flat), width)) + "\n"


@pytest.mark.parametrize(
    "element, component, terminator, wrap",
    [("|", ">", "~", False), ("*", ":", "~\r\n", False), ("^", "\\", "\n", False),
     ("*", ">", "'", False), ("*", ":", "~", True)],
)  # fmt: skip
def test_other_separators_and_line_breaks(side, element, component, terminator, wrap):
    c = submitted(side, "V53P1")
    body = ["CLP*V53P1*1*160*128*0*12*BHH5301*11*1", "SVC*HC:97124*90*72**3", "CAS*CO*45*18",
            "SVC*HC:97140:59*70*56**2", "CAS*CO*45*14"]  # fmt: skip
    text = interchange([transaction(body, payment="128", trace="EFT53")], element=element,
                       component=component, terminator=terminator)  # fmt: skip
    if element == "^":  # the repetition separator must differ from the element separator
        text = text.replace("^^^00501", "^U^00501", 1)
    if wrap:  # fixed 80-column records, as some payers' mainframes still write them
        text = _wrapped(text)
    result = imported(side.practice.id, text, valid=not wrap)
    assert claim_money_of(c) == ("paid", 12800, 0, 3200, 0) and result.posted[0].problems == []
    assert [ln.paid_cents for ln in ClaimLine.select().where(ClaimLine.claim == c.id)
            .order_by(ClaimLine.position)] == [7200, 5600]  # fmt: skip


# --- 6. a notice (BPR01 H) with a trace number another payer used --------------------------


def test_a_notice_with_another_payers_trace_number_is_imported(side):
    other = cf.payer(side.practice, name="Other Health", payer_code="OTH01")
    theirs = cf.claim(
        side.practice,
        side.c2,
        side.provider,
        payer_obj=other,
        status="submitted",
        patient_control_number="V61P1",
        lines=(("97124", 45, 3, 9000),),
    )
    submitted(side, "V62P1", lines=(("97124", 45, 3, 9000),))
    paid = ["CLP*V62P1*1*90*72*0*12*B6201*11*1", "SVC*HC:97124*90*72**3", "CAS*CO*45*18"]
    imported(side.practice.id, interchange([transaction(paid, payment="72", trace="100200")]))
    denied = ["CLP*V61P1*4*90*0*0*12*O6101*11*1", "SVC*HC:97124*90*0**3", "CAS*CO*50*90",
              "LQ*HE*N130"]  # fmt: skip
    notice = interchange([transaction(denied, payment="0", trace="100200", handling="H",
                                      payer_tin="1999999999", payer_name="OTHER HEALTH",
                                      payer_id="OTH01")], control=88003)  # fmt: skip
    result = imported(side.practice.id, notice)
    (row,) = result.remittances
    assert (row.payment_cents, row.payment_method, row.payer_id) == (0, "NON", other.id)
    assert claim_money_of(theirs) == ("denied", 0, 0, 0, 9000)
    # The same payer's notice with that trace number in another file: the same one again.
    again = notice.replace("DTM*405*20261210", "DTM*405*20261211")
    refused(side.practice.id, again, "payment 100200 was posted on")


# --- 7. a line taken back without a reversal; several reasons on one CAS -------------------


def test_a_line_taken_back_without_reversal_reopens_it(side):
    c = submitted(side, "V71P1")
    paid = ["CLP*V71P1*1*160*128*0*12*B7101*11*1", "SVC*HC:97124*90*72**3", "CAS*CO*45*18",
            "SVC*HC:97140*70*56**2", "CAS*CO*45*14"]  # fmt: skip
    imported(side.practice.id, interchange([transaction(paid, payment="128", trace="EFT71")]))
    assert claim_money_of(c) == ("paid", 12800, 0, 3200, 0)
    take_back = ["CLP*V71P1*1*-70*-56*0*12*B7101*11*1", "SVC*HC:97140*-70*-56**-2",
                 "CAS*CO*45*-14"]  # fmt: skip
    plb = "PLB*1234567893*20261231*WO:B7101*-56"  # recouped from this payment: BPR02 = 0
    text = interchange([transaction(take_back, payment="0", trace="EFT72", handling="H",
                                    plb=[plb])], control=88002)  # fmt: skip
    result = imported(side.practice.id, text)
    (p,) = result.posted
    assert claim_money_of(c) == ("partially_paid", 7200, 0, 1800, 7000)
    lines = list(ClaimLine.select().where(ClaimLine.claim == c.id).order_by(ClaimLine.position))
    assert [(ln.paid_cents, ln.adjusted_cents) for ln in lines] == [(7200, 1800), (0, 0)]
    (problem,) = ClaimProblem.select().where(ClaimProblem.claim == c.id)
    assert problem.message.startswith("97140: the payer took back $56.00 it had paid")
    assert not result.invoices


def test_one_cas_with_several_reasons(side):
    c = submitted(side, "V72P1", lines=(("97124", 45, 3, 12000),))
    body = ["CLP*V72P1*1*120*88*20*12*B7201*11*1", "SVC*HC:97124*120*88**3",
            "CAS*CO*45*10*1*253*2", "CAS*PR*1*15**2*5"]  # fmt: skip
    result = imported(side.practice.id, interchange([transaction(body, payment="88",
                                                                 trace="EFT73")]))  # fmt: skip
    assert result.posted[0].problems == []
    assert claim_money_of(c) == ("partially_paid", 8800, 2000, 1200, 0)
    assert sorted(
        (x.group_code, x.reason_code, x.amount_cents) for x in ClaimAdjustment.select()
    ) == [("CO", "253", 200), ("CO", "45", 1000), ("PR", "1", 1500), ("PR", "2", 500)]
    (inv,) = result.invoices
    assert sorted(ln.amount_cents for ln in inv.lines) == [500, 1500]


# --- the pages ----------------------------------------------------------------------------


def _upload(client, data, name="era.835"):
    return client.post(
        "/provider/claims/remittances",
        data={"file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


@pytest.fixture
def desk(app, client, world):
    with app.test_request_context():
        a = world.a
        a.payer = cf.payer(a.practice, name="Blue Harbor Health", payer_code="BHH01")
        a.pol = cf.policy(a.practice, a.c1, a.payer)
        submitted(a, "V21P1", lines=(("97124", 45, 3, 12000),))
    login(client, world.a.frontdesk)
    return client


def test_the_payment_page_lists_the_provider_level_adjustments(desk):
    text = interchange([transaction(PAID_96, payment="72.5", trace="EFT21", plb=[PLB])])
    r = _upload(desk, text.encode("ascii"))
    assert r.status_code == 302
    page = desk.get(r.headers["Location"]).get_data(as_text=True)
    assert "Posted 1 claim; provider-level adjustments (PLB) belong to no claim" in page
    assert "Interest (L6) · <code>INTEREST 2026Q4</code> · adds $1.50" in page
    assert "Overpayment recovery (WO) · <code>OVERPAID CLM88123</code> · takes off $20.00" in page
    assert "Forwarding balance (FB) · <code>BAL2026</code> · takes off $5.00" in page


# --- 8. files that are not a postable 835 ---------------------------------------------------

GOOD = interchange([transaction(PAID_96, payment="96", trace="EFT81")])
_CUT = GOOD[: GOOD.index("CAS*CO*45*24")]


def _resealed(segs):
    """A transaction's segments (ST first) with SE counting them again."""
    body = [seg for seg in segs if not seg.startswith("SE*")]
    return body + [f"SE*{len(body) - body.index('ST*835*0001') + 1}*0001"]


_ONE = transaction(PAID_96, payment="96", trace="EFT81")


MALFORMED = [
    ("cut short", _CUT, "ends before its envelopes close"),
    ("cut mid-segment", GOOD[: GOOD.index("SE*") + 4], "cut short|does not close"),
    ("4010", GOOD.replace("005010X221A1", "004010X091A1"),
     "version 004010X091A1.*reads 005010X221A1"),
    ("a 999", (FIXTURES / "999_rejected.txt").read_text(), "This is a 999 file"),
    ("an 837", (FIXTURES / "837_batch.txt").read_text(), "This is a 837 file"),
    ("a PDF", "%PDF-1.7\n%âãÏÓ\n1 0 obj << /Type /Catalog >> endobj\n",
     "does not begin with an ISA"),
    ("a BPR before the ST", interchange([_resealed([_ONE[1], _ONE[0], *_ONE[2:]])]),
     "outside a transaction set"),
    ("two BPRs", interchange([_resealed([*_ONE[:2], *_ONE[1:]])]), "more than one BPR"),
    ("an unknown CAS group", GOOD.replace("CAS*CO*45*24", "CAS*XY*45*24"),
     "adjustment group “XY”"),
    ("an amount past any payment", GOOD.replace("CAS*CO*45*24", "CAS*CO*45*1E+30"),
     "not an amount"),
    ("a 20-digit amount", GOOD.replace("CAS*CO*45*24", "CAS*CO*45*99999999999999999999"),
     "not an amount"),
    ("out of balance", interchange([transaction(PAID_96, payment="97", trace="EFT81")]),
     r"is out of balance: it is \$97.00 \(BPR02\), but its claims pay \$96.00"),
    ("one payment twice", interchange([transaction(PAID_96, payment="96", trace="EFT81"),
                                       transaction([], payment="0", trace="EFT81",
                                                   control="0002")]),
     "holds payment EFT81 twice"),
    ("no BPR", interchange([_resealed([_ONE[0], *_ONE[2:]])]), "before the BPR"),
]  # fmt: skip


@pytest.mark.parametrize("text, words", [m[1:] for m in MALFORMED], ids=[m[0] for m in MALFORMED])
def test_a_file_that_is_not_a_postable_835_is_refused_on_the_form(app, desk, text, words):
    with app.app_context():
        before = counts()
    r = _upload(desk, text.encode("latin-1"))
    assert r.status_code == 400
    m = re.search(r'<p class="error" id="file-error">([^<]*)</p>', r.get_data(as_text=True))
    assert m and re.search(words, html.unescape(m.group(1))), m and m.group(1)
    with app.app_context():
        assert counts() == before
    assert _upload(desk, GOOD.encode("ascii")).status_code == 302  # the good one still posts
