"""coverage.visit_warnings / intake_flags: what the schedule shows before a visit."""

import datetime as dt
import json

from portal import clock
from portal.models import (
    AppointmentType,
    BenefitsVerification,
    InsurancePolicy,
    IntakeSubmission,
    Payer,
    PriorAuthorization,
    Referral,
)
from portal.models.scheduling import Appointment
from portal.services import coverage

D = dt.date(2026, 11, 3)


def _policy(w, **payer_kw):
    payer = Payer.create(practice=w.a.practice, name="Blue Shield", **payer_kw)
    return InsurancePolicy.create(
        practice=w.a.practice, client=w.a.c1, payer=payer, member_id="XYZ123"
    )


def _visit(w, when, status="completed", billed=True):
    t = AppointmentType.get_or_none(AppointmentType.name == f"Medical {billed}")
    t = t or AppointmentType.create(
        practice=w.a.practice, name=f"Medical {billed}", duration_minutes=60, bill_insurance=billed
    )
    start = dt.datetime.combine(when, dt.time(18, 0))
    return Appointment.create(
        practice=w.a.practice,
        client=w.a.c1,
        provider=w.a.provider,
        appointment_type=t,
        starts_at=start,
        ends_at=start + dt.timedelta(hours=1),
        blocked_until=start + dt.timedelta(hours=1),
        status=status,
    )


def test_self_pay_client_has_no_warnings(ctx, world):
    assert coverage.visit_warnings(world.a.c1, D) == []


def test_unverified_policy_warns(ctx, world):
    _policy(world)
    assert coverage.visit_warnings(world.a.c1, D) == [
        "Benefits not verified for Blue Shield: call Blue Shield and record what they say "
        "(Record a verification, on the client's insurance)."
    ]


def test_policy_not_in_effect(ctx, world):
    p = _policy(world)
    p.end_date = dt.date(2026, 1, 1)
    p.save()
    (w,) = coverage.visit_warnings(world.a.c1, D)
    assert w == (
        "No insurance policy is in effect on Nov 3, 2026: correct the policy's dates, or add "
        "the client's current policy (Add a policy, on the client's insurance)."
    )


def test_referral_required_missing_expired_used_up_and_ok(ctx, world):
    p = _policy(world, referral_required=True)
    BenefitsVerification.create(
        practice=world.a.practice, client=world.a.c1, policy=p, verified_on=D
    )
    assert coverage.visit_warnings(world.a.c1, D) == [
        "Blue Shield requires a referral; none is on file: ask the client's physician for "
        "one and add it (Add a referral, on the client's insurance), or bill the visit as "
        "self-pay."
    ]
    ref = Referral.create(
        practice=world.a.practice,
        client=world.a.c1,
        policy=p,
        referring_name="Dr Ada Lane",
        referring_npi="1234567893",
        referral_date=dt.date(2026, 9, 1),
        end_date=dt.date(2026, 10, 31),
        visits_allowed=3,
    )
    (w,) = coverage.visit_warnings(world.a.c1, D)
    assert w == (
        "The referral for Blue Shield expired Oct 31, 2026; Blue Shield requires a valid one: "
        "ask Dr Ada Lane for a new referral and add it (Add a referral, on the client's "
        "insurance), or bill the visit as self-pay."
    )
    ref.end_date = dt.date(2026, 12, 31)
    ref.save()
    assert coverage.visit_warnings(world.a.c1, D) == []
    _visit(world, dt.date(2026, 9, 10))
    _visit(world, dt.date(2026, 9, 17))
    _visit(world, dt.date(2026, 9, 20), billed=False)  # not billed: not counted
    _visit(world, dt.date(2026, 9, 24), status="booked")  # not completed: not counted
    assert coverage.visit_warnings(world.a.c1, D) == [
        "Last visit on the referral: 1 visit left of 3. Ask Dr Ada Lane for a new referral "
        "before the next visit."
    ]
    _visit(world, dt.date(2026, 10, 1))
    (w,) = coverage.visit_warnings(world.a.c1, D)
    assert w == (
        "The referral for Blue Shield is used up (3 of 3 visits); Blue Shield requires a valid "
        "one: ask Dr Ada Lane for a new referral and add it (Add a referral, on the client's "
        "insurance), or bill the visit as self-pay."
    )
    assert coverage.document_warnings(world.a.c1, D) == [
        "Referral from Dr Ada Lane: used up (3 of 3 visits)."
    ]


