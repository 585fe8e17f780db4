"""Sending an 837P batch to the clearinghouse, on the task queue: `queue` marks the
batch (the caller enqueues tasks.claims.send_batch after the commit), and each run of
the task makes one `attempt`: the file is uploaded under the batch's remote name
(clearinghouse_transfer.upload: idempotent per name, so a batch is never uploaded
twice, even when a retry follows an upload whose reply was lost).

A failure the transport calls retryable (server unreachable, timeout, connection
dropped ...) is tried again after a growing delay, up to MAX_ATTEMPTS tries; any other
(wrong password, changed server key, a different file under that name) stops at once
with its message, for the owner to fix and press Send again. The batch page shows the
status, the number of tries and the last error in words.

    batch = queue(batch, user)            # SendError: not set up, sent already ...
    outcome = attempt(batch_id)           # Outcome(kind="sent"|"retry"|"failed"|"skipped")
"""

import dataclasses

from portal import audit, clock
from portal.db import database
from portal.models.claims import Claim, ClaimBatch
from portal.rules import claim_status
from portal.services import clearinghouse, clearinghouse_transfer
from portal.services.claims import batches, history
from portal.services.clearinghouse_sftp import (
    AUTH,
    FOLDER,
    HOST_KEY_CHANGED,
    NOT_CONFIGURED,
    PERMISSION,
    PROTOCOL,
    SECRET,
    TransportError,
)

MAX_ATTEMPTS = 6
# Seconds to wait after the 1st, 2nd ... failed try: one minute, growing to three hours.
BACKOFF = (60, 300, 900, 3600, 10800)
SENDABLE = ("built", "failed")
WAITING = ("queued", "sending")  # sent again on demand while no upload holds the file
SETTINGS_PAGE = "Settings → Clearinghouse"
# Failures the owner fixes in the settings or with the clearinghouse (not the desk, and not
# by waiting): the login, the stored secret, a folder, the user's rights.
OWNER_FIXES = frozenset({AUTH, SECRET, FOLDER, PERMISSION, PROTOCOL, NOT_CONFIGURED})


class SendError(Exception):
    """A batch that cannot be queued; the message says why and what to do."""


@dataclasses.dataclass(frozen=True)
class Outcome:
    kind: str  # sent | retry | failed | skipped
    delay: int = 0  # seconds, for a retry
    message: str = ""


def delay_after(attempts):
    """The wait before the next try, after `attempts` failed ones."""
    return BACKOFF[min(attempts, len(BACKOFF)) - 1]


def wait_words(attempts):
    """delay_after in words: "5 minutes", "1 hour"."""
    minutes = delay_after(attempts) // 60
    if minutes < 60:
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    return f"{minutes // 60} hour{'s' if minutes >= 120 else ''}"


def uploading(batch):
    """True while an upload of the batch's file holds its name: it is being sent now."""
    row = clearinghouse_transfer.upload_state(batch.practice_id, batch.remote_name)
    return bool(row and row.busy_until and row.busy_until > clock.utcnow())


def can_send(batch):
    """Built or not sent; or waiting for its next try, or in a try that never came back
    (the portal restarted mid-send), while no upload holds it: a retry never sends twice
    (clearinghouse_transfer's journal), so sending it now is safe."""
    if batch.status in SENDABLE:
        return True
    return batch.status in WAITING and not uploading(batch)


def queue(batch, user=None):
    """Mark a built (or failed, or waiting: can_send) batch to be sent; the caller
    enqueues the task after the transaction commits (tasks.enqueue(tasks.claims.send_batch,
    batch.id))."""
    with database.atomic("IMMEDIATE"):
        batch = ClaimBatch.get_by_id(batch.id)
        conn = clearinghouse.connection_for(batch.practice_id)
        if conn is None or not conn.is_configured:
            raise SendError(
                f"Set up the SFTP connection to your clearinghouse under {SETTINGS_PAGE} "
                "first (or download the file and upload it yourself)."
            )
        if conn.host_key_changed:
            raise SendError(
                "The clearinghouse's server key changed: nothing is sent until the owner "
                f"checks and accepts the new key under {SETTINGS_PAGE}."
            )
        if batch.status in WAITING and uploading(batch):
            raise SendError("This file is being sent right now; this page shows how it goes.")
        if not can_send(batch):
            raise SendError(f"This file is {batches.STATUS_LABELS[batch.status].lower()} already.")
        ClaimBatch.update(status="queued", attempts=0, last_error="").where(
            ClaimBatch.id == batch.id
        ).execute()
        audit.record("claim_batch.send", obj=batch, user=user)
    return ClaimBatch.get_by_id(batch.id)


