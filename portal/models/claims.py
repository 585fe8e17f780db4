"""Insurance claims (migration 0014): claims, their diagnoses and lines, history, holds,
837P batches, remittances (835), postings, adjustments and write-offs.

The rules that move these rows live in portal/rules/claim_status.py (the claim's life),
rules/claims.py (validation, splitting) and rules/claim_money.py (estimates, posting,
aging); the services in portal/services/claims* write them, each change in one
transaction with its ClaimEvent and audit row.
"""

from peewee import (
    BooleanField,
    CharField,
    DateField,
    DateTimeField,
    FloatField,
    ForeignKeyField,
    IntegerField,
    TextField,
)

from portal.models.base import BaseModel, created_field
from portal.models.billing import Invoice, StoredDocument
from portal.models.insurance import InsurancePolicy, Payer, PriorAuthorization, Referral
from portal.models.people import Client, User
from portal.models.practice import Practice, Provider
from portal.models.scheduling import Appointment
from portal.rules import claim_status
from portal.rules.coding import parse_modifiers, parse_pointers, pointer_letters


class ClaimSettings(BaseModel):
    """The practice's claim settings (one row; created with defaults when first read)."""

    practice = ForeignKeyField(Practice, unique=True, on_delete="CASCADE")
    bill_as = CharField(default="practice")  # practice (its NPI and EIN) or provider
    default_place_of_service = CharField(default="11")
    signature_on_file = BooleanField(default=True)  # boxes 12, 13, 31
    print_offset_x_mm = FloatField(default=0)  # CMS-1500 data-only printing calibration
    print_offset_y_mm = FloatField(default=0)
    cash_checkout_without_note = BooleanField(default=True)  # cash visits may skip the note
    no_response_days = IntegerField(default=30)  # the work list flags silent claims after
    updated_at = DateTimeField(null=True)


class X12Counter(BaseModel):
    """The practice's last interchange control number (ISA13), one per 837P file."""

    practice = ForeignKeyField(Practice, unique=True, on_delete="CASCADE")
    last_number = IntegerField(default=0)


class ClaimBatch(BaseModel):
    """One 837P file for one payer (or a set printed on paper), as built and sent."""

    practice = ForeignKeyField(Practice, backref="claim_batches", on_delete="RESTRICT")
    payer = ForeignKeyField(Payer, null=True, on_delete="RESTRICT")
    kind = CharField(default="837p")  # 837p | paper
    # built -> queued -> sending -> sent (-> accepted | partly_accepted | rejected by a 999;
    # rejected by a TA1 refusing the file's envelope)
    status = CharField(default="built")
    interchange_control_number = IntegerField(null=True)
    group_control_number = IntegerField(null=True)
    claim_count = IntegerField(default=0)
    total_cents = IntegerField(default=0)
    document = ForeignKeyField(StoredDocument, null=True, on_delete="RESTRICT")  # the file
    remote_name = CharField(default="")  # its name on the clearinghouse
    attempts = IntegerField(default=0)
    last_error = CharField(default="")
    ack_status = CharField(default="")  # the 999's AK9: A, E, P, R
    ack_detail = TextField(default="")  # the 999's errors, in words
    ta1_status = CharField(default="")  # the TA1's TA104: A, E, R (migration 0024)
    ta1_detail = TextField(default="")  # what the TA1 said, in words
    created_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
    created_at = created_field()
    sent_at = DateTimeField(null=True)


