"""A batch of CMS-1500 PDFs as one merged file, built by the task queue as a Job.

`start` checks the claims chosen (the practice's, ready to go out, each fitting one form),
records them in print order as ClaimPrintItems of a new Job, and says how to split the work:
two parts, which the consumer's two worker processes render at once (one per core). Each
`run_part` issues its claims' PDFs one by one (cms1500_pdf.issue: an unchanged claim
re-uses the PDF already issued), and every claim finished moves the job's progress. The
part whose claim completes the batch merges the PDFs in print order into one stored
document and finishes the job; a page polling the job then offers it for download.

Each step is its own short transaction, so the progress is visible while the work goes on,
and the job row survives a restart of the web server (the queue is a file too).
"""

import logging

from peewee import fn

from portal import audit, pdf
from portal.db import database
from portal.models import Claim, ClaimPrintItem, Client, Payer, StoredDocument, User
from portal.models.claim_paper import MODE_DATA, MODE_LABELS, MODES
from portal.models.jobs import JOB_FAILED, JOB_QUEUED, Job
from portal.rules import claim_status
from portal.services import jobs
from portal.services.claims import cms1500, cms1500_pdf
from portal.services.claims.cms1500 import Cms1500Error
from portal.services.claims.data import settings_for

log = logging.getLogger(__name__)

MAX_CLAIMS = 500  # one batch; more makes a PDF too large to print in one go
PARTS = 2  # one per core of the machine the consumer runs on
KIND_PREFIX = "cms1500_"
# A claim that is held, still a draft or voided never goes out on paper.
NOT_PRINTABLE = (claim_status.DRAFT, "void")


class BatchError(ValueError):
    """The batch cannot start; the message says which claim and why, in words."""


def ready_claims(practice_id, payer_id=None):
    """The practice's claims ready to go out (not held), in print order."""
    query = (
        Claim.select(Claim, Client, Payer)
        .join(Client, on=(Claim.client == Client.id))
        .switch(Claim)
        .join(Payer, on=(Claim.payer == Payer.id))
        .where((Claim.practice == practice_id) & (Claim.status == claim_status.READY) & ~Claim.held)
        .order_by(Payer.name, Payer.id, Claim.service_date, Claim.id)
    )
    if payer_id is not None:
        query = query.where(Claim.payer == payer_id)
    return query


def ready_by_payer(practice_id):
    """[{id, name, n}] of the payers with ready claims, by name."""
    return list(
        ready_claims(practice_id)
        .select(Payer.id, Payer.name, fn.COUNT(Claim.id).alias("n"))
        .group_by(Payer.id, Payer.name)
        .order_by(Payer.name, Payer.id)
        .dicts()
    )


def recent_jobs(practice_id, limit=10):
    return list(
        Job.select()
        .where((Job.practice == practice_id) & Job.kind.startswith(KIND_PREFIX))
        .order_by(Job.id.desc())
        .limit(limit)
    )


def _chosen(practice_id, claim_ids):
    ids = []
    for raw in claim_ids:
        try:
            value = int(raw)
        except (TypeError, ValueError):
            raise BatchError("The choice of claims was not understood: choose again.") from None
        if value not in ids:
            ids.append(value)
    if not ids:
        raise BatchError("Choose at least one claim to print.")
    if len(ids) > MAX_CLAIMS:
        raise BatchError(f"A batch holds at most {MAX_CLAIMS} claims: choose fewer.")
    claims = list(
        Claim.select(Claim, Payer)
        .join(Payer, on=(Claim.payer == Payer.id))
        .where((Claim.practice == practice_id) & Claim.id.in_(ids))
        .order_by(Payer.name, Payer.id, Claim.service_date, Claim.id)
    )
    if len(claims) != len(ids):
        raise BatchError("Some of the chosen claims were not found: choose again.")
    for claim in claims:
        if claim.held or claim.status in NOT_PRINTABLE:
            why = "is held by a problem" if claim.held else f"is {claim.status_label.lower()}"
            raise BatchError(f"Claim {claim.patient_control_number} {why}: fix it or leave it out.")
        lines, diagnoses = claim.lines.count(), claim.diagnoses.count()
        try:
            cms1500.check_fits(lines, diagnoses)
        except Cms1500Error as e:
            raise BatchError(f"Claim {claim.patient_control_number}: {e}") from None
    return claims


