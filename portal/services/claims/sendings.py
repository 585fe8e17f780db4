"""The sendings of claims, for telling which one an acknowledgment answers
(rules/ack_match.py): each claim's sends in its history (the 837P file of each), what each
file said of the claim (its BHT03, charge, dates of service, the payer's number it
corrects) and the clearinghouse traces earlier answers gave each sending.

    found = of_claims(claims, tz)      # {claim id: [Sent(batch_id, sending)], oldest first}

A few statements however many claims: the sends, the traces, the files; a file is read
only for a claim sent more than once (a claim sent once has nothing else to answer).
Called inside the caller's transaction.
"""

import dataclasses

from portal import clock
from portal.models.billing import StoredDocument
from portal.models.claims import ClaimBatch, ClaimEvent
from portal.rules import ack_match
from portal.rules import claim_status as cs
from portal.services.claims.batches import VOID_SENT
from portal.x12.read837 import read_837
from portal.x12.segments import X12Error


@dataclasses.dataclass(frozen=True)
class Sent:
    batch_id: int | None
    sending: ack_match.Sending


def _sends(claim_ids):
    """{claim id: [(batch id or None, created_at)]}, oldest first: each move to submitted
    (in a file, mailed, or by hand) and each void a file carried; not the rows that leave
    a submitted claim submitted (its upload, an acknowledgment)."""
    out = {}
    sent = (ClaimEvent.to_status == cs.SUBMITTED) & (ClaimEvent.from_status != cs.SUBMITTED)
    q = (
        ClaimEvent.select(ClaimEvent.claim, ClaimEvent.batch, ClaimEvent.created_at)
        .where(ClaimEvent.claim.in_(claim_ids) & (sent | (ClaimEvent.action == VOID_SENT)))
        .order_by(ClaimEvent.id)
        .tuples()
    )
    for claim_id, batch_id, at in q:
        out.setdefault(claim_id, []).append((batch_id, at))
    return out


def _traces(claim_ids):
    """{(claim id, batch id): {trace}}: what earlier answers gave each sending."""
    out = {}
    q = (
        ClaimEvent.select(ClaimEvent.claim, ClaimEvent.batch, ClaimEvent.trace)
        .where(
            ClaimEvent.claim.in_(claim_ids)
            & (ClaimEvent.trace != "")
            & ClaimEvent.batch.is_null(False)
        )
        .tuples()
    )
    for claim_id, batch_id, trace in q:
        out.setdefault((claim_id, batch_id), set()).add(trace)
    return out


def _files(batch_ids):
    """{batch id: (interchange number, BHT03, {patient control number: Claim837})}; the
    claims of a file that cannot be read (or of a paper batch) are not known."""
    out = {}
    rows = (
        ClaimBatch.select(ClaimBatch, StoredDocument.data)
        .join(StoredDocument, on=(ClaimBatch.document == StoredDocument.id))
        .where(ClaimBatch.id.in_(list(batch_ids)))
    )
    for b in rows:
        claims, reference = {}, ""
        if b.kind == "837p":
            try:
                read = read_837(bytes(b.document.data).decode("ascii", "replace"))
                claims = {c.patient_control_number: c for c in read.claims}
                reference = read.reference or read.group_control
            except X12Error:
                pass
        out[b.id] = (b.interchange_control_number, reference, claims)
    return out


def _sending(pcn, at, file, traces, tz):
    number, reference, claims = file if file else (None, "", {})
    sent = claims.get(pcn)
    days = [line.service_date for line in sent.lines if line.service_date] if sent else []
    return ack_match.Sending(
        file_number=number,
        day=ack_match.day_of(at),
        reference=reference,
        traces=frozenset(traces),
        charge_cents=sent.charge_cents if sent else None,
        first_day=min(days, default=None),
        last_day=max(days, default=None),
        replaces=sent.original_claim_number if sent else "",
        local_day=clock.local_date(at, tz),
    )


def of_claims(claims, tz):
    """{claim id: [Sent]} of `claims`, oldest first (a claim with no send on record: [])."""
    ids = [c.id for c in claims]
    if not ids:
        return {}
    sends = _sends(ids)
    again = {c.id for c in claims if len(sends.get(c.id, ())) > 1}
    traces = _traces(list(again)) if again else {}
    batch_ids = {b for cid in again for b, _ in sends[cid] if b is not None}
    files = _files(batch_ids) if batch_ids else {}
    out = {}
    for c in claims:
        pcn = c.patient_control_number
        out[c.id] = [
            Sent(b, _sending(pcn, at, files.get(b), traces.get((c.id, b), ()), tz))
            for b, at in sends.get(c.id, ())
        ]
    return out