class Claim(BaseModel):
    """A claim to one payer for one visit (or one part of a visit of over six lines)."""

    practice = ForeignKeyField(Practice, backref="claims", on_delete="RESTRICT")
    client = ForeignKeyField(Client, backref="claims", on_delete="RESTRICT")
    appointment = ForeignKeyField(Appointment, null=True, backref="claims", on_delete="RESTRICT")
    policy = ForeignKeyField(InsurancePolicy, backref="claims", on_delete="RESTRICT")
    payer = ForeignKeyField(Payer, backref="claims", on_delete="RESTRICT")
    provider = ForeignKeyField(Provider, null=True, backref="claims", on_delete="RESTRICT")
    rank = CharField(default="primary")  # primary | secondary
    part = IntegerField(default=1)  # 2, 3 ... when a visit's lines were split
    primary_claim = ForeignKeyField("self", null=True, backref="secondaries", on_delete="RESTRICT")
    status = CharField(default=claim_status.DRAFT)
    frequency_code = CharField(default=claim_status.ORIGINAL)  # CLM05-3: 1, 7, 8
    patient_control_number = CharField()  # CLM01 / box 26, unique per practice
    payer_claim_number = CharField(default="")  # the payer's (CLP07, REF*1K): for 7 and 8
    service_date = DateField()  # the first date of service (lists, aging)
    place_of_service = CharField(default="11")
    claim_type = CharField(default="commercial")  # commercial | workers_comp | auto
    injury_date = DateField(null=True)  # box 14
    accident_state = CharField(default="")  # box 10b
    accident_claim_number = CharField(default="")  # box 11b
    referral = ForeignKeyField(Referral, null=True, on_delete="RESTRICT")
    authorization = ForeignKeyField(PriorAuthorization, null=True, on_delete="RESTRICT")
    total_cents = IntegerField(default=0)  # the sum of the lines' charges
    # What postings said (kept in step with ClaimPosting/ClaimAdjustment by the service):
    allowed_cents = IntegerField(default=0)
    paid_cents = IntegerField(default=0)
    patient_resp_cents = IntegerField(default=0)
    adjusted_cents = IntegerField(default=0)  # CO, OA, PI
    written_off_cents = IntegerField(default=0)
    primary_paid_cents = IntegerField(null=True)  # secondary claims: the primary's payment
    held = BooleanField(default=False)  # a ClaimProblem keeps it from going out
    batch = ForeignKeyField(ClaimBatch, null=True, backref="claims", on_delete="RESTRICT")
    submitted_at = DateTimeField(null=True)
    adjudicated_at = DateTimeField(null=True)
    created_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
    created_at = created_field()
    updated_at = DateTimeField(null=True)

    @property
    def status_label(self):
        return claim_status.LABELS.get(self.status, self.status)

    @property
    def frequency_label(self):
        return claim_status.FREQUENCY_LABELS.get(self.frequency_code, self.frequency_code)

    @property
    def balance_cents(self):
        """What is still open on the claim: charges not yet paid, adjusted, billed to the
        client or written off (never below zero). A void claim bills nothing: 0."""
        if self.status == claim_status.VOID:
            return 0
        settled = (
            self.paid_cents + self.adjusted_cents + self.patient_resp_cents + self.written_off_cents
        )
        return max(0, self.total_cents - settled)


class ClaimDiagnosis(BaseModel):
    """Box 21 / HI: position 1 is A (the primary diagnosis), up to 12 (L)."""

    practice = ForeignKeyField(Practice, on_delete="RESTRICT")
    claim = ForeignKeyField(Claim, backref="diagnoses", on_delete="CASCADE")
    position = IntegerField()
    code = CharField()

    @property
    def letter(self):
        return "ABCDEFGHIJKL"[self.position - 1]


class ClaimLine(BaseModel):
    """Box 24 / loop 2400: one service line, up to six a claim."""

    practice = ForeignKeyField(Practice, on_delete="RESTRICT")
    claim = ForeignKeyField(Claim, backref="lines", on_delete="CASCADE")
    position = IntegerField()
    service_date = DateField()
    place_of_service = CharField(default="")  # empty: the claim's
    cpt_code = CharField()
    modifiers = CharField(default="")  # "59" or "GP,59": up to four, comma separated
    minutes = IntegerField(default=0)  # the signed note's timed minutes for the code
    units = IntegerField()
    pointers = CharField(default="A")  # diagnosis letters, primary first: "AC"
    charge_cents = IntegerField()
    allowed_cents = IntegerField(default=0)
    paid_cents = IntegerField(default=0)
    patient_resp_cents = IntegerField(default=0)
    adjusted_cents = IntegerField(default=0)

    @property
    def modifier_list(self):
        return parse_modifiers(self.modifiers)

    @property
    def pointer_numbers(self):
        return parse_pointers(self.pointers)

    @property
    def pointer_text(self):
        return pointer_letters(self.pointer_numbers)


class ClaimProblem(BaseModel):
    """Why a claim is held or was sent back: from the rules, a 999, a 277CA or an 835.
    `fix_where` names the page where it is fixed (rules/problems.py WHERE)."""

    practice = ForeignKeyField(Practice, on_delete="RESTRICT")
    claim = ForeignKeyField(Claim, backref="problems", on_delete="CASCADE")
    code = CharField()
    message = TextField()
    fix_where = CharField(default="claim")
    field = CharField(default="")
    source = CharField(default="rules")  # rules | 999 | 277ca | 835 | desk | ta1
    created_at = created_field()


class Remittance(BaseModel):
    """One payment advice from a payer (an 835's BPR/TRN, or a check posted by hand)."""

    practice = ForeignKeyField(Practice, backref="remittances", on_delete="RESTRICT")
    payer = ForeignKeyField(Payer, null=True, on_delete="RESTRICT")  # matched by payer ID
    payer_name = CharField(default="")
    payer_identifier = CharField(default="")  # TRN03 (else BPR10, else N1*PR's name)
    trace_supplement = CharField(default="")  # TRN04: the plan or division under TRN03
    payer_code = CharField(default="")  # 1000A REF*2U (or N1*PR04): shown, not a key
    # Check or EFT trace number: with the payer, amount and date, the same payment again is
    # refused (portal.x12.read835.Remittance.payment).
    trace_number = CharField()
    payment_cents = IntegerField(default=0)
    payment_method = CharField(default="")  # CHK, ACH, NON ...
    payment_date = DateField(null=True)
    sha256 = CharField()  # of the file it came from: the same file again is refused
    document = ForeignKeyField(StoredDocument, null=True, on_delete="RESTRICT")  # the 835
    source = CharField(default="upload")  # upload | cli | clearinghouse | demo
    claim_count = IntegerField(default=0)
    unmatched_count = IntegerField(default=0)
    provider_adjustment_cents = IntegerField(default=0)  # PLB: belongs to no claim
    created_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
    created_at = created_field()


