"""Payer payments from 835 files: upload one (or import the demo's example), the list of
remittances, a remittance's page with what each claim got, and the lines that matched no
claim: match one to a claim by its patient control number, or set it aside with a note.
Owner and front desk. The same payment twice is refused with a clear message (409)."""

from flask import Response, flash, redirect, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from portal import audit
from portal.access import get_or_404, roles_required, scoped
from portal.formutil import CsrfForm
from portal.htmx import render
from portal.inputs import page_arg
from portal.models.billing import StoredDocument
from portal.models.claims import Claim, Remittance, RemittanceClaim
from portal.models.people import DESK_ROLES
from portal.provider import bp
from portal.services.claims import remittances as service
from portal.services.claims import unmatched as by_hand
from portal.services.claims.posting import PostingError

PAGE = 50
EXAMPLE_TITLE = "Example 835 remittance (demo)"


class UploadForm(FlaskForm):
    file = FileField(
        "835 file",
        validators=[FileRequired("Choose the 835 file the payer or clearinghouse sent.")],
        description="The electronic remittance advice (ERA), as a .835, .x12 or .txt file.",
    )


class MatchForm(FlaskForm):
    pcn = StringField(
        "Claim's patient control number",
        validators=[DataRequired("Enter the claim's patient control number."), Length(max=40)],
        description="As on the claim page (box 26 of the CMS-1500).",
    )


class DismissForm(FlaskForm):
    note = StringField(
        "Why no posting is needed",
        validators=[DataRequired("Say why this payment needs no posting."), Length(max=200)],
    )


def example_document(practice_id):
    """The demo practice's example 835, kept by the demo loader (None elsewhere)."""
    return (
        StoredDocument.select()
        .where(
            (StoredDocument.practice == practice_id)
            & (StoredDocument.kind == "other")
            & (StoredDocument.title == EXAMPLE_TITLE)
        )
        .first()
    )


def _list_page(form=None, status=200):
    practice_id = current_user.practice_id
    page = page_arg()
    rows = service.remittances_for(practice_id, PAGE + 1, (page - 1) * PAGE)
    example = example_document(practice_id)
    imported = (
        example is not None
        and Remittance.select()
        .where((Remittance.practice == practice_id) & (Remittance.sha256 == example.sha256))
        .exists()
    )
    return (
        render(
            "provider/claims/remittances.html",
            rows=rows[:PAGE],
            has_next=len(rows) > PAGE,
            page=page,
            form=form or UploadForm(),
            example=example if not imported else None,
            example_form=CsrfForm(),
            unmatched=len(by_hand.unmatched_lines(practice_id)),
        ),
        status,
    )


def _imported(result):
    posted, unmatched = len(result.posted), len(result.unmatched)
    words = f"Posted {posted} claim{'s' if posted != 1 else ''}"
    if result.invoices:
        n = len(result.invoices)
        words += f"; {n} client invoice{'s' if n != 1 else ''} for their share"
    if unmatched:
        words += (
            f"; {unmatched} payment{'s' if unmatched != 1 else ''} matched no claim (see below)"
        )
    if any(r.provider_adjustment_cents for r in result.remittances):
        words += "; provider-level adjustments (PLB) belong to no claim: see the payment"
    flash(words + ".", "success")
    return redirect(url_for("provider.remittance", remittance_id=result.remittances[0].id))


@bp.route("/claims/remittances", methods=["GET", "POST"])
@roles_required(*DESK_ROLES)
def remittances():
    if request.method == "GET":
        return _list_page()
    form = UploadForm()
    if not form.validate_on_submit():
        return _list_page(form, 400)
    data = form.file.data.read()
    try:
        result = service.import_835(
            current_user.practice_id,
            data,
            source="upload",
            filename=(form.file.data.filename or "")[:200],
            user=current_user,
        )
    except (service.RemittanceError, PostingError) as exc:
        form.file.errors.append(str(exc))
        return _list_page(form, 409 if isinstance(exc, service.AlreadyImported) else 400)
    return _imported(result)


