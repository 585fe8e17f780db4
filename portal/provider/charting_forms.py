"""The forms of the chart-note pages (portal/provider/charting.py, charting_settings.py),
the note form filled in for a GET (`prefill`) and read into the service's input
(`note_input`), and the body diagram's attributes (a template global)."""

from flask_login import current_user
from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from portal import clock
from portal.formutil import choices
from portal.inputs import int_arg
from portal.models import ROLE_OWNER, Appointment
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
    # the draft's version the form was opened on (services.charting.save_note)
    version = HiddenField()


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


# --- the note form: filled in, read back ------------------------------------------------------


def note_input(form, minutes, dx_codes, template_id):
    pain_before, _ = rules.parse_pain(form.pain_before.data)
    pain_after, _ = rules.parse_pain(form.pain_after.data)
    return svc.NoteInput(
        visit_date=form.visit_date.data,
        provider_id=form.provider.data,
        appointment_id=form.appointment.data or None,
        template_id=template_id,
        subjective=(form.subjective.data or "").strip(),
        objective=(form.objective.data or "").strip(),
        assessment=(form.assessment.data or "").strip(),
        plan=(form.plan.data or "").strip(),
        pain_before=pain_before,
        pain_after=pain_after,
        techniques=rules.join_techniques(form.techniques.data or [], form.techniques_other.data),
        regions=list(form.regions.data or []),
        minutes=minutes,
        diagnoses=dx_codes,
    )


def prefill(form, client, note, template):
    """A GET of the form: a new note from the template (and its appointment, when asked),
    or the draft as saved. Returns the note's details."""
    own_provider = current_user.provider_id
    if note is None:
        type_minutes = []
        appt_id = int_arg("appointment", 0)
        if appt_id and appt_id in {c.value for c in form.appointment.choices}:
            form.appointment.data = appt_id
            appt = Appointment.get_by_id(appt_id)
            form.visit_date.data = clock.local_date(appt.starts_at, current_user.practice.tz)
            form.provider.data = appt.provider_id
            # started from the visit: its type's minutes, to be corrected as given
            type_minutes = [(c.cpt_code, c.minutes) for c in appt.appointment_type.default_codes]
        else:
            form.visit_date.data = clock.today(current_user.practice.tz)
            form.provider.data = own_provider or client.therapist_id or 0
        if current_user.role != ROLE_OWNER:
            form.provider.data = own_provider
        for name in rules.SOAP_FIELDS:
            getattr(form, name).data = getattr(template, name)
        return {"regions": [], "minutes": type_minutes, "diagnoses": []}
    details = svc.note_details(note)
    form.visit_date.data = note.visit_date
    for name in rules.SOAP_FIELDS:
        getattr(form, name).data = getattr(note, name)
    form.appointment.data = note.appointment_id or 0
    form.provider.data = note.provider_id
    form.pain_before.data = "" if note.pain_before is None else str(note.pain_before)
    form.pain_after.data = "" if note.pain_after is None else str(note.pain_after)
    chosen = note.technique_list
    known = template.technique_list if template else []
    form.techniques.data = [t for t in chosen if t in known]
    form.techniques_other.data = ", ".join(t for t in chosen if t not in known)
    form.regions.data = details["regions"]
    form.version.data = details["version"]
    return details


# --- a refused save: the stored draft beside what was typed -----------------------------------

_LABELS = {
    "minutes": "Minutes per code",
    "diagnoses": "Diagnosis codes",
}


def _shown(form, name, value):
    """One field's value as plain text, as the form shows it."""
    if name in ("provider", "appointment"):
        labels = {c.value: c.label for c in getattr(form, name).choices}
        return labels.get(value or 0, f"another {name}")
    if value is None or value in ("", [], {}):
        return "—"
    if name == "visit_date":
        return f"{value:%a %d %b %Y}"
    if name == "techniques":
        return ", ".join(rules.lines(value))
    if name == "regions":
        return ", ".join(rules.REGION_LABELS.get(r, r) for r in value)
    if name == "minutes":
        return ", ".join(f"{code}: {m} min" for code, m in sorted(value.items()))
    if name == "diagnoses":
        return ", ".join(value)
    return str(value)


def conflict_rows(form, differences):
    """[(label, stored text, typed text)] for svc.draft_differences: the conflict page puts
    them side by side, field by field, for the person to merge by hand."""
    rows = []
    for name, stored, typed in differences:
        label = _LABELS.get(name) or getattr(form, name).label.text
        rows.append((label, _shown(form, name, stored), _shown(form, name, typed)))
    return rows
