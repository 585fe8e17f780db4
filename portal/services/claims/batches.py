"""837P batches: ready claims become one file per payer (and per billing provider when
the practice bills under each therapist's NPI), each with an interchange and group
control number unique to the practice, kept as a StoredDocument with its SHA-256; the
claims go to "submitted" with a ClaimEvent each. All of it in one IMMEDIATE transaction,
so two people building at once can neither number two files alike nor bill a claim twice.

    ready = ready_by_payer(practice_id)              # [(payer, [claim, ...])] to choose from
    batches = build(practice_id, claim_ids=[...], user=user)     # or payer_id=, or neither
    data = file_bytes(batch)                         # the 837P as stored
    batch_for(practice_id, batch_id)                 # scoped read for the CLI

Raises BatchError (batch837.BatchError) with a message that says what to fix, and where.
"""

import dataclasses
import hashlib

from peewee import chunked

from portal import audit, clock
from portal.db import database
from portal.models.billing import StoredDocument
from portal.models.claims import Claim, ClaimBatch, ClaimEvent, X12Counter
from portal.models.insurance import Payer
from portal.models.people import Client
from portal.models.practice import Practice
from portal.rules import claim_status
from portal.rules.money import format_cents
from portal.services import clearinghouse
from portal.services.claims import batch837, data
from portal.services.claims.batch837 import BatchError
from portal.x12.claim837 import Batch
from portal.x12.write837 import write_837p

__all__ = ["BatchError", "build", "file_bytes", "ready_by_payer", "remote_name"]

CONTENT_TYPE = "application/edi-x12"
MAX_CONTROL = 999_999_999
STATUS_LABELS = {
    "built": "Built (download it, or send it)",
    "queued": "Waiting to be sent",
    "sending": "Sending",
    "sent": "Sent, waiting for the 999",
    "failed": "Not sent",
    "accepted": "Accepted by the clearinghouse",
    "partly_accepted": "Partly accepted",
    "rejected": "Rejected by the clearinghouse",
}


def next_control_number(practice_id):
    """The practice's next interchange control number (ISA13; the group's GS06 too), stored
    at once. Call inside the caller's IMMEDIATE transaction: it is the lock that keeps two
    batches from getting the same number."""
    X12Counter.insert(practice=practice_id, last_number=0).on_conflict_ignore().execute()
    row = X12Counter.get(X12Counter.practice == practice_id)
    number = row.last_number
    while True:  # ISA13 has nine digits: after the last, start again past numbers in use
        number = number % MAX_CONTROL + 1
        used = ClaimBatch.select().where(
            (ClaimBatch.practice == practice_id) & (ClaimBatch.interchange_control_number == number)
        )
        if not used.exists():
            break
    X12Counter.update(last_number=number).where(X12Counter.id == row.id).execute()
    return number


def remote_name(batch):
    """The file's name on the clearinghouse: stable across retries, unique per practice."""
    return f"837P-{batch.interchange_control_number:09d}.x12"


# What a batch sends: ready claims no rule holds, and voids of claims the payer has (life.void
# leaves them status void, frequency 8, no batch) until a file carries them.
_READY = (Claim.status == claim_status.READY) & (Claim.held == False)  # noqa: E712
_VOIDS = (
    (Claim.status == claim_status.VOID)
    & (Claim.frequency_code == claim_status.VOIDED)
    & Claim.batch.is_null()
)
_SENDABLE = _READY | _VOIDS
VOID_SENT = "void_sent"  # the ClaimEvent of a void carried by a file (its status stays void)
# The ClaimEvent of an acknowledgment about this file's sending of a claim sent again since
# in a newer file (acks.py): kept, with this file, and applied to nothing.
EARLIER_ANSWER = "earlier_sending_answered"


def is_void(claim):
    return claim.status == claim_status.VOID


