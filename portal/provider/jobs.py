"""Progress of long work (portal/services/jobs.py): a page that polls itself until done.
A finished batch of CMS-1500 PDFs also offers its next step: mark the claims still ready
as mailed (portal/provider/claims/mailing.py), or go back to the claims.

Who: a job is its starter's and the owner's; a batch of CMS-1500 PDFs is every claims
worker's (the owner and the front desk). Another practice's job: 404 (audited)."""

from flask import abort
from flask_login import current_user

from portal import access, audit
from portal.htmx import render
from portal.models.jobs import JOB_DONE, Job
from portal.models.people import DESK_ROLES
from portal.provider import bp
from portal.provider.billing import stored_response
from portal.services.claims import cms1500_batch, mailing


def job_or_404(job_id):
    # A job belongs to its practice; its result (an export) to the one who started it and
    # the owner. A batch of paper claims is the claims desk's work: whoever works claims
    # follows it, prints it and marks it as mailed (the one who posts the envelopes is often
    # not the one who printed them).
    job = access.get_or_404(Job, job_id)
    user = current_user._get_current_object()
    if user.is_owner or job.created_by_id == user.id:
        return job
    if user.is_desk and is_paper_batch(job):
        return job
    access.deny()


def is_paper_batch(job):
    return job.kind.startswith(cms1500_batch.KIND_PREFIX)


def _paper_next(job):
    """The finished print job's claims that may be marked as mailed (desk roles only)."""
    if not is_paper_batch(job) or job.status != JOB_DONE or current_user.role not in DESK_ROLES:
        return {}
    return {"paper_next": True, "to_mail": mailing.still_ready(job.practice_id, job.id)}


@bp.route("/jobs/<int:job_id>")
def job(job_id):
    job = job_or_404(job_id)
    paper = is_paper_batch(job)
    return render(
        "provider/job.html",
        block="job_progress",
        job=job,
        paper=paper,
        section="claims" if paper else "",
        **_paper_next(job),
    )


@bp.route("/jobs/<int:job_id>/result")
def job_result(job_id):
    job = job_or_404(job_id)
    if job.document_id is None:
        abort(404)
    audit.record("job.download", obj=job)
    return stored_response(job.document)
