"""Forms for clients, payers, policies, cards, verifications, referrals, authorizations, intake."""

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    Email,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)

from portal.formutil import choices
from portal.models.insurance import (
    CARD_SIDES,
    CLAIM_TYPES,
    PAYER_KINDS,
    RANKS,
    RELATIONSHIPS,
    SEXES,
    UNIT_RULES,
)
from portal.models.intake import FIELD_TYPES, FORM_KINDS
from portal.rules import coverage as coverage_rules
from portal.rules.filing_limit import MAX_DAYS, MIN_DAYS
from portal.rules.money import format_cents, parse_dollars
from portal.rules.npi import is_valid_npi

STATE = Regexp(r"^[A-Za-z]{2}$", message="Use the two-letter state code, like OR.")
ZIP = Regexp(r"^\d{5}(-?\d{4})?$", message="Use a 5 or 9 digit ZIP code.")
CPT = Regexp(r"^\d{4}[0-9A-Z]$", message="A CPT code has 5 characters, like 97124.")


def dollars(form, field):
    if (field.data or "").strip():
        try:
            parse_dollars(field.data)
        except ValueError as exc:
            raise ValidationError(str(exc)) from exc


FILING_DAYS = (
    f"Enter the number of days, {MIN_DAYS} to {MAX_DAYS} (leave it empty if you do not know)."
)


def filing_days(form, field):
    """1 to 730 days; a value that is no whole number was refused as it was read (one
    message, not two)."""
    if field.data is not None and not MIN_DAYS <= field.data <= MAX_DAYS:
        raise ValidationError(FILING_DAYS)


def cents(field):
    """A validated dollars field as integer cents, or None when left empty."""
    text = (field.data or "").strip()
    return parse_dollars(text) if text else None


def npi_check(form, field):
    value = (field.data or "").strip()
    if value and not is_valid_npi(value):
        raise ValidationError(
            "An NPI has 10 digits and a valid check digit. Check it on the NPPES registry."
        )


def at_most(n):
    return Length(max=n, message=f"Use at most {n} characters.")


def Money(label, **kw):  # noqa: N802
    return StringField(label, validators=[Optional(), dollars], **kw)


def _visit_range(lo, message):
    def check(form, field):
        # a value that is no whole number was refused as it was read: one message, not two
        if field.data is not None and not lo <= field.data <= 999:
            raise ValidationError(message)

    return check


def Visits(label, lo=0, required=None, **kw):  # noqa: N802
    """A number of visits, `lo` to 999; `required`: the message when it is left empty."""
    message = f"Enter a whole number of visits, {lo} to 999."
    first = InputRequired(required) if required else Optional()
    return IntegerField(
        label,
        validators=[first, _visit_range(lo, message)],
        invalid_value_message=message,
        **kw,
    )


def _not_above(part, whole, message, errors):
    """Whether a "met so far" or "used" number is within its whole (either may be None);
    `message` goes next to the field if not."""
    if part is None or whole is None or part <= whole:
        return True
    errors.append(message)
    return False


class SearchForm(FlaskForm):
    q = StringField("Search clients", validators=[Optional(), Length(max=100)])
    archived = BooleanField("Include archived")
    page = IntegerField("Page", default=1, validators=[Optional(), NumberRange(min=1)])


