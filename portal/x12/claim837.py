"""What an 837P (005010X222A1) is written from: plain frozen dataclasses, cents and dates.

    batch = Batch(submitter, receiver, billing_provider, claims=(Claim(...), ...),
                  interchange_control_number=1, group_control_number=1,
                  created=datetime(2026, 12, 1, 9, 30))
    text = write837.write_837p(batch)

The caller (services) makes the control numbers unique and stores them; a claim's
patient_control_number (CLM01) must be unique too: the 277CA and the 835 answer by it.
Names and addresses are written upper-case ASCII; ICD-10-CM codes may carry their dot.
"""

import datetime as dt
from dataclasses import dataclass

TAXONOMY_MASSAGE_THERAPIST = "225700000X"

# SBR09 / claim filing indicator for our payer kinds and claim types.
FILING_INDICATORS = {
    "workers_comp": "WC",
    "auto": "AM",
    "medicare": "MB",
    "medicaid": "MC",
    "commercial": "CI",
    "other": "11",
}
# PAT01 (2000C) and SBR02 (2320): the patient's relationship to the subscriber.
RELATIONSHIP_CODES = {"self": "18", "spouse": "01", "child": "19", "other": "G8"}
ACCIDENT_CAUSES = ("AA", "EM", "OA")  # auto, employment, other accident (CLM11)


def filing_indicator(payer_kind: str, claim_type: str = "commercial") -> str:
    """The SBR09 code: the claim type first (workers' comp WC, auto AM), then the payer's
    kind (Medicare Part B MB, Medicaid MC, commercial CI, other 11)."""
    if claim_type in ("workers_comp", "auto"):
        return FILING_INDICATORS[claim_type]
    return FILING_INDICATORS.get(payer_kind, "CI")


@dataclass(frozen=True)
class Address:
    line1: str
    city: str
    state: str  # two letters
    postal_code: str  # 5 or 9 digits (the billing provider's must be 9)
    line2: str = ""


@dataclass(frozen=True)
class Person:
    """A subscriber or patient. sex: F, M or U."""

    last_name: str
    first_name: str
    middle_name: str = ""
    suffix: str = ""
    dob: dt.date | None = None
    sex: str = "U"
    address: Address | None = None


@dataclass(frozen=True)
class Submitter:
    """Loop 1000A: who sends the file (the practice, with the clearinghouse's ID for it)."""

    name: str
    id: str  # the submitter ID the clearinghouse gave the practice
    contact_name: str
    phone: str = ""  # digits; phone or email is needed
    email: str = ""


@dataclass(frozen=True)
class Receiver:
    """Loop 1000B: the clearinghouse (or payer) receiving the file."""

    name: str
    id: str


@dataclass(frozen=True)
class BillingProvider:
    """Loop 2000A/2010AA. An organization unless first_name is given (a therapist alone)."""

    name: str  # organization name, or the last name of an individual
    npi: str
    tax_id: str  # EIN (REF*EI) or SSN (REF*SY), dashes allowed
    address: Address
    tax_id_kind: str = "ein"  # ein or ssn
    first_name: str = ""
    taxonomy: str = TAXONOMY_MASSAGE_THERAPIST


@dataclass(frozen=True)
class Provider:
    """A referring (2310A) or rendering (2310B) provider: a person with an NPI."""

    last_name: str
    first_name: str
    npi: str
    taxonomy: str = ""  # rendering: PRV*PE when given
    qualifier: str = "DN"  # referring: DN referring, DK ordering, DQ supervising


@dataclass(frozen=True)
class Payer:
    name: str
    payer_id: str
    address: Address | None = None


@dataclass(frozen=True)
class Subscriber:
    """Loop 2000B/2010BA: the insured, with the policy."""

    person: Person
    member_id: str
    group_number: str = ""
    group_name: str = ""
    responsibility: str = "P"  # SBR01: P primary, S secondary, T tertiary
    filing_indicator: str = "CI"  # SBR09, see filing_indicator()
    property_casualty_claim_number: str = ""  # auto / workers' comp claim number (REF*Y4)


