"""The readers (835, 999, 277CA) on realistic fixture files, each first validated with pyx12
against its map; telling files apart by content; malformed input refused clearly.

The fixtures answer tests/x12/fixtures/837_batch.txt (claims CLM0000101-103, GS06 42):
- 999_accepted.txt: the batch accepted. 999_rejected.txt: a resend (GS06 43) rejected,
  written with other separators ('|', '>') and CRLF line ends.
- 277ca_one_rejected.txt: 101 and 103 accepted (REF*1K), 102 rejected A7:21 (referring NPI).
- 835_paid_partial_denied.txt: 101 paid, 102 partially paid (deductible 40 + copay 25 under
  PR), 103 denied (CO 50). 835_unknown_claim.txt: a claim that is not ours, and a PLB.
"""

import datetime as dt
import pathlib

import pytest

from portal.rules import claim_money, edi_codes
from portal.x12.read277 import read_277ca
from portal.x12.read835 import read_835, same_payment
from portal.x12.read999 import read_999
from portal.x12.segments import X12Error, identify, kind_of, parse
from portal.x12.write837 import write_837p
from tests.x12.helpers import fixture_batch, pyx12_check, to_remit_claim

FIXTURES = pathlib.Path(__file__).parent / "fixtures"
D = dt.date


def fixture(name: str) -> str:
    with open(FIXTURES / name, newline="") as f:  # keep CRLF where a file has it
        return f.read()


@pytest.mark.parametrize(
    "name, kind, version",
    [
        ("837_batch.txt", "837", "005010X222A1"),
        ("835_paid_partial_denied.txt", "835", "005010X221A1"),  # map 835.5010.X221.A1
        ("835_unknown_claim.txt", "835", "005010X221A1"),
        ("999_accepted.txt", "999", "005010X231A1"),  # map 999.5010X231.A1
        ("999_rejected.txt", "999", "005010X231A1"),
        ("277ca_one_rejected.txt", "277", "005010X214"),  # map 277.5010.X214
    ],
)
def test_fixtures_pass_pyx12_and_are_told_apart_by_content(name, kind, version, tmp_path):
    text = fixture(name)
    ok, errors = pyx12_check(text)
    assert ok and not errors, errors
    assert identify(text).version == version
    # the name says nothing: the same text under another name is the same kind
    renamed = tmp_path / "download-0001.dat"
    renamed.write_bytes(text.encode())
    assert kind_of(renamed.read_bytes().decode()) == kind


def test_the_837_fixture_is_what_the_writer_makes():
    assert write_837p(fixture_batch()) == fixture("837_batch.txt")


# --- 835 ---------------------------------------------------------------------------------------


PAID = ("1131234567", "CHK7001", "", 7200, D(2026, 12, 12))


@pytest.mark.parametrize(
    "other, same",
    [
        (PAID, True),
        (PAID[:2] + ("PLANA",) + PAID[3:], True),  # TRN04 on one side only
        (("1999999999",) + PAID[1:], False),  # another payer
        (PAID[:1] + ("CHK7002",) + PAID[2:], False),  # another check
        (PAID[:3] + (6000, PAID[4]), False),  # another amount
        (PAID[:4] + (D(2026, 12, 19),), False),  # another day
    ],
    ids=["same", "TRN04 one side", "payer", "trace", "amount", "day"],
)
def test_the_same_payment_again(other, same):
    assert same_payment(PAID, other) is same
    assert same_payment(other, PAID) is same
    planned = PAID[:2] + ("PLANB",) + PAID[3:]
    assert same_payment(planned, other[:2] + ("PLANA",) + other[3:]) is False


