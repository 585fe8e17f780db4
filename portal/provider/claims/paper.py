"""Paper claims (CMS-1500 02/12): one claim's PDF, a batch of them as one PDF made by the
task queue, and the owner's calibration of data-only printing on pre-printed red forms.

The owner and the front desk bill; therapists and clients get 404 (audited), like every
claim route. A GET never issues anything: a PDF is issued by a POST, which redirects to the
stored document's download (the same bytes every time).
"""

import math

from flask import abort, flash, redirect, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import FloatField, HiddenField, RadioField, SelectMultipleField
from wtforms.validators import InputRequired, NumberRange
from wtforms.widgets import TextInput

from portal import audit, tasks
from portal.access import get_or_404, roles_required
from portal.formutil import choices
from portal.htmx import render
from portal.models import Claim, ClaimDocument, StoredDocument
from portal.models.claim_paper import MODE_DATA, MODE_FULL, MODE_LABELS
from portal.models.people import DESK_ROLES, OWNER_ROLES
from portal.provider import bp
from portal.provider.billing import stored_response
from portal.services.claims import cms1500, cms1500_batch, cms1500_pdf
from portal.services.claims.cms1500 import Cms1500Error
from portal.services.claims.data import settings_for
from portal.tasks import claims_paper as paper_tasks

LIST_LIMIT = 200  # claims listed for choosing; a payer's button prints all of them
RANGE = "Between -20 and 20 mm."
MODE_CHOICES = choices([(m, MODE_LABELS[m]) for m in (MODE_FULL, MODE_DATA)])


class ModeForm(FlaskForm):
    mode = RadioField("Print on", choices=MODE_CHOICES, default=MODE_FULL)


class BatchForm(FlaskForm):
    mode = RadioField("Print on", choices=MODE_CHOICES, default=MODE_FULL)
    payer_id = HiddenField()
    claim_id = SelectMultipleField("Claims", coerce=str, validate_choice=False)


class Millimetres(FloatField):
    """A length in millimetres: "1.5", "-2" or "1,5"; never NaN or infinity. A text box
    (with a decimal keypad on tablets): a number box would refuse "1,5" silently."""

    widget = TextInput()

    def process_formdata(self, valuelist):
        if not valuelist or not valuelist[0].strip():
            self.data = None
            return
        try:
            value = float(valuelist[0].strip().replace(",", "."))
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            self.data = None
            raise ValueError("Enter millimetres as a number, for example 1.5 or -2.")
        self.data = value


class OffsetsForm(FlaskForm):
    right = Millimetres(
        "Move right by (mm)",
        validators=[InputRequired("Enter a number, 0 for no move."), NumberRange(-20, 20, RANGE)],
        description="A negative number moves everything left.",
    )
    down = Millimetres(
        "Move down by (mm)",
        validators=[InputRequired("Enter a number, 0 for no move."), NumberRange(-20, 20, RANGE)],
        description="A negative number moves everything up.",
    )


# --- one claim ---------------------------------------------------------------------------------


def _claim_or_404(claim_id):
    return get_or_404(Claim, claim_id)


def paper_context(claim):
    """The paper form page's context: the claim and the PDFs issued for it."""
    issued = (
        ClaimDocument.select(ClaimDocument, StoredDocument.id, StoredDocument.filename)
        .join(StoredDocument)
        .where(ClaimDocument.claim == claim.id)
        .order_by(ClaimDocument.id.desc())
        .limit(10)
    )
    return {"claim": claim, "paper_issued": list(issued)}


@bp.route("/claims/<int:claim_id>/cms1500", methods=["GET", "POST"])
@roles_required(*DESK_ROLES)
def claim_cms1500(claim_id):
    claim = _claim_or_404(claim_id)
    if request.method == "GET":
        audit.record_view("claim.view", obj=claim)
        return render("provider/claims/cms1500.html", section="claims", **paper_context(claim))
    form = ModeForm()
    if not form.validate_on_submit():
        flash("Choose the full form or data only.", "error")
        return redirect(url_for("provider.claim_cms1500", claim_id=claim.id), 303)
    try:
        loaded = cms1500.load_claim(claim.id, current_user.practice_id)
        document = cms1500_pdf.issue(loaded, form.mode.data, user=current_user)
    except Cms1500Error as e:
        flash(str(e), "error")
        ctx = paper_context(claim)
        return render("provider/claims/cms1500.html", section="claims", **ctx), 409
    return redirect(
        url_for("provider.claim_cms1500_document", claim_id=claim.id, document_id=document.id),
        303,
    )


