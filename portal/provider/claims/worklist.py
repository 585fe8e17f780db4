"""The front desk's work list: claims and payments that need someone, each with what to do
next and a button to do it (a tablet page). Owner and front desk."""

from flask_login import current_user

from portal import audit, clock
from portal.access import roles_required
from portal.htmx import render
from portal.provider import bp
from portal.services.claims import batches, worklist

DESK = ("owner", "frontdesk")


@bp.route("/claims/worklist")
@roles_required(*DESK)
def claim_worklist():
    groups = worklist.work_list(current_user.practice_id, clock.utcnow())
    audit.record_view("claim.worklist")
    return render(
        "provider/claims/worklist.html",
        groups=groups,
        total=sum(len(g.items) for g in groups),
        labels=batches.STATUS_LABELS,
        days=worklist.no_response_days(current_user.practice_id),
    )
