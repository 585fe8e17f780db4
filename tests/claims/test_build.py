"""Claims built from visits through the services, on the real database file: what a
claim takes from the signed note, the policy, the payer and the practice; what holds it;
once per visit, even when two writers race."""

import datetime as dt
import threading

import pytest

from portal.db import database
from portal.models import (
    Appointment,
    AuditLog,
    BenefitsVerification,
    ChartNote,
    Claim,
    ClaimDiagnosis,
    ClaimEvent,
    ClaimLine,
    ClaimProblem,
    InsurancePolicy,
    PayerFee,
    PriorAuthorization,
    Referral,
)
from portal.rules import claim_status as cs
from portal.services import charting, scheduling
from portal.services.claims import build, life
from tests.claims import factories as cf


def _lines(claim):
    return [
        (x.position, x.cpt_code, x.minutes, x.units, x.modifiers, x.pointers, x.charge_cents)
        for x in ClaimLine.select().where(ClaimLine.claim == claim.id).order_by(ClaimLine.position)
    ]


def _dx(claim):
    return [
        d.code
        for d in ClaimDiagnosis.select()
        .where(ClaimDiagnosis.claim == claim.id)
        .order_by(ClaimDiagnosis.position)
    ]


def _problems(claim):
    return {p.code: p for p in ClaimProblem.select().where(ClaimProblem.claim == claim.id)}


def test_a_clean_visit_becomes_a_ready_claim(ctx, world):
    a = world.a
    appt, policy = cf.insured_visit(a)
    [claim] = build.create_for_visit(appt)
    assert claim.status == cs.READY and not claim.held
    assert claim.policy_id == policy.id and claim.payer_id == policy.payer_id
    assert claim.provider_id == a.provider.id and claim.rank == "primary" and claim.part == 1
    assert claim.service_date == dt.date(2026, 11, 2)
    assert claim.patient_control_number == f"V{appt.id}P1"
    assert claim.frequency_code == "1" and claim.place_of_service == "11"
    # 45 + 15 minutes: 4 units by the 8-minute rule, 3 + 1; the fee schedule's $30 and $35;
    # the payer takes the pair with 59 on 97140 and the two lines on separate diagnoses.
    assert _lines(claim) == [
        (1, "97124", 45, 3, "", "A", 9000),
        (2, "97140", 15, 1, "59", "B", 3500),
    ]
    assert _dx(claim) == ["M54.50", "M62.830"]
    assert claim.total_cents == 12500
    events = list(ClaimEvent.select().where(ClaimEvent.claim == claim.id).order_by(ClaimEvent.id))
    assert [(e.action, e.from_status, e.to_status) for e in events] == [
        ("created", "", "draft"),
        ("status", "draft", "ready"),
    ]
    assert (
        AuditLog.select()
        .where((AuditLog.action == "claim.create") & (AuditLog.object_id == claim.id))
        .exists()
    )


def test_the_note_decides_the_claim_not_what_the_appointment_type_says(ctx, world):
    # the visit was booked as 60 minutes; the note records 33 + 7 minutes
    appt, _ = cf.insured_visit(world.a, minutes={"97124": 33, "97140": 7}, diagnoses=["M54.2"])
    [claim] = build.create_for_visit(appt)
    # 40 timed minutes: 3 units, 97124 its 2 full units, 97140 the unit left (CMS's example)
    assert [(c, m, u) for _, c, m, u, *_ in _lines(claim)] == [
        ("97124", 33, 2),
        ("97140", 7, 1),
    ]
    assert _dx(claim) == ["M54.2"]


def test_per_code_payer_and_the_practice_price_where_no_fee_schedule(ctx, world):
    appt, policy = cf.insured_visit(
        world.a, minutes={"97124": 38, "97140": 7}, payer_kw={"unit_rule": "per_code"}, sign=False
    )
    PayerFee.delete().where(PayerFee.payer == policy.payer_id).execute()
    cf.sign_draft(world.a.therapist, appt)
    [claim] = build.create_for_visit(appt)
    # per code: 97140's 7 minutes earn no unit; the type's $120 over the 3 units
    assert [(c, u, ch) for _, c, _, u, _, _, ch in _lines(claim)] == [("97124", 3, 12000)]


