"""Acknowledgments from the clearinghouse, applied to batches and claims:

- a 999 answers a whole 837P file (matched by its group control number, GS06 = AK102):
  the batch becomes accepted, partly accepted or rejected, with the segment and element
  errors in words (ClaimBatch.ack_status / ack_detail); the claims of a rejected
  transaction set become rejected, with a ClaimProblem (source 999) saying what to fix;
- a 277CA answers claim by claim (matched by patient control number, TRN*2): an accepted
  claim becomes accepted and keeps the payer's claim number (REF*1K); a rejected one (A3,
  A6, A7, A8) becomes rejected and goes back to the front desk's work list with the
  reasons in words (ClaimProblem source 277ca: category:code, entity and free text).
  A status answers the sending it is about (rules/ack_match.py: the file it names, the
  clearinghouse's trace, the claim as each file sent it, its date): one about an earlier
  sending of a claim sent again since changes nothing and is kept in the claim's history
  (action EARLIER, with that file) and on that file's page (result.earlier);
- a TA1 answers a whole 837P file's envelope (matched by its interchange control number,
  ISA13 = TA101): what it said is kept on the batch (ta1_status, ta1_detail); a rejected
  envelope (R) means none of the file was read, so the batch and its claims are rejected
  as a 999 refusing the file would, with a ClaimProblem (source ta1) saying the note in
  words and that the owner fixes it in the clearinghouse settings. A and E change no claim.
  A TA1 may stand before the 999 in one interchange: receivers.py applies both, in one
  transaction.

    result = apply_999(practice_id, text)          # AckError: unreadable, or no such file
    result = apply_277ca(practice_id, text)        # result.unknown: control numbers not ours;
                                                   # result.earlier: answers to older sendings
    result = apply_ta1(practice_id, text)          # AckError: unreadable, or no such file

Each call is one IMMEDIATE transaction, with a ClaimEvent per claim whose status changes.
Applying the same acknowledgment again changes nothing; nor does an answer to a file whose
claims have gone out again since in a newer file. ack_words.py puts what each says in words.
"""

import dataclasses

from portal import audit, clock
from portal.db import database
from portal.models.claims import Claim, ClaimBatch, ClaimEvent, ClaimProblem
from portal.models.practice import Practice
from portal.rules import ack_match, claim_status, edi_codes
from portal.services.claims import ack_words, batches, history, sendings
from portal.x12.read277 import REJECTING, read_277ca
from portal.x12.read999 import read_999
from portal.x12.readta1 import read_ta1
from portal.x12.segments import X12Error

BATCH_STATUS = {"A": "accepted", "E": "accepted", "P": "partly_accepted"}
# The history row of a 277CA status about an earlier sending of a claim sent again since.
EARLIER = batches.EARLIER_ANSWER


class AckError(Exception):
    """An acknowledgment that cannot be applied; the message is for the owner."""


@dataclasses.dataclass
class AckResult:
    batches: list = dataclasses.field(default_factory=list)
    accepted: list = dataclasses.field(default_factory=list)  # claims
    rejected: list = dataclasses.field(default_factory=list)
    unchanged: list = dataclasses.field(default_factory=list)
    unknown: list = dataclasses.field(default_factory=list)  # patient control numbers
    earlier: list = dataclasses.field(default_factory=list)  # claims: about an older sending


def _event(claim, old, new, reason, batch=None, now=None, trace=""):
    history.event(claim, "status" if old != new else "acknowledged", from_status=old,
                  to_status=new, reason=reason, batch=batch, trace=trace)  # fmt: skip


def _replace_problems(claim, source, problems, now):
    """The claim's problems from `source` become `problems` [(code, message) or (code,
    message, where it is fixed)]; True when that changed anything."""
    problems = [(p[0], p[1], p[2] if len(p) > 2 else "claim") for p in problems]
    old = [
        (p.code, p.message, p.fix_where)
        for p in ClaimProblem.select()
        .where((ClaimProblem.claim == claim.id) & (ClaimProblem.source == source))
        .order_by(ClaimProblem.id)
    ]
    if old == problems:
        return False
    ClaimProblem.delete().where(
        (ClaimProblem.claim == claim.id) & (ClaimProblem.source == source)
    ).execute()
    for code, message, where in problems:
        history.add_problem(claim, code, message, fix_where=where, source=source)
    history.refresh_held(claim)
    return True