@bp.route("/claims/<int:claim_id>/cms1500/<int:document_id>")
@roles_required(*DESK_ROLES)
def claim_cms1500_document(claim_id, document_id):
    claim = _claim_or_404(claim_id)
    link = (
        ClaimDocument.select(ClaimDocument, StoredDocument)
        .join(StoredDocument)
        .where((ClaimDocument.claim == claim.id) & (ClaimDocument.document == document_id))
        .first()
    )
    if link is None:
        audit.record("access.denied", object_type="stored_document", object_id=document_id)
        abort(404)
    audit.record_view("claim.pdf_download", obj=claim, detail=link.mode)
    return stored_response(link.document)


# --- batches -----------------------------------------------------------------------------------


def _paper_page(form, status=200):
    claims = list(cms1500_batch.ready_claims(current_user.practice_id).limit(LIST_LIMIT + 1))
    audit.record_view("claims.paper_list")
    return render(
        "provider/claims/paper.html",
        section="claims",
        form=form,
        payers=cms1500_batch.ready_by_payer(current_user.practice_id),
        claims=claims[:LIST_LIMIT],
        more=len(claims) > LIST_LIMIT,
        jobs=cms1500_batch.recent_jobs(current_user.practice_id),
    ), status


@bp.route("/claims/paper")
@roles_required(*DESK_ROLES)
def claims_paper():
    return _paper_page(BatchForm())


@bp.route("/claims/paper/batch", methods=["POST"])
@roles_required(*DESK_ROLES)
def claims_paper_batch():
    form = BatchForm()
    if not form.validate_on_submit():
        form.form_errors.append("Choose the full form or data only, then the claims.")
        return _paper_page(form, 400)
    ids = form.claim_id.data or []
    if form.payer_id.data:
        try:
            payer_id = int(form.payer_id.data)
        except ValueError:
            payer_id = -1
        ids = [c.id for c in cms1500_batch.ready_claims(current_user.practice_id, payer_id)]
        if not ids:
            form.form_errors.append("That payer has no claims ready to print.")
            return _paper_page(form, 400)
    try:
        job, parts = cms1500_batch.start(
            current_user.practice_id, current_user._get_current_object(), ids, form.mode.data
        )
    except cms1500_batch.BatchError as e:
        form.form_errors.append(str(e))
        return _paper_page(form, 400)
    for first, last in parts:  # the job and its claims are committed: hand them over
        tasks.enqueue(paper_tasks.render_claim_pdfs, job.id, first, last)
    return redirect(url_for("provider.job", job_id=job.id), 303)


# --- calibration (owner) -----------------------------------------------------------------------


@bp.route("/settings/claims/printing", methods=["GET", "POST"])
@roles_required(*OWNER_ROLES)
def claim_print_settings():
    settings = settings_for(current_user.practice_id)
    x, y = cms1500_pdf.offsets(settings)
    form = OffsetsForm(data={"right": x, "down": y} if request.method == "GET" else None)
    status = 200
    if form.validate_on_submit():
        cms1500_pdf.save_offsets(
            current_user.practice_id, form.right.data, form.down.data, user=current_user
        )
        flash("Saved. Print the test page on a red form to check.", "success")
        return redirect(url_for("provider.claim_print_settings"), 303)
    if request.method == "POST":
        status = 400
    return render(
        "owner/claim_printing.html", form=form, offsets=(x, y), section="practice_settings"
    ), status


@bp.route("/settings/claims/printing/test-page")
@roles_required(*OWNER_ROLES)
def claim_print_test_page():
    settings = settings_for(current_user.practice_id)
    drawn = request.args.get("form") == "drawn"
    data = cms1500_pdf.calibration_pdf(settings, drawn=drawn)
    name = "cms1500-alignment-preview.pdf" if drawn else "cms1500-alignment-test.pdf"
    return (
        data,
        200,
        {
            "Content-Type": "application/pdf",
            "Content-Disposition": f'inline; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )
