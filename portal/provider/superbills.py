"""Superbills on the client's record (any staff): the list with every version, issuing
one from chosen paid visits, a correction as a new version, and e-mailing a document to
the client as a link to the portal. Letters of medical necessity show here for clinical
staff (portal/provider/letters.py)."""

from flask import flash, redirect, request, url_for
from flask_login import current_user

from portal import access, audit, clock
from portal.formutil import CsrfForm
from portal.htmx import render
from portal.models import Client, MedicalLetter, StoredDocument, Superbill
from portal.models.people import CLINICAL_ROLES
from portal.provider import bp
from portal.provider.superbill_forms import CorrectionForm, chosen_visits, range_from
from portal.services import documents, superbills


def _today(practice):
    return clock.local_date(clock.utcnow(), practice.tz)


@bp.route("/clients/<int:client_id>/superbills")
def client_superbills(client_id):
    """The client page's section: superbills (every version) and letters."""
    client = access.get_or_404(Client, client_id, audit_action="superbill.list")
    user = current_user._get_current_object()
    letters = []
    if user.role in CLINICAL_ROLES:
        letters = list(
            access.scoped(MedicalLetter)
            .where(MedicalLetter.client == client.id)
            .order_by(MedicalLetter.id.desc())
        )
    return render(
        "provider/superbills/section.html",
        "client_superbills",
        client=client,
        bills=superbills.for_client(client.id),
        letters=letters,
        today=_today(client.practice),
        send_form=CsrfForm(formdata=None),
        section="clients",
    )


@bp.route("/clients/<int:client_id>/superbills/new", methods=["GET", "POST"])
def superbill_new(client_id):
    client = access.get_or_404(Client, client_id)
    source = request.form if request.method == "POST" else request.args
    start, end, form = range_from(source, _today(client.practice))
    status = 400 if form.refused else 200
    error = None  # about the visits chosen (a refused range is said by its field)
    if request.method == "POST" and not form.refused:
        status = 400
        if not CsrfForm().validate_on_submit():
            error = "The form expired: try again."
        else:
            try:
                bill = superbills.issue(
                    client, chosen_visits(), start, end, user=current_user, source="staff"
                )
            except superbills.SuperbillError as exc:
                error = str(exc)
            else:
                flash(f"Superbill {bill.number} issued.", "success")
                return redirect(
                    url_for("provider.client_page", client_id=client.id) + "#superbills", 303
                )
    visits = [] if form.refused else _visits(client, start, end)
    audit.record_view("superbill.candidates", obj=client)
    return render(
        "provider/superbills/new.html",
        client=client,
        form=form,
        error=error,
        visits=visits,
        start=start,
        end=end,
        section="clients",
    ), status


def _visits(client, start, end):
    try:
        return superbills.candidates(client, start, end)
    except superbills.SuperbillError:
        return []


@bp.route("/superbills/<int:superbill_id>/correct", methods=["GET", "POST"])
def superbill_correct(superbill_id):
    bill = access.get_or_404(Superbill, superbill_id)
    client = Client.get_by_id(bill.client_id)
    form = CorrectionForm()
    status = 200
    error = None
    listed = set(superbills.visit_ids_of(bill))
    if form.validate_on_submit():
        try:
            new = superbills.correct(
                bill, form.reason.data, user=current_user, appointment_ids=chosen_visits()
            )
        except superbills.SuperbillError as exc:
            error = str(exc)
            status = 400
        else:
            flash(
                f"{new.number} version {new.version} issued; version {bill.version} stays.",
                "success",
            )
            return redirect(
                url_for("provider.client_page", client_id=client.id) + "#superbills", 303
            )
    elif request.method == "POST":
        status = 400
    return render(
        "provider/superbills/correct.html",
        client=client,
        bill=bill,
        form=form,
        error=error,
        visits=_visits(client, bill.period_start, bill.period_end),
        listed=listed,
        section="clients",
    ), status


@bp.route("/documents/<int:document_id>/send", methods=["POST"])
def document_send(document_id):
    """E-mail the client a link to their documents page (the e-mail holds no PHI)."""
    doc = access.get_or_404(StoredDocument, document_id)
    user = current_user._get_current_object()
    if doc.client_id is None or (doc.kind == "letter" and user.role not in CLINICAL_ROLES):
        access.deny()
    if CsrfForm().validate_on_submit():
        try:
            documents.send_link(doc, user=user)
        except documents.DocumentError as exc:
            flash(str(exc), "error")
        else:
            flash("E-mailed: the client gets a link to their portal.", "success")
    back = url_for("provider.client_page", client_id=doc.client_id) + "#superbills"
    return redirect(back, 303)
