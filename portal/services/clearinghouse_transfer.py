"""Uploads to and downloads from the clearinghouse, over clearinghouse_sftp's sessions.

Plain functions, each opening its own connection unless given a Session, each safe to call
again after a failure (from a task queue's retry, the CLI or a button):

- upload(conn, name, data) -> UploadResult: idempotent per (practice, name);
- list_new(conn, session=None) -> [RemoteFile] in the download folder, not fetched before;
- download(conn, remote, session=None) -> (ClearinghouseFile, created);
- fetch(conn) -> [FetchLine]: list_new, download each, then hand every new file to the
  claims code (services.clearinghouse.process_pending, the `clearinghouse_file_received`
  signal).

Uploads: the bytes go to NAME.part, then are renamed to NAME (what the clearinghouse picks
up is always complete). A journal row per (practice, NAME) records the stage reached, so a
retry after any failure does the right thing:
- NAME already there with the same content (or the same size, where the folder cannot be
  read back): an earlier try landed, its reply was lost; nothing is sent again;
- the rename was asked for and NAME.part is gone, NAME too: the clearinghouse took the
  file already;
- a NAME.part left over by a dropped try is replaced.
Once done, a later call with the same name returns at once without connecting, so a batch
is never uploaded twice. A NAME is used for one content only: derive it from the batch
(e.g. its interchange control number), stable across retries.
"""

import dataclasses
import datetime as dt
import hashlib
import logging
import stat

from portal import clock
from portal.db import database
from portal.models.clearinghouse import (
    STAGE_DONE,
    STAGE_RENAMING,
    STAGE_WRITING,
    ClearinghouseUpload,
)
from portal.services import clearinghouse as ch
from portal.services.clearinghouse_sftp import (
    BAD_NAME,
    BUSY,
    CHANGED,
    CONFLICT,
    PERMISSION,
    TOO_LARGE,
    TransportError,
    connect,
    reuse_or_connect,
)

log = logging.getLogger(__name__)

MAX_DOWNLOAD_BYTES = 50 * 1024 * 1024
TEMP_SUFFIX = ".part"
NAME_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-")
LEASE_MINUTES = 10  # an upload in progress holds its name this long at most


@dataclasses.dataclass(frozen=True)
class RemoteFile:
    name: str
    path: str
    size: int
    mtime: int


@dataclasses.dataclass
class UploadResult:
    remote_path: str
    sha256: str
    # "uploaded": sent now; "found": an earlier try had landed (or the clearinghouse took
    # it already), nothing sent; "done_before": the journal says done, no connection made
    outcome: str
    note: str = ""


@dataclasses.dataclass
class FetchLine:
    name: str
    outcome: str  # "stored", "duplicate" (its content is kept already), "skipped"
    kind: str = ""
    file_id: int | None = None
    status: str = ""  # the file's status after processing: new, processed, error
    message: str = ""


# --- upload ----------------------------------------------------------------------------------


def check_name(name):
    """A remote file name the portal uses: letters, digits, dot, dash, underscore."""
    ok = (
        0 < len(name) <= 100
        and set(name) <= NAME_CHARS
        and name[0].isalnum()
        and not name.endswith(TEMP_SUFFIX)
    )
    if not ok:
        raise TransportError(
            BAD_NAME,
            f"“{name}” cannot be a batch file name: use up to 100 letters, digits, dots, "
            f"dashes or underscores, not ending in {TEMP_SUFFIX}.",
        )


def upload(conn, name, data, timeout=None):
    """Put `data` in the upload folder as `name`, exactly once (see the module's notes)."""
    check_name(name)
    digest = hashlib.sha256(data).hexdigest()
    row = _claim(conn, name, digest, len(data))
    if row.stage == STAGE_DONE:
        return UploadResult(row.remote_path, digest, "done_before", row.note)
    try:
        with connect(conn, timeout) as s:
            result = _upload(s, row, name, data, digest)
    except TransportError as exc:
        _release(row, exc.message)
        raise
    except BaseException:
        _release(row, "interrupted")
        raise
    log.info(
        "clearinghouse of practice %s: %s %s", conn.practice_id, result.outcome, result.remote_path
    )
    return result


def _claim(conn, name, digest, size):
    """The journal row of `name`, held for this try (another try of the same name at once
    is refused with BUSY)."""
    now = clock.utcnow()
    with database.atomic("IMMEDIATE"):
        row = ClearinghouseUpload.get_or_none(
            (ClearinghouseUpload.practice == conn.practice_id)
            & (ClearinghouseUpload.remote_name == name)
        )
        if row is None:
            row = ClearinghouseUpload(
                practice=conn.practice_id, remote_name=name, sha256=digest, size_bytes=size
            )
        elif row.sha256 != digest:
            raise TransportError(
                CONFLICT,
                f"Another file was uploaded as {name} already. A batch file name is used for "
                "one file only.",
            )
        if row.stage == STAGE_DONE:
            return row
        if row.busy_until is not None and row.busy_until > now:
            raise TransportError(
                BUSY, f"{name} is being uploaded right now; its result will show shortly."
            )
        row.attempts += 1
        row.busy_until = now + dt.timedelta(minutes=LEASE_MINUTES)
        row.save()
    return row


