"""The claim's actions (owner and front desk): check again, hold, edit (lines, diagnoses,
details, the payer's claim number), void, close, appeal, the note's minutes for the
check-out's, the secondary claim, billing a voided visit again.

Each POST loads the claim through portal.access (another practice's id: 404 and an audit
row), calls one service, and goes back to the claim with what happened; a refusal comes
back as the page with the message next to the form (400) or as a flash (409).
"""

from flask import flash, redirect, request, url_for
from flask_login import current_user

from portal.access import get_or_404, roles_required
from portal.formutil import CsrfForm
from portal.htmx import render
from portal.models import ClaimLine, PriorAuthorization, Referral
from portal.provider import bp
from portal.provider.claims.forms import DiagnosesForm, LineForm, PayerNumberForm, ReasonForm
from portal.provider.claims.views import (
    DESK,
    claim_or_404,
    details_form,
    edit_page,
    page_context,
)
from portal.rules import claim_status as cs
from portal.rules.money import parse_dollars
from portal.services.claims import ClaimError, build, life


def _back(c, anchor=""):
    return redirect(url_for("provider.claim", claim_id=c.id) + anchor, 303)


def _refused(c, message):
    flash(message, "error")
    resp = render("provider/claims/claim.html", **page_context(c))
    resp.status_code = 409
    return resp


def _csrf():
    return CsrfForm().validate_on_submit()


def _told(c, before, message):
    """A message that says where the claim went."""
    if c.status != before:
        message += f" The claim is {c.status_label.lower()} now."
    if c.held:
        message += " Problems still hold it: see below."
    return message


@bp.route("/claims/<int:claim_id>/check", methods=["POST"])
@roles_required(*DESK)
def claim_check(claim_id):
    c = claim_or_404(claim_id)
    if not _csrf():
        return _refused(c, "The form expired: try again.")
    try:
        after = life.recheck(c, user=current_user)
    except (ClaimError, cs.ClaimStatusError) as exc:
        return _refused(c, str(exc))
    if after.status == cs.READY:
        flash("Checked: nothing holds the claim. It is ready to send.", "success")
    else:
        flash(_told(after, c.status, "Checked again."), "warning")
    return _back(after)


def _reason_action(claim_id, prefix, service, done):
    c = claim_or_404(claim_id)
    form = ReasonForm(prefix=prefix)
    if not form.validate_on_submit():
        resp = render("provider/claims/claim.html", **page_context(c, **{f"{prefix}_form": form}))
        resp.status_code = 400
        return resp
    try:
        after = service(c, form.reason.data, user=current_user)
    except (ClaimError, cs.ClaimStatusError) as exc:
        form.reason.errors = [str(exc)]
        flash(str(exc), "error")
        resp = render("provider/claims/claim.html", **page_context(c, **{f"{prefix}_form": form}))
        resp.status_code = 409
        return resp
    flash(done, "success")
    return _back(after)


@bp.route("/claims/<int:claim_id>/hold", methods=["POST"])
@roles_required(*DESK)
def claim_hold(claim_id):
    return _reason_action(claim_id, "hold", life.hold, "Held: it stays out of the next batch.")


@bp.route("/claims/<int:claim_id>/void", methods=["POST"])
@roles_required(*DESK)
def claim_void(claim_id):
    return _reason_action(claim_id, "void", life.void, "The claim is void.")


@bp.route("/claims/<int:claim_id>/close", methods=["POST"])
@roles_required(*DESK)
def claim_close(claim_id):
    return _reason_action(claim_id, "close", life.close, "The claim is closed.")


@bp.route("/claims/<int:claim_id>/appeal", methods=["POST"])
@roles_required(*DESK)
def claim_appeal(claim_id):
    return _reason_action(claim_id, "appeal", life.appeal, "The claim is marked as appealed.")


@bp.route("/claims/<int:claim_id>/use-note-minutes", methods=["POST"])
@roles_required(*DESK)
def claim_use_note_minutes(claim_id):
    c = claim_or_404(claim_id)
    if not _csrf():
        return _refused(c, "The form expired: try again.")
    try:
        after = life.use_note_minutes(c, user=current_user)
    except (ClaimError, cs.ClaimStatusError) as exc:
        return _refused(c, str(exc))
    flash(_told(after, c.status, "The check-out minutes are the signed note's now."), "success")
    return _back(after)


@bp.route("/claims/<int:claim_id>/secondary", methods=["POST"])
@roles_required(*DESK)
def claim_secondary(claim_id):
    c = claim_or_404(claim_id)
    if not _csrf():
        return _refused(c, "The form expired: try again.")
    try:
        second = build.create_secondary(c, user=current_user)
    except (ClaimError, cs.ClaimStatusError) as exc:
        return _refused(c, str(exc))
    flash("The secondary payer's claim is made.", "success")
    return _back(second)