class ClientForm(FlaskForm):
    first_name = StringField(
        "Legal first name", validators=[DataRequired("Enter a first name."), Length(max=100)]
    )
    last_name = StringField(
        "Legal last name", validators=[DataRequired("Enter a last name."), Length(max=100)]
    )
    preferred_name = StringField("Preferred name", validators=[Optional(), Length(max=100)])
    date_of_birth = DateField("Date of birth", validators=[Optional()])
    sex = SelectField(
        "Sex (as on the insurance card)", choices=choices(SEXES), validators=[Optional()]
    )
    email = EmailField(
        "E-mail",
        validators=[Optional(), Email("Enter a valid e-mail address.", check_deliverability=False)],
    )
    phone = StringField("Phone", validators=[Optional(), Length(max=40)])
    address1 = StringField("Street address", validators=[Optional(), Length(max=200)])
    address2 = StringField("Apartment or unit", validators=[Optional(), Length(max=200)])
    city = StringField("City", validators=[Optional(), Length(max=100)])
    state = StringField("State", validators=[Optional(), STATE])
    postal_code = StringField("ZIP code", validators=[Optional(), ZIP])
    emergency_name = StringField("Emergency contact", validators=[Optional(), Length(max=200)])
    emergency_relationship = StringField("Relationship", validators=[Optional(), Length(max=60)])
    emergency_phone = StringField("Emergency phone", validators=[Optional(), Length(max=40)])
    therapist = SelectField("Assigned therapist", coerce=int, validators=[Optional()])
    # the stored details' fingerprint the edit form was opened on (services.clients.version)
    version = HiddenField()
    # shown after the duplicate warning on a new client (issue 11)
    not_a_duplicate = BooleanField("This is a different person: add the new client anyway")


class PayerForm(FlaskForm):
    name = StringField(
        "Name", validators=[DataRequired("Enter the payer's name."), Length(max=200)]
    )
    kind = SelectField("Kind", choices=choices(PAYER_KINDS))
    payer_code = StringField(
        "Payer ID (electronic claims)",
        validators=[Optional(), Length(max=20)],
        description="The ID your clearinghouse lists for this payer.",
    )
    address1 = StringField("Claims address", validators=[Optional(), Length(max=200)])
    address2 = StringField("Address line 2", validators=[Optional(), Length(max=200)])
    city = StringField("City", validators=[Optional(), Length(max=100)])
    state = StringField("State", validators=[Optional(), STATE])
    postal_code = StringField("ZIP code", validators=[Optional(), ZIP])
    phone = StringField("Phone", validators=[Optional(), Length(max=40)])
    referral_required = BooleanField("A referral is required")
    authorization_required = BooleanField("A prior authorization is required")
    unit_rule = SelectField("Units", choices=choices(UNIT_RULES))
    allow_97124_97140 = BooleanField(
        "Allows 97124 with 97140 on one date (modifier 59 or XS, separate regions)"
    )
    affiliated = BooleanField("We are in network (members pay the fee schedule)")
    filing_limit_days = IntegerField(
        "Filing limit (days after the date of service)",
        validators=[Optional(), filing_days],
        invalid_value_message=FILING_DAYS,
        description="The payer denies a claim it first receives later (CARC 29): often 90 "
        "days, 180 or 365 for others. Leave it empty if you do not know: no warning then.",
    )
    active = BooleanField("Active", default=True)
    notes = TextAreaField("Notes", validators=[Optional(), Length(max=2000)])


class FeeForm(FlaskForm):
    cpt_code = StringField("CPT code", validators=[DataRequired("Enter a CPT code."), CPT])
    fee = StringField("Fee", validators=[DataRequired("Enter the fee."), dollars])