def test_visits_that_cannot_be_billed_say_why(ctx, world):
    a = world.a
    appt, _ = cf.insured_visit(a, sign=False)
    with pytest.raises(build.NotBillable, match="not signed"):
        build.create_for_visit(appt)
    for n, status in enumerate(("cancelled", "no_show", "booked")):
        other, _ = cf.insured_visit(
            a, client=a.c2, status=status, sign=None, checkout=False, day=dt.date(2026, 11, 5 + n)
        )
        with pytest.raises(build.NotBillable, match="not completed"):
            build.create_for_visit(other)
    cash = cf.visit(a.practice, a.c1, a.provider, day=dt.date(2026, 11, 3))
    cash.appointment_type.bill_insurance = False
    cash.appointment_type.save()
    with pytest.raises(build.NotBillable, match="not billed to insurance"):
        build.create_for_visit(cash)
    assert Claim.select().count() == 0


def test_no_active_policy_no_claim(ctx, world):
    appt, policy = cf.insured_visit(world.a, policy_kw={"end_date": dt.date(2026, 10, 31)})
    with pytest.raises(build.NotBillable, match="no active primary insurance"):
        build.create_for_visit(appt)


def test_once_per_visit(ctx, world):
    appt, _ = cf.insured_visit(world.a)
    first = build.create_for_visit(appt)
    again = build.create_for_visit(appt)
    assert [c.id for c in first] == [c.id for c in again]
    assert Claim.select().count() == 1


def test_a_stale_read_loses_to_the_unique_index_and_gets_the_winners_claim(ctx, world, monkeypatch):
    appt, _ = cf.insured_visit(world.a)
    [winner] = build.create_for_visit(appt)
    real = build.visit_claims
    calls = []

    def stale(appointment_id, rank="primary"):
        calls.append(1)
        return [] if len(calls) <= 2 else real(appointment_id, rank)

    monkeypatch.setattr(build, "visit_claims", stale)
    got = build.create_for_visit(appt)  # both checks miss it: the index refuses the insert
    assert [c.id for c in got] == [winner.id]
    assert Claim.select().count() == 1


def test_racing_writers_make_one_claim(app, world):
    with app.test_request_context():
        appt, _ = cf.insured_visit(world.a)
    barrier = threading.Barrier(4)
    results, errors = [None] * 4, []

    def run(i):
        try:
            with app.app_context(), database.connection_context():
                barrier.wait()
                results[i] = [c.id for c in build.create_for_visit(appt)]
        except Exception as exc:  # noqa: BLE001 - the test reports any failure
            errors.append(repr(exc))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    assert len({tuple(r) for r in results}) == 1
    assert Claim.select().count() == 1


def test_check_out_minutes_that_differ_from_the_note_hold_the_claim(ctx, world):
    appt, _ = cf.insured_visit(world.a, checkout={"97124": 60})
    [claim] = build.create_for_visit(appt)
    assert claim.status == cs.DRAFT and claim.held
    problem = _problems(claim)["minutes_disagree"]
    assert problem.fix_where == "visit"
    assert "check-out recorded 97124 60 min" in problem.message
    assert "the signed note says 97124 45 min, 97140 15 min" in problem.message
    assert "correct the check-out minutes to the note's" in problem.message
    # the desk takes the note's minutes: the claim is checked again and goes ready
    claim = life.use_note_minutes(claim, user=world.a.frontdesk)
    assert claim.status == cs.READY and not claim.held
    assert not _problems(claim)


def test_a_payer_that_refuses_the_pair_holds_the_claim(ctx, world):
    appt, _ = cf.insured_visit(world.a, payer_kw={"allow_97124_97140": False})
    [claim] = build.create_for_visit(appt)
    assert claim.held and "code_pair_refused" in _problems(claim)
    assert [m for *_, m, _p, _c in _lines(claim)] == ["", ""]


def test_one_diagnosis_for_the_pair_holds_until_the_regions_are_separated(ctx, world):
    appt, _ = cf.insured_visit(world.a, diagnoses=["M54.50"])
    [claim] = build.create_for_visit(appt)
    assert "code_pair_same_region" in _problems(claim)
    claim = life.set_diagnoses(claim, "M54.50, M54.2", user=world.a.frontdesk)
    line = ClaimLine.get((ClaimLine.claim == claim.id) & (ClaimLine.cpt_code == "97140"))
    claim = life.edit_line(
        claim, line.id, units=1, modifiers="59", pointers="B", charge_cents=3500,
        user=world.a.frontdesk,
    )  # fmt: skip
    assert claim.status == cs.DRAFT and not claim.held
    claim = life.recheck(claim, user=world.a.frontdesk)
    assert claim.status == cs.READY


