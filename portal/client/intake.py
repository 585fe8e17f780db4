"""Client portal: forms. The client fills in and signs the practice's intake forms and
downloads a PDF copy of what they signed."""

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from portal import access, audit
from portal.client import bp
from portal.models import IntakeForm, IntakeSubmission
from portal.provider.clients_forms import SignatureForm
from portal.provider.intake import intake_pdf_response
from portal.services import intake as intake_svc


@bp.route("/intake")
def intake():
    client = current_user.client
    forms = intake_svc.offered_forms(current_user.practice_id)
    subs = list(access.scoped(IntakeSubmission).order_by(IntakeSubmission.signed_at.desc()))
    signed = {}
    for s in subs:
        signed.setdefault(s.form_id, s)
    audit.record("intake.list", client=client)
    return render_template(
        "client/intake.html", forms=forms, subs=subs, signed=signed, section="intake"
    )


@bp.route("/intake/<int:form_id>", methods=["GET", "POST"])
def intake_fill(form_id):
    form_obj = access.get_or_404(
        IntakeForm,
        form_id,
        query=IntakeForm.select().where(IntakeForm.active == True),  # noqa: E712
    )
    client = current_user.client
    sign = SignatureForm()
    answers, errors = {}, {}
    if request.method == "POST":
        answers, errors = intake_svc.read_answers(form_obj, request.form)
        if sign.validate_on_submit() and not errors:
            intake_svc.submit(form_obj, client, answers, sign.signature_name.data, current_user)
            flash(f"Thank you: “{form_obj.title}” is signed and sent to the practice.", "success")
            return redirect(url_for("client.intake"))
    return render_template(
        "client/intake_fill.html",
        form_obj=form_obj,
        fields=list(form_obj.active_fields()),
        client=client,
        sign=sign,
        answers=answers,
        errors=errors,
        section="intake",
    ), (400 if request.method == "POST" else 200)


@bp.route("/intake/submissions/<int:submission_id>/pdf")
def intake_pdf(submission_id):
    sub = access.get_or_404(IntakeSubmission, submission_id)
    audit.record("intake.pdf", obj=sub)
    return intake_pdf_response(sub)