def test_835_payment_and_claims():
    (remit,) = read_835(fixture("835_paid_partial_denied.txt"))
    assert (remit.payment_cents, remit.credit_debit, remit.method) == (15900, "C", "ACH")
    assert remit.payment_date == D(2026, 12, 12)
    assert remit.trace_number == "EFT20261212001" and remit.payer_trace_id == "1131234567"
    assert remit.identity == ("1131234567", "EFT20261212001")
    assert remit.originating_company == "1131234567"  # BPR10, TRN03's twin
    assert remit.payment == ("1131234567", "EFT20261212001", "", 15900, D(2026, 12, 12))
    assert (remit.payer_name, remit.payer_id) == ("BLUE HARBOR HEALTH", "BHH01")
    assert (remit.payee_name, remit.payee_npi) == ("CALM HANDS MASSAGE", "1234567893")
    assert [c.patient_control_number for c in remit.claims] == [
        "CLM0000101", "CLM0000102", "CLM0000103",
    ]  # fmt: skip
    assert sum(c.paid_cents for c in remit.claims) == remit.payment_cents


@pytest.mark.parametrize(
    "pcn, status, charge, paid, pr, payer_number, claim_status, write_off",
    [
        ("CLM0000101", "1", 12000, 9600, 0, "BHH26340000101", "paid", 2400),
        ("CLM0000102", "1", 16000, 6300, 6500, "BHH26340000102", "partially_paid", 3200),
        ("CLM0000103", "4", 10000, 0, 0, "BHH26340000103", "denied", 10000),
    ],
)
def test_835_claims_post_as_the_rule_book_says(
    pcn, status, charge, paid, pr, payer_number, claim_status, write_off
):
    (remit,) = read_835(fixture("835_paid_partial_denied.txt"))
    claim = next(c for c in remit.claims if c.patient_control_number == pcn)
    assert (claim.status, claim.charge_cents, claim.paid_cents) == (status, charge, paid)
    assert claim.patient_responsibility_cents == pr
    assert claim.payer_claim_number == payer_number
    posting = claim_money.post_remittance(to_remit_claim(claim))
    assert posting.problems == ()
    assert posting.status == claim_status
    assert posting.patient_responsibility_cents == pr
    assert posting.write_off_cents == write_off


def test_835_lines_adjustments_and_remarks():
    (remit,) = read_835(fixture("835_paid_partial_denied.txt"))
    partial = remit.claims[1]
    assert (partial.patient_first_name, partial.member_id) == ("KIM", "XJH123456789")
    first, second = partial.services
    assert (first.code, first.modifiers, first.units) == ("97124", (), "3")
    assert (first.charge_cents, first.paid_cents, first.allowed_cents) == (9000, 700, 7200)
    assert [(a.group, a.reason, a.cents) for a in first.adjustments] == [
        ("CO", "45", 1800), ("PR", "1", 4000), ("PR", "3", 2500),
    ]  # fmt: skip
    assert (second.code, second.modifiers, second.service_date) == (
        "97140",
        ("59",),
        D(2026, 11, 2),
    )
    denied = remit.claims[2].services[0]
    assert denied.remarks == ["N130"]
    assert edi_codes.adjustment_text("CO", denied.adjustments[0].reason) == (
        "Contractual obligation: not medically necessary in the payer's view (CO-50)"
    )
    assert remit.claims[0].rendering_npi == "1558123455"


def test_835_unknown_claim_claim_level_adjustment_and_plb():
    (remit,) = read_835(fixture("835_unknown_claim.txt"))
    (claim,) = remit.claims
    assert claim.patient_control_number == "CLM9999999"  # not ours: listed as unmatched
    assert [(a.group, a.reason, a.cents) for a in claim.adjustments] == [("CO", "45", 1600)]
    assert claim.services == [] and claim.service_start == D(2026, 12, 1)
    (plb,) = remit.provider_adjustments
    assert (plb.reason, plb.reference, plb.cents) == ("L6", "INTEREST 2026Q4", -42)
    assert remit.payment_cents == claim.paid_cents - plb.cents == 6442
    assert (remit.method, remit.identity) == ("CHK", ("1131234567", "CHK0049911"))