def test_referral_required_missing_then_added(ctx, world):
    a = world.a
    appt, policy = cf.insured_visit(a, payer_kw={"referral_required": True})
    [claim] = build.create_for_visit(appt)
    p = _problems(claim)["referral_missing"]
    assert p.fix_where == "referral" and "requires a physician's referral" in p.message
    ref = Referral.create(
        practice=a.practice,
        client=appt.client_id,
        policy=policy,
        referring_name="Dr. Ana Whitfield, MD",
        referring_npi="1790000008",
        referral_date=dt.date(2026, 10, 1),
        visits_allowed=1,
    )
    claim = life.recheck(claim, user=a.frontdesk)
    assert claim.status == cs.READY and claim.referral_id == ref.id
    # the visit itself is not counted against the referral's one visit


def test_a_used_up_referral_is_named_not_missing(ctx, world):
    a = world.a
    appt, policy = cf.insured_visit(a, payer_kw={"referral_required": True}, sign=False)
    Referral.create(
        practice=a.practice,
        client=appt.client_id,
        policy=policy,
        referring_name="Ana Whitfield",
        referring_npi="1790000008",
        referral_date=dt.date(2026, 10, 1),
        visits_allowed=2,
        visits_used_before=2,
    )
    cf.sign_draft(a.therapist, appt)
    [claim] = build.create_for_visit(appt)
    assert "referral_used_up" in _problems(claim)


def test_verification_can_require_an_authorization_and_its_number_goes_on_the_claim(ctx, world):
    a = world.a
    appt, policy = cf.insured_visit(a, sign=False)
    BenefitsVerification.create(
        practice=a.practice,
        client=appt.client_id,
        policy=policy,
        verified_on=dt.date(2026, 10, 1),
        authorization_required=True,
    )
    old = PriorAuthorization.create(
        practice=a.practice,
        client=appt.client_id,
        policy=policy,
        number="PA-OLD",
        visits_allowed=4,
        start_date=dt.date(2026, 1, 1),
        end_date=dt.date(2026, 6, 30),
    )
    current = PriorAuthorization.create(
        practice=a.practice,
        client=appt.client_id,
        policy=policy,
        number="PA-30991",
        visits_allowed=8,
        start_date=dt.date(2026, 10, 1),
        end_date=dt.date(2026, 12, 31),
    )
    cf.sign_draft(a.therapist, appt)
    [claim] = build.create_for_visit(appt)
    assert claim.authorization_id == current.id != old.id
    assert claim.status == cs.READY


def test_workers_comp_and_auto_claims_carry_the_accident(ctx, world):
    a = world.a
    wc, _ = cf.insured_visit(
        a,
        policy_kw=dict(
            claim_type="workers_comp",
            employer_name="Willamette Print Works",
            claim_number="7741209",
            injury_date=dt.date(2026, 9, 14),
        ),
    )
    [claim] = build.create_for_visit(wc)
    assert (claim.claim_type, claim.injury_date, claim.accident_claim_number) == (
        "workers_comp",
        dt.date(2026, 9, 14),
        "7741209",
    )
    assert claim.status == cs.READY
    auto, _ = cf.insured_visit(
        a,
        client=a.c2,
        day=dt.date(2026, 11, 3),
        policy_kw=dict(claim_type="auto", claim_number="37-8Q21", injury_date=dt.date(2026, 10, 1)),
    )
    [claim] = build.create_for_visit(auto)
    assert claim.claim_type == "auto" and claim.held
    assert _problems(claim)["accident_state_missing"].fix_where == "policy"


def test_dependent_patient_needs_the_subscriber(ctx, world):
    appt, policy = cf.insured_visit(world.a, policy_kw=dict(relationship="child"))
    [claim] = build.create_for_visit(appt)
    assert "subscriber_missing" in _problems(claim)
    policy.subscriber_first_name, policy.subscriber_last_name = "Casey", "Avery"
    policy.save()
    assert life.recheck(claim).status == cs.READY