@bp.route("/claims/remittances/example", methods=["POST"])
@roles_required(*DESK_ROLES)
def remittance_example():
    form = CsrfForm()
    doc = example_document(current_user.practice_id)
    if doc is None or not form.validate_on_submit():
        flash("There is no example 835 to import here.", "error")
        return redirect(url_for("provider.remittances"))
    try:
        result = service.import_835(current_user.practice_id, bytes(doc.data), source="demo",
                                    filename=doc.filename, user=current_user)  # fmt: skip
    except (service.RemittanceError, PostingError) as exc:
        flash(str(exc), "error")
        return redirect(url_for("provider.remittances"))
    return _imported(result)


@bp.route("/claims/remittances/<int:remittance_id>")
@roles_required(*DESK_ROLES)
def remittance(remittance_id):
    remit = get_or_404(Remittance, remittance_id, audit_action="remittance.view")
    lines = service.lines_of(remit)
    claims = {
        c.id: c
        for c in scoped(Claim).where(Claim.id.in_([ln.claim_id for ln in lines if ln.claim_id]))
    }
    return render(
        "provider/claims/remittance.html",
        remit=remit,
        provider_adjustments=service.provider_adjustments(remit),
        lines=lines,
        claims=claims,
        match_form=MatchForm(),
        dismiss_form=DismissForm(),
        errors=None,
    )


@bp.route("/claims/remittances/<int:remittance_id>/file")
@roles_required(*DESK_ROLES)
def remittance_file(remittance_id):
    remit = get_or_404(Remittance, remittance_id)
    doc = StoredDocument.get_by_id(remit.document_id)
    audit.record("remittance.download", obj=remit)
    return Response(
        bytes(doc.data),
        mimetype="application/edi-x12",
        headers={
            "Content-Disposition": f'attachment; filename="835-{remit.id}.x12"',
            "Cache-Control": "no-store",
        },
    )


def _line_page(line, match_form=None, dismiss_form=None, status=400, error=""):
    remit = Remittance.get_by_id(line.remittance_id)
    lines = service.lines_of(remit)
    claims = {
        c.id: c
        for c in scoped(Claim).where(Claim.id.in_([ln.claim_id for ln in lines if ln.claim_id]))
    }
    return (
        render(
            "provider/claims/remittance.html",
            remit=remit,
            provider_adjustments=service.provider_adjustments(remit),
            lines=lines,
            claims=claims,
            match_form=match_form or MatchForm(formdata=None),
            dismiss_form=dismiss_form or DismissForm(formdata=None),
            errors=line.id,
            error=error,
        ),
        status,
    )


@bp.route("/claims/remittances/lines/<int:line_id>/match", methods=["POST"])
@roles_required(*DESK_ROLES)
def remittance_line_match(line_id):
    line = get_or_404(RemittanceClaim, line_id)
    form = MatchForm()
    if not form.validate_on_submit():
        return _line_page(line, match_form=form)
    pcn = form.pcn.data.strip().upper()
    claim = scoped(Claim).where(Claim.patient_control_number == pcn).first()
    if claim is None:
        form.pcn.errors.append(f"No claim of the practice has the number {pcn}.")
        return _line_page(line, match_form=form)
    try:
        by_hand.match_line(line, claim, user=current_user)
    except (service.RemittanceError, PostingError) as exc:
        form.pcn.errors.append(str(exc))
        return _line_page(line, match_form=form, status=409, error=str(exc))
    flash(f"The payment is posted to claim {claim.patient_control_number}.", "success")
    return redirect(url_for("provider.remittance", remittance_id=line.remittance_id))


@bp.route("/claims/remittances/lines/<int:line_id>/dismiss", methods=["POST"])
@roles_required(*DESK_ROLES)
def remittance_line_dismiss(line_id):
    line = get_or_404(RemittanceClaim, line_id)
    form = DismissForm()
    if not form.validate_on_submit():
        return _line_page(line, dismiss_form=form)
    try:
        by_hand.dismiss_line(line, form.note.data, user=current_user)
    except service.RemittanceError as exc:
        form.note.errors.append(str(exc))
        return _line_page(line, dismiss_form=form, status=409, error=str(exc))
    flash("The payment is set aside with your note.", "success")
    return redirect(url_for("provider.remittance", remittance_id=line.remittance_id))