def test_authorization_required_by_verification(ctx, world):
    p = _policy(world)
    BenefitsVerification.create(
        practice=world.a.practice,
        client=world.a.c1,
        policy=p,
        verified_on=D,
        authorization_required=True,
    )
    assert coverage.visit_warnings(world.a.c1, D) == [
        "Blue Shield requires a prior authorization; none is on file: ask Blue Shield for "
        "one and add it (Add an authorization, on the client's insurance), or bill the visit "
        "as self-pay."
    ]
    PriorAuthorization.create(
        practice=world.a.practice,
        client=world.a.c1,
        policy=p,
        number="PA-77",
        visits_allowed=6,
        visits_used_before=2,
        start_date=dt.date(2026, 11, 1),
        end_date=dt.date(2026, 12, 31),
    )
    assert coverage.visit_warnings(world.a.c1, D) == []
    st = coverage.authorization_status(PriorAuthorization.get(), D)
    assert st == ("ok", 2, "4 of 6 visits left, until Dec 31, 2026")


def test_verification_summary(ctx, world):
    p = _policy(world)
    v = BenefitsVerification.create(
        practice=world.a.practice,
        client=world.a.c1,
        policy=p,
        verified_on=D,
        copay_cents=4000,
        visits_per_year=20,
        visits_used=8,
        referral_required=True,
    )
    with clock.told(dt.datetime(2026, 12, 2, 20, 0)):
        assert coverage.verification_summary(v) == (
            "Verified Nov 3: $40 copay, 12 of 20 visits left, referral needed"
        )
    with clock.told(dt.datetime(2027, 1, 4, 20, 0)):  # a new year: the year is said
        assert coverage.verification_summary(v) == (
            "Verified Nov 3, 2026: $40 copay, 12 of 20 visits left, referral needed"
        )


# --- a verification from an earlier plan year, and a year's visits used up ------------------


def _verified(w, p, on, per_year=None, used=None, month=1):
    return BenefitsVerification.create(
        practice=w.a.practice,
        client=w.a.c1,
        policy=p,
        verified_on=on,
        copay_cents=4000,
        visits_per_year=per_year,
        visits_used=used,
        plan_year_month=month,
    )


def test_a_verification_of_last_year_asks_for_a_new_one(ctx, world):
    p = _policy(world)
    _verified(world, p, D, per_year=20, used=8)
    assert coverage.visit_warnings(world.a.c1, dt.date(2026, 12, 30)) == []
    assert coverage.visit_warnings(world.a.c1, dt.date(2027, 1, 5)) == [
        "Benefits were last verified Nov 3, 2026, before this plan year: call Blue Shield to "
        "verify them again (the deductible and the visits a year usually start over), and "
        "record what they say (Record a verification, on the client's insurance)."
    ]


def test_a_plan_year_starting_in_july_asks_again_in_july_not_in_january(ctx, world):
    """A July plan year: the call of Nov 3 still holds in January (the deductible and the
    visits a year run to June 30, so the visits billed since still count against them), and
    a new verification is asked for from July 1, with the day the plan year began."""
    p = _policy(world)
    _verified(world, p, D, per_year=10, used=9, month=7)
    assert coverage.visit_warnings(world.a.c1, dt.date(2027, 1, 5)) == []
    _visit(world, dt.date(2027, 1, 5))  # the tenth visit of the plan year
    [full] = coverage.visit_warnings(world.a.c1, dt.date(2027, 6, 30))
    assert full.startswith("No visits left this year: Blue Shield allows 10 a year")
    assert coverage.visit_warnings(world.a.c1, dt.date(2027, 7, 1)) == [
        "Benefits were last verified Nov 3, 2026, before this plan year (it began Jul 1, "
        "2027): call Blue Shield to verify them again (the deductible and the visits a year "
        "usually start over), and record what they say (Record a verification, on the "
        "client's insurance)."
    ]


def test_the_last_of_a_years_visits_is_taken_then_none_are_left(ctx, world):
    p = _policy(world)
    _verified(world, p, D, per_year=10, used=8)
    _visit(world, D)  # the day of the call: not yet in the payer's count
    _visit(world, D + dt.timedelta(days=7), status="cancelled")  # not billed
    later = D + dt.timedelta(days=14)
    assert coverage.visit_warnings(world.a.c1, later) == []  # 1 left: this visit takes it
    _visit(world, later)
    _visit(world, later + dt.timedelta(days=7), status="booked")  # the visit checked in
    assert coverage.visit_warnings(world.a.c1, later + dt.timedelta(days=7)) == [
        "No visits left this year: Blue Shield allows 10 a year and all are used (verified "
        "Nov 3, 2026, visits billed since counted). Blue Shield will likely deny this visit: "
        "ask them whether more are allowed, or bill the visit as self-pay."
    ]


def test_intake_flags_from_latest_submission_per_form(ctx, world):
    def sub(title, flags, at):
        IntakeSubmission.create(
            practice=world.a.practice,
            client=world.a.c1,
            form_title=title,
            answers_json="[]",
            flags_json=json.dumps(flags),
            signature_name="x",
            signed_at=at,
            content_sha256="0",
        )

    sub("Health history", ["Blood clots"], dt.datetime(2026, 1, 1))
    sub("Health history", ["Pregnant"], dt.datetime(2026, 6, 1))
    sub("Consent", ["No deep pressure"], dt.datetime(2026, 2, 1))
    assert coverage.intake_flags(world.a.c1) == ["Pregnant", "No deep pressure"]
    assert coverage.intake_flags(world.a.c2) == []


def test_current_referral_and_authorization_for_claims(ctx, world):
    p = _policy(world)
    old = Referral.create(
        practice=world.a.practice,
        client=world.a.c1,
        policy=p,
        referring_name="Dr Old",
        referral_date=dt.date(2026, 1, 1),
        end_date=dt.date(2026, 6, 30),
    )
    new = Referral.create(
        practice=world.a.practice,
        client=world.a.c1,
        referring_name="Dr New",
        referral_date=dt.date(2026, 7, 1),
        visits_allowed=2,
    )
    assert coverage.current_referral(world.a.c1, dt.date(2026, 3, 1), p) == old
    assert coverage.current_referral(world.a.c1, D, p) == new
    new.visits_used_before = 2
    new.save()
    assert coverage.current_referral(world.a.c1, D, p) is None
    assert coverage.current_authorization(world.a.c1, D) is None
    auth = PriorAuthorization.create(
        practice=world.a.practice,
        client=world.a.c1,
        policy=p,
        number="PA-1",
        visits_allowed=1,
        start_date=dt.date(2026, 11, 1),
        end_date=dt.date(2026, 11, 30),
    )
    assert coverage.current_authorization(world.a.c1, D, p) == auth
    assert coverage.current_authorization(world.a.c2, D) is None


def test_each_warning_says_what_to_do_next(ctx, world):
    """Not covered, and an authorization used up: the desk is told the next step."""
    p = _policy(world)
    v = BenefitsVerification.create(
        practice=world.a.practice, client=world.a.c1, policy=p, verified_on=D, covered=False
    )
    assert coverage.visit_warnings(world.a.c1, D) == [
        "Blue Shield said massage is not covered (verified Nov 3, 2026): bill the visit as "
        "self-pay, or record a new verification if the plan changed."
    ]
    v.covered = True
    v.authorization_required = True
    v.save()
    PriorAuthorization.create(
        practice=world.a.practice,
        client=world.a.c1,
        policy=p,
        number="PA-77",
        visits_allowed=2,
        visits_used_before=2,
        start_date=dt.date(2026, 11, 1),
        end_date=dt.date(2026, 12, 31),
    )
    assert coverage.visit_warnings(world.a.c1, D) == [
        "The prior authorization for Blue Shield is used up (2 of 2 visits); Blue Shield "
        "requires a valid one: ask Blue Shield for a new authorization and add it (Add an "
        "authorization, on the client's insurance), or bill the visit as self-pay."
    ]
