"""Forms for the owner's settings pages."""

import datetime as dt
import zoneinfo

from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField
from wtforms import BooleanField, EmailField, SelectField, StringField
from wtforms.validators import DataRequired, Email, Length, Optional, Regexp, ValidationError
from wtforms.widgets import DateInput

from portal.formutil import choices
from portal.models import ROLE_FRONTDESK, ROLE_OWNER, ROLE_THERAPIST
from portal.rules.npi import is_valid_ein, is_valid_npi

US_TIMEZONES = [
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Phoenix",
    "America/Los_Angeles",
    "America/Anchorage",
    "Pacific/Honolulu",
    "America/Puerto_Rico",
]


def npi_check(form, field):
    value = (field.data or "").strip()
    if value and not is_valid_npi(value):
        raise ValidationError(
            "An NPI has 10 digits and a valid check digit. Check it on your NPPES record."
        )


def ein_check(form, field):
    value = (field.data or "").strip()
    if value and not is_valid_ein(value):
        raise ValidationError("An EIN has 9 digits, like 12-3456789.")


def tz_check(form, field):
    if field.data not in zoneinfo.available_timezones():
        raise ValidationError("Choose a time zone from the list.")


TAXONOMY = Regexp(
    r"^\d{3}[0-9A-Z]{6}X$", message="A taxonomy code has 10 characters, like 225700000X."
)


class PracticeForm(FlaskForm):
    name = StringField(
        "Practice name", validators=[DataRequired("Enter the practice's name."), Length(max=200)]
    )
    address1 = StringField("Street address", validators=[Optional(), Length(max=200)])
    address2 = StringField("Suite or unit", validators=[Optional(), Length(max=200)])
    city = StringField("City", validators=[Optional(), Length(max=100)])
    state = StringField(
        "State",
        validators=[
            Optional(),
            Regexp(r"^[A-Za-z]{2}$", message="Use the two-letter state code, like OR."),
        ],
    )
    postal_code = StringField(
        "ZIP code",
        validators=[
            Optional(),
            Regexp(r"^\d{5}(-?\d{4})?$", message="Use a 5 or 9 digit ZIP code."),
        ],
    )
    phone = StringField("Phone", validators=[Optional(), Length(max=40)])
    email = EmailField(
        "Practice e-mail",
        validators=[Optional(), Email("Enter a valid e-mail address.", check_deliverability=False)],
    )
    timezone = SelectField(
        "Time zone",
        choices=choices((t, t.replace("_", " ")) for t in US_TIMEZONES),
        validators=[tz_check],
    )
    ein = StringField("Federal tax ID (EIN)", validators=[Optional(), ein_check])
    npi = StringField("Organization NPI (type 2)", validators=[Optional(), npi_check])
    taxonomy = StringField("Taxonomy code", validators=[DataRequired(), TAXONOMY])
    logo = FileField(
        "Logo (PNG or JPEG, up to 1 MB)",
        validators=[FileAllowed(["png", "jpg", "jpeg"], "The logo must be a PNG or JPEG image.")],
    )
    require_staff_totp = BooleanField("Require two-step login (TOTP) for all staff")
    therapists_see_all_clients = BooleanField("Therapists see all clients (not only their own)")


class ProviderForm(FlaskForm):
    first_name = StringField("First name", validators=[DataRequired("Enter a first name.")])
    last_name = StringField("Last name", validators=[DataRequired("Enter a last name.")])
    credentials = StringField(
        "Credentials",
        validators=[Optional(), Length(max=40)],
        description="For example LMT or LMBT.",
    )
    npi = StringField("Individual NPI (type 1)", validators=[Optional(), npi_check])
    license_number = StringField("License number", validators=[Optional(), Length(max=40)])
    license_state = StringField(
        "License state",
        validators=[Optional(), Regexp(r"^[A-Za-z]{2}$", message="Use the two-letter state code.")],
    )
    taxonomy = StringField(
        "Taxonomy code", default="225700000X", validators=[DataRequired(), TAXONOMY]
    )
    email = EmailField(
        "E-mail",
        validators=[Optional(), Email("Enter a valid e-mail address.", check_deliverability=False)],
    )
    phone = StringField("Phone", validators=[Optional(), Length(max=40)])
    active = BooleanField("Active", default=True)


STAFF_ROLE_CHOICES = [
    (ROLE_THERAPIST, "Therapist"),
    (ROLE_FRONTDESK, "Front desk"),
    (ROLE_OWNER, "Owner"),
]


class InviteForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired("Enter the person's name.")])
    email = EmailField(
        "E-mail",
        validators=[
            DataRequired("Enter an e-mail address."),
            Email("Enter a valid e-mail address.", check_deliverability=False),
        ],
    )
    role = SelectField("Role", choices=choices(STAFF_ROLE_CHOICES))
    provider = SelectField(
        "Therapist record",
        coerce=int,
        validators=[Optional()],
        description="For a therapist: the provider whose schedule is theirs.",
    )


class StaffRoleForm(FlaskForm):
    role = SelectField("Role", choices=choices(STAFF_ROLE_CHOICES))
    provider = SelectField(
        "Therapist record",
        coerce=int,
        validators=[Optional()],
        description="For a therapist: the provider whose schedule is theirs. "
        "The front desk has none.",
    )


def iso_date(form, field):
    value = (field.data or "").strip()
    if not value:
        return
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        raise ValidationError("Use a real date as YYYY-MM-DD.") from None


class AuditFilterForm(FlaskForm):
    class Meta:
        csrf = False

    action = StringField("Action", validators=[Optional()])
    user = SelectField("User", coerce=int, validators=[Optional()])
    # the client is chosen with the client finder (by name); its id is what the URL carries
    client = StringField(
        "Client",
        # chosen with the client finder by name; at most 18 digits: a longer number is no
        # client's, and would overflow the query
        validators=[Optional(), Regexp(r"^[0-9]{0,18}$", message="Choose the client by name.")],
    )
    date_from = StringField(
        "From",
        widget=DateInput(),
        validators=[
            Optional(),
            Regexp(r"^\d{4}-\d{2}-\d{2}$", message="Use YYYY-MM-DD."),
            iso_date,
        ],
    )
    date_to = StringField(
        "To",
        widget=DateInput(),
        validators=[
            Optional(),
            Regexp(r"^\d{4}-\d{2}-\d{2}$", message="Use YYYY-MM-DD."),
            iso_date,
        ],
    )
