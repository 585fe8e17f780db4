"""Claim checks as the rule book reads (DOMAIN.md, issue 10 item 3): one change at a time to
a clean claim, and the problem it raises with the page where it is fixed.

The ICD-10-CM validator is the portal's own (services.icd10 over simple-icd-10-cm),
passed in as rules.claims asks.
"""

import datetime as dt
from dataclasses import replace

import pytest

from portal.rules.claims import ClaimLine, VisitMinutes, split_claim, validate_claim
from portal.rules.problems import WHERE
from portal.services import icd10
from tests.rules.claim_samples import AUTH, CLAIM, DAY, REFERRAL, claim

D = dt.date
DAY2 = D(2026, 11, 9)


@pytest.fixture(scope="module")
def validator():
    icd10.warm()
    return icd10.validate


def test_the_clean_claim_is_ready(validator):
    assert validate_claim(CLAIM, validator) == []


def line(code="97124", units=3, cents=30000, mods=(), ptr=(1, 2), day=DAY, pos=""):
    return ClaimLine(day, code, units, cents, modifiers=mods, pointers=ptr, place_of_service=pos)


REQ_REF = {"referral_required": True}
REQ_AUTH = {"authorization_required": True}
P = pytest.param


@pytest.mark.parametrize(
    "changes, expected",
    [
        # member, subscriber, policy dates
        P({"policy": {"member_id": " "}}, [("member_id_missing", "policy")], id="member ID"),
        P({"policy": {"relationship": "child"}}, [("subscriber_missing", "policy")],
          id="dependent without subscriber"),
        P({"policy": {"relationship": "cousin"}}, [("relationship_invalid", "policy")],
          id="relationship"),
        P({"policy": {"end_date": D(2026, 10, 31)}}, [("policy_not_in_force", "policy")],
          id="policy ended"),
        P({"policy": {"effective_date": D(2026, 11, 3)}}, [("policy_not_in_force", "policy")],
          id="policy not started"),
        # client
        P({"patient": {"dob": None}}, [("patient_dob_missing", "client")], id="date of birth"),
        P({"patient": {"sex": ""}}, [("patient_sex_missing", "client")], id="sex"),
        P({"patient": {"city": ""}}, [("patient_address_missing", "client")], id="address"),
        P({"patient": {"last_name": ""}}, [("patient_name_missing", "client")], id="name"),
        # payer, billing, rendering
        P({"payer": {"payer_id": ""}}, [("payer_id_missing", "payer")], id="payer ID"),
        P({"payer": {"payer_id": ""}, "electronic": False}, [], id="paper needs no payer ID"),
        P({"billing": {"npi": "1234567890"}}, [("billing_npi_invalid", "practice_settings")],
          id="billing NPI check digit"),
        P({"billing": {"tax_id": "12-345"}}, [("tax_id_invalid", "practice_settings")],
          id="EIN"),
        P({"billing": {"tax_id": "123-45-6789", "tax_id_kind": "ssn"}}, [], id="SSN"),
        P({"billing": {"postal_code": "12207"}}, [("billing_zip_incomplete", "practice_settings")],
          id="837P needs ZIP+4"),
        P({"billing": {"postal_code": "12207"}, "electronic": False}, [], id="paper: 5 digits"),
        P({"billing": {"address1": ""}}, [("billing_address_missing", "practice_settings")],
          id="billing address"),
        P({"rendering": {"npi": "155859879"}}, [("rendering_npi_invalid", "provider")],
          id="rendering NPI"),
        # referral
        P({"payer": REQ_REF}, [("referral_missing", "referral")], id="referral required"),
        P({"payer": REQ_REF, "referral": REFERRAL}, [], id="referral in date with visits"),
        P({"payer": REQ_REF, "referral": replace(REFERRAL, end_date=D(2026, 11, 1))},
          [("referral_expired", "referral")], id="referral expired"),
        P({"payer": REQ_REF, "referral": replace(REFERRAL, visits_used=8)},
          [("referral_used_up", "referral")], id="referral used up"),
        P({"payer": REQ_REF, "referral": replace(REFERRAL, referral_date=D(2026, 11, 5))},
          [("referral_not_started", "referral")], id="referral dated after the visit"),
        P({"referral": replace(REFERRAL, npi="1234567890")},
          [("referring_npi_invalid", "referral")], id="referring NPI even when not required"),
        P({"referral": replace(REFERRAL, end_date=D(2026, 1, 1))}, [],
          id="an old referral matters only where one is required"),
        # authorization
        P({"payer": REQ_AUTH}, [("authorization_missing", "authorization")], id="auth required"),
        P({"payer": REQ_AUTH, "authorization": AUTH}, [], id="auth ok"),
        P({"payer": REQ_AUTH, "authorization": replace(AUTH, visits_used=6)},
          [("authorization_used_up", "authorization")], id="auth used up"),
        P({"payer": REQ_AUTH, "authorization": replace(AUTH, end_date=D(2026, 11, 1))},
          [("authorization_expired", "authorization")], id="auth expired"),
        P({"authorization": replace(AUTH, number="")},
          [("authorization_number_missing", "authorization")], id="auth number for box 23"),
        # accidents
        P({"policy": {"claim_type": "workers_comp", "claim_number": "WC-1"}},
          [("injury_date_missing", "policy")], id="work injury without date"),
        P({"policy": {"claim_type": "workers_comp", "injury_date": D(2026, 9, 1)}},
          [("claim_number_missing", "policy")], id="work injury without claim number"),
        P({"policy": {"claim_type": "auto", "claim_number": "A-9", "injury_date": D(2026, 9, 1)}},
          [("accident_state_missing", "policy")], id="auto without state"),
        P({"policy": {"claim_type": "auto", "claim_number": "A-9", "injury_date": D(2026, 9, 1),
                      "accident_state": "ny"}}, [], id="auto complete"),
        P({"policy": {"claim_type": "auto", "claim_number": "A-9", "injury_date": D(2026, 12, 1),
                      "accident_state": "NY"}}, [("injury_date_after_service", "policy")],
          id="accident after the visit"),
        P({"policy": {"claim_type": "dental"}}, [("claim_type_invalid", "policy")],
          id="claim type"),
        # diagnoses
        P({"diagnoses": ("M54.5", "M62.830")}, [("diagnosis_invalid", "claim")],
          id="M54.5 is a category, not billable"),
        P({"diagnoses": ("Q99.99", "M62.830")}, [("diagnosis_invalid", "claim")],
          id="not in the code set"),
        P({"diagnoses": ("M54.50", "M54.50")}, [("diagnosis_repeated", "claim")], id="twice"),
        P({"diagnoses": ()}, [("diagnosis_missing", "note"), ("pointer_out_of_range", "claim")],
          id="no diagnosis"),
        # lines, pointers, total
        P({"lines": (line(ptr=(1, 2, 1)),)}, [("pointer_repeated", "claim")], id="pointer twice"),
        P({"lines": (line(ptr=(3,)),)}, [("pointer_out_of_range", "claim")], id="pointer C of 2"),
        P({"lines": (line(ptr=()),)}, [("pointer_missing", "claim")], id="no pointer"),
        P({"lines": (line(mods=("5",)),)}, [("modifier_invalid", "claim")], id="modifier"),
        P({"lines": (line(pos="99"),)}, [("place_of_service_invalid", "claim")], id="POS 99"),
        P({"place_of_service": "10"}, [], id="telehealth at home"),
        P({"lines": (line(code="9712"),), "visits": ()}, [("cpt_invalid", "claim")],
          id="CPT shape"),
        P({"lines": (line(cents=0),), "total_cents": 0}, [("charge_invalid", "claim")],
          id="no charge"),
        P({"total_cents": 29999}, [("total_mismatch", "claim")], id="total is the sum"),
        P({"lines": ()}, [("lines_missing", "note"), ("units_disagree_with_note", "claim")],
          id="no lines"),
        # check-out minutes vs the signed note
        P({"visits": (VisitMinutes(DAY, {"97124": 45}, {"97124": 40}),)},
          [("minutes_disagree", "visit")], id="check-out differs from the note"),
        P({"visits": (VisitMinutes(DAY, {"97124": 45}, None),)}, [], id="no check-out minutes"),
        P({"visits": (VisitMinutes(DAY, None, {"97124": 45}),)}, [("note_not_signed", "note")],
          id="unsigned note"),
        P({"lines": (line(), line("97112", 1, 5000, ptr=(1,))), "total_cents": 35000},
          [("code_not_in_note", "claim")], id="a code the note does not record"),
        P({"visits": (VisitMinutes(DAY, {"97124": 60}, {"97124": 60}),)},
          [("units_disagree_with_note", "claim")], id="60 minutes are 4 units, not 3"),
        # 97124 + 97140
        P({"lines": (line(cents=20000, units=2, ptr=(1,)), line("97140", 1, 10000, ptr=(2,))),
           "visits": ()}, [("code_pair_refused", "claim")], id="pair refused by default"),
        P({"payer": {"allow_97124_97140": True},
           "lines": (line(cents=20000, units=2, ptr=(1,)),
                     line("97140", 1, 10000, mods=("59",), ptr=(2,))), "visits": ()}, [],
          id="pair allowed with 59 and separate pointers"),
        # corrected, void, secondary
        P({"frequency": "7"}, [("original_claim_number_missing", "claim")], id="corrected"),
        P({"frequency": "8", "original_claim_number": "PCN-77"}, [], id="void with number"),
        P({"frequency": "2"}, [("frequency_invalid", "claim")], id="frequency"),
        P({"policy": {"rank": "secondary"}}, [("primary_payment_missing", "claim")],
          id="secondary before the primary paid"),
        P({"policy": {"rank": "secondary"}, "primary_paid_cents": 0}, [],
          id="secondary after a primary denial"),
    ],
)  # fmt: skip
def test_claim_checks(validator, changes, expected):
    problems = validate_claim(claim(**changes), validator)
    assert [(p.code, p.where) for p in problems] == expected
    for p in problems:
        assert p.where in WHERE and p.message[-1] in ".)" and len(p.message) > 30


