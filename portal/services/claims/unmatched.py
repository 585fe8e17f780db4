"""The 835 lines no claim matched at import: matched by hand to the claim the desk chooses
(with the answers the same remittance gave that claim before, so a split claim adds up as
in one import), or set aside with why."""

from portal import audit
from portal.db import database
from portal.models.billing import StoredDocument
from portal.models.claims import ClaimPosting, Remittance, RemittanceClaim
from portal.rules import claim_status
from portal.services.claims import posting
from portal.services.claims.remittances import (
    RemittanceError,
    answer_for,
    is_row_of,
    read,
    source_words,
)


def _clps_of(remittance):
    """The CLPs of the 835 transaction set `remittance` was imported from (the file is
    kept)."""
    doc = StoredDocument.get_by_id(remittance.document_id)
    for remit in read(bytes(doc.data)):
        if is_row_of(remit, remittance):
            return remit.claims
    return []


def _row_key(pcn, status, charge, paid, payer_claim_number):
    return (pcn.strip(), status, charge, paid, payer_claim_number.strip()[:255])


def _clp_of(line, clps):
    """The CLP of `clps` (its remittance's, _clps_of) that `line` (a RemittanceClaim) was
    read from: the one saying the same, the nth such when a split claim has twin CLPs
    (rows are written in the file's order for them, posting_order keeping it)."""
    key = _row_key(line.patient_control_number, line.status_code, line.charge_cents,
                   line.paid_cents, line.payer_claim_number)  # fmt: skip
    twins = RemittanceClaim.select().where(
        (RemittanceClaim.remittance == line.remittance_id)
        & (RemittanceClaim.id < line.id)
        & (RemittanceClaim.patient_control_number == line.patient_control_number)
        & (RemittanceClaim.status_code == line.status_code)
        & (RemittanceClaim.charge_cents == line.charge_cents)
        & (RemittanceClaim.paid_cents == line.paid_cents)
        & (RemittanceClaim.payer_claim_number == line.payer_claim_number)
    )
    same = [cp for cp in clps if _row_key(cp.patient_control_number, cp.status, cp.charge_cents,
                                          cp.paid_cents, cp.payer_claim_number) == key]  # fmt: skip
    n = twins.count()
    if n >= len(same):
        raise RemittanceError("The remittance's file no longer holds this line.")
    return same[n]


def _answers_before(claim, remittance, clps):
    """The answers `remittance` gave `claim` already (posted at import, or matched by hand),
    as posting.PayerAnswer in the order they were posted, since the last reversal among
    them: a split claim's CLPs matched one at a time add up as they do in one import."""
    posted = (
        ClaimPosting.select(ClaimPosting.remittance_claim)
        .join(RemittanceClaim, on=(ClaimPosting.remittance_claim == RemittanceClaim.id))
        .where((ClaimPosting.claim == claim.id) & (RemittanceClaim.remittance == remittance.id))
        .order_by(ClaimPosting.id)
    )
    ids = list(dict.fromkeys(p.remittance_claim_id for p in posted))
    rows = {r.id: r for r in RemittanceClaim.select().where(RemittanceClaim.id.in_(ids))}
    earlier = []
    for row_id in ids:
        answer = answer_for(claim, _clp_of(rows[row_id], clps), _lines_paid(earlier))
        earlier = [] if answer.status == claim_status.REVERSAL else [*earlier, answer]
    return tuple(earlier)


def _lines_paid(answers):
    return {pl.claim_line.id for a in answers for pl in a.lines if pl.claim_line is not None}


def match_line(line, claim, user=None):
    """Post an unmatched 835 line to the claim the desk chose, with the answers the same
    remittance gave the claim before (a split claim: posting.Split), so that its status
    comes from them all. Returns the PostResult."""
    with database.atomic("IMMEDIATE"):
        line = RemittanceClaim.get_by_id(line.id)
        if line.outcome != "unmatched":
            raise RemittanceError("This line was resolved already.")
        if claim.practice_id != line.practice_id:
            raise RemittanceError("Choose one of the practice's claims.")
        remittance = Remittance.get_by_id(line.remittance_id)
        clps = _clps_of(remittance)
        cp = _clp_of(line, clps)
        earlier = _answers_before(claim, remittance, clps)
        answer = answer_for(claim, cp, _lines_paid(earlier))
        if answer.status == claim_status.REVERSAL:
            earlier = ()
        result = posting.post(
            claim,
            answer,
            user=user,
            source=source_words(remittance) + " (matched by hand)",
            remittance_claim=line,
            remittance=remittance,
            split=posting.Split(earlier, last=True),
        )
        RemittanceClaim.update(
            outcome="resolved",
            claim=claim.id,
            note=f"Matched by hand to claim {claim.patient_control_number}.",
        ).where(RemittanceClaim.id == line.id).execute()
        Remittance.update(unmatched_count=Remittance.unmatched_count - 1).where(
            Remittance.id == remittance.id
        ).execute()
        audit.record("remittance.match", obj=line, object_type="remittance_claim", user=user,
                     practice_id=line.practice_id, detail=f"claim {claim.id}")  # fmt: skip
    return result


def dismiss_line(line, note, user=None):
    """Set an unmatched line aside, with why (not the practice's claim, posted by hand)."""
    note = (note or "").strip()
    if not note:
        raise RemittanceError("Say why this line needs no posting.")
    with database.atomic("IMMEDIATE"):
        line = RemittanceClaim.get_by_id(line.id)
        if line.outcome != "unmatched":
            raise RemittanceError("This line was resolved already.")
        RemittanceClaim.update(outcome="resolved", note=f"Set aside: {note}"[:2000]).where(
            RemittanceClaim.id == line.id
        ).execute()
        Remittance.update(unmatched_count=Remittance.unmatched_count - 1).where(
            Remittance.id == line.remittance_id
        ).execute()
        audit.record("remittance.dismiss", obj=line, object_type="remittance_claim", user=user,
                     practice_id=line.practice_id)  # fmt: skip


def unmatched_lines(practice_id):
    return list(
        RemittanceClaim.select(RemittanceClaim, Remittance)
        .join(Remittance, on=(RemittanceClaim.remittance == Remittance.id))
        .where((RemittanceClaim.practice == practice_id) & (RemittanceClaim.outcome == "unmatched"))
        .order_by(RemittanceClaim.id)
    )