# --- 999 ---------------------------------------------------------------------------------------


def test_999_accepted():
    (ack,) = read_999(fixture("999_accepted.txt"))
    assert (ack.functional_id, ack.group_control, ack.status, ack.accepted) == (
        "HC",
        "42",
        "A",
        True,
    )
    assert (ack.included, ack.received, ack.accepted_count) == (1, 1, 1)
    (ts,) = ack.transactions
    assert (ts.set_id, ts.control_number, ts.status, ts.errors) == ("837", "0001", "A", [])


def test_999_rejected_with_other_separators_and_crlf():
    text = fixture("999_rejected.txt")
    assert "\r\n" in text and text[3] == "|"
    (ack,) = read_999(text)
    assert (ack.group_control, ack.status, ack.accepted, ack.accepted_count) == (
        "43",
        "R",
        False,
        0,
    )
    (ts,) = ack.transactions
    assert (ts.status, ts.codes, ts.accepted) == ("R", ["5"], False)
    clm, dmg = ts.errors
    assert (clm.segment_id, clm.position, clm.loop, clm.code) == ("CLM", 21, "2300", "8")
    assert clm.patient_control_number == "CLM0000101"
    (el,) = clm.elements
    assert (el.position, el.reference, el.code, el.bad_value) == ("5:3", "1325", "7", "9")
    assert dmg.elements[0].code == "8" and dmg.patient_control_number == ""
    assert edi_codes.segment_error_text(clm.code) == "Segment has data element errors"
    assert edi_codes.element_error_text(el.code) == "Invalid code value"
    assert edi_codes.element_error_text(dmg.elements[0].code) == "Invalid date"
    assert edi_codes.ack_text(ack.status) == "Rejected"


# --- 277CA -------------------------------------------------------------------------------------


def test_277ca_one_rejected_two_accepted():
    (ack,) = read_277ca(fixture("277ca_one_rejected.txt"))
    assert (ack.source_name, ack.receiver_id, ack.reference) == (
        "BLUE HARBOR HEALTH", "CHM0001", "277CA20261202001",
    )  # fmt: skip
    assert [(s.category, s.code) for s in ack.receiver_statuses] == [("A1", "19")]
    assert ack.batch_trace == "42"  # 2200B TRN*2: the BHT03 of our 837P file 42
    by_pcn = {c.patient_control_number: c for c in ack.claims}
    assert list(by_pcn) == ["CLM0000101", "CLM0000102", "CLM0000103"]
    assert [c.accepted for c in ack.claims] == [True, False, True]
    assert [c.rejected for c in ack.claims] == [False, True, False]
    assert by_pcn["CLM0000101"].payer_claim_number == "BHH26336000101"
    assert by_pcn["CLM0000103"].service_start == D(2026, 11, 4)
    rejected = by_pcn["CLM0000102"]
    assert rejected.payer_claim_number == "" and rejected.first_name == "KIM"
    assert rejected.clearinghouse_trace == "HC2026120200018"
    assert (rejected.charge_cents, rejected.status_date) == (16000, D(2026, 12, 2))
    assert (rejected.service_start, rejected.service_end) == (D(2026, 11, 2), D(2026, 11, 2))
    first, second = rejected.statuses
    assert (first.category, first.code, first.entity, first.action) == ("A7", "21", "DN", "U")
    assert first.message == "REFERRING PROVIDER NPI IS NOT VALID FOR THIS PAYER"
    assert (second.category, second.code) == ("A7", "562")
    assert edi_codes.stc_text(first.category, first.code, first.entity) == (
        "Rejected for invalid information: missing or invalid information (referring provider) "
        "(A7:21:DN)"
    )
    (line,) = rejected.lines
    assert (line.code, line.modifiers, line.units) == ("97140", ("59",), "2")
    assert [(s.category, s.code) for s in line.statuses] == [("A7", "453")]


