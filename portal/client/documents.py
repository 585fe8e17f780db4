"""Client portal: documents. Superbills (every version), letters of medical necessity,
receipts, invoices and credit notes, signed forms; making a superbill from paid visits;
downloading everything as one ZIP."""

from flask import Response, flash, redirect, request, url_for
from flask_login import current_user

from portal import audit, clock
from portal.access import scoped
from portal.client import bp
from portal.formutil import CsrfForm
from portal.htmx import render
from portal.models import IntakeSubmission, MedicalLetter, StoredDocument
from portal.models.documents import LETTER_SIGNED
from portal.provider.superbill_forms import chosen_visits, range_from
from portal.services import client_export, superbills

LISTED_KINDS = ("receipt", "invoice", "credit_note")


def _today():
    return clock.local_date(clock.utcnow(), current_user.practice.tz)


@bp.route("/documents")
def documents():
    client_id = current_user.client_id
    docs = list(
        scoped(StoredDocument)
        .select(
            StoredDocument.id,
            StoredDocument.kind,
            StoredDocument.title,
            StoredDocument.created_at,
            StoredDocument.size_bytes,
        )
        .where(StoredDocument.kind.in_(LISTED_KINDS))
        .order_by(StoredDocument.id.desc())
        .limit(200)
    )
    letters = list(
        scoped(MedicalLetter)
        .where(MedicalLetter.status == LETTER_SIGNED)
        .order_by(MedicalLetter.end_date.desc())
    )
    forms = list(
        scoped(IntakeSubmission)
        .select(IntakeSubmission.id, IntakeSubmission.form_title, IntakeSubmission.signed_at)
        .order_by(IntakeSubmission.signed_at.desc())
    )
    audit.record_view("document.list", detail="portal")
    return render(
        "client/documents/list.html",
        bills=superbills.for_client(client_id),
        receipts=[d for d in docs if d.kind == "receipt"],
        invoices=[d for d in docs if d.kind != "receipt"],
        letters=letters,
        forms=forms,
        today=_today(),
        section="documents",
    )


@bp.route("/documents/superbill", methods=["GET", "POST"])
def superbill_new():
    """Make a superbill: choose dates, tick paid visits, issue (a stored PDF)."""
    client = current_user.client
    source = request.form if request.method == "POST" else request.args
    start, end, form = range_from(source, _today())
    status = 400 if form.refused else 200
    error = None  # about the visits chosen (a refused range is said by its field)
    if request.method == "POST" and not form.refused:
        status = 400
        if not CsrfForm().validate_on_submit():
            error = "The form expired: try again."
        else:
            try:
                bill = superbills.issue(
                    client, chosen_visits(), start, end, user=current_user, source="client"
                )
            except superbills.SuperbillError as exc:
                error = str(exc)
            else:
                flash(f"Your superbill {bill.number} is ready below.", "success")
                return redirect(url_for("client.documents"), 303)
    visits = [] if form.refused else superbills.candidates(client, start, end)
    audit.record_view("superbill.candidates", obj=client)
    return render(
        "client/documents/superbill.html",
        form=form,
        error=error,
        visits=visits,
        start=start,
        end=end,
        section="documents",
    ), status


@bp.route("/documents/export")
def export():
    """All the client's records as one ZIP, built now and never stored (audited)."""
    name, data = client_export.build_zip(current_user.client, user=current_user)
    return Response(
        data,
        headers=[
            ("Content-Type", "application/zip"),
            ("Content-Disposition", f'attachment; filename="{name}"'),
            ("Cache-Control", "no-store"),
        ],
    )
