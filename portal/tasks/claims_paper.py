"""Paper claims: each part of a batch of CMS-1500 PDFs (portal/services/claims/cms1500_batch.py)
rendered by one worker; a batch is enqueued as two parts, which the consumer's two worker
processes run at once, one per core."""

from portal.services.claims import cms1500_batch
from portal.tasks import task


@task()
def render_claim_pdfs(job_id, first, last):
    """Positions first..last of the job's claims; the part that completes it merges."""
    cms1500_batch.run_part(job_id, first, last)
