"""The fake clearinghouse's builders: a 999, a 277CA, an 835 and a TA1 answering an 837P,
each validated with pyx12 and read back with the portal's readers."""

import datetime as dt

import pytest

from portal.rules import claim_money, claim_status
from portal.x12.answer835 import (
    ClaimPay,
    LinePay,
    ProviderAdjustmentOut,
    answer_835,
    line_denied,
    line_paid,
)
from portal.x12.answers import (
    ClaimRejection,
    SegmentProblem,
    answer_277ca,
    answer_999,
    answer_ta1,
    locate,
    with_ta1,
)
from portal.x12.read277 import read_277ca
from portal.x12.read835 import read_835
from portal.x12.read999 import read_999
from portal.x12.readta1 import holds_ta1, read_ta1
from portal.x12.segments import X12Error, kind_of, parse
from portal.x12.write837 import write_837p
from tests.x12.helpers import assert_valid, fixture_batch, pyx12_check, segments, to_remit_claim

NOW = dt.datetime(2026, 12, 2, 8, 15)
BATCH = write_837p(fixture_batch())


def test_999_accepting_the_batch():
    text = answer_999(BATCH, control_number=501, created=NOW)
    assert_valid(text)
    assert kind_of(text) == "999"
    (ack,) = read_999(text)
    assert (ack.group_control, ack.status, ack.accepted_count) == ("42", "A", 1)
    assert [(t.control_number, t.status) for t in ack.transactions] == [("0001", "A")]
    segs = segments(text)
    assert segs[0].split("*")[6].strip() == "HCLR" and segs[0].split("*")[8].strip() == "CHM0001"


def test_999_rejecting_the_batch_names_segment_and_element():
    position = locate(BATCH, "NM1", "85")
    assert segments(BATCH)[position + 1].startswith("NM1*85*2*")  # ISA, GS come before ST
    problem = SegmentProblem("NM1", position, "2010AA", "8", "9", "67", "7", "1234567893")
    text = answer_999(BATCH, control_number=502, created=NOW, problems=[problem])
    assert_valid(text)
    (ack,) = read_999(text)
    assert (ack.status, ack.accepted, ack.accepted_count) == ("R", False, 0)
    (ts,) = ack.transactions
    assert (ts.status, ts.codes) == ("R", ["5"])
    (err,) = ts.errors
    assert (err.segment_id, err.position, err.loop, err.code) == ("NM1", position, "2010", "8")
    assert [(e.position, e.reference, e.code) for e in err.elements] == [("9", "67", "7")]
    assert claim_status.status_for_999(ts.status) == "rejected"


def test_999_problem_in_an_unknown_transaction_set_is_refused():
    with pytest.raises(ValueError, match="no transaction set"):
        answer_999(BATCH, control_number=503, created=NOW,
                   problems=[SegmentProblem("CLM", 20, transaction="0009")])  # fmt: skip


def test_277ca_rejecting_listed_claims():
    rejection = ClaimRejection("A7", "21", "85", "Billing provider NPI not on file")
    text = answer_277ca(
        BATCH, control_number=601, created=NOW, rejections={"CLM0000102": rejection},
        payer_claim_numbers={"CLM0000101": "BHH-0101"}, source_name="Blue Harbor Health",
        source_id="BHH01",
    )  # fmt: skip
    assert_valid(text)
    (ack,) = read_277ca(text)
    assert ack.source_name == "BLUE HARBOR HEALTH"
    outcome = {c.patient_control_number: (c.accepted, c.rejected, c.payer_claim_number)
               for c in ack.claims}  # fmt: skip
    assert outcome == {
        "CLM0000101": (True, False, "BHH-0101"),
        "CLM0000102": (False, True, ""),
        "CLM0000103": (True, False, "601-3"),
    }
    st = ack.claims[1].statuses[0]
    assert (st.category, st.code, st.entity) == ("A7", "21", "85")
    assert st.message == "BILLING PROVIDER NPI NOT ON FILE"
    assert claim_status.status_for_277ca(st.category) == "rejected"
    assert claim_status.status_for_277ca(ack.claims[0].statuses[0].category) == "accepted"
    assert "QTY*90*2" in segments(text) and "QTY*AA*1" in segments(text)
    assert "AMT*YY*160" in segments(text)