class PolicyForm(FlaskForm):
    payer = SelectField("Payer", coerce=int, validators=[DataRequired("Choose the payer.")])
    rank = SelectField("Order", choices=choices(RANKS))
    member_id = StringField(
        "Member ID", validators=[DataRequired("Enter the member ID."), Length(max=80)]
    )
    group_number = StringField("Group number", validators=[Optional(), Length(max=80)])
    plan_name = StringField("Plan name", validators=[Optional(), Length(max=120)])
    effective_date = DateField("Effective date", validators=[Optional()])
    end_date = DateField("End date", validators=[Optional()])
    relationship = SelectField("Client is the subscriber's", choices=choices(RELATIONSHIPS))
    subscriber_first_name = StringField(
        "Subscriber first name", validators=[Optional(), at_most(100)]
    )
    subscriber_last_name = StringField(
        "Subscriber last name", validators=[Optional(), at_most(100)]
    )
    subscriber_dob = DateField("Subscriber date of birth", validators=[Optional()])
    subscriber_sex = SelectField("Subscriber sex", choices=choices(SEXES))
    subscriber_address1 = StringField("Subscriber address", validators=[Optional(), at_most(200)])
    subscriber_address2 = StringField("Address line 2", validators=[Optional(), at_most(200)])
    subscriber_city = StringField("City", validators=[Optional(), at_most(100)])
    subscriber_state = StringField("State", validators=[Optional(), STATE])
    subscriber_postal_code = StringField("ZIP code", validators=[Optional(), ZIP])
    claim_type = SelectField("Claim type", choices=choices(CLAIM_TYPES))
    employer_name = StringField("Employer (workers' comp)", validators=[Optional(), at_most(200)])
    claim_number = StringField(
        "Claim number (workers' comp or auto)", validators=[Optional(), at_most(80)]
    )
    injury_date = DateField("Date of injury or accident", validators=[Optional()])
    accident_state = StringField("Accident state (auto)", validators=[Optional(), STATE])
    active = BooleanField("Active", default=True)

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        if self.effective_date.data and self.end_date.data:
            if self.end_date.data < self.effective_date.data:
                self.end_date.errors.append("The end date is before the effective date.")
                ok = False
        if self.relationship.data != "self":
            for f in (self.subscriber_first_name, self.subscriber_last_name):
                if not (f.data or "").strip():
                    f.errors.append(
                        "Enter the subscriber's name (the client is not the subscriber)."
                    )
                    ok = False
        if self.claim_type.data in ("workers_comp", "auto"):
            if not (self.claim_number.data or "").strip():
                self.claim_number.errors.append("Enter the claim number.")
                ok = False
            if not self.injury_date.data:
                self.injury_date.errors.append("Enter the date of the injury or accident.")
                ok = False
        if self.claim_type.data == "workers_comp" and not (self.employer_name.data or "").strip():
            self.employer_name.errors.append("Enter the employer for a workers' comp claim.")
            ok = False
        if self.claim_type.data == "auto" and not (self.accident_state.data or "").strip():
            self.accident_state.errors.append("Enter the state where the accident happened.")
            ok = False
        return ok


class CardForm(FlaskForm):
    side = SelectField("Side", choices=choices(CARD_SIDES))
    file = FileField(
        "Card photo or PDF",
        description="JPEG, PNG or PDF, up to 10 MB.",
        validators=[DataRequired("Choose a photo or PDF of the card.")],
    )


class ClientCardForm(CardForm):
    policy = SelectField("Insurance", coerce=int, validators=[Optional()])


class AttachForm(FlaskForm):
    policy = SelectField("Attach to policy", coerce=int)