def test_messages_name_what_to_fix(validator):
    def message(code, **changes):
        return next(
            p.message for p in validate_claim(claim(**changes), validator) if p.code == code
        )

    assert "M54.50" in message("diagnosis_invalid", diagnoses=("M54.5", "M62.830"))
    assert message(
        "minutes_disagree", visits=(VisitMinutes(DAY, {"97124": 45}, {"97124": 40}),)
    ) == (
        "On Nov 2, 2026 check-out recorded 97124 40 min but the signed note says 97124 45 min. "
        "The note is the clinical record the claim rests on: correct the check-out minutes to "
        "the note's (if the note is wrong, the therapist adds an addendum first)."
    )
    expired = message("referral_expired", payer={"referral_required": True},
                      referral=replace(REFERRAL, end_date=D(2026, 11, 1)))  # fmt: skip
    assert expired.startswith("The referral from Ann Ortiz had expired by Nov 2, 2026")
    assert "$300.00" in message("total_mismatch", total_cents=1)
    assert "Blue Harbor Health" in message("payer_id_missing", payer={"payer_id": ""})


def test_each_visit_uses_one_authorized_visit(validator):
    """Two dates on one claim use two visits: with one left, the second date fails."""
    two_days = (line(ptr=(1,)), line(day=DAY2, ptr=(1,)))
    data = claim(
        payer={"authorization_required": True},
        authorization=replace(AUTH, visits_used=5),
        lines=two_days,
        total_cents=60000,
        visits=(),
    )
    problems = validate_claim(data, validator)
    assert [p.code for p in problems] == ["authorization_used_up"]
    assert "Nov 9, 2026" in problems[0].message


