"""Letters of medical necessity on the client's record (owner and therapists): write a
draft from the template, sign it by typing the provider's name (the PDF is issued), and
the client downloads it from their Documents."""

from flask import flash, redirect, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from portal import access, audit, clock
from portal.access import roles_required
from portal.formutil import choices
from portal.htmx import render
from portal.models import Client, MedicalLetter, Provider
from portal.models.people import CLINICAL_ROLES
from portal.provider import bp
from portal.services import letters


class LetterForm(FlaskForm):
    provider = SelectField("Signing provider", coerce=int)
    diagnoses = StringField(
        "Diagnoses (ICD-10-CM)",
        validators=[DataRequired("Give at least one diagnosis code."), Length(max=200)],
        description="Billable codes, primary first, separated by commas: M54.50, M62.830",
    )
    referring_name = StringField("Referring physician", validators=[Optional(), Length(max=120)])
    referring_npi = StringField(
        "Referring physician's NPI", validators=[Optional(), Length(max=10)]
    )
    treatment_plan = TextAreaField(
        "Treatment plan", validators=[DataRequired("Describe the treatment."), Length(max=3000)]
    )
    frequency = StringField(
        "Frequency",
        validators=[DataRequired("Say how often."), Length(max=120)],
        description="e.g. once a week",
    )
    duration = StringField(
        "Duration",
        validators=[DataRequired("Say for how long."), Length(max=120)],
        description="e.g. 8 weeks",
    )
    expected_outcome = TextAreaField(
        "Expected outcome",
        validators=[DataRequired("Say what the treatment should achieve."), Length(max=3000)],
    )
    start_date = DateField("Valid from", validators=[DataRequired("Choose the first day.")])
    end_date = DateField("Valid until", validators=[DataRequired("Choose the last day.")])


class SignForm(FlaskForm):
    signature_name = StringField(
        "Type the provider's full name to sign",
        validators=[DataRequired("Type the name to sign."), Length(max=120)],
    )


def _providers(form):
    rows = access.scoped(Provider).where(Provider.active == True).order_by(Provider.last_name)  # noqa: E712
    form.provider.choices = choices([(p.id, p.display_name) for p in rows])


def _edit(client, letter=None):
    form = LetterForm(obj=letter if request.method == "GET" else None)
    _providers(form)
    if request.method == "GET" and letter is None:
        today = clock.local_date(clock.utcnow(), client.practice.tz)
        form.start_date.data = today
        form.provider.data = client.therapist_id or current_user.provider_id
        if current_user.provider_id:
            form.provider.data = current_user.provider_id
    if request.method == "GET" and letter is not None:
        form.provider.data = letter.provider_id
    status = 200
    if form.validate_on_submit():
        provider = access.get_or_404(Provider, form.provider.data)
        data = {name: getattr(form, name).data for name in letters.FIELDS}
        try:
            letter = letters.save_draft(client, provider, data, current_user, letter=letter)
        except letters.LetterError as exc:
            getattr(form, exc.field or "diagnoses").errors.append(str(exc))
            status = 400
        else:
            flash("Draft saved. Read it through, then sign it to issue it.", "success")
            return redirect(url_for("provider.letter_edit", letter_id=letter.id), 303)
    elif request.method == "POST":
        status = 400
    return render(
        "provider/letters/form.html",
        client=client,
        letter=letter,
        form=form,
        sign=SignForm(formdata=None),
        section="clients",
    ), status


@bp.route("/clients/<int:client_id>/letters/new", methods=["GET", "POST"])
@roles_required(*CLINICAL_ROLES)
def letter_new(client_id):
    return _edit(access.get_or_404(Client, client_id))


@bp.route("/letters/<int:letter_id>", methods=["GET", "POST"])
@roles_required(*CLINICAL_ROLES)
def letter_edit(letter_id):
    letter = access.get_or_404(MedicalLetter, letter_id, audit_action="letter.view")
    if letter.is_signed:
        return redirect(url_for("provider.document_download", document_id=letter.document_id))
    return _edit(Client.get_by_id(letter.client_id), letter)


@bp.route("/letters/<int:letter_id>/sign", methods=["POST"])
@roles_required(*CLINICAL_ROLES)
def letter_sign(letter_id):
    letter = access.get_or_404(MedicalLetter, letter_id)
    form = SignForm()
    if form.validate_on_submit():
        try:
            letters.sign(letter, form.signature_name.data, current_user)
        except letters.LetterError as exc:
            flash(str(exc), "error")
        else:
            flash("Signed and issued: the client finds it in their Documents.", "success")
            return redirect(
                url_for("provider.client_page", client_id=letter.client_id) + "#superbills", 303
            )
    else:
        flash("Type the provider's name to sign.", "error")
    audit.record("letter.sign_refused", obj=letter)
    return redirect(url_for("provider.letter_edit", letter_id=letter.id), 303)
