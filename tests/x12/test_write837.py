"""The 837P writer: every file pyx12 accepts (005010X222A1), and its segments say the right
things (issue 10, acceptance: self subscriber, dependent, referring provider, prior
authorization, auto accident, workers' compensation, 59/XS, 12 diagnoses, a 9-line visit
split into two claims, a corrected claim; and a secondary claim with the primary's payment).
"""

import dataclasses
import datetime as dt

import pytest

from portal.rules import claims as rules
from portal.x12.claim837 import (
    Accident,
    Adjustment,
    Batch,
    Claim,
    LineAdjudication,
    OtherPayer,
    Payer,
    ServiceLine,
    Subscriber,
    filing_indicator,
)
from portal.x12.read837 import read_837
from portal.x12.write837 import write_837p
from tests.rules.claim_samples import claim as rules_claim
from tests.x12.helpers import (
    BILLING,
    CREATED,
    DANA,
    DAY,
    KIM,
    PAYER,
    RECEIVER,
    REFERRING,
    RENDERING,
    SUBMITTER,
    SUBSCRIBER,
    D,
    assert_valid,
    in_order,
    manual,
    massage,
    segments,
)


def batch(*claims, icn=1, gcn=1):
    return Batch(SUBMITTER, RECEIVER, BILLING, tuple(claims), icn, gcn, CREATED)


def claim(pcn="C100", **changes):
    base = Claim(pcn, SUBSCRIBER, PAYER, ("M54.50", "M62.830"), (massage(),))
    return dataclasses.replace(base, **changes)


TWELVE = ("M54.50", "M62.830", "M54.2", "M54.6", "M79.10", "M25.511", "M25.512", "M54.16",
          "M62.838", "M79.18", "G44.209", "M53.1")  # fmt: skip
AUTO = Subscriber(DANA, "AUT-55", filing_indicator="AM", property_casualty_claim_number="AC-778")
WC = Subscriber(DANA, "WC-12", filing_indicator="WC", property_casualty_claim_number="WC-2026-9")
PRIMARY = Payer("Blue Harbor Health", "BHH01")
SECOND = Payer("Cedar Mutual", "CDM22")
SECONDARY_SUB = Subscriber(DANA, "CM-777", responsibility="S")
PRIOR = OtherPayer(
    PRIMARY, DANA, "XJH123456789", paid_cents=8000, paid_date=D(2026, 11, 20),
    lines=(LineAdjudication(1, 5000, D(2026, 11, 20),
                            (Adjustment("CO", "45", 2000), Adjustment("PR", "3", 2000))),
           LineAdjudication(2, 3000, D(2026, 11, 20), (Adjustment("CO", "45", 2000),))),
)  # fmt: skip