def _reject(claim, source, problems, reason, result, now, batch=None, trace=""):
    """Reject `claim` with its problems (once: the same answer again changes nothing)."""
    old = claim.status
    if old not in (claim_status.SUBMITTED, claim_status.ACCEPTED, claim_status.REJECTED):
        result.unchanged.append(claim)  # answered already (paid, edited...): kept as it is
        return
    changed = _replace_problems(claim, source, problems, now)
    if old == claim_status.REJECTED and not changed:
        result.unchanged.append(claim)
        return
    Claim.update(status=claim_status.REJECTED, updated_at=now).where(Claim.id == claim.id).execute()
    _event(claim, old, claim_status.REJECTED, reason, batch, now, trace)
    result.rejected.append(claim)


def _still_in(batch, result):
    """The claims the batch's file carried that are still that file's. A claim sent again
    since in another file is that file's now: an answer to this one (a copy fetched again,
    or one late) must not reject what the payer is being sent (it goes to unchanged)."""
    for claim in batches.claims_of(batch):
        if claim.batch_id != batch.id:
            result.unchanged.append(claim)
            continue
        yield claim


# --- 999 ---------------------------------------------------------------------------------


def _batch_of(practice_id, ack):
    try:
        number = int(ack.group_control)
    except ValueError:
        number = None
    batch = None
    if number is not None:
        batch = ClaimBatch.get_or_none(
            (ClaimBatch.practice == practice_id)
            & (ClaimBatch.group_control_number == number)
            & (ClaimBatch.kind == "837p")
        )
    if batch is None:
        raise AckError(
            f"This 999 answers file number {ack.group_control} (GS06), which is none of "
            "the practice's 837P files: nothing was changed."
        )
    return batch


def _apply_one_999(practice_id, ack, result, now):
    """Apply one functional group's answer; True when it changed the file or a claim."""
    batch = _batch_of(practice_id, ack)
    status = BATCH_STATUS.get(ack.status, "rejected")
    errors = [(ts, err) for ts in ack.transactions for err in ts.errors]
    parties = (
        ack_words.parties_in(batches.file_bytes(batch).decode("ascii", "replace")) if errors else {}
    )
    detail = ack_words.detail_999(ack, parties)
    changed = (batch.ack_status, batch.ack_detail) != (ack.status, detail)
    if changed:
        ClaimBatch.update(status=status, ack_status=ack.status, ack_detail=detail).where(
            ClaimBatch.id == batch.id
        ).execute()
    result.batches.append(batch)
    rejected_sets = [ts for ts in ack.transactions if not ts.accepted]
    if not rejected_sets and ack.accepted:
        return changed
    rejected_before = len(result.rejected)
    # Our files hold one transaction set: a rejected set is every claim of the file.
    for claim in _still_in(batch, result):
        named = [
            (err, ack_words.party(err, ts.control_number, parties))
            for ts in rejected_sets
            for err in ts.errors
            if err.patient_control_number in ("", claim.patient_control_number)
        ]
        where = next((party[1] for _, party in named if party), "claim")
        message = (
            f"The clearinghouse rejected file {batch.interchange_control_number:09d} (999): "
            + (
                " ".join(ack_words.segment_error_words(err, party) for err, party in named)
                if named
                else "the whole file was refused."
            )
            + ack_words.fix_words(where)
        )
        reason = f"Rejected with file {batch.interchange_control_number:09d} (999)"
        _reject(claim, "999", [("999_rejected", message, where)], reason, result, now, batch)
    return changed or len(result.rejected) > rejected_before


def apply_999(practice_id, text):
    """Apply a 999 file (text) to the practice's batch and claims; see the module notes."""
    try:
        acks = read_999(text)
    except X12Error as exc:
        raise AckError(f"This 999 cannot be read: {exc}") from None
    result = AckResult()
    with database.atomic("IMMEDIATE"):
        now = clock.utcnow()
        for ack in acks:
            if _apply_one_999(practice_id, ack, result, now):  # the same answer again: once
                batch = result.batches[-1]
                audit.record("claim_batch.ack", obj=batch, detail="999", practice_id=practice_id)
    return result


# --- 277CA -------------------------------------------------------------------------------


