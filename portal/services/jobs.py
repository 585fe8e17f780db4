"""Long work and its progress: a Job row the task queue advances and pages poll.

Each step is its own short transaction, apart from the work's own writes, so a page
polling the job sees it move while the work goes on (a batch of claim PDFs, an export).
"""

from portal import clock
from portal.db import database
from portal.models.jobs import JOB_DONE, JOB_FAILED, JOB_QUEUED, JOB_RUNNING, Job


def create(practice_id, user_id, kind, title, total=0):
    """A queued job; enqueue its task after the transaction that made it commits."""
    return Job.create(
        practice=practice_id,
        created_by=user_id,
        kind=kind,
        title=title,
        total=max(0, int(total)),
        status=JOB_QUEUED,
    )


def start(job_id, total=None):
    """The consumer picked the job up (again, after a restart: its count starts over)."""
    values = {Job.status: JOB_RUNNING, Job.started_at: clock.utcnow(), Job.done: 0}
    if total is not None:
        values[Job.total] = max(0, int(total))
    with database.atomic("IMMEDIATE"):
        Job.update(values).where(Job.id == job_id).execute()


def advance(job_id, done):
    """`done` of `total` steps are finished."""
    with database.atomic("IMMEDIATE"):
        Job.update({Job.done: max(0, int(done))}).where(Job.id == job_id).execute()


def finish(job_id, document_id=None):
    values = {Job.status: JOB_DONE, Job.finished_at: clock.utcnow(), Job.message: ""}
    if document_id is not None:
        values[Job.document] = document_id
    with database.atomic("IMMEDIATE"):
        Job.update(values).where(Job.id == job_id).execute()


def fail(job_id, message):
    """The job stopped; `message` says what happened in words (never PHI)."""
    with database.atomic("IMMEDIATE"):
        Job.update(
            {Job.status: JOB_FAILED, Job.finished_at: clock.utcnow(), Job.message: message}
        ).where(Job.id == job_id).execute()


def get(job_id):
    return Job.get_or_none(Job.id == job_id)
