"""Insurance on file: payers and their fee schedules, client policies, card images,
benefits verifications, referrals and prior authorizations (migration 0002)."""

from peewee import (
    BooleanField,
    CharField,
    DateField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    TextField,
)

from portal.models.base import BaseModel, created_field
from portal.models.people import Client, User
from portal.models.practice import Practice

PAYER_KINDS = [
    ("commercial", "Commercial insurer"),
    ("medicare", "Medicare"),
    ("medicaid", "Medicaid"),
    ("workers_comp", "Workers' compensation"),
    ("auto", "Auto insurer"),
    ("other", "Other"),
]
UNIT_RULES = [
    ("cms8", "CMS 8-minute rule (timed minutes of the day added up)"),
    ("per_code", "Per code (each code needs at least 8 minutes)"),
]
RANKS = [("primary", "Primary"), ("secondary", "Secondary")]
RELATIONSHIPS = [("self", "Self"), ("spouse", "Spouse"), ("child", "Child"), ("other", "Other")]
CLAIM_TYPES = [
    ("commercial", "Health insurance"),
    ("workers_comp", "Workers' compensation"),
    ("auto", "Auto accident"),
]
SEXES = [("", "Not given"), ("F", "Female"), ("M", "Male"), ("U", "Unknown")]
CARD_SIDES = [("front", "Front"), ("back", "Back")]


class Payer(BaseModel):
    """An insurer (or workers' comp / auto carrier) the practice bills."""

    practice = ForeignKeyField(Practice, backref="payers", on_delete="RESTRICT")
    name = CharField()
    kind = CharField(default="commercial")
    payer_code = CharField(default="")  # payer ID for electronic claims
    address1 = CharField(default="")
    address2 = CharField(default="")
    city = CharField(default="")
    state = CharField(default="")
    postal_code = CharField(default="")
    phone = CharField(default="")
    referral_required = BooleanField(default=False)
    authorization_required = BooleanField(default=False)
    unit_rule = CharField(default="cms8")
    allow_97124_97140 = BooleanField(default=False)  # only with modifier 59/XS
    affiliated = BooleanField(default=False)  # in network: members pay the fee schedule
    # Days after the date of service within which the payer must first receive a claim
    # (CARC 29 after); None: not known, no warning (rules/filing_limit.py).
    filing_limit_days = IntegerField(null=True)
    active = BooleanField(default=True)
    notes = TextField(default="")
    created_at = created_field()
    updated_at = DateTimeField(null=True)

    @property
    def kind_label(self):
        return dict(PAYER_KINDS).get(self.kind, self.kind)

    def fee_for(self, cpt_code):
        """The fee schedule price in cents for a CPT code, or None."""
        row = PayerFee.get_or_none((PayerFee.payer == self) & (PayerFee.cpt_code == cpt_code))
        return row.fee_cents if row else None


class PayerFee(BaseModel):
    """One row of a payer's fee schedule: a price per CPT code."""

    practice = ForeignKeyField(Practice, on_delete="RESTRICT")
    payer = ForeignKeyField(Payer, backref="fees", on_delete="CASCADE")
    cpt_code = CharField()
    fee_cents = IntegerField()
    created_at = created_field()


class InsurancePolicy(BaseModel):
    """A client's insurance: primary or secondary, with the subscriber and claim type."""

    practice = ForeignKeyField(Practice, on_delete="RESTRICT")
    client = ForeignKeyField(Client, backref="policies", on_delete="RESTRICT")
    payer = ForeignKeyField(Payer, backref="policies", on_delete="RESTRICT")
    rank = CharField(default="primary")
    member_id = CharField()
    group_number = CharField(default="")
    plan_name = CharField(default="")
    effective_date = DateField(null=True)
    end_date = DateField(null=True)
    relationship = CharField(default="self")  # the client's relationship to the subscriber
    subscriber_first_name = CharField(default="")
    subscriber_last_name = CharField(default="")
    subscriber_dob = DateField(null=True)
    subscriber_sex = CharField(default="")
    subscriber_address1 = CharField(default="")
    subscriber_address2 = CharField(default="")
    subscriber_city = CharField(default="")
    subscriber_state = CharField(default="")
    subscriber_postal_code = CharField(default="")
    claim_type = CharField(default="commercial")
    employer_name = CharField(default="")  # workers' comp
    claim_number = CharField(default="")  # workers' comp or auto claim number
    injury_date = DateField(null=True)  # date of injury or accident
    accident_state = CharField(default="")  # auto
    active = BooleanField(default=True)
    created_at = created_field()
    updated_at = DateTimeField(null=True)

    @property
    def rank_label(self):
        return dict(RANKS).get(self.rank, self.rank)

    @property
    def claim_type_label(self):
        return dict(CLAIM_TYPES).get(self.claim_type, self.claim_type)

    @property
    def relationship_label(self):
        return dict(RELATIONSHIPS).get(self.relationship, self.relationship)

    def covers(self, on_date):
        if self.effective_date and on_date < self.effective_date:
            return False
        if self.end_date and on_date > self.end_date:
            return False
        return True