def ready_by_payer(practice_id):
    """[(payer, [claims])]: the claims that may go out now (ready and not held, or a void
    the payer must be sent), by payer, each with its client (the page names them)."""
    claims = list(
        Claim.select(Claim, Payer, Client)
        .join(Payer, on=(Claim.payer == Payer.id))
        .switch(Claim)
        .join(Client, on=(Claim.client == Client.id))
        .where((Claim.practice == practice_id) & _SENDABLE)
        .order_by(Payer.name, Claim.service_date, Claim.id)
    )
    out = {}
    for c in claims:
        out.setdefault(c.payer_id, (c.payer, []))[1].append(c)
    return list(out.values())


def _select(practice, claim_ids, payer_id):
    q = Claim.select().where((Claim.practice == practice.id) & _SENDABLE)
    if claim_ids is not None:
        q = q.where(Claim.id.in_(list(claim_ids)))
    if payer_id is not None:
        q = q.where(Claim.payer == payer_id)
    return batch837.load_claims(q, practice.tz)


def _groups(loaded, practice, settings):
    """{(payer id, billing NPI): [Loaded]}: one file per payer and billing provider."""
    groups = {}
    for item in loaded:
        billing = batch837.billing_provider(
            practice, settings, item.claim.provider if item.claim.provider_id else None
        )
        groups.setdefault((item.claim.payer_id, billing.npi), (billing, []))[1].append(item)
    return groups


def _who(item):
    c = item.claim
    return f"claim {c.patient_control_number} ({c.client.first_name} {c.client.last_name})"


def _write(x12_batch, items):
    """The file's text; a claim the writer refuses is named with what it said."""
    try:
        return write_837p(x12_batch)
    except ValueError as exc:
        for item in items:  # find the claim at fault, to say which one to fix
            try:
                write_837p(_replace_claims(x12_batch, (batch837.to_x12_claim(item),)))
            except ValueError as one:
                raise BatchError(f"{_who(item)}: {one}. Fix it, then build again.") from None
        raise BatchError(f"The 837P file could not be written: {exc}.") from None


def _replace_claims(x12_batch, claims):
    return dataclasses.replace(x12_batch, claims=claims)


def _store(practice_id, icn, text, payer, user):
    data = text.encode("ascii")
    return StoredDocument.create(
        practice=practice_id,
        client=None,
        kind="claim",
        title=f"837P file {icn:09d} for {payer.name}",
        filename=f"837P-{icn:09d}.x12",
        content_type=CONTENT_TYPE,
        data=data,
        sha256=hashlib.sha256(data).hexdigest(),
        size_bytes=len(data),
        created_by=user.id if user is not None else None,
    )


def _submit(items, batch, reason, user, now):
    """The claims go to submitted (a void stays void, now carried by this file), each with
    its history row (history.event's columns), in a few statements however many claims
    the file holds."""
    voids = [item for item in items if is_void(item.claim)]
    sent = [item for item in items if not is_void(item.claim)]
    for item in sent:  # every one is ready (selected so, inside this transaction)
        claim_status.check_transition(item.claim.status, claim_status.SUBMITTED)
    for group, values in (
        (sent, dict(status=claim_status.SUBMITTED)),
        (voids, {}),
    ):
        for chunk in chunked([item.claim.id for item in group], 500):
            Claim.update(batch=batch.id, submitted_at=now, updated_at=now, **values).where(
                Claim.id.in_(chunk)
            ).execute()
    rows = [
        {
            "practice": item.claim.practice_id,
            "claim": item.claim.id,
            "action": VOID_SENT if is_void(item.claim) else "status",
            "from_status": item.claim.status,
            "to_status": item.claim.status if is_void(item.claim) else claim_status.SUBMITTED,
            "reason": ("Void claim (frequency 8) sent. " if is_void(item.claim) else "") + reason,
            "batch": batch.id,
            "user": user.id if user is not None else None,
            "created_at": now,
        }
        for item in items
    ]
    for chunk in chunked(rows, 100):
        ClaimEvent.insert_many(chunk).execute()