def test_at_most_twelve_diagnoses(validator):
    twelve = ("M54.50", "M62.830", "M54.2", "M54.6", "M79.10", "M25.511", "M25.512",
              "M54.16", "M62.838", "M79.18", "G44.209", "M53.1")  # fmt: skip
    lines = (line(ptr=(1, 2, 3, 4)),)
    assert validate_claim(claim(diagnoses=twelve, lines=lines, visits=()), validator) == []
    thirteen = (*twelve, "M54.59")
    problems = validate_claim(claim(diagnoses=thirteen, lines=lines, visits=()), validator)
    assert [(p.code, p.where) for p in problems] == [("too_many_diagnoses", "claim")]


# --- splitting -------------------------------------------------------------------------------


def _nine_line_claim():
    dx = ("M54.50", "M62.830", "M54.2", "M54.6", "M79.10")
    days = [D(2026, 11, d) for d in (2, 4, 6, 9, 11)]
    lines = []
    for n, day in enumerate(days):
        lines.append(line(units=2, cents=20000, ptr=(1, 2), day=day))
        if n < 4:  # 97140 on a separate region (its own pointers), with 59
            lines.append(line("97140", 1, 10000, mods=("59",), ptr=(3 + (n + 1) % 3,), day=day))
    total = sum(x.charge_cents for x in lines)
    return claim(diagnoses=dx, lines=tuple(lines), total_cents=total, visits=(),
                 payer={"allow_97124_97140": True})  # fmt: skip


def test_nine_lines_split_into_claims_of_six_keeping_dates_together(validator):
    whole = _nine_line_claim()
    assert len(whole.lines) == 9
    assert validate_claim(whole, validator) == []
    first, second = split_claim(whole)
    assert [len(first.lines), len(second.lines)] == [6, 3]
    assert {x.service_date.day for x in first.lines} == {2, 4, 6}
    assert {x.service_date.day for x in second.lines} == {9, 11}
    assert first.total_cents + second.total_cents == whole.total_cents
    assert first.total_cents == sum(x.charge_cents for x in first.lines)
    # diagnoses re-lettered per claim, pointers remapped to the same codes
    assert first.diagnoses == ("M54.50", "M62.830", "M54.2", "M54.6", "M79.10")
    assert second.diagnoses == ("M54.50", "M62.830", "M54.6")
    for piece in (first, second):
        assert validate_claim(piece, validator) == []
    old_dx = {(x.service_date, x.code): [whole.diagnoses[p - 1] for p in x.pointers]
              for x in whole.lines}  # fmt: skip
    for piece in (first, second):
        for x in piece.lines:
            assert [piece.diagnoses[p - 1] for p in x.pointers] == old_dx[(x.service_date, x.code)]
    assert second.lines[1].pointers == (3,)  # M54.6 was D on the visit, is C on its claim


def test_a_claim_that_fits_is_not_split():
    assert split_claim(CLAIM) == [CLAIM]


def test_one_date_with_more_than_six_lines_is_cut_and_its_minutes_left_to_the_visit():
    lines = tuple(line(f"9711{n}", 1, 5000, ptr=(1,)) for n in range(8))
    whole = claim(lines=lines, total_cents=40000)
    pieces = split_claim(whole)
    assert [len(p.lines) for p in pieces] == [6, 2]
    assert all(p.visits == () for p in pieces)
    assert [p.diagnoses for p in pieces] == [("M54.50",), ("M54.50",)]


def test_split_refuses_nonsense():
    with pytest.raises(ValueError):
        split_claim(CLAIM, max_lines=0)