# --- what files are, and malformed input ---------------------------------------------------------

ACCEPTED_999 = (FIXTURES / "999_accepted.txt").read_text()


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "does not begin with an ISA"),
        ("Hello, this is a PDF", "does not begin with an ISA"),
        (ACCEPTED_999[:60], "does not begin with an ISA"),
        (ACCEPTED_999.replace("SE*6*0001~", "SE*7*0001~"), "says 7 segments but has 6"),
        (ACCEPTED_999.replace("SE*6*0001~", "SE*6*0002~"), "does not close"),
        (ACCEPTED_999.replace("GE*1*7001~", "GE*1*7009~"), "does not close the functional group"),
        (ACCEPTED_999.replace("IEA*1*000007001~", "IEA*1*000007000~"),
         "does not close the interchange"),
        (ACCEPTED_999.split("SE*")[0], "ends before its envelopes close"),
        (ACCEPTED_999.replace("AK9*A", "ak9*A"), "no valid segment ID"),
    ],
)  # fmt: skip
def test_malformed_files_are_refused_with_a_clear_message(text, message):
    with pytest.raises(X12Error, match=message):
        parse(text)


@pytest.mark.parametrize(
    "reader, name, message",
    [
        (read_835, "999_accepted.txt", "This is a 999 file, not an 835 remittance."),
        (read_999, "835_unknown_claim.txt", "This is a 835 file, not a 999 acknowledgment."),
        (read_277ca, "999_accepted.txt", "This is a 999 file, not a 277CA"),
    ],
)
def test_each_reader_refuses_other_kinds(reader, name, message):
    with pytest.raises(X12Error, match=message):
        reader(fixture(name))


@pytest.mark.parametrize(
    "change, message",
    [
        (("CLP*CLM0000101*1*120*96*", "CLP*CLM0000101*1*120*9x6*"), "claim payment “9x6”"),
        (("CAS*CO*45*24~", "CAS*CO*45*24.001~"), "not an amount in dollars and cents"),
        (("20261212~\nTRN", "20261312~\nTRN"), "payment date “20261312” is not a date"),
        (("CLP*CLM0000101*", "CLP**"), "no patient control number"),
    ],
)
def test_835_bad_values_are_refused(change, message):
    text = fixture("835_paid_partial_denied.txt").replace(*change)
    with pytest.raises(X12Error, match=message):
        read_835(text)


@pytest.mark.parametrize(
    "terminator_tail",
    ["~", "~\n", "~\r\n", "\n"],
)
def test_segment_terminators_with_or_without_line_breaks(terminator_tail):
    lines = fixture("999_accepted.txt").splitlines()
    if terminator_tail == "\n":  # the newline is the terminator itself
        text = "\n".join(line.rstrip("~") for line in lines)
        text = text[:105] + "\n" + text[106:]
    else:
        text = "".join(line.rstrip("~") + terminator_tail for line in lines)
    (ack,) = read_999("\ufeff" + text)
    assert ack.status == "A" and ack.transactions[0].control_number == "0001"


@pytest.mark.parametrize("name", ["999_rejected.txt", "277ca_one_rejected.txt",
                                  "835_paid_partial_denied.txt"])  # fmt: skip
def test_a_file_wrapped_in_80_column_lines_reads_as_the_same_segments(name):
    """Some payers' systems write X12 in fixed 80-column records: the line breaks fall
    inside segments (the ISA's too) and mean nothing."""
    text = fixture(name)
    flat = text.replace("\r", "").replace("\n", "")
    wrapped = "\r\n".join(flat[i : i + 80] for i in range(0, len(flat), 80))
    assert [repr(s) for s in parse(wrapped)[1]] == [repr(s) for s in parse(text)[1]]
    # a newline as the terminator itself is still one
    by_line = flat.replace("~", "\n")
    assert [repr(s) for s in parse(by_line)[1]] == [repr(s) for s in parse(text)[1]]