class RemittanceClaim(BaseModel):
    """What a remittance said about one claim (CLP): matched, or listed as unmatched."""

    practice = ForeignKeyField(Practice, on_delete="RESTRICT")
    remittance = ForeignKeyField(Remittance, backref="claims", on_delete="RESTRICT")
    claim = ForeignKeyField(Claim, null=True, backref="remittances", on_delete="RESTRICT")
    patient_control_number = CharField()  # CLP01
    status_code = CharField(default="")  # CLP02: 1, 2, 4, 22 ...
    charge_cents = IntegerField(default=0)
    paid_cents = IntegerField(default=0)
    patient_resp_cents = IntegerField(default=0)
    payer_claim_number = CharField(default="")  # CLP07
    outcome = CharField(default="posted")  # posted | unmatched | resolved
    note = TextField(default="")
    created_at = created_field()


class ClaimEvent(BaseModel):
    """The claim's history: every change, with who, when and why (append-only)."""

    practice = ForeignKeyField(Practice, on_delete="RESTRICT")
    claim = ForeignKeyField(Claim, backref="events", on_delete="RESTRICT")
    action = CharField()  # created, validated, status, edited, posted, written_off ...
    from_status = CharField(default="")
    to_status = CharField(default="")
    reason = TextField(default="")
    amount_cents = IntegerField(null=True)
    batch = ForeignKeyField(ClaimBatch, null=True, on_delete="RESTRICT")
    remittance = ForeignKeyField(Remittance, null=True, on_delete="RESTRICT")
    user = ForeignKeyField(User, null=True, on_delete="SET NULL")
    # The clearinghouse's trace of the sending an acknowledgment answered (277CA REF*D9;
    # migration 0025): a later status with the same trace is about the same sending.
    trace = CharField(default="")
    # On a payment posted by hand, the payer's date typed from the EOB (claim_posting.
    # paid_on; migration 0035): the answer's day for a secondary claim (filing, DTP*573).
    paid_on = DateField(null=True)
    created_at = created_field()


class ClaimPosting(BaseModel):
    """A payer's payment posted to a claim (line), by hand or from an 835 (append-only:
    a correction is a reversing posting)."""

    practice = ForeignKeyField(Practice, on_delete="RESTRICT")
    claim = ForeignKeyField(Claim, backref="postings", on_delete="RESTRICT")
    claim_line = ForeignKeyField(ClaimLine, null=True, backref="postings", on_delete="RESTRICT")
    remittance_claim = ForeignKeyField(
        RemittanceClaim, null=True, backref="postings", on_delete="RESTRICT"
    )
    allowed_cents = IntegerField(default=0)
    paid_cents = IntegerField(default=0)
    invoice = ForeignKeyField(Invoice, null=True, on_delete="RESTRICT")  # the client's share
    note = CharField(default="")
    # The payer's date of a payment posted by hand, as typed from the EOB (its check or EFT
    # date; migration 0032). An 835's is its remittance's payment_date (BPR16). Neither:
    # the money is dated by the day it was posted (services/claims/reports.py).
    paid_on = DateField(null=True)
    created_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
    created_at = created_field()


class ClaimAdjustment(BaseModel):
    """One CAS adjustment of a posting: group (CO, PR, OA, PI), reason code, amount."""

    practice = ForeignKeyField(Practice, on_delete="RESTRICT")
    posting = ForeignKeyField(ClaimPosting, backref="adjustments", on_delete="RESTRICT")
    group_code = CharField()
    reason_code = CharField()
    amount_cents = IntegerField()
    quantity = IntegerField(null=True)


class ClaimWriteOff(BaseModel):
    """An amount the practice stops pursuing, with its reason (append-only)."""

    class Meta:
        table_name = "claim_writeoff"

    practice = ForeignKeyField(Practice, on_delete="RESTRICT")
    claim = ForeignKeyField(Claim, backref="writeoffs", on_delete="RESTRICT")
    amount_cents = IntegerField()
    reason = CharField()
    created_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
    created_at = created_field()


CLAIM_MODELS = [
    ClaimSettings,
    X12Counter,
    ClaimBatch,
    Claim,
    ClaimDiagnosis,
    ClaimLine,
    ClaimProblem,
    Remittance,
    RemittanceClaim,
    ClaimEvent,
    ClaimPosting,
    ClaimAdjustment,
    ClaimWriteOff,
]