def test_277ca_names_the_batch_and_carries_the_clearinghouse_traces():
    """The receiver's TRN*2 is the 837P's BHT03; REF*D9 the clearinghouse's number of a
    claim, when given; STC04 the claim's charge and STC02 the status date."""
    text = answer_277ca(BATCH, control_number=604, created=NOW,
                        rejections={"CLM0000102": ClaimRejection()},
                        traces={"CLM0000102": "HC604-2", "CLM0000103": "HC604-3"})  # fmt: skip
    assert_valid(text)
    (ack,) = read_277ca(text)
    assert ack.batch_trace == "42"
    got = [(c.clearinghouse_trace, c.charge_cents, c.status_date) for c in ack.claims]
    assert got == [("", 12000, NOW.date()), ("HC604-2", 16000, NOW.date()),
                   ("HC604-3", 10000, NOW.date())]  # fmt: skip


def test_277ca_accepting_everything_and_refusing_unknown_claims():
    text = answer_277ca(BATCH, control_number=602, created=NOW)
    assert_valid(text)
    assert all(c.accepted for c in read_277ca(text)[0].claims)
    with pytest.raises(ValueError, match="no claim"):
        answer_277ca(BATCH, control_number=603, created=NOW,
                     rejections={"CLM0000999": ClaimRejection()})  # fmt: skip


PAY = {
    "CLM0000101": ClaimPay((line_paid(12000, 9600),)),
    "CLM0000102": ClaimPay((line_paid(9000, 7200, deductible=4000, copay=2500),
                            line_paid(7000, 5600, remarks=("N130",)))),
    "CLM0000103": ClaimPay((line_denied(10000, "50", remarks=("N130",)),)),
}  # fmt: skip


@pytest.mark.parametrize("method", ["CHK", "ACH"])
def test_835_paying_with_given_amounts(method):
    text = answer_835(
        BATCH, PAY, control_number=701, created=NOW, trace_number="EFT701",
        payer_name="Blue Harbor Health", payer_tax_id="13-1234567",
        payment_date=dt.date(2026, 12, 12), method=method,
    )  # fmt: skip
    assert_valid(text)
    (remit,) = read_835(text)
    assert (remit.payment_cents, remit.method, remit.trace_number) == (15900, method, "EFT701")
    assert remit.identity == ("1131234567", "EFT701")
    got = {}
    for c in remit.claims:
        posting = claim_money.post_remittance(to_remit_claim(c))
        assert posting.problems == ()
        got[c.patient_control_number] = (
            c.status, c.paid_cents, posting.patient_responsibility_cents, posting.status,
        )  # fmt: skip
    assert got == {
        "CLM0000101": ("1", 9600, 0, "paid"),
        "CLM0000102": ("1", 6300, 6500, "partially_paid"),
        "CLM0000103": ("4", 0, 0, "denied"),
    }
    assert remit.claims[2].services[0].remarks == ["N130"]
    assert remit.claims[1].services[0].allowed_cents == 7200


def test_835_only_for_claims_named_and_with_a_provider_adjustment():
    text = answer_835(
        BATCH, {"CLM0000103": ClaimPay((line_paid(10000, 8000),), payer_claim_number="X9")},
        control_number=702, created=NOW, trace_number="CHK702", payer_name="Blue Harbor Health",
        payer_tax_id="131234567", payment_date=dt.date(2026, 12, 12),
        provider_adjustments=[ProviderAdjustmentOut("WO", "OVERPAID CLM0000101", 1500)],
    )  # fmt: skip
    assert_valid(text)
    (remit,) = read_835(text)
    assert [c.patient_control_number for c in remit.claims] == ["CLM0000103"]
    assert remit.claims[0].payer_claim_number == "X9"
    assert remit.payment_cents == 8000 - 1500
    assert [(p.reason, p.cents) for p in remit.provider_adjustments] == [("WO", 1500)]


