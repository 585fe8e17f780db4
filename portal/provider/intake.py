"""Intake in the provider dashboard: signed submissions (clinical staff), the front-desk
tablet (a client fills in a form on the practice's tablet; staff get it back with their
password) and the intake form editor (owner)."""

import io

from flask import Response, flash, redirect, render_template, request, session, url_for
from flask_login import current_user

from portal import access, audit
from portal.formutil import choices
from portal.models import (
    CLINICAL_ROLES,
    ROLE_OWNER,
    Client,
    IntakeField,
    IntakeForm,
    IntakeSubmission,
)
from portal.provider import bp
from portal.provider.clients_forms import (
    IntakeFieldForm,
    IntakeFormForm,
    SignatureForm,
    TabletReturnForm,
    TabletStartForm,
)
from portal.services import intake as intake_svc
from portal.sessions import lockout_minutes, note_attempt, throttle_message, verify_password

# --- tablet lock: while a client holds the front-desk tablet only the tablet pages open --
# Every route of the app, not only the dashboard: the staff user's own /account pages (TOTP
# secret, password), the client portal, the login page and logout stay out of the client's
# reach until a staff password is entered on the return form.


TABLET_ENDPOINTS = {"provider.tablet", "provider.tablet_return", "static"}


@bp.before_app_request
def _tablet_lock():
    if session.get("tablet") and request.endpoint not in TABLET_ENDPOINTS:
        return redirect(url_for("provider.tablet"))
    return None


# --- intake submissions (clinical: owner and therapists) -------------------------------


@bp.route("/intake/submissions/<int:submission_id>")
@access.roles_required(*CLINICAL_ROLES)
def intake_submission(submission_id):
    sub = access.get_or_404(IntakeSubmission, submission_id, audit_action="intake.view")
    return render_template(
        "provider/clients/submission.html", sub=sub, client=sub.client, section="clients"
    )


@bp.route("/intake/submissions/<int:submission_id>/pdf")
@access.roles_required(*CLINICAL_ROLES)
def intake_submission_pdf(submission_id):
    sub = access.get_or_404(IntakeSubmission, submission_id)
    audit.record("intake.pdf", obj=sub)
    return intake_pdf_response(sub)


def intake_pdf_response(sub):
    body = intake_svc.render_pdf(sub)
    resp = Response(io.BytesIO(body).getvalue(), mimetype="application/pdf")
    resp.headers["Content-Disposition"] = f'attachment; filename="intake-{sub.id}.pdf"'
    resp.headers["Cache-Control"] = "no-store, private"
    return resp


# --- the front-desk tablet ----------------------------------------------------------------


def tablet_start_form(offered):
    """The form that starts tablet mode; `offered`: [(form id, title)]."""
    form = TabletStartForm(formdata=None)
    form.form.choices = choices(offered)
    return form


@bp.route("/clients/<int:client_id>/tablet", methods=["POST"])
def tablet_start(client_id):
    client = access.get_or_404(Client, client_id)
    form = TabletStartForm()
    form.form.choices = choices(
        [(f.id, f.title) for f in intake_svc.offered_forms(client.practice_id)]
    )
    if not form.validate_on_submit():
        flash("Choose a form for the client to fill in.", "error")
        return redirect(url_for("provider.client_page", client_id=client.id))
    session["tablet"] = {"client_id": client.id, "form_id": form.form.data, "done": False}
    audit.record("intake.tablet_start", obj=client, detail=f"form {form.form.data}")
    return redirect(url_for("provider.tablet"))


def _tablet_state():
    state = session.get("tablet")
    if not state:
        return None, None, None
    client = access.get_or_404(Client, state["client_id"])
    form_obj = access.get_or_404(IntakeForm, state["form_id"])
    return state, client, form_obj


@bp.route("/tablet", methods=["GET", "POST"])
def tablet():
    state, client, form_obj = _tablet_state()
    if state is None:
        return redirect(url_for("provider.clients"))
    if state.get("done"):
        return render_template(
            "provider/clients/tablet_done.html", form=TabletReturnForm(formdata=None)
        )
    sign = SignatureForm()
    answers, errors = {}, {}
    if request.method == "POST":
        answers, errors = intake_svc.read_answers(form_obj, request.form)
        if sign.validate_on_submit() and not errors:
            intake_svc.submit(
                form_obj, client, answers, sign.signature_name.data, current_user, via="tablet"
            )
            session["tablet"] = dict(state, done=True)
            return redirect(url_for("provider.tablet"))
    return render_template(
        "provider/clients/tablet.html",
        form_obj=form_obj,
        fields=list(form_obj.active_fields()),
        client=client,
        sign=sign,
        answers=answers,
        errors=errors,
    ), (400 if request.method == "POST" else 200)


