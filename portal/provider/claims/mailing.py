"""Paper claims mailed (claims-paper): after printing, the front desk or the owner marks a
ready claim, or every claim of a finished print job still ready, as mailed; the claims are
submitted then (portal/services/claims/mailing.py). Another practice's claim or job, and a
job that is not a print job: 404 (audited); therapists and clients: 404; logged out: login.
"""

from flask import abort, flash, redirect, url_for
from flask_login import current_user

from portal.access import roles_required
from portal.formutil import CsrfForm
from portal.htmx import render
from portal.models.jobs import JOB_DONE
from portal.models.people import DESK_ROLES
from portal.provider import bp
from portal.provider.claims.views import claim_or_404, page_context
from portal.provider.jobs import is_paper_batch, job_or_404
from portal.services.claims import ClaimError, mailing

NAMED = 10  # refused claims named in the message; more are counted


def _claims(n):
    return f"{n} claim{'s' if n != 1 else ''}"


@bp.route("/claims/<int:claim_id>/mailed", methods=["POST"])
@roles_required(*DESK_ROLES)
def claim_mailed(claim_id):
    c = claim_or_404(claim_id)
    try:
        if not CsrfForm().validate_on_submit():
            raise ClaimError("The form expired: try again.")
        after = mailing.mark_mailed(c, user=current_user._get_current_object())
    except ClaimError as exc:
        flash(str(exc), "error")
        resp = render("provider/claims/claim.html", **page_context(c))
        resp.status_code = 409
        return resp
    flash("Marked as mailed: the claim is submitted, and waits for the payer's answer.", "success")
    return redirect(url_for("provider.claim", claim_id=after.id), 303)


def told(result):
    """(category, message) saying how many claims moved, and which could not and why."""
    parts = []
    if result.moved:
        parts.append(f"{_claims(len(result.moved))} marked as mailed: they are submitted now.")
    if result.refused:
        named = "; ".join(
            f"claim {c.patient_control_number}: {why}" for c, why in result.refused[:NAMED]
        )
        more = len(result.refused) - NAMED
        if more > 0:
            named += f"; and {_claims(more)} more"
        parts.append(f"Not marked, {_claims(len(result.refused))} ({named}).")
    if not parts:
        return "warning", "No claim of this batch is still ready: nothing was marked."
    return ("success" if not result.refused else "warning"), " ".join(parts)


@bp.route("/jobs/<int:job_id>/mailed", methods=["POST"])
@roles_required(*DESK_ROLES)
def job_mailed(job_id):
    job = job_or_404(job_id)
    if not is_paper_batch(job):
        abort(404)
    if not CsrfForm().validate_on_submit():
        flash("The form expired: try again.", "error")
        return redirect(url_for("provider.job", job_id=job.id), 303)
    if job.status != JOB_DONE:
        flash("The PDFs are not ready yet: print them first, then mark them as mailed.", "error")
        return redirect(url_for("provider.job", job_id=job.id), 303)
    result = mailing.mark_job_mailed(
        current_user.practice_id, job.id, user=current_user._get_current_object()
    )
    category, message = told(result)
    flash(message, category)
    return redirect(url_for("provider.job", job_id=job.id), 303)