def test_835_of_nothing_paid_is_a_notification():
    text = answer_835(
        BATCH, {"CLM0000103": ClaimPay((line_denied(10000, "204"),))}, control_number=703,
        created=NOW, trace_number="NON703", payer_name="Blue Harbor Health",
        payer_tax_id="131234567", payment_date=dt.date(2026, 12, 12),
    )  # fmt: skip
    assert_valid(text)
    (remit,) = read_835(text)
    assert (remit.handling, remit.method, remit.payment_cents) == ("H", "NON", 0)


@pytest.mark.parametrize(
    "pay, message",
    [
        ({"CLM0000101": ClaimPay((LinePay(9600, (("CO", "45", 2000),)),))}, "must equal"),
        ({"CLM0000102": ClaimPay((line_paid(9000, 7200),))}, "one LinePay per 837 line"),
        ({"CLM0000999": ClaimPay((line_paid(100, 100),))}, "no claim"),
    ],
)
def test_835_builder_refuses_what_no_payer_would_send(pay, message):
    with pytest.raises(ValueError, match=message):
        answer_835(BATCH, pay, control_number=704, created=NOW, trace_number="T",
                   payer_name="P", payer_tax_id="131234567",
                   payment_date=dt.date(2026, 12, 12))  # fmt: skip


def test_line_paid_refuses_a_share_above_allowed():
    with pytest.raises(ValueError, match="more than the allowed"):
        line_paid(9000, 5000, deductible=4000, copay=2000)


# A TA1 stands alone in its interchange (no GS): pyx12 reads it, and says only that.
_NO_GROUP = 'Mandatory loop "Functional Group Header" (GS_LOOP) missing'


@pytest.mark.parametrize(("code", "note"), [("R", "006"), ("E", "020"), ("A", "000")])
def test_ta1_answers_the_files_envelope(code, note):
    text = answer_ta1(BATCH, control_number=401, created=NOW, code=code, note=note)
    ok, errors = pyx12_check(text)
    assert ok and all(_NO_GROUP in e for e in errors), errors
    ours = parse(BATCH)[1][0]
    (ack,) = read_ta1(text)
    assert (ack.control_number, ack.date, ack.time) == (ours[13], ours[9], ours[10])
    assert (ack.code, ack.note, ack.rejected) == (code, note, code == "R")
    assert ack.interchange_control == "000000401"
    segs = segments(text)
    assert segs[0].split("*")[6].strip() == "HCLR" and segs[-1] == "IEA*0*000000401"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("*R*006", "*Q*006"), "TA104 at segment 2 is “Q”, not A, E or R"),
        (("TA1*000000042", "TA1*42X"), "not an interchange control number: “42X”"),
        (("TA1*", "TA2*"), "holds no interchange acknowledgment"),
    ],
)
def test_a_ta1_that_cannot_be_read_says_why(change, message):
    text = answer_ta1(BATCH, control_number=401, created=NOW, code="R", note="006")
    with pytest.raises(X12Error, match=message):
        read_ta1(text.replace(*change))


def test_a_ta1_before_a_999_in_one_interchange():
    """As clearinghouses send it: ISA, TA1, then the 999's group. pyx12 validates it; each
    reader reads its part, and holds_ta1 tells such a file from a 999 alone."""
    alone = answer_999(BATCH, control_number=505, created=NOW)
    text = with_ta1(alone, BATCH, code="E", note="020")
    assert [s[:3] for s in segments(text)[:3]] == ["ISA", "TA1", "GS*"]
    ok, errors = pyx12_check(text)
    assert ok, errors
    (ack,) = read_ta1(text)
    assert (ack.control_number, ack.code, ack.note) == (parse(BATCH)[1][0][13], "E", "020")
    assert [a.group_control for a in read_999(text)] == ["42"]
    assert holds_ta1(text) and not holds_ta1(alone) and not holds_ta1("not X12")