def start(practice_id, user, claim_ids, mode):
    """A queued Job for these claims and its parts [(first, last) positions]; enqueue one
    task per part after this returns (the job and its items are committed)."""
    if mode not in MODES:
        raise BatchError("Choose the full form or data only.")
    claims = _chosen(practice_id, claim_ids)
    n = len(claims)
    title = f"CMS-1500 PDFs: {n} claim{'s' if n != 1 else ''}, {MODE_LABELS[mode].lower()}"
    with database.atomic("IMMEDIATE"):
        job = jobs.create(practice_id, user.id, KIND_PREFIX + mode, title, total=n)
        ClaimPrintItem.insert_many(
            [
                {"practice": practice_id, "job": job.id, "position": i, "claim": c.id}
                for i, c in enumerate(claims, start=1)
            ]
        ).execute()
        audit.record("claim.pdf_batch", obj=job, detail=f"{n} claims, {mode}", user=user)
    return job, parts(n)


def parts(n, count=PARTS):
    """Consecutive (first, last) positions splitting 1..n into `count` parts at most."""
    size = -(-n // count) if n else 0
    return [(first, min(n, first + size - 1)) for first in range(1, n + 1, size or 1)]


def run_part(job_id, first, last):
    """Issue the PDFs of positions first..last; the part that completes the batch merges."""
    job = Job.get_or_none(Job.id == job_id)
    if job is None or job.finished:
        return
    mode = job.kind[len(KIND_PREFIX) :]
    user = User.get_or_none(User.id == job.created_by_id)
    settings = settings_for(job.practice_id)
    with database.atomic("IMMEDIATE"):
        if Job.get_by_id(job_id).status == JOB_QUEUED:
            jobs.start(job_id)
    items = (
        ClaimPrintItem.select()
        .where(
            (ClaimPrintItem.job == job_id)
            & ClaimPrintItem.position.between(first, last)
            & ClaimPrintItem.document.is_null()
        )
        .order_by(ClaimPrintItem.position)
    )
    for item in list(items):
        try:
            claim = cms1500.load_claim(item.claim_id, job.practice_id)
            document = cms1500_pdf.issue(claim, mode, user=user, settings=settings)
        except Cms1500Error as e:
            jobs.fail(job_id, f"Claim {item.position} of {job.total} cannot be printed: {e}")
            return
        except Exception:
            log.exception("claim PDF batch %s: claim %s of %s", job_id, item.position, job.total)
            jobs.fail(job_id, f"Claim {item.position} of {job.total} could not be rendered.")
            return
        if _record(job_id, item.id, document.id) is None:
            return  # the job failed meanwhile (the other part): stop
    # nothing left for this part (a retried part finds its items done)


def _record(job_id, item_id, document_id):
    """Store one item's PDF and the progress; merge when it was the batch's last one.
    None when the job has failed meanwhile."""
    with database.atomic("IMMEDIATE"):
        job = Job.get_by_id(job_id)
        if job.status == JOB_FAILED:
            return None
        stored = (
            ClaimPrintItem.update(document=document_id)
            .where((ClaimPrintItem.id == item_id) & ClaimPrintItem.document.is_null())
            .execute()
        )
        done = (
            ClaimPrintItem.select()
            .where((ClaimPrintItem.job == job_id) & ClaimPrintItem.document.is_null(False))
            .count()
        )
        jobs.advance(job_id, done)
    if stored and done == job.total:  # only the transaction that filled the last item
        _merge(job)
    return done


def _merge(job):
    """The batch's PDFs in print order, as one stored document the job offers."""
    try:
        documents = (
            StoredDocument.select(StoredDocument.data)
            .join(ClaimPrintItem, on=(ClaimPrintItem.document == StoredDocument.id))
            .where(ClaimPrintItem.job == job.id)
            .order_by(ClaimPrintItem.position)
        )
        data = pdf.merge(doc.data for doc in documents)
    except Exception:
        log.exception("claim PDF batch %s: merging failed", job.id)
        jobs.fail(job.id, "The claims' PDFs could not be joined into one file.")
        return
    mode = job.kind[len(KIND_PREFIX) :]
    with database.atomic("IMMEDIATE"):
        document = StoredDocument.create(
            practice=job.practice_id,
            client=None,
            kind="claim",
            title=job.title,
            filename=f"CMS1500-batch-{job.id}{'-data-only' if mode == MODE_DATA else ''}.pdf",
            data=data,
            sha256=pdf.sha256(data),
            size_bytes=len(data),
            created_by=job.created_by_id,
        )
        jobs.finish(job.id, document_id=document.id)