def test_a_visit_of_seven_codes_is_split_into_two_claims(ctx, world):
    a = world.a
    extra = ["97112", "97530", "97110", "97535", "97150"]
    for code in extra:
        charting.add_cpt_code(a.owner, code, "Therapy " + code)
    minutes = {"97124": 20, "97140": 19, **{c: 15 - i for i, c in enumerate(extra)}}
    appt, _ = cf.insured_visit(
        a, minutes=minutes, diagnoses=["M54.50", "M62.830", "M54.2", "M54.6", "M79.18"]
    )
    claims = build.create_for_visit(appt)
    assert [(c.part, len(_lines(c))) for c in claims] == [(1, 6), (2, 1)]
    assert [c.patient_control_number for c in claims] == [f"V{appt.id}P1", f"V{appt.id}P2"]
    for c in claims:
        assert c.total_cents == sum(row[-1] for row in _lines(c))
        assert len(_dx(c)) <= 12


def test_a_voided_claim_lets_the_visit_be_billed_again(ctx, world):
    appt, _ = cf.insured_visit(world.a)
    [claim] = build.create_for_visit(appt)
    life.void(claim, "Billed the wrong payer.", user=world.a.frontdesk)
    [again] = build.create_for_visit(appt)
    assert again.id != claim.id
    assert again.patient_control_number == f"V{appt.id}P1R2"
    assert Claim.get_by_id(claim.id).status == cs.VOID


def test_create_due_bills_what_check_out_and_signing_could_not(ctx, world):
    a = world.a
    # signed and checked out while the client had no policy on file: no claim then
    late_policy, pol = cf.insured_visit(a, day=dt.date(2026, 11, 2), policy_kw={"active": False})
    unsigned, _ = cf.insured_visit(a, day=dt.date(2026, 11, 3), sign=False)
    cancelled, _ = cf.insured_visit(a, day=dt.date(2026, 11, 4), status="cancelled", sign=None)
    no_policy, nopol = cf.insured_visit(
        a, client=a.c2, day=dt.date(2026, 11, 5), policy_kw={"active": False}
    )
    other_practice, _ = cf.insured_visit(
        world.b, day=dt.date(2026, 11, 2), policy_kw={"active": False}
    )
    assert Claim.select().count() == 0
    InsurancePolicy.update(active=True).where(InsurancePolicy.id == pol.id).execute()
    result = build.create_due(practice_id=a.practice.id)
    assert [c.appointment_id for c in result.created] == [late_policy.id]
    assert result.skipped == [
        (no_policy.id, "The client has no active primary insurance policy for the visit.")
    ]
    assert build.create_due(practice_id=a.practice.id).created == []  # never twice
    assert (
        not Claim.select()
        .where(Claim.appointment.in_([unsigned.id, cancelled.id, other_practice.id]))
        .exists()
    )
    assert Appointment.get_by_id(cancelled.id).status == "cancelled"


def test_signing_the_note_of_a_checked_out_visit_makes_its_claim(ctx, world):
    a = world.a
    appt, _ = cf.insured_visit(a, sign=False)
    assert not Claim.select().exists()
    draft = ChartNote.get(ChartNote.appointment == appt.id)
    charting.sign_note(a.therapist, draft)
    [claim] = build.visit_claims(appt.id)
    assert claim.status == cs.READY and claim.created_by_id == a.therapist.id


def test_check_out_of_a_signed_visit_makes_its_claim(ctx, world):
    a = world.a
    appt, _ = cf.insured_visit(a, status="checked_in", checkout=False)
    assert not Claim.select().exists()  # signed before check-out: nothing to bill yet
    scheduling.check_out(appt, {"97124": 45, "97140": 15}, user=a.frontdesk)
    [claim] = build.visit_claims(appt.id)
    assert claim.status == cs.READY  # (by whom: the desk's request; see the route tests)


def test_check_out_of_a_cash_visit_makes_no_claim(ctx, world):
    a = world.a
    appt = cf.visit(a.practice, a.c1, a.provider, status="checked_in")
    appt.appointment_type.bill_insurance = False
    appt.appointment_type.save()
    scheduling.check_out(appt, {"97124": 60}, user=a.frontdesk)
    assert not Claim.select().exists()