class CardImage(BaseModel):
    """A stored photo or PDF of an insurance card side. The file lives under
    instance/uploads/ with a random name and is served only through an access check."""

    practice = ForeignKeyField(Practice, on_delete="RESTRICT")
    client = ForeignKeyField(Client, backref="card_images", on_delete="RESTRICT")
    policy = ForeignKeyField(
        InsurancePolicy, null=True, backref="card_images", on_delete="SET NULL"
    )
    side = CharField()
    stored_name = CharField(unique=True)
    content_type = CharField()
    size_bytes = IntegerField()
    sha256 = CharField()
    width = IntegerField(null=True)
    height = IntegerField(null=True)
    uploaded_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
    uploaded_at = DateTimeField()
    replaced_at = DateTimeField(null=True)

    @property
    def is_pdf(self):
        return self.content_type == "application/pdf"


class BenefitsVerification(BaseModel):
    """What the payer said about coverage, when, to whom (DOMAIN.md's checklist)."""

    practice = ForeignKeyField(Practice, on_delete="RESTRICT")
    client = ForeignKeyField(Client, backref="verifications", on_delete="RESTRICT")
    policy = ForeignKeyField(InsurancePolicy, backref="verifications", on_delete="RESTRICT")
    verified_on = DateField()
    verified_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
    verified_by_name = CharField(default="")
    covered = BooleanField(default=True)
    conditions = TextField(default="")
    deductible_cents = IntegerField(null=True)
    deductible_met_cents = IntegerField(null=True)
    copay_cents = IntegerField(null=True)
    coinsurance_percent = IntegerField(null=True)
    oop_max_cents = IntegerField(null=True)
    oop_met_cents = IntegerField(null=True)
    max_per_visit_cents = IntegerField(null=True)
    max_per_term_cents = IntegerField(null=True)
    visits_per_year = IntegerField(null=True)
    visits_used = IntegerField(null=True)  # visits already used this year, as the payer said
    # the month the benefit year starts on the 1st of (1: the calendar year; migration 0033)
    plan_year_month = IntegerField(default=1)
    body_regions = TextField(default="")
    massage_types = TextField(default="")
    referral_required = BooleanField(default=False)
    authorization_required = BooleanField(default=False)
    representative = CharField(default="")
    reference_number = CharField(default="")
    notes = TextField(default="")
    created_at = created_field()


class Referral(BaseModel):
    """A physician's referral: who, their NPI, diagnoses, visits and end date."""

    practice = ForeignKeyField(Practice, on_delete="RESTRICT")
    client = ForeignKeyField(Client, backref="referrals", on_delete="RESTRICT")
    policy = ForeignKeyField(InsurancePolicy, null=True, backref="referrals", on_delete="SET NULL")
    referring_name = CharField()
    referring_npi = CharField(default="")
    qualifier = CharField(default="DN")  # box 17: DN referring, DK ordering, DQ supervising
    diagnosis_codes = CharField(default="")  # comma separated ICD-10-CM codes, primary first
    referral_date = DateField()
    visits_allowed = IntegerField(null=True)
    visits_used_before = IntegerField(default=0)  # visits used before it was entered here
    end_date = DateField(null=True)
    notes = TextField(default="")
    active = BooleanField(default=True)
    created_at = created_field()

    @property
    def codes(self):
        return [c for c in (self.diagnosis_codes or "").split(",") if c]


class PriorAuthorization(BaseModel):
    """A payer's prior authorization: number, visits, date range, body regions."""

    practice = ForeignKeyField(Practice, on_delete="RESTRICT")
    client = ForeignKeyField(Client, backref="authorizations", on_delete="RESTRICT")
    policy = ForeignKeyField(
        InsurancePolicy, null=True, backref="authorizations", on_delete="SET NULL"
    )
    number = CharField()
    visits_allowed = IntegerField()
    visits_used_before = IntegerField(default=0)
    start_date = DateField()
    end_date = DateField()
    body_regions = TextField(default="")
    notes = TextField(default="")
    active = BooleanField(default=True)
    created_at = created_field()