def _apply_claim_277(claim, cs, source_name, result, now, batch=None):
    """Apply a status to the claim as it is now (its latest sending, `batch`)."""
    trace = cs.clearinghouse_trace
    if cs.payer_claim_number and cs.payer_claim_number != claim.payer_claim_number:
        freq = claim_status.frequency_when_numbered(
            claim.status, claim.frequency_code, claim.submitted_at is not None
        )
        Claim.update(payer_claim_number=cs.payer_claim_number[:255], frequency_code=freq).where(
            Claim.id == claim.id
        ).execute()
    if cs.rejected:
        found = ack_words.rejections(cs)
        message_lines = [m for _, m in found]
        # Whom the payer names (STC01-3) says where it is fixed: a referring provider's NPI
        # on the referral, a subscriber's member ID on the policy ...
        entity = next(
            (
                st.entity
                for st in cs.statuses
                if st.category in REJECTING and st.entity in ack_words.PARTIES
            ),
            "",
        )
        where = ack_words.PARTIES[entity][1] if entity else "claim"
        fix = " Correct it, then send it again." if where == "claim" else ack_words.fix_words(where)
        problems = [
            (
                found[0][0],
                f"{source_name} rejected the claim (277CA): "
                + " ".join(f"{m}." for m in message_lines)
                + fix,
                where,
            )
        ]
        reason = "Rejected (277CA): " + "; ".join(message_lines)
        _reject(claim, "277ca", problems, reason, result, now, batch, trace)
        return
    statuses = [ack_words.status_words(st) for st in cs.statuses]
    if cs.accepted and claim.status == claim_status.SUBMITTED:
        new = claim_status.check_transition(claim.status, claim_status.ACCEPTED)
        Claim.update(status=new, updated_at=now).where(Claim.id == claim.id).execute()
        reason = "Accepted (277CA): " + "; ".join(statuses)
        _event(claim, claim.status, new, reason, batch, now, trace)
        result.accepted.append(claim)
        return
    if any(st.category == "A4" for st in cs.statuses):  # the payer does not find it
        if _replace_problems(claim, "277ca", [("277ca_A4", "; ".join(statuses) + ".")], now):
            reason = "277CA: " + "; ".join(statuses)
            _event(claim, claim.status, claim.status, reason, batch, now, trace)
    result.unchanged.append(claim)


def _status_facts(ack, cs):
    """What the 277CA says of the claim that tells which sending it is about."""
    return ack_match.Status(
        batch_trace=ack.batch_trace,
        trace=cs.clearinghouse_trace,
        payer_claim_number=cs.payer_claim_number,
        charge_cents=cs.charge_cents,
        first_day=cs.service_start,
        last_day=cs.service_end,
        day=cs.status_date,
    )


def _record_earlier(claim, cs, sent, latest, why, result):
    """Keep a status about an earlier sending in the claim's history, with that sending's
    file (its page lists it), once; the claim is left as it is."""
    said = "; ".join(m for _, m in ack_words.rejections(cs)) if cs.rejected else ""
    said = said or "; ".join(ack_words.status_words(st) for st in cs.statuses)
    tail = f" It said: {said}."
    reason = (
        f"277CA about the sending in {sent.sending.file}, not the claim's latest "
        f"({latest.sending.file}): left as it is. {why}{tail}"
    )[:2000]
    kept = ClaimEvent.select(ClaimEvent.reason).where(
        (ClaimEvent.claim == claim.id)
        & (ClaimEvent.action == EARLIER)
        & (ClaimEvent.batch == sent.batch_id)
    )
    if not any(e.reason.endswith(tail) or e.reason == reason for e in kept):
        history.event(claim, EARLIER, from_status=claim.status, to_status=claim.status,
                      reason=reason, batch=sent.batch_id, trace=cs.clearinghouse_trace)  # fmt: skip
    result.earlier.append(claim)


def _claims_of_277(practice_id, statuses):
    pcns = [cs.patient_control_number for cs in statuses]
    claims = {
        c.patient_control_number: c
        for c in Claim.select().where(
            (Claim.practice == practice_id) & Claim.patient_control_number.in_(pcns)
        )
    }
    if statuses and not claims:
        raise AckError(
            f"None of the {len(statuses)} claims this 277CA answers is one of the "
            "practice's: nothing was changed."
        )
    return claims


def apply_277ca(practice_id, text):
    """Apply a 277CA file (text) claim by claim; see the module notes. Raises AckError when
    it cannot be read or names none of the practice's claims."""
    try:
        acks = read_277ca(text)
    except X12Error as exc:
        raise AckError(f"This 277CA cannot be read: {exc}") from None
    result = AckResult()
    statuses = [cs for ack in acks for cs in ack.claims]
    with database.atomic("IMMEDIATE"):
        now = clock.utcnow()
        claims = _claims_of_277(practice_id, statuses)
        tz = Practice.get_by_id(practice_id).tz
        sent = sendings.of_claims(list(claims.values()), tz)
        for ack in acks:
            source_name = (ack.source_name or "The payer").title()
            for cs in ack.claims:
                claim = claims.get(cs.patient_control_number)
                if claim is None:
                    result.unknown.append(cs.patient_control_number)
                    continue
                found = sent.get(claim.id, [])
                i, why = ack_match.answered([s.sending for s in found], _status_facts(ack, cs))
                if 0 <= i < len(found) - 1:
                    _record_earlier(claim, cs, found[i], found[-1], why, result)
                    continue
                batch = found[-1].batch_id if found else None
                _apply_claim_277(claim, cs, source_name, result, now, batch)
        audit.record(
            "claim.ack_277ca",
            detail=f"{len(result.accepted)} accepted, {len(result.rejected)} rejected, "
            f"{len(result.earlier)} about an earlier sending, {len(result.unknown)} not found",
            practice_id=practice_id,
        )
    return result


