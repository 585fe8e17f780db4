"""Forms of the claims pages: a line, the diagnoses, the claim's details, a reason (void,
close, appeal, hold), the payer's claim number and the owner's claim settings."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from portal.formutil import choices
from portal.rules.coding import PLACES_OF_SERVICE

PLACE_CHOICES = [(code, f"{code} {label}") for code, label in PLACES_OF_SERVICE.items()]


class LineForm(FlaskForm):
    units = IntegerField(
        "Units",
        validators=[InputRequired("Enter the units."), NumberRange(1, 99, "Units are 1 to 99.")],
    )
    modifiers = StringField(
        "Modifiers",
        validators=[Optional(), Length(max=20)],
        description="Up to four, e.g. 59 or XS.",
    )
    pointers = StringField(
        "Diagnosis pointers",
        validators=[DataRequired("Point to at least one diagnosis, e.g. A."), Length(max=20)],
        description="Letters of the diagnoses, primary first, e.g. A, C.",
    )
    charge = StringField("Charge ($)", validators=[DataRequired("Enter the charge.")])


class DiagnosesForm(FlaskForm):
    codes = TextAreaField(
        "Diagnoses (ICD-10-CM)",
        validators=[DataRequired("Enter at least one diagnosis."), Length(max=400)],
        description="Primary first, separated by commas: A, B, C ... (at most 12).",
    )


class DetailsForm(FlaskForm):
    place_of_service = SelectField("Place of service", choices=choices(PLACE_CHOICES))
    referral = SelectField("Referral (box 17)", coerce=int)
    authorization = SelectField("Prior authorization (box 23)", coerce=int)


class ReasonForm(FlaskForm):
    reason = StringField(
        "Reason", validators=[DataRequired("Say why."), Length(max=500)], description=""
    )


class PayerNumberForm(FlaskForm):
    payer_claim_number = StringField(
        "Payer's claim number",
        validators=[DataRequired("Enter the payer's claim number."), Length(max=50)],
        description="From the payer's 835 (CLP07) or 277CA: needed for a corrected or void claim.",
    )


class ClaimSettingsForm(FlaskForm):
    bill_as = SelectField(
        "Bill as",
        choices=choices(
            [
                ("practice", "The practice (its NPI and tax ID; the therapist renders)"),
                ("provider", "Each therapist (their own NPI; the practice's tax ID)"),
            ]
        ),
    )
    default_place_of_service = SelectField(
        "Default place of service", choices=choices(PLACE_CHOICES)
    )
    signature_on_file = BooleanField(
        "Signatures on file (boxes 12, 13 and 31 say SIGNATURE ON FILE)"
    )
    cash_checkout_without_note = BooleanField(
        "Self-pay visits can be checked out before their chart note is signed"
    )
    no_response_days = IntegerField(
        "Flag a claim without an answer after (days)",
        validators=[InputRequired("Enter a number of days."), NumberRange(7, 180)],
        description="Submitted claims the payer has not answered in this time show on the "
        "front desk's work list.",
    )
