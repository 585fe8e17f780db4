"""Paper claims mailed: a ready claim printed on a CMS-1500 and put in the post is submitted,
as a claim in a downloaded 837P file is. It gets its `submitted_at` (the aging table, the
hand posting of the payer's answer and the corrected-claim rules read it), leaves the
ready lists (the paper batch's and the 837P builder's), and its history says "Mailed on
paper" with who and when.

    mark_mailed(claim, user=u)                       # one claim; ClaimError when it is not ready
    result = mark_job_mailed(practice_id, job_id, user=u)    # a print job's claims, at once
    result.moved, result.refused                     # [claim], [(claim, why)]
    still_ready(practice_id, job_id)                 # the job's claims that may be marked

A claim edited back to draft (or held by a problem) after it was printed is refused: the
form in the envelope is not the claim as it stands. Marking twice changes nothing.
"""

import dataclasses

from portal import audit, clock
from portal.db import database
from portal.models import Claim, ClaimPrintItem
from portal.rules import claim_status as cs
from portal.services.claims import ClaimError, life

REASON = "Mailed on paper"
ACTION = "mailed"


@dataclasses.dataclass
class Mailed:
    """What marking a print job's claims did: the claims moved, and those left with why."""

    moved: list = dataclasses.field(default_factory=list)
    refused: list = dataclasses.field(default_factory=list)  # [(claim, why)]


def why_not(claim):
    """Why this claim cannot be marked as mailed now, in words; None when it can."""
    if claim.status == cs.READY and not claim.held:
        return None
    if claim.status == cs.READY:
        return "a problem holds it: fix it, print it again, then mark it"
    if claim.status == cs.DRAFT:
        return "it was edited back to draft after printing: check it, print it again"
    if claim.status == cs.SUBMITTED:
        return "it is already submitted"
    return f"it is {claim.status_label.lower()}"


def _mark(claim, user, now):
    """Inside the caller's transaction: the claim (fresh, ready, not held) submitted."""
    return life.change_status(
        claim, cs.SUBMITTED, user=user, reason=REASON, action=ACTION, submitted_at=now
    )


def mark_mailed(claim, *, user=None):
    """One ready claim mailed on paper: submitted now, with its history and audit rows."""
    with database.atomic("IMMEDIATE"):
        c = Claim.get_by_id(claim.id)
        why = why_not(c)
        if why is not None:
            raise ClaimError(f"This claim cannot be marked as mailed: {why}.")
        c = _mark(c, user, clock.utcnow())
        audit.record("claim.mailed", obj=c, user=user, detail="1 claim")
    return c


def _job_claims(practice_id, job_id):
    """The claims of a print job, in print order (scoped to the practice)."""
    return list(
        Claim.select()
        .join(ClaimPrintItem, on=(ClaimPrintItem.claim == Claim.id))
        .where((ClaimPrintItem.job == job_id) & (Claim.practice == practice_id))
        .order_by(ClaimPrintItem.position)
    )


def still_ready(practice_id, job_id):
    """The print job's claims that may be marked as mailed now (ready, not held)."""
    return [c for c in _job_claims(practice_id, job_id) if why_not(c) is None]


def mark_job_mailed(practice_id, job_id, *, user=None):
    """Every claim of the print job that is still ready, mailed: one transaction for all
    (read again under the write lock). Claims already submitted by an earlier marking are
    not reported again; those changed since the printing are, with why."""
    result = Mailed()
    with database.atomic("IMMEDIATE"):
        now = clock.utcnow()
        for c in _job_claims(practice_id, job_id):
            why = why_not(c)
            if why is None:
                result.moved.append(_mark(c, user, now))
            elif not _mailed_before(c):
                result.refused.append((c, why))
        if result.moved:
            n = len(result.moved)
            audit.record(
                "claim.mailed",
                object_type="job",
                object_id=job_id,
                user=user,
                practice_id=practice_id,
                detail=f"{n} claim{'s' if n != 1 else ''}",
            )
    return result


def _mailed_before(claim):
    """Marked as mailed already (a repeated POST): nothing to say about it."""
    return claim.status != cs.DRAFT and claim.submitted_at is not None