def _one_file(practice, billing, items, parties, now, user):
    submitter, receiver, envelope = parties
    icn = next_control_number(practice.id)
    claims = tuple(batch837.to_x12_claim(item) for item in items)
    x12_batch = Batch(
        submitter,
        receiver,
        billing,
        claims,
        interchange_control_number=icn,
        group_control_number=icn,
        created=batch837.local_now(practice, now),
        **envelope,
    )
    text = _write(x12_batch, items)
    payer = items[0].claim.payer
    doc = _store(practice.id, icn, text, payer, user)
    total = sum(item.claim.total_cents for item in items)
    batch = ClaimBatch.create(
        practice=practice.id,
        payer=payer.id,
        kind="837p",
        status="built",
        interchange_control_number=icn,
        group_control_number=icn,
        claim_count=len(items),
        total_cents=total,
        document=doc.id,
        created_by=user.id if user is not None else None,
        created_at=now,
    )
    batch.remote_name = remote_name(batch)
    batch.save()
    _submit(items, batch, f"In 837P file {icn:09d} to {payer.name}", user, now)
    audit.record(
        "claim_batch.build",
        obj=batch,
        detail=f"{len(items)} claims, {format_cents(total)}",
        user=user,
        practice_id=practice.id,
    )
    return batch


def build(practice_id, claim_ids=None, payer_id=None, user=None):
    """Build the files for the chosen ready claims (all ready claims when claim_ids is
    None, of one payer with payer_id). Returns the new ClaimBatch rows, oldest first.
    Voids the payer must be sent (status void, frequency 8, no batch yet) go with them.
    Raises BatchError: nothing chosen is ready, a chosen claim is no longer ready, the
    clearinghouse ids or the practice's billing details are missing, or a claim cannot
    be written (named, with what to fix)."""
    if claim_ids is not None:
        claim_ids = {int(i) for i in claim_ids}
        if not claim_ids:
            raise BatchError("Choose at least one ready claim.")
    with database.atomic("IMMEDIATE"):
        practice = Practice.get_by_id(practice_id)
        parties = batch837.parties(practice, clearinghouse.connection_for(practice_id))
        loaded = _select(practice, claim_ids, payer_id)
        if claim_ids is not None and len(loaded) != len(claim_ids):
            gone = len(claim_ids) - len(loaded)
            raise BatchError(
                f"{gone} of the chosen claims {'is' if gone == 1 else 'are'} no longer ready "
                "(changed or sent by someone else meanwhile). Reload the page and choose again."
            )
        if not loaded:
            raise BatchError("There is no ready claim to send.")
        settings = data.settings_for(practice_id)
        now = clock.utcnow()
        batches = []
        for billing, items in _groups(loaded, practice, settings).values():
            batches.append(_one_file(practice, billing, items, parties, now, user))
    return batches


def file_bytes(batch):
    """The 837P file of a batch, exactly as built."""
    doc = StoredDocument.get_by_id(batch.document_id)
    return bytes(doc.data)


def batches_for(practice_id, limit=50, offset=0):
    return list(
        ClaimBatch.select(ClaimBatch, Payer)
        .join(Payer, on=(ClaimBatch.payer == Payer.id))
        .where(ClaimBatch.practice == practice_id)
        .order_by(ClaimBatch.id.desc())
        .limit(limit)
        .offset(offset)
    )


def claims_of(batch):
    """The claims the batch's file carried (a claim sent again later keeps its place here:
    the history says which files held it)."""
    carried = ClaimEvent.select(ClaimEvent.claim).where(
        (ClaimEvent.batch == batch.id)
        & ((ClaimEvent.to_status == claim_status.SUBMITTED) | (ClaimEvent.action == VOID_SENT))
    )
    return list(
        Claim.select(Claim, Client)
        .join(Client, on=(Claim.client == Client.id))
        .where(Claim.id.in_(carried))
        .order_by(Claim.service_date, Claim.id)
    )


def late_answers(batch):
    """The acknowledgments about the file's sending of claims sent again since in a newer
    file (their history rows, each with its claim), oldest first: they changed nothing."""
    return list(
        ClaimEvent.select(ClaimEvent, Claim.id, Claim.patient_control_number)
        .join(Claim, on=(ClaimEvent.claim == Claim.id))
        .where((ClaimEvent.batch == batch.id) & (ClaimEvent.action == EARLIER_ANSWER))
        .order_by(ClaimEvent.id)
    )