P = pytest.param
CASES = [
    P(claim(), [
        "HL*2*1*22*0", "SBR*P*18*G-100******CI", "NM1*IL*1*REYES*DANA****MI*XJH123456789",
        "N3*12 ELM ST", "N4*ALBANY*NY*12207", "DMG*D8*19850412*F",
        "NM1*PR*2*BLUE HARBOR HEALTH*****PI*BHH01", "CLM*C100*90***11:B:1*Y*A*Y*Y",
        "HI*ABK:M5450*ABF:M62830", "LX*1", "SV1*HC:97124*90*UN*3***1", "DTP*472*D8*20261102",
    ], id="self subscriber"),
    P(claim(patient=KIM, relationship="child"), [
        "HL*2*1*22*1", "SBR*P**G-100******CI", "NM1*IL*1*REYES*DANA****MI*XJH123456789",
        "NM1*PR*2*BLUE HARBOR HEALTH*****PI*BHH01", "HL*3*2*23*0", "PAT*19",
        "NM1*QC*1*REYES*KIM", "N3*12 ELM ST", "N4*ALBANY*NY*12207", "DMG*D8*20120601*M",
        "CLM*C100*90***11:B:1*Y*A*Y*Y",
    ], id="dependent patient (2000C)"),
    P(claim(referring=REFERRING, rendering=RENDERING), [
        "HI*ABK:M5450*ABF:M62830", "NM1*DN*1*ORTIZ*ANN****XX*1558598797",
        "NM1*82*1*LEE*SAM****XX*1558123455", "PRV*PE*PXC*225700000X", "LX*1",
    ], id="referring provider (2310A) and rendering (2310B)"),
    P(claim(prior_authorization="PA-7788"), [
        "CLM*C100*90***11:B:1*Y*A*Y*Y", "REF*G1*PA-7788", "HI*ABK:M5450*ABF:M62830",
    ], id="prior authorization"),
    P(claim(subscriber=AUTO, accident=Accident("AA", D(2026, 10, 1), "NY"),
            onset_date=D(2026, 10, 1)), [
        "SBR*P*18*******AM", "NM1*IL*1*REYES*DANA****MI*AUT-55", "REF*Y4*AC-778",
        "CLM*C100*90***11:B:1*Y*A*Y*Y**AA:::NY", "DTP*431*D8*20261001", "DTP*439*D8*20261001",
    ], id="auto accident with state"),
    P(claim(subscriber=WC, payer=Payer("State Insurance Fund", "SIF01"),
            accident=Accident("EM", D(2026, 9, 3)), diagnoses=("S13.4XXA",),
            lines=(massage(),)), [
        "SBR*P*18*******WC", "REF*Y4*WC-2026-9", "NM1*PR*2*STATE INSURANCE FUND*****PI*SIF01",
        "CLM*C100*90***11:B:1*Y*A*Y*Y**EM", "DTP*431*D8*20260903", "HI*ABK:S134XXA",
    ], id="workers' compensation"),
    P(claim(lines=(massage(pointers=(1,)), manual(pointers=(2,), modifiers=("59",)))), [
        "CLM*C100*140***11:B:1*Y*A*Y*Y", "SV1*HC:97124*90*UN*3***1", "SV1*HC:97140:59*50*UN*1***2",
    ], id="97124 with 97140 and modifier 59"),
    P(claim(lines=(massage(pointers=(1,)), manual(pointers=(2,), modifiers=("XS", "GP")))), [
        "SV1*HC:97140:XS:GP*50*UN*1***2",
    ], id="modifier XS"),
    P(claim(diagnoses=TWELVE, lines=(massage(pointers=(1, 2, 3, 4)), manual(pointers=(12, 5)))), [
        "HI*ABK:M5450*ABF:M62830*ABF:M542*ABF:M546*ABF:M7910*ABF:M25511*ABF:M25512*ABF:M5416"
        "*ABF:M62838*ABF:M7918*ABF:G44209*ABF:M531",
        "SV1*HC:97124*90*UN*3***1:2:3:4", "SV1*HC:97140*50*UN*1***12:5",
    ], id="12 diagnoses"),
    P(claim(frequency="7", original_claim_number="BHH2026110500123"), [
        "CLM*C100*90***11:B:7*Y*A*Y*Y", "REF*F8*BHH2026110500123",
    ], id="corrected claim (frequency 7)"),
    P(claim(frequency="8", original_claim_number="BHH2026110500123"), [
        "CLM*C100*90***11:B:8*Y*A*Y*Y", "REF*F8*BHH2026110500123",
    ], id="void (frequency 8)"),
    P(claim(place_of_service="10", lines=(massage(),
                                         dataclasses.replace(manual(), place_of_service="11"))), [
        "CLM*C100*140***10:B:1*Y*A*Y*Y", "SV1*HC:97124*90*UN*3***1", "SV1*HC:97140*50*UN*1*11**2",
    ], id="telehealth at home, one line in the office"),
    P(claim(subscriber=SECONDARY_SUB, payer=SECOND, other_payers=(PRIOR,),
            lines=(massage(pointers=(1,)), manual(pointers=(2,), modifiers=("59",)))), [
        "SBR*S*18*******CI", "NM1*PR*2*CEDAR MUTUAL*****PI*CDM22",
        "CLM*C100*140***11:B:1*Y*A*Y*Y", "SBR*P*18*******CI", "AMT*D*80", "OI***Y***Y",
        "NM1*IL*1*REYES*DANA****MI*XJH123456789", "NM1*PR*2*BLUE HARBOR HEALTH*****PI*BHH01",
        "LX*1", "SV1*HC:97124*90*UN*3***1", "SVD*BHH01*50*HC:97124**3", "CAS*CO*45*20",
        "CAS*PR*3*20", "DTP*573*D8*20261120", "LX*2", "SVD*BHH01*30*HC:97140:59**1",
        "CAS*CO*45*20",
    ], id="secondary claim with the primary's payment (2320/2330/2430)"),
]  # fmt: skip


