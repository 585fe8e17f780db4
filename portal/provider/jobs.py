"""Progress of long work (portal/services/jobs.py): a page that polls itself until done."""

from flask import abort
from flask_login import current_user

from portal import access, audit
from portal.htmx import render
from portal.models.jobs import Job
from portal.provider import bp
from portal.provider.billing import stored_response


def _job_or_404(job_id):
    # A job belongs to its practice; its result (an export, a claims batch) to the one who
    # started it and the owner.
    job = access.get_or_404(Job, job_id)
    user = current_user._get_current_object()
    if not user.is_owner and job.created_by_id != user.id:
        access.deny()
    return job


@bp.route("/jobs/<int:job_id>")
def job(job_id):
    return render("provider/job.html", block="job_progress", job=_job_or_404(job_id))


@bp.route("/jobs/<int:job_id>/result")
def job_result(job_id):
    job = _job_or_404(job_id)
    if job.document_id is None:
        abort(404)
    audit.record("job.download", obj=job)
    return stored_response(job.document)
