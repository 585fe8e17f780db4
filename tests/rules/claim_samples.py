"""A clean claim to change one thing at a time in the claim rule tables."""

import datetime as dt
from dataclasses import replace

from portal.rules.claims import (
    AuthorizationInfo,
    BillingInfo,
    ClaimData,
    ClaimLine,
    PayerRules,
    PersonInfo,
    PolicyInfo,
    ProviderInfo,
    ReferralInfo,
    VisitMinutes,
)

DAY = dt.date(2026, 11, 2)
PAYER = PayerRules(name="Blue Harbor Health", payer_id="BHH01")
PATIENT = PersonInfo(
    first_name="Dana",
    last_name="Reyes",
    dob=dt.date(1985, 4, 12),
    sex="F",
    address1="12 Elm St",
    city="Albany",
    state="NY",
    postal_code="12207",
)
POLICY = PolicyInfo(member_id="XJH123456789", group_number="G-100")
BILLING = BillingInfo(
    name="Calm Hands Massage",
    npi="1234567893",
    tax_id="12-3456789",
    address1="1 Main St",
    city="Albany",
    state="NY",
    postal_code="12207-1234",
)
RENDERING = ProviderInfo(first_name="Sam", last_name="Lee", npi="1558598797")
REFERRAL = ReferralInfo(
    referring_first_name="Ann",
    referring_last_name="Ortiz",
    npi="1234567893",
    referral_date=dt.date(2026, 10, 1),
    end_date=dt.date(2026, 12, 31),
    visits_allowed=8,
    visits_used=3,
)
AUTH = AuthorizationInfo(
    number="PA-7788",
    start_date=dt.date(2026, 10, 15),
    end_date=dt.date(2026, 12, 15),
    visits_allowed=6,
    visits_used=2,
)
LINES = (ClaimLine(DAY, "97124", 3, 30000, pointers=(1, 2)),)
CLAIM = ClaimData(
    payer=PAYER,
    policy=POLICY,
    patient=PATIENT,
    billing=BILLING,
    rendering=RENDERING,
    diagnoses=("M54.50", "M62.830"),
    lines=LINES,
    total_cents=30000,
    visits=(VisitMinutes(DAY, {"97124": 45}, {"97124": 45}),),
    patient_account="C100",
)


def claim(**changes) -> ClaimData:
    """The clean claim with some fields replaced; `payer=dict(...)` etc. change sub-fields."""
    for name in ("payer", "policy", "patient", "billing", "rendering"):
        if isinstance(changes.get(name), dict):
            changes[name] = replace(getattr(CLAIM, name), **changes[name])
    return replace(CLAIM, **changes)