@bp.route("/claims/<int:claim_id>/rebill", methods=["POST"])
@roles_required(*DESK)
def claim_rebill(claim_id):
    c = claim_or_404(claim_id)
    if not _csrf():
        return _refused(c, "The form expired: try again.")
    if c.status != cs.VOID or c.appointment_id is None:
        return _refused(c, "Only a void claim's visit is billed again.")
    try:
        made = build.create_for_visit(c.appointment, user=current_user)
    except (ClaimError, cs.ClaimStatusError) as exc:
        return _refused(c, str(exc))
    flash("A new claim is made for the visit.", "success")
    return _back(made[0])


# --- edits ------------------------------------------------------------------------------------


def _edited(after, before_status):
    if before_status in cs.PAYER_HAS_IT:
        flash(
            "Saved. The claim is back in draft and goes out again as "
            + (
                "a corrected claim (frequency 7)."
                if after.frequency_code == cs.CORRECTED
                else "an original claim."
            ),
            "success",
        )
    else:
        flash(_told(after, before_status, "Saved."), "success")
    return redirect(url_for("provider.claim_edit", claim_id=after.id), 303)


@bp.route("/claims/<int:claim_id>/lines/<int:line_id>", methods=["POST"])
@roles_required(*DESK)
def claim_line_edit(claim_id, line_id):
    c = claim_or_404(claim_id)
    line = get_or_404(ClaimLine, line_id, query=ClaimLine.select().where(ClaimLine.claim == c.id))
    form = LineForm(prefix=f"line-{line.id}")
    if form.validate_on_submit():
        try:
            cents = parse_dollars(form.charge.data)
        except ValueError as exc:
            form.charge.errors = [str(exc)]
        else:
            try:
                after = life.edit_line(
                    c,
                    line.id,
                    units=form.units.data,
                    modifiers=form.modifiers.data or "",
                    pointers=form.pointers.data,
                    charge_cents=cents,
                    user=current_user,
                )
            except (ClaimError, cs.ClaimStatusError) as exc:
                form.form_errors.append(str(exc))
            else:
                return _edited(after, c.status)
    return edit_page(c, 400, line=(line.id, form))


@bp.route("/claims/<int:claim_id>/lines/<int:line_id>/remove", methods=["POST"])
@roles_required(*DESK)
def claim_line_remove(claim_id, line_id):
    c = claim_or_404(claim_id)
    line = get_or_404(ClaimLine, line_id, query=ClaimLine.select().where(ClaimLine.claim == c.id))
    if not _csrf():
        return edit_page(c, 400)
    try:
        after = life.remove_line(c, line.id, user=current_user)
    except (ClaimError, cs.ClaimStatusError) as exc:
        flash(str(exc), "error")
        return edit_page(c, 409)
    return _edited(after, c.status)


@bp.route("/claims/<int:claim_id>/diagnoses", methods=["POST"])
@roles_required(*DESK)
def claim_diagnoses(claim_id):
    c = claim_or_404(claim_id)
    form = DiagnosesForm(prefix="dx")
    if form.validate_on_submit():
        try:
            after = life.set_diagnoses(c, form.codes.data, user=current_user)
        except (ClaimError, cs.ClaimStatusError) as exc:
            form.codes.errors = [str(exc)]
        else:
            return _edited(after, c.status)
    return edit_page(c, 400, dx_form=form)


def _document(model, value, claim):
    if not value:
        return None
    return get_or_404(model, value, query=model.select().where(model.client == claim.client_id))


@bp.route("/claims/<int:claim_id>/details", methods=["POST"])
@roles_required(*DESK)
def claim_details(claim_id):
    c = claim_or_404(claim_id)
    form, _refs, _auths = details_form(c, formdata=request.form)
    if form.validate_on_submit():
        referral = _document(Referral, form.referral.data, c)
        authorization = _document(PriorAuthorization, form.authorization.data, c)
        if (
            form.place_of_service.data,
            form.referral.data or None,
            form.authorization.data or None,
        ) == (
            c.place_of_service,
            c.referral_id,
            c.authorization_id,
        ):
            flash("Nothing changed.", "success")
            return redirect(url_for("provider.claim_edit", claim_id=c.id), 303)
        try:
            after = life.edit_details(
                c,
                place_of_service=form.place_of_service.data,
                referral=referral,
                authorization=authorization,
                user=current_user,
            )
        except (ClaimError, cs.ClaimStatusError) as exc:
            form.form_errors.append(str(exc))
        else:
            return _edited(after, c.status)
    return edit_page(c, 400, details_form=form)


@bp.route("/claims/<int:claim_id>/payer-claim-number", methods=["POST"])
@roles_required(*DESK)
def claim_payer_number(claim_id):
    c = claim_or_404(claim_id)
    form = PayerNumberForm(prefix="number")
    if form.validate_on_submit():
        try:
            after = life.set_payer_claim_number(c, form.payer_claim_number.data, user=current_user)
        except (ClaimError, cs.ClaimStatusError) as exc:
            form.payer_claim_number.errors = [str(exc)]
        else:
            flash("The payer's claim number is saved.", "success")
            return _back(after)
    return edit_page(c, 400, number_form=form)