# --- TA1 ---------------------------------------------------------------------------------

TA1_NEXT_SETTINGS = (
    "The owner corrects what the note names under Settings → Clearinghouse (the submitter "
    "and receiver ids, test or production); then check the claim again and send it: it "
    "goes in a new file."
)
TA1_NEXT_ASK = (
    "The owner asks the clearinghouse what the note means for the practice's files; then "
    "check the claim again and send it: it goes in a new file."
)


def _ta1_batches(practice_id, found):
    """[(ack, batch)]: the practice's 837P file each TA1 answers. AckError when one
    answers none of them (nothing is applied: the file is listed for the owner)."""
    numbers = {int(ack.control_number) for ack in found}
    by_number = {
        b.interchange_control_number: b
        for b in ClaimBatch.select().where(
            (ClaimBatch.practice == practice_id)
            & ClaimBatch.interchange_control_number.in_(list(numbers))
            & (ClaimBatch.kind == "837p")
        )
    }
    unknown = [ack.control_number for ack in found if int(ack.control_number) not in by_number]
    if unknown:
        raise AckError(
            f"This TA1 answers file number {', '.join(unknown)} (ISA13), which is none of the "
            "practice's 837P files: nothing was changed. Ask the clearinghouse which file it "
            "means."
        )
    return [(ack, by_number[int(ack.control_number)]) for ack in found]


def _apply_one_ta1(batch, ack, result, now):
    """Keep what the TA1 said on the batch; a rejection rejects the claims it still holds.
    Returns the claims rejected now."""
    values = {"ta1_status": ack.code, "ta1_detail": ack_words.ta1_words(ack)}
    if ack.rejected:
        values["status"] = "rejected"  # not read: this file is not sent again
    if any(getattr(batch, name) != value for name, value in values.items()):
        ClaimBatch.update(**values).where(ClaimBatch.id == batch.id).execute()
        result.batches.append(batch)
    if not ack.rejected:
        return []
    icn = f"{batch.interchange_control_number:09d}"
    note = ack_words.ta1_note(ack)
    nxt = TA1_NEXT_SETTINGS if ack.note in edi_codes.INTERCHANGE_SETTINGS_NOTES else TA1_NEXT_ASK
    message = (
        f"The clearinghouse refused 837P file {icn} at its envelope ({note}): none of its "
        f"claims reached the payer, and nothing in this claim was found wrong. {nxt}"
    )
    problems = [("ta1_rejected", message, "clearinghouse")]
    rejected = []
    for claim in _still_in(batch, result):
        old = claim.status
        # The status change a filing clock reads: submitted, then rejected (never received).
        _reject(claim, "ta1", problems, f"Rejected with file {icn} ({note})", result, now, batch)
        if result.rejected and result.rejected[-1] is claim:
            rejected.append((claim, old))
    return rejected


def apply_ta1(practice_id, text):
    """Apply a TA1 file (text) to the practice's 837P files and their claims; see the
    module notes. Raises AckError when it cannot be read or answers a file not ours."""
    try:
        found = read_ta1(text)
    except X12Error as exc:
        raise AckError(f"This TA1 cannot be read: {exc}") from None
    result = AckResult()
    with database.atomic("IMMEDIATE"):
        now = clock.utcnow()
        for ack, batch in _ta1_batches(practice_id, found):
            rejected = _apply_one_ta1(batch, ack, result, now)
            for claim, old in rejected:
                audit.record("claim.status", obj=claim, detail=f"{old} -> rejected (TA1)",
                             practice_id=practice_id)  # fmt: skip
            if batch in result.batches or rejected:
                n = len(rejected)
                detail = f"TA1 {ack.code}" + (
                    f": {n} claim{'s' if n != 1 else ''} rejected" if ack.rejected else ""
                )
                audit.record("claim_batch.ack", obj=batch, detail=detail, practice_id=practice_id)
    return result
