"""A referral or an authorization belongs to one policy: when the client's policy is
replaced by a new one (another payer, or a new member ID), the visits billed to the new
policy do not use up the old policy's referral, nor the old policy's visits the new one's,
and the check-in warnings speak of the policy the visit is billed to. A visit is billed to
the policy of its claims; a visit with no claim yet to the policy its claim will go to (the
newest primary in effect on its day). The claim build counts the same way.

The client: Regence until Sep 30 (two visits billed to it in September), Moda from Oct 1
(a visit billed to it, and one checked out whose claim is not made yet). Each payer has a
referral of three visits from Sep 1; Moda's verification of Sep 5 allows four visits a
year."""

import datetime as dt

import pytest

from portal.models import BenefitsVerification, PriorAuthorization, Referral
from portal.services import coverage
from portal.services.claims import build
from tests.claims import factories as cf

D = dt.date(2026, 11, 3)
SEP1, DEC31 = dt.date(2026, 9, 1), dt.date(2026, 12, 31)


@pytest.fixture
def replaced(ctx, world):
    a = world.a
    a.practice = cf.billable_practice(a.practice)
    a.c1 = cf.billable_client(a.c1)
    regence = cf.payer(a.practice, name="Regence", referral_required=True)
    moda = cf.payer(a.practice, name="Moda", referral_required=True, allow_97124_97140=True)
    a.old = cf.policy(a.practice, a.c1, regence, end_date=dt.date(2026, 9, 30))
    a.new = cf.policy(a.practice, a.c1, moda, effective_date=dt.date(2026, 10, 1))

    def referral(policy, name):
        return Referral.create(practice=a.practice, client=a.c1, policy=policy,
                               referring_name=name, referring_npi="1790000008",
                               referral_date=SEP1, end_date=DEC31, visits_allowed=3)  # fmt: skip

    a.old_ref = referral(a.old, "Dr Ana Old")
    a.new_ref = referral(a.new, "Dr Ana New")
    BenefitsVerification.create(practice=a.practice, client=a.c1, policy=a.new,
                                verified_on=dt.date(2026, 9, 5), visits_per_year=4,
                                visits_used=0)  # fmt: skip
    for day in (dt.date(2026, 9, 10), dt.date(2026, 9, 17)):
        cf.claim(a.practice, a.c1, a.provider, policy_obj=a.old, day=day, status="paid")
    cf.claim(a.practice, a.c1, a.provider, policy_obj=a.new, day=dt.date(2026, 10, 8),
             status="submitted")  # fmt: skip
    cf.visit(a.practice, a.c1, a.provider, day=dt.date(2026, 10, 15))  # its claim not made yet
    return a


def test_each_referral_counts_the_visits_billed_to_its_own_policy(replaced):
    a = replaced
    assert coverage.referral_status(a.old_ref, D) == ("last", 2, "1 visit left of 3")
    assert coverage.referral_status(a.new_ref, D) == ("last", 2, "1 visit left of 3")
    ins = coverage.ClientInsurance(a.c1)  # the client page's way: read once, the same
    assert coverage.referral_status(a.new_ref, D, ins)[:2] == ("last", 2)
    assert coverage.referral_status(a.old_ref, D, ins)[:2] == ("last", 2)
    assert coverage.current_referral(a.c1, D, a.new) == a.new_ref


def test_check_in_speaks_of_the_policy_the_visit_is_billed_to(replaced):
    """Moda's referral has a visit left and Moda's four visits a year two: not "used up",
    not "no visits left" (Regence's September visits are not Moda's)."""
    assert coverage.visit_warnings(replaced.c1, D) == [
        "Last visit on the referral: 1 visit left of 3. Ask Dr Ana New for a new referral "
        "before the next visit."
    ]


def test_an_authorization_counts_its_own_policys_visits(replaced):
    a = replaced
    auth = PriorAuthorization.create(practice=a.practice, client=a.c1, policy=a.old,
                                     number="PA-9", visits_allowed=3, start_date=SEP1,
                                     end_date=DEC31)  # fmt: skip
    assert coverage.authorization_status(auth, D) == ("last", 2, "1 visit left of 3")
    anyone = PriorAuthorization.create(practice=a.practice, client=a.c1, number="PA-10",
                                       visits_allowed=6, start_date=SEP1,
                                       end_date=DEC31)  # fmt: skip
    # one given for no policy in particular counts every insurance visit, as before
    assert coverage.authorization_status(anyone, D)[:2] == ("ok", 4)


def test_a_visit_whose_claim_went_to_the_old_policy_counts_there(replaced):
    """A visit on Moda's dates whose claim was billed to Regence (the desk's choice) uses
    Regence's referral, not Moda's: the claim says where it went."""
    a = replaced
    cf.claim(a.practice, a.c1, a.provider, policy_obj=a.old, day=dt.date(2026, 10, 20),
             status="submitted")  # fmt: skip
    assert coverage.referral_status(a.old_ref, D)[:2] == ("used_up", 3)
    assert coverage.referral_status(a.new_ref, D)[:2] == ("last", 2)


def test_the_claim_build_counts_the_new_policys_visits_only(replaced):
    """The Nov 3 visit's claim goes to Moda with Moda's referral, not held as used up by
    Regence's September visits."""
    a = replaced
    appt = cf.visit(a.practice, a.c1, a.provider, day=D)
    minutes = {"97124": 45, "97140": 15}
    cf.checkout_minutes(appt, minutes)
    cf.sign_note(a.therapist, appt, minutes, ("M54.50", "M62.830"))
    (claim,) = build.create_for_visit(appt)
    assert claim.policy_id == a.new.id and claim.referral_id == a.new_ref.id
    problems = {p.code for p in claim.problems}
    assert not problems & {"referral_used_up", "referral_missing"}, problems
    assert claim.status == "ready"