@pytest.mark.parametrize("the_claim, expected", CASES)
def test_837p_is_valid_and_says_the_right_things(the_claim, expected):
    text = write_837p(batch(the_claim))
    assert_valid(text)
    segs = segments(text)
    assert in_order(expected, segs), "\n".join(segs)
    # the envelope and the billing provider, the same in every file
    assert in_order([
        "GS*HC*CHM0001*HCLR*20261201*0930*1*X*005010X222A1", "ST*837*0001*005010X222A1",
        "BHT*0019*00*1*20261201*0930*CH", "NM1*41*2*CALM HANDS MASSAGE*****46*CHM0001",
        "PER*IC*FRONT DESK*TE*5185550100", "NM1*40*2*HARBOR CLEARING*****46*HCLR",
        "HL*1**20*1", "PRV*BI*PXC*225700000X", "NM1*85*2*CALM HANDS MASSAGE*****XX*1234567893",
        "N3*1 MAIN ST", "N4*ALBANY*NY*122071234", "REF*EI*123456789",
    ], segs)  # fmt: skip
    assert segs[-3:] == [f"SE*{len(segs) - 4}*0001", "GE*1*1", "IEA*1*000000001"]


def test_a_payer_batch_of_several_claims_counts_right():
    claims = [claim("C100"), claim("C101", patient=KIM, relationship="child"),
              claim("C102", prior_authorization="PA-1")]  # fmt: skip
    text = write_837p(batch(*claims, icn=123456789, gcn=42))
    assert_valid(text)
    segs = segments(text)
    assert segs[0].split("*")[13] == "123456789" and segs[-1] == "IEA*1*123456789"
    assert segs[1].split("*")[6] == "42" and segs[-2] == "GE*1*42"
    assert [s for s in segs if s.startswith("HL*")] == [
        "HL*1**20*1", "HL*2*1*22*0", "HL*3*1*22*1", "HL*4*3*23*0", "HL*5*1*22*0",
    ]  # fmt: skip
    read = read_837(text)
    assert [c.patient_control_number for c in read.claims] == ["C100", "C101", "C102"]
    assert [c.patient_first_name for c in read.claims] == ["DANA", "KIM", "DANA"]
    assert read.interchange_control == "123456789" and read.group_control == "42"


def test_no_2310b_when_the_therapist_bills_under_their_own_npi():
    alone = dataclasses.replace(BILLING, name="Lee", first_name="Sam", npi="1558123455")
    b = dataclasses.replace(batch(claim(rendering=RENDERING)), billing_provider=alone)
    text = write_837p(b)
    assert_valid(text)
    segs = segments(text)
    assert "NM1*85*1*LEE*SAM****XX*1558123455" in segs
    assert not any(s.startswith(("NM1*82", "PRV*PE")) for s in segs)


def test_isa_is_fixed_width():
    text = write_837p(batch(claim()))
    isa = text.split("\n")[0]
    assert len(isa) == 106 and isa.endswith(":~")
    assert isa[3] == "*" and isa[82] == "^"


def test_names_are_written_as_x12_allows():
    odd = dataclasses.replace(DANA, last_name="Ñúñez*O'Brien~", first_name="Zoë:")
    text = write_837p(batch(claim(subscriber=Subscriber(odd, "M1"))))
    assert_valid(text)
    assert "NM1*IL*1*NUNEZ O'BRIEN*ZOE****MI*M1" in segments(text)


def _x12_claim(piece: rules.ClaimData, pcn: str) -> Claim:
    """What a service does: a rules.ClaimData piece to an x12 Claim."""
    lines = tuple(ServiceLine(x.code, x.charge_cents, x.units, x.pointers, x.service_date,
                              x.modifiers) for x in piece.lines)  # fmt: skip
    return claim(pcn, diagnoses=piece.diagnoses, lines=lines)


