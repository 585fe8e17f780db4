"""Claims running out of time to file: the payer's filing limit (Payer.filing_limit_days,
rules/filing_limit.py) against the claims the payer has not received.

    for claim, status in due(practice_id, today, tz): ...   # the work list's item
    status = for_claim(claim, events, today, tz)            # the claim page; None: say nothing

Not received: a claim not sent yet (draft, held or ready) or whose sends were all
rejected (999 or 277CA: they never entered the payer's system), and that the payer has not
numbered. A claim sent before and being corrected (frequency 7) was received: its
original's first submission counts, and it is not listed. Two statements whatever the
number of claims: the claims, and the sends in the history of those sent before.
"""

import datetime as dt

from portal import clock
from portal.db import plus_days
from portal.models.claims import Claim, ClaimEvent
from portal.models.insurance import Payer
from portal.models.people import Client
from portal.rules import claim_status as cs
from portal.rules import filing_limit as rules

UNSENT = (cs.DRAFT, cs.READY, cs.REJECTED)
SENDS = (cs.SUBMITTED, cs.REJECTED)
LIMIT = 200


def _sends(claim, events, tz):
    """(local date, status) of the claim's sends and rejections, in order; a claim sent
    with no history of it (made before the history kept sends) counts its submitted_at."""
    out = [(clock.local_date(e.created_at, tz), e.to_status) for e in events]
    out = [(day, status) for day, status in out if status in SENDS]
    if not out and claim.submitted_at is not None:
        out = [(clock.local_date(claim.submitted_at, tz), cs.SUBMITTED)]
        if claim.status == cs.REJECTED:
            out.append((out[0][0], cs.REJECTED))
    return out


def for_claim(claim, events, today, tz):
    """The claim's standing against its payer's limit (a FilingStatus), or None when the
    limit is not known or the claim is void (a void claim withdraws one: no limit)."""
    limit = claim.payer.filing_limit_days
    if limit is None or claim.status == cs.VOID:
        return None
    received = rules.first_received(
        _sends(claim, events, tz), numbered=bool(claim.payer_claim_number.strip())
    )
    return rules.filing_status(claim.service_date, limit, received, today)


def due(practice_id, today, tz):
    """[(claim, FilingStatus)] of the practice's claims the payer has not received, whose
    deadline is WARN_DAYS away or nearer, or past: the soonest deadline first."""
    deadline = plus_days(Claim.service_date, Payer.filing_limit_days)
    where = (
        (Claim.practice == practice_id)
        & Claim.status.in_(UNSENT)
        & (Claim.payer_claim_number == "")
        & Payer.filing_limit_days.is_null(False)
        & (deadline <= today + dt.timedelta(days=rules.WARN_DAYS))
    )
    claims = list(
        Claim.select(Claim, Client, Payer)
        .join_from(Claim, Client, on=(Claim.client == Client.id))
        .join_from(Claim, Payer, on=(Claim.payer == Payer.id))
        .where(where)
        .order_by(deadline, Claim.id)
        .limit(LIMIT)
    )
    sent_before = (
        Claim.select(Claim.id)
        .join(Payer, on=(Claim.payer == Payer.id))
        .where(where & Claim.submitted_at.is_null(False))
    )
    history = {}
    for e in (
        ClaimEvent.select(ClaimEvent.claim, ClaimEvent.to_status, ClaimEvent.created_at)
        .where(ClaimEvent.claim.in_(sent_before) & ClaimEvent.to_status.in_(SENDS))
        .order_by(ClaimEvent.claim, ClaimEvent.id)
    ):
        history.setdefault(e.claim_id, []).append(e)
    out = []
    for claim in claims:
        status = for_claim(claim, history.get(claim.id, ()), today, tz)
        if status.first_sent is None and status.warns:
            out.append((claim, status))
    return out