@dataclass(frozen=True)
class Accident:
    """CLM11: AA auto (state required), EM employment, OA other accident."""

    cause: str
    date: dt.date | None = None  # DTP*439 for AA and OA; DTP*431 for EM when no onset date
    state: str = ""


@dataclass(frozen=True)
class Adjustment:
    """A CAS adjustment reported by a prior payer: group CO/PR/OA/PI, reason (CARC), cents."""

    group: str
    reason: str
    cents: int


@dataclass(frozen=True)
class LineAdjudication:
    """Loop 2430: what the prior payer did with one of this claim's lines (1-based)."""

    line_number: int
    paid_cents: int
    paid_date: dt.date
    adjustments: tuple[Adjustment, ...] = ()


@dataclass(frozen=True)
class OtherPayer:
    """Loops 2320/2330A/2330B: the primary payer on a secondary claim, with its payment."""

    payer: Payer
    subscriber: Person
    member_id: str
    paid_cents: int  # AMT*D
    paid_date: dt.date  # DTP*573 (when no line adjudications are given)
    relationship: str = "self"  # the patient's relationship to that subscriber
    responsibility: str = "P"
    filing_indicator: str = "CI"
    group_number: str = ""
    adjustments: tuple[Adjustment, ...] = ()  # claim-level CAS
    lines: tuple[LineAdjudication, ...] = ()


@dataclass(frozen=True)
class ServiceLine:
    """Loop 2400. pointers are 1-based into the claim's diagnoses, primary first."""

    code: str
    charge_cents: int
    units: int
    pointers: tuple[int, ...]
    service_date: dt.date
    modifiers: tuple[str, ...] = ()
    place_of_service: str = ""  # only when it differs from the claim's
    control_number: str = ""  # REF*6R, returned in the 835's SVC loop


@dataclass(frozen=True)
class Claim:
    """Loop 2300 and what hangs from it. patient None: the subscriber is the patient."""

    patient_control_number: str  # CLM01, at most 20 characters, unique
    subscriber: Subscriber
    payer: Payer
    diagnoses: tuple[str, ...]  # ICD-10-CM, primary first, at most 12
    lines: tuple[ServiceLine, ...]
    place_of_service: str = "11"
    patient: Person | None = None
    relationship: str = "self"  # the patient's relationship to the subscriber
    frequency: str = "1"  # 1 original, 7 corrected, 8 void
    original_claim_number: str = ""  # REF*F8 with 7 and 8
    onset_date: dt.date | None = None  # DTP*431: current illness or injury (box 14)
    accident: Accident | None = None
    prior_authorization: str = ""  # REF*G1 (box 23)
    referral_number: str = ""  # REF*9F, when the payer numbers referrals
    referring: Provider | None = None
    rendering: Provider | None = None  # written only when its NPI is not the billing one
    other_payers: tuple[OtherPayer, ...] = ()
    provider_signature: bool = True  # CLM06
    assignment: str = "A"  # CLM07: A assigned, B lab services only, C not assigned
    benefits_assigned: str = "Y"  # CLM08
    release_of_information: str = "Y"  # CLM09: Y or I (informed consent)

    @property
    def total_cents(self) -> int:
        return sum(line.charge_cents for line in self.lines)


@dataclass(frozen=True)
class Batch:
    """One 837P file: one interchange, one group, one transaction set, many claims."""

    submitter: Submitter
    receiver: Receiver
    billing_provider: BillingProvider
    claims: tuple[Claim, ...]
    interchange_control_number: int  # ISA13, 1 to 999999999
    group_control_number: int  # GS06
    created: dt.datetime
    transaction_control_number: int = 1  # ST02 (written with at least 4 digits)
    usage: str = "P"  # ISA15: P production, T test
    sender_qualifier: str = "ZZ"  # ISA05
    receiver_qualifier: str = "ZZ"  # ISA07
    ack_requested: str = "0"  # ISA14 (a TA1)
    reference: str = ""  # BHT03, the batch's own reference; default: the group number
    # The envelope's ids when the clearinghouse gave others than the 1000A/1000B ones
    # (empty: the submitter's id, the receiver's id).
    interchange_sender: str = ""  # ISA06
    interchange_receiver: str = ""  # ISA08
    application_sender: str = ""  # GS02
    application_receiver: str = ""  # GS03