def test_a_nine_line_visit_splits_into_two_claims():
    lines = [rules.ClaimLine(DAY, code, 1, 2500, pointers=(n % 5 + 1,))
             for n, code in enumerate(["97124", "97112", "97110", "97530", "97535", "97750",
                                       "97760", "97763", "97139"])]  # fmt: skip
    visit = rules_claim(
        diagnoses=("M54.50", "M62.830", "M54.2", "M54.6", "M79.10"),
        lines=tuple(lines),
        total_cents=22500,
        visits=(),
    )
    pieces = rules.split_claim(visit)
    assert [len(p.lines) for p in pieces] == [6, 3]
    text = write_837p(batch(*(_x12_claim(p, f"C200-{n}") for n, p in enumerate(pieces, 1))))
    assert_valid(text)
    segs = segments(text)
    assert in_order([
        "CLM*C200-1*150***11:B:1*Y*A*Y*Y", "HI*ABK:M5450*ABF:M62830*ABF:M542*ABF:M546*ABF:M7910",
        "CLM*C200-2*75***11:B:1*Y*A*Y*Y", "HI*ABK:M62830*ABF:M542*ABF:M546",
        "SV1*HC:97760*25*UN*1***1", "SV1*HC:97763*25*UN*1***2", "SV1*HC:97139*25*UN*1***3",
    ], segs)  # fmt: skip
    assert sum(1 for s in segs if s.startswith("LX*")) == 9


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"lines": ()}, "1 to 50 service lines"),
        ({"diagnoses": ()}, "1 to 12 diagnoses"),
        ({"diagnoses": TWELVE + ("M54.59",)}, "1 to 12 diagnoses"),
        ({"lines": (massage(pointers=(3,)),)}, "a pointer names no diagnosis"),
        ({"lines": (massage(pointers=(1, 2, 1, 2, 1)),)}, "1 to 4 diagnoses"),
        ({"lines": (massage(units=0),)}, "units and a charge"),
        ({"frequency": "7"}, "names the original's number"),
        ({"frequency": "3"}, "frequency 1, 7 or 8"),
        ({"accident": Accident("AA", D(2026, 10, 1))}, "needs the state"),
        ({"accident": Accident("OA")}, "needs the accident date"),
        ({"accident": Accident("XX", D(2026, 10, 1))}, "AA, EM or OA"),
        ({"patient_control_number": "X" * 21}, "1 to 20 characters"),
        ({"patient": KIM, "relationship": "self"}, "spouse, child or other"),
    ],
)
def test_input_that_cannot_make_a_valid_claim_is_refused(changes, message):
    with pytest.raises(ValueError, match=message):
        write_837p(batch(claim(**changes)))


def test_a_batch_needs_claims_and_a_nine_digit_billing_zip():
    with pytest.raises(ValueError, match="at least one claim"):
        write_837p(batch())
    five = dataclasses.replace(
        BILLING, address=dataclasses.replace(BILLING.address, postal_code="12207")
    )
    with pytest.raises(ValueError, match="9 digits"):
        write_837p(dataclasses.replace(batch(claim()), billing_provider=five))


@pytest.mark.parametrize(
    "kind, claim_type, code",
    [("commercial", "commercial", "CI"), ("medicare", "commercial", "MB"),
     ("medicaid", "commercial", "MC"), ("commercial", "workers_comp", "WC"),
     ("auto", "auto", "AM"), ("other", "commercial", "11")],
)  # fmt: skip
def test_claim_filing_indicator(kind, claim_type, code):
    assert filing_indicator(kind, claim_type) == code


def test_control_numbers_are_checked():
    with pytest.raises(ValueError, match="1 to 9 digits"):
        write_837p(batch(claim(), icn=10**9))
    with pytest.raises(ValueError, match="1 to 9 digits"):
        write_837p(batch(claim(), gcn=0))


def test_created_time_goes_to_isa_gs_and_bht():
    b = dataclasses.replace(batch(claim()), created=dt.datetime(2027, 1, 2, 23, 59))
    segs = segments(write_837p(b))
    assert segs[0].split("*")[9:11] == ["270102", "2359"]
    assert segs[1].split("*")[4:6] == ["20270102", "2359"]