class VerificationForm(FlaskForm):
    verified_on = DateField("Verified on", validators=[DataRequired("Enter the date.")])
    covered = BooleanField("Massage is covered", default=True)
    conditions = TextAreaField("Conditions for coverage", validators=[Optional(), Length(max=2000)])
    deductible = Money("Deductible")
    deductible_met = Money("Deductible met so far")
    copay = Money("Copay per visit")
    coinsurance_percent = IntegerField(
        "Coinsurance (%)", validators=[Optional(), NumberRange(0, 100, "Between 0 and 100.")]
    )
    oop_max = Money("Out-of-pocket maximum")
    oop_met = Money("Out-of-pocket met so far")
    max_per_visit = Money("Maximum paid per visit")
    max_per_term = Money("Maximum paid per policy term")
    visits_per_year = Visits("Visits per year")
    visits_used = Visits("Visits already used this year")
    plan_year_month = SelectField(
        "Benefit year starts",
        coerce=int,
        default=1,
        choices=choices(
            [(1, "January 1 (the calendar year)")]
            + [(m, f"{name} 1") for m, name in enumerate(coverage_rules.MONTHS, 1) if m > 1]
        ),
        description="Ask the payer whether the benefits run by calendar year or by a plan "
        "year that starts in another month: the deductible and the visits a year start over "
        "then.",
    )
    body_regions = StringField("Body regions covered", validators=[Optional(), Length(max=500)])
    massage_types = StringField(
        "Kinds of massage that qualify", validators=[Optional(), Length(max=500)]
    )
    referral_required = BooleanField("Referral required")
    authorization_required = BooleanField("Prior authorization required")
    representative = StringField("Payer representative", validators=[Optional(), Length(max=120)])
    reference_number = StringField("Call reference number", validators=[Optional(), Length(max=80)])
    notes = TextAreaField("Notes", validators=[Optional(), Length(max=2000)])

    def __init__(self, *args, today=None, **kwargs):
        """`today`: the practice's date (the call cannot be later)."""
        super().__init__(*args, **kwargs)
        self.today = today

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        if self.today and self.verified_on.data and self.verified_on.data > self.today:
            self.verified_on.errors.append(
                "The call cannot be in the future: enter the day you spoke to the payer."
            )
            ok = False
        return self._adds_up() and ok

    def _adds_up(self):
        """What is met or used so far is within its whole (checked when both are valid)."""

        def value(field, money=True):
            if field.errors:
                return None
            return cents(field) if money else field.data

        deductible, oop_max = value(self.deductible), value(self.oop_max)
        per_year = value(self.visits_per_year, money=False)
        checks = (
            (
                value(self.deductible_met),
                deductible,
                f"More than the deductible ({format_cents(deductible or 0)}): check the "
                "amount met so far.",
                self.deductible_met,
            ),
            (
                value(self.oop_met),
                oop_max,
                f"More than the out-of-pocket maximum ({format_cents(oop_max or 0)}): check "
                "the amount met so far.",
                self.oop_met,
            ),
            (
                value(self.visits_used, money=False),
                per_year,
                f"More than the visits per year ({per_year}): check the visits used.",
                self.visits_used,
            ),
        )
        ok = True
        for part, whole, message, field in checks:
            ok = _not_above(part, whole, message, field.errors) and ok
        return ok

    def data_for_service(self):
        d = {
            k: getattr(self, k).data
            for k in (
                "verified_on",
                "covered",
                "conditions",
                "coinsurance_percent",
                "visits_per_year",
                "visits_used",
                "plan_year_month",
                "body_regions",
                "massage_types",
                "referral_required",
                "authorization_required",
                "representative",
                "reference_number",
                "notes",
            )
        }
        for name in (
            "deductible",
            "deductible_met",
            "copay",
            "oop_max",
            "oop_met",
            "max_per_visit",
            "max_per_term",
        ):
            d[name + "_cents"] = cents(getattr(self, name))
        for name in ("conditions", "body_regions", "massage_types", "representative", "notes"):
            d[name] = d[name] or ""
        d["reference_number"] = d["reference_number"] or ""
        return d


def _used_within(form, word):
    """A referral's or authorization's visits used before are within its visits allowed."""
    allowed, used = form.visits_allowed, form.visits_used_before
    if allowed.errors or used.errors:
        return True
    message = f"More than the visits {word} ({allowed.data}): check the visits already used."
    return _not_above(used.data, allowed.data, message, used.errors)


class ReferralForm(FlaskForm):
    policy = SelectField("For policy", coerce=int, validators=[Optional()])
    referring_name = StringField(
        "Referring provider",
        validators=[DataRequired("Enter the referring provider's name."), at_most(200)],
    )
    referring_npi = StringField(
        "Referring provider's NPI", validators=[DataRequired("Enter the NPI."), npi_check]
    )
    qualifier = SelectField(
        "Role (claim box 17)",
        choices=choices(
            [("DN", "Referring provider"), ("DK", "Ordering provider"), ("DQ", "Supervising")]
        ),
    )
    diagnosis_codes = StringField(
        "Diagnosis codes (ICD-10-CM)",
        validators=[DataRequired("Enter at least one diagnosis code.")],
        description="Billable codes, primary first, separated by commas: M54.50, M62.830",
    )
    referral_date = DateField("Referral date", validators=[DataRequired("Enter the date.")])
    visits_allowed = Visits(
        "Visits allowed", lo=1, description="Leave it empty when the referral sets no limit."
    )
    visits_used_before = Visits("Visits already used before today", default=0)
    end_date = DateField("End date", validators=[Optional()])
    notes = TextAreaField("Notes", validators=[Optional(), Length(max=2000)])
    active = BooleanField("Active", default=True)

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        if self.end_date.data and self.referral_date.data:
            if self.end_date.data < self.referral_date.data:
                self.end_date.errors.append("The end date is before the referral date.")
                ok = False
        return _used_within(self, "allowed") and ok


