"""A claim as plain data: what rules.claims checks and splits (no I/O, no framework).

The service layer fills these from the models; every field has a plain default so a
test (or a caller) gives only what matters. Money is integer cents; dates are
datetime.date. See rules/claims.py for validate_claim and split_claim.
"""

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from portal.rules import coding

TAXONOMY_MASSAGE_THERAPIST = "225700000X"
RELATIONSHIPS = ("self", "spouse", "child", "other")  # the patient to the subscriber
CLAIM_TYPES = ("commercial", "workers_comp", "auto")
ACCIDENT_CLAIM_TYPES = ("workers_comp", "auto")
FREQUENCIES = {"1": "original", "7": "replacement (corrected)", "8": "void"}
SEXES = ("F", "M", "U")
US_STATES = frozenset(
    "AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV "
    "NH NJ NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY AS GU MP PR VI".split()
)

Icd10Validator = Callable[[str], Sequence]


@dataclass(frozen=True)
class PayerRules:
    """The payer's settings that decide what a claim needs."""

    name: str
    payer_id: str = ""  # electronic payer ID (837P 2010BB NM1*PR)
    kind: str = "commercial"  # commercial, medicare, medicaid, workers_comp, auto, other
    referral_required: bool = False  # or the verification said so: the caller ORs them
    authorization_required: bool = False
    unit_rule: str = coding.CMS8  # coding.CMS8 or coding.PER_CODE
    allow_97124_97140: bool = False  # only with modifier 59/XS and separate pointers


@dataclass(frozen=True)
class PersonInfo:
    """A patient or subscriber. `sex` is F, M or U."""

    first_name: str
    last_name: str
    dob: dt.date | None = None
    sex: str = ""
    address1: str = ""
    address2: str = ""
    city: str = ""
    state: str = ""
    postal_code: str = ""


@dataclass(frozen=True)
class PolicyInfo:
    """The policy billed. `relationship` is the patient's to the subscriber."""

    member_id: str
    relationship: str = "self"
    rank: str = "primary"  # primary or secondary
    group_number: str = ""
    effective_date: dt.date | None = None
    end_date: dt.date | None = None
    claim_type: str = "commercial"  # commercial, workers_comp, auto
    claim_number: str = ""  # workers' comp or auto claim number (box 11b, REF*Y4)
    injury_date: dt.date | None = None  # date of injury or accident (box 14, DTP*439)
    accident_state: str = ""  # auto: box 10b, CLM11-4
    employer_name: str = ""


@dataclass(frozen=True)
class ReferralInfo:
    """The referral the claim rests on. visits_used counts OTHER visits, not this claim's."""

    referring_first_name: str
    referring_last_name: str
    npi: str
    referral_date: dt.date
    end_date: dt.date | None = None
    visits_allowed: int | None = None
    visits_used: int = 0
    qualifier: str = "DN"  # box 17: DN referring, DK ordering, DQ supervising


@dataclass(frozen=True)
class AuthorizationInfo:
    """A prior authorization. visits_used counts OTHER visits, not this claim's."""

    number: str
    start_date: dt.date
    end_date: dt.date
    visits_allowed: int
    visits_used: int = 0


@dataclass(frozen=True)
class BillingInfo:
    """The billing provider (the practice, or a therapist billing alone): boxes 25, 33."""

    name: str
    npi: str
    tax_id: str
    tax_id_kind: str = "ein"  # ein or ssn
    address1: str = ""
    city: str = ""
    state: str = ""
    postal_code: str = ""  # an 837P wants all 9 digits of the ZIP code
    taxonomy: str = TAXONOMY_MASSAGE_THERAPIST


@dataclass(frozen=True)
class ProviderInfo:
    """The rendering provider (box 24J, 2310B)."""

    first_name: str
    last_name: str
    npi: str
    taxonomy: str = TAXONOMY_MASSAGE_THERAPIST


@dataclass(frozen=True)
class ClaimLine:
    """One service line. pointers are 1-based into ClaimData.diagnoses, primary first."""

    service_date: dt.date
    code: str
    units: int
    charge_cents: int  # the line's charge (all units)
    modifiers: tuple[str, ...] = ()
    pointers: tuple[int, ...] = (1,)
    place_of_service: str = ""  # empty: the claim's


@dataclass(frozen=True)
class VisitMinutes:
    """A visit's minutes per code: the signed note's (None: no signed note) and check-out's."""

    service_date: dt.date
    note_minutes: Mapping[str, int] | None
    checkout_minutes: Mapping[str, int] | None = None


@dataclass(frozen=True)
class ClaimData:
    """Everything a claim holds, as the checks and the split read it."""

    payer: PayerRules
    policy: PolicyInfo
    patient: PersonInfo
    billing: BillingInfo
    diagnoses: tuple[str, ...]  # ICD-10-CM, primary first (A, B, ...)
    lines: tuple[ClaimLine, ...]
    total_cents: int
    subscriber: PersonInfo | None = None  # None: the patient is the subscriber
    rendering: ProviderInfo | None = None
    referral: ReferralInfo | None = None
    authorization: AuthorizationInfo | None = None
    visits: tuple[VisitMinutes, ...] = ()
    place_of_service: str = "11"
    patient_account: str = ""  # CLM01 / box 26, one per stored claim
    frequency: str = "1"  # 1 original, 7 corrected, 8 void
    original_claim_number: str = ""  # the payer's number, for 7 and 8 (REF*F8, box 22)
    primary_paid_cents: int | None = None  # secondary claims: what the primary paid
    electronic: bool = True  # sent as an 837P (needs a payer ID and a 9-digit ZIP)