@bp.route("/tablet/return", methods=["GET", "POST"])
def tablet_return():
    form = TabletReturnForm()
    status = 400 if request.method == "POST" else 200
    if form.validate_on_submit():
        user = current_user._get_current_object()
        # Wrong staff passwords count toward the login throttling of that account.
        minutes = lockout_minutes(user.email, audit.client_ip())
        if minutes:
            form.password.errors = [throttle_message(minutes)]
            audit.record("login.throttled", detail="tablet return")
            status = 429
        elif verify_password(user, form.password.data):
            note_attempt(user.email, True)
            state = session.pop("tablet", None) or {}
            audit.record("intake.tablet_end")
            flash("The tablet is back in staff mode.", "success")
            if state.get("client_id"):
                return redirect(url_for("provider.client_page", client_id=state["client_id"]))
            return redirect(url_for("provider.clients"))
        else:
            note_attempt(user.email, False)
            form.password.errors = ["That password is not right."]
            audit.record("intake.tablet_end_failed")
    if not session.get("tablet"):
        return redirect(url_for("provider.clients"))
    return render_template("provider/clients/tablet_done.html", form=form), status


# --- the intake form editor (owner) -------------------------------------------------------


@bp.route("/intake/forms")
@access.roles_required(ROLE_OWNER)
def intake_forms():
    forms = access.scoped(IntakeForm).order_by(IntakeForm.position, IntakeForm.id)
    return render_template("provider/clients/intake_forms.html", forms=forms, section="clients")


@bp.route("/intake/forms/new", methods=["GET", "POST"])
@access.roles_required(ROLE_OWNER)
def intake_form_new():
    form = IntakeFormForm()
    if form.validate_on_submit():
        obj = intake_svc.save_form(
            IntakeForm(practice=current_user.practice_id), _intake_form_data(form)
        )
        flash("Form created. Add its questions below.", "success")
        return redirect(url_for("provider.intake_form_edit", form_id=obj.id))
    return render_template(
        "provider/clients/intake_form.html",
        form=form,
        obj=None,
        field_form=None,
        section="clients",
    ), (400 if request.method == "POST" else 200)


@bp.route("/intake/forms/default", methods=["POST"])
@access.roles_required(ROLE_OWNER)
def intake_form_default():
    """One click: a health-history form with sensible questions, to edit afterwards."""
    obj = intake_svc.create_default_form(current_user.practice_id)
    flash("A health-history form was created. Edit its questions as you like.", "success")
    return redirect(url_for("provider.intake_form_edit", form_id=obj.id))


def _intake_form_data(form):
    return {
        "title": form.title.data.strip(),
        "kind": form.kind.data,
        "description": form.description.data or "",
        "position": form.position.data or 0,
        "active": form.active.data,
    }


def _field_data(form):
    return {
        "label": form.label.data.strip(),
        "field_type": form.field_type.data,
        "choices": "\n".join(
            c.strip() for c in (form.choices_text.data or "").splitlines() if c.strip()
        ),
        "help_text": form.help_text.data or "",
        "required": form.required.data,
        "flag": form.flag.data,
        "flag_label": form.flag_label.data or "",
        "position": form.position.data or 0,
        "active": form.active.data,
    }


@bp.route("/intake/forms/<int:form_id>", methods=["GET", "POST"])
@access.roles_required(ROLE_OWNER)
def intake_form_edit(form_id):
    obj = access.get_or_404(IntakeForm, form_id)
    form = IntakeFormForm(obj=obj)
    if form.validate_on_submit():
        intake_svc.save_form(obj, _intake_form_data(form))
        flash("Form saved.", "success")
        return redirect(url_for("provider.intake_form_edit", form_id=obj.id))
    field_form = IntakeFieldForm(formdata=None)
    field_form.position.data = (obj.fields.count() + 1) * 10
    return render_template(
        "provider/clients/intake_form.html",
        form=form,
        obj=obj,
        fields=list(obj.fields.order_by(IntakeField.position, IntakeField.id)),
        field_form=field_form,
        section="clients",
    ), (400 if request.method == "POST" else 200)


@bp.route("/intake/forms/<int:form_id>/fields/new", methods=["POST"])
@access.roles_required(ROLE_OWNER)
def intake_field_new(form_id):
    obj = access.get_or_404(IntakeForm, form_id)
    field_form = IntakeFieldForm()
    if field_form.validate_on_submit():
        intake_svc.save_field(
            IntakeField(practice=obj.practice_id, form=obj), _field_data(field_form)
        )
        flash("Question added.", "success")
        return redirect(url_for("provider.intake_form_edit", form_id=obj.id) + "#questions")
    return render_template(
        "provider/clients/intake_form.html",
        form=IntakeFormForm(obj=obj, formdata=None),
        obj=obj,
        fields=list(obj.fields.order_by(IntakeField.position, IntakeField.id)),
        field_form=field_form,
        section="clients",
    ), 400


@bp.route("/intake/fields/<int:field_id>/edit", methods=["GET", "POST"])
@access.roles_required(ROLE_OWNER)
def intake_field_edit(field_id):
    field_obj = access.get_or_404(IntakeField, field_id)
    form = IntakeFieldForm(obj=field_obj)
    if request.method == "GET":
        form.choices_text.data = field_obj.choices
    if form.validate_on_submit():
        intake_svc.save_field(field_obj, _field_data(form))
        flash("Question saved.", "success")
        return redirect(url_for("provider.intake_form_edit", form_id=field_obj.form_id))
    return render_template(
        "provider/clients/intake_field.html", form=form, field_obj=field_obj, section="clients"
    ), (400 if request.method == "POST" else 200)
