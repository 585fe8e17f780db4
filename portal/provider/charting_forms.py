"""The forms of the chart-note pages (portal/provider/charting.py, charting_settings.py),
and the body diagram's attributes (a template global)."""

from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import (
    BooleanField,
    DateField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from portal.formutil import choices
from portal.provider import bp
from portal.rules import charting as rules
from portal.services import charting as svc

TEXT_MAX = 20_000
PAIN_CHOICES = [("", "—")] + [(str(i), str(i)) for i in range(rules.PAIN_MIN, rules.PAIN_MAX + 1)]


class NoteForm(FlaskForm):
    visit_date = DateField("Visit date", validators=[InputRequired("Enter the visit date.")])
    provider = SelectField("Therapist", coerce=int)
    appointment = SelectField("Appointment", coerce=int, validators=[Optional()])
    subjective = TextAreaField(
        "Subjective",
        validators=[Length(max=TEXT_MAX)],
        description="What the client reports: complaint, pain, history, goals.",
    )
    objective = TextAreaField(
        "Objective",
        validators=[Length(max=TEXT_MAX)],
        description="What you observe and measure: posture, palpation, range of motion.",
    )
    assessment = TextAreaField(
        "Assessment",
        validators=[Length(max=TEXT_MAX)],
        description="Response to treatment and progress toward goals.",
    )
    plan = TextAreaField(
        "Plan",
        validators=[Length(max=TEXT_MAX)],
        description="Frequency, home care, focus for next time, referrals.",
    )
    pain_before = SelectField("Pain before treatment (0-10)", choices=choices(PAIN_CHOICES))
    pain_after = SelectField("Pain after treatment (0-10)", choices=choices(PAIN_CHOICES))
    techniques = SelectMultipleField("Techniques", validate_choice=False)
    techniques_other = StringField(
        "Other techniques",
        validators=[Optional(), Length(max=500)],
        description="Separate with commas.",
    )
    regions = SelectMultipleField(
        "Body regions treated", choices=choices((r, lbl) for r, lbl, _ in rules.REGIONS)
    )
    dx_new = StringField(
        "Add a diagnosis",
        validators=[Optional(), Length(max=200)],
        description="Type words (low back) or a code (M54.50). Without JavaScript, "
        "type codes separated by commas and save.",
    )


class TemplateForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired("Name the template."), Length(max=120)])
    subjective = TextAreaField("Subjective", validators=[Length(max=TEXT_MAX)])
    objective = TextAreaField("Objective", validators=[Length(max=TEXT_MAX)])
    assessment = TextAreaField("Assessment", validators=[Length(max=TEXT_MAX)])
    plan = TextAreaField("Plan", validators=[Length(max=TEXT_MAX)])
    techniques = TextAreaField(
        "Techniques to tick",
        validators=[Length(max=5000)],
        description="One per line. They appear as tick boxes on the note.",
    )
    is_default = BooleanField("Use this template for new notes")
    active = BooleanField("Active", default=True)


class CptForm(FlaskForm):
    code = StringField(
        "Code",
        validators=[DataRequired("Enter a code."), Length(max=5)],
        description="5 characters: a CPT code like 97112, or HCPCS like G0283.",
    )
    description = StringField(
        "Description", validators=[DataRequired("Describe the code."), Length(max=200)]
    )


class AddendumForm(FlaskForm):
    body = TextAreaField(
        "Addendum",
        validators=[DataRequired("Write the addendum's text."), Length(max=svc.MAX_ADDENDUM)],
        description="Added below the signed note with your name and the time. "
        "It cannot be changed afterwards.",
    )


class Icd10SearchForm(FlaskForm):
    q = StringField(
        "Search ICD-10-CM",
        validators=[DataRequired("Type a code or words."), Length(max=200)],
        description="A code or its start (M54.5) or words (low back pain).",
    )


class FavouriteForm(FlaskForm):
    code = StringField("Code", validators=[DataRequired("Enter a code."), Length(max=12)])


_REGION_STYLE = 'stroke="#6b7c86" stroke-width="1.2"'


@bp.app_template_global()
def body_region_attrs(selected):
    """{region: its SVG attributes} for the body diagram (templates/provider/charting/
    _body_svg.html): one call for the whole figure, marked `on` where selected."""
    out = {}
    for region, _label, _view in rules.REGIONS:
        on = region in selected
        out[region] = Markup(
            f'data-region="{region}" class="region{" on" if on else ""}" '
            f'fill="{"#4f9d94" if on else "#eef2f4"}" {_REGION_STYLE}'
        )
    return out
