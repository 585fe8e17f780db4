"""The front desk's work list: claims and payments that need someone, each with what to do
next and a button to do it (a tablet page). Owner and front desk."""

from flask import flash, redirect, request, url_for
from flask_login import current_user

from portal import audit, clock, tasks
from portal.access import roles_required
from portal.formutil import CsrfForm
from portal.htmx import render
from portal.models.people import DESK_ROLES
from portal.provider import bp
from portal.services import clearinghouse
from portal.services.claims import batches, worklist
from portal.tasks import claims as claim_tasks


@bp.route("/claims/worklist")
@roles_required(*DESK_ROLES)
def claim_worklist():
    conn = clearinghouse.connection_for(current_user.practice_id)
    groups = worklist.work_list(
        current_user.practice_id, clock.utcnow(), current_user.practice.tz, connection=conn
    )
    audit.record_view("claim.worklist")
    return render(
        "provider/claims/worklist.html",
        groups=groups,
        total=sum(len(g.items) for g in groups),
        labels=batches.STATUS_LABELS,
        days=worklist.no_response_days(current_user.practice_id),
        can_collect=_can_collect(conn),
        form=CsrfForm(),
    )


def _can_collect(conn):
    return conn is not None and conn.is_configured


@bp.route("/claims/collect", methods=["POST"])
@roles_required(*DESK_ROLES)
def claim_collect():
    """Fetch the clearinghouse's new files now (acknowledgments, payments)."""
    back = url_for("provider.remittances" if request.form.get("back") == "remittances"
                   else "provider.claim_worklist")  # fmt: skip
    if not CsrfForm().validate_on_submit():
        flash("The form expired: press the button again.", "error")
        return redirect(back)
    if not _can_collect(clearinghouse.connection_for(current_user.practice_id)):
        flash("Set up the connection under Settings → Clearinghouse first.", "error")
        return redirect(back)
    tasks.enqueue(claim_tasks.collect_now, current_user.practice_id)
    flash(
        "Checking the clearinghouse for acknowledgments and payments: what arrives is "
        "applied at once (reload in a moment).",
        "success",
    )
    return redirect(back)