class AuthorizationForm(FlaskForm):
    policy = SelectField("For policy", coerce=int, validators=[Optional()])
    number = StringField(
        "Authorization number", validators=[DataRequired("Enter the number."), Length(max=80)]
    )
    visits_allowed = Visits(
        "Visits authorized", lo=1, required="Enter the number of visits authorized."
    )
    visits_used_before = Visits("Visits already used before today", default=0)
    start_date = DateField("Start date", validators=[DataRequired("Enter the start date.")])
    end_date = DateField("End date", validators=[DataRequired("Enter the end date.")])
    body_regions = StringField("Body regions", validators=[Optional(), Length(max=500)])
    notes = TextAreaField("Notes", validators=[Optional(), Length(max=2000)])
    active = BooleanField("Active", default=True)

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        if (
            self.end_date.data
            and self.start_date.data
            and self.end_date.data < self.start_date.data
        ):
            self.end_date.errors.append("The end date is before the start date.")
            ok = False
        return _used_within(self, "authorized") and ok


class IntakeFormForm(FlaskForm):
    title = StringField("Title", validators=[DataRequired("Enter a title."), Length(max=200)])
    kind = SelectField("Kind", choices=choices(FORM_KINDS))
    description = TextAreaField(
        "Introduction shown to the client", validators=[Optional(), Length(max=4000)]
    )
    position = IntegerField("Order", default=0, validators=[Optional()])
    active = BooleanField("Offered to clients", default=True)


class IntakeFieldForm(FlaskForm):
    label = StringField(
        "Question", validators=[DataRequired("Enter the question."), Length(max=250)]
    )
    field_type = SelectField("Type", choices=choices(FIELD_TYPES))
    choices_text = TextAreaField(
        "Choices (one per line, for a choice question)", validators=[Optional()]
    )
    help_text = StringField("Help text", validators=[Optional(), Length(max=250)])
    required = BooleanField("An answer is required")
    flag = BooleanField("Raises a flag when answered yes / checked")
    flag_label = StringField(
        "Flag shown to the therapist",
        validators=[Optional(), Length(max=200)],
        description="For example: Contraindication: blood clots.",
    )
    position = IntegerField("Order", default=0, validators=[Optional()])
    active = BooleanField("Active", default=True)

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        lines = [c for c in (self.choices_text.data or "").splitlines() if c.strip()]
        if self.field_type.data == "choice" and len(lines) < 2:
            self.choices_text.errors.append("A choice question needs at least two choices.")
            ok = False
        if self.flag.data and self.field_type.data not in ("checkbox", "yes_no"):
            self.flag.errors.append("Only a checkbox or a yes/no question can raise a flag.")
            ok = False
        return ok


class SignatureForm(FlaskForm):
    """The signing part of an intake form (the questions are built from the template)."""

    signature_name = StringField(
        "Type your full name to sign",
        validators=[DataRequired("Type your full name to sign."), Length(max=200)],
    )
    form_id = HiddenField()

    def validate_signature_name(self, field):
        if len((field.data or "").split()) < 2:
            raise ValidationError("Type your full name: first and last name.")


class TabletStartForm(FlaskForm):
    form = SelectField("Form", coerce=int)


class TabletReturnForm(FlaskForm):
    password = PasswordField(
        "Staff password", validators=[DataRequired("Enter your password to take the tablet back.")]
    )