def _start(batch_id):
    with database.atomic("IMMEDIATE"):
        batch = ClaimBatch.get_or_none(ClaimBatch.id == batch_id)
        if batch is None or batch.status not in ("queued", "sending"):
            return None
        ClaimBatch.update(status="sending", attempts=ClaimBatch.attempts + 1).where(
            ClaimBatch.id == batch.id
        ).execute()
    return ClaimBatch.get_by_id(batch_id)


def _sent(batch, result):
    now = clock.utcnow()
    note = f" ({result.note})" if result.outcome == "found" and result.note else ""
    with database.atomic("IMMEDIATE"):
        ClaimBatch.update(status="sent", sent_at=now, last_error="").where(
            ClaimBatch.id == batch.id
        ).execute()
        for claim in batches.claims_of(batch):
            if claim.status == claim_status.SUBMITTED and claim.batch_id == batch.id:
                Claim.update(submitted_at=now).where(Claim.id == claim.id).execute()
            history.event(
                claim,
                "sent",
                from_status=claim.status,
                to_status=claim.status,
                reason=f"Uploaded to the clearinghouse in file "
                f"{batch.interchange_control_number:09d} as {batch.remote_name}{note}",
                batch=batch,
            )
        audit.record("claim_batch.sent", obj=batch, detail=result.outcome,
                     practice_id=batch.practice_id)  # fmt: skip


def words(exc):
    """The transport's message, fit for the batch's 255-character last_error: whole
    sentences (the settings page shows the long form, fingerprints and all). The desk
    reads it: what only the owner can fix (the login, a folder) says so."""
    if exc.code == HOST_KEY_CHANGED:
        return (
            "The clearinghouse server's key changed: all transfers are stopped until the "
            f"owner checks the new key under {SETTINGS_PAGE}."
        )
    if exc.code not in OWNER_FIXES:
        return clearinghouse.sentences(exc.message, 200)
    where = "" if SETTINGS_PAGE in exc.message else f" under {SETTINGS_PAGE}"
    return (
        clearinghouse.sentences(exc.message, 180)
        + f" The owner sees to this{where}; then press Send again."
    )


def _failed(batch, exc):
    retry = exc.retryable and batch.attempts < MAX_ATTEMPTS
    message = words(exc)
    if exc.retryable and not retry:
        message = f"{message} (tried {batch.attempts} times; press Send to try again)"
    with database.atomic("IMMEDIATE"):
        ClaimBatch.update(status="queued" if retry else "failed", last_error=message[:255]).where(
            ClaimBatch.id == batch.id
        ).execute()
        if not retry:
            audit.record("claim_batch.send_failed", obj=batch, detail=exc.code,
                         practice_id=batch.practice_id)  # fmt: skip
    if retry:
        return Outcome("retry", delay_after(batch.attempts), message)
    return Outcome("failed", 0, message)


def attempt(batch_id):
    """One try at uploading a queued batch (what each run of the task does)."""
    batch = _start(batch_id)
    if batch is None:
        return Outcome("skipped")
    conn = clearinghouse.connection_for(batch.practice_id)
    try:
        if conn is None:
            raise TransportError("not_configured", f"Set up the connection under {SETTINGS_PAGE}.")
        result = clearinghouse_transfer.upload(conn, batch.remote_name, batches.file_bytes(batch))
    except TransportError as exc:
        return _failed(batch, exc)
    _sent(batch, result)
    return Outcome("sent", 0, result.outcome)