def _upload(s, row, name, data, digest):
    final = s.path(s.conn.upload_dir, name)
    temp = final + TEMP_SUFFIX
    there = s.stat(final)
    if there is not None:
        same, note = _same_file(s, final, there, data, digest)
        if not same:
            raise TransportError(
                CONFLICT,
                f"A different file named {name} is already in the upload folder. The portal "
                "never replaces a file there: ask the clearinghouse about it.",
            )
        note = note or "an earlier try had landed; nothing was sent again"
        _finish(row, final, note)
        return UploadResult(final, digest, "found", note)
    temp_there = s.stat(temp)
    if row.stage == STAGE_RENAMING and temp_there is None:
        # The rename was asked for, and neither name is there: it happened, and the
        # clearinghouse has taken the file already.
        note = "the clearinghouse had taken the file before the portal looked again"
        _finish(row, final, note)
        return UploadResult(final, digest, "found", note)
    if temp_there is not None:
        s.remove(temp)  # a dropped try's leftover (complete or not: written again)
    _stage(row, STAGE_WRITING)
    s.put(data, temp)
    _stage(row, STAGE_RENAMING)
    s.rename(temp, final)
    _finish(row, final, "")
    return UploadResult(final, digest, "uploaded")


def _same_file(s, path, attrs, data, digest):
    """(same content?, note): read back and hashed, or the size alone when the server does
    not let this user read its upload folder."""
    if attrs.st_size != len(data):
        return False, ""
    try:
        remote = s.read(path)
    except TransportError as exc:
        if exc.code != PERMISSION:
            raise
        return True, "already there with the same size (the folder cannot be read back)"
    return hashlib.sha256(remote).hexdigest() == digest, ""


def _stage(row, stage):
    with database.atomic("IMMEDIATE"):
        ClearinghouseUpload.update(stage=stage).where(ClearinghouseUpload.id == row.id).execute()
    row.stage = stage


def _finish(row, path, note):
    now = clock.utcnow()
    values = dict(stage=STAGE_DONE, remote_path=path, note=note[:255], busy_until=None, done_at=now)
    with database.atomic("IMMEDIATE"):
        ClearinghouseUpload.update(**values).where(ClearinghouseUpload.id == row.id).execute()
    for key, value in values.items():
        setattr(row, key, value)


def _release(row, error):
    with database.atomic("IMMEDIATE"):
        ClearinghouseUpload.update(busy_until=None, last_error=error[:255]).where(
            ClearinghouseUpload.id == row.id
        ).execute()


def upload_state(practice_id, name):
    """The journal row of `name` (stage, attempts, last_error, done_at), or None."""
    return ClearinghouseUpload.get_or_none(
        (ClearinghouseUpload.practice == practice_id) & (ClearinghouseUpload.remote_name == name)
    )


# --- download --------------------------------------------------------------------------------


def list_new(conn, session=None):
    """Regular files in the download folder that were not fetched before (same path, size
    and modification time), oldest first."""
    with reuse_or_connect(conn, session) as s:
        entries = s.listdir(conn.download_dir, "download")
    files = [
        RemoteFile(
            name=e.filename,
            path=s.path(conn.download_dir, e.filename),
            size=int(e.st_size or 0),
            mtime=int(e.st_mtime or 0),
        )
        for e in entries
        if stat.S_ISREG(e.st_mode or 0) and not e.filename.endswith(TEMP_SUFFIX)
    ]
    seen = ch.seen_paths(conn.practice_id, [f.path for f in files])
    return sorted(
        (f for f in files if (f.path, f.size, f.mtime) not in seen),
        key=lambda f: (f.mtime, f.name),
    )


def download(conn, remote, session=None):
    """Fetch one remote file and keep it: (ClearinghouseFile, created)."""
    if remote.size > MAX_DOWNLOAD_BYTES:
        raise TransportError(
            TOO_LARGE,
            f"{remote.name} is {remote.size // (1024 * 1024)} MB, more than the portal fetches "
            f"({MAX_DOWNLOAD_BYTES // (1024 * 1024)} MB). Download it from the clearinghouse "
            "by hand.",
        )
    with reuse_or_connect(conn, session) as s:
        data = s.read(remote.path)
    if len(data) != remote.size:
        raise TransportError(
            CHANGED,
            f"{remote.name} changed while it was read (the clearinghouse may still be "
            "writing it); it is fetched on the next run.",
        )
    return ch.store_download(conn.practice_id, remote.path, remote.size, remote.mtime, data)


def fetch(conn, timeout=None):
    """Download every new file, keep each once, then offer the new ones to the claims code.
    A file that cannot be fetched this time (too large, still being written) is skipped
    with a message; a lost connection stops the run (what was kept stays kept)."""
    lines = []
    with connect(conn, timeout) as s:
        for remote in list_new(conn, s):
            try:
                f, created = download(conn, remote, s)
            except TransportError as exc:
                if exc.code not in (TOO_LARGE, CHANGED):
                    raise
                lines.append(FetchLine(remote.name, "skipped", message=exc.message))
                continue
            lines.append(
                FetchLine(
                    remote.name,
                    "stored" if created else "duplicate",
                    kind=f.kind,
                    file_id=f.id,
                    status=f.status,
                    message=f.error,
                )
            )
    statuses = ch.process_pending(conn.practice_id)
    for line in lines:
        if line.file_id in statuses:
            line.status = statuses[line.file_id]
    return lines
