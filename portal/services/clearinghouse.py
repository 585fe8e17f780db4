"""The clearinghouse connection of a practice (settings, sealed secrets, the pinned host key)
and the files received from it (stored once, then handed to the claims code through the
`clearinghouse_file_received` signal). The SFTP work itself is in clearinghouse_sftp.py.

Secrets: the SFTP password and the generated private key are sealed with portal.secretbox
(a key file in the instance folder, not in the database). They are opened only to connect,
never returned to a page, never logged, never written to the audit log (its rows name the
fields that changed, never values).
"""

import base64
import hashlib

from flask import current_app
from peewee import InterfaceError, OperationalError, fn

from portal import audit, clock, secretbox
from portal.db import database
from portal.models.clearinghouse import (
    FILE_ERROR,
    FILE_NEW,
    FILE_PROCESSED,
    ClearinghouseConnection,
    ClearinghouseDownload,
    ClearinghouseFile,
)
from portal.services import events
from portal.x12.readta1 import read_ta1
from portal.x12.segments import X12Error, parse

# The fields the owner's settings form writes (secrets and the host key have their own ways).
SETTINGS_FIELDS = (
    "host",
    "port",
    "username",
    "auth_method",
    "upload_dir",
    "download_dir",
    "isa_sender_qualifier",
    "isa_sender_id",
    "isa_receiver_qualifier",
    "isa_receiver_id",
    "gs_sender_code",
    "gs_receiver_code",
    "submitter_id",
    "receiver_name",
    "receiver_id",
    "usage_indicator",
)
KIND_LABELS = {
    "999": "999 acknowledgment",
    "277": "277CA claim acknowledgment",
    "835": "835 remittance",
    "ta1": "TA1 interchange acknowledgment",
    "unknown": "Unknown",
}
CONN = "clearinghouse_connection"
HOST_KEY_CHANGED = "host_key_changed"  # clearinghouse_sftp's code for it
FILE = "clearinghouse_file"


class ClearinghouseError(Exception):
    """A refused change, with a message for the owner."""


# --- the connection ----------------------------------------------------------------------


def connection_for(practice_id):
    """The practice's connection, or None when it has none yet."""
    return ClearinghouseConnection.get_or_none(ClearinghouseConnection.practice == practice_id)


def configured_connections():
    """Every practice's connection that has a host, a user and its secret (for the CLI and
    the periodic fetch)."""
    rows = ClearinghouseConnection.select().order_by(ClearinghouseConnection.practice)
    return [c for c in rows if c.is_configured]


def _context(practice_id, field):
    """What a sealed value is bound to: it opens only in this practice's row and column."""
    return f"{CONN}:{practice_id}:{field}"


def _instance():
    return current_app.instance_path


def save_settings(practice_id, values, password=None):
    """Write the owner's settings (`values` holds SETTINGS_FIELDS, already checked by the
    form) and, when given, a new password. A changed host or port forgets the pinned host
    key: the next connection pins the new server's. Returns (connection, changed names)."""
    with database.atomic("IMMEDIATE"):
        conn = connection_for(practice_id) or ClearinghouseConnection(practice=practice_id)
        changed = []
        for name in SETTINGS_FIELDS:
            if getattr(conn, name) != values[name]:
                changed.append(name)
                setattr(conn, name, values[name])
        if conn.host_key and ({"host", "port"} & set(changed)):
            _clear_host_keys(conn)
            changed.append("host_key_forgotten")
        if password:
            conn.password_enc = secretbox.seal(
                _instance(), password, _context(practice_id, "password")
            )
            changed.append("password")
        conn.updated_at = clock.utcnow()
        conn.save()
        audit.record("clearinghouse.settings", obj=conn, object_type=CONN, detail=",".join(changed))
    return conn, changed


def _clear_host_keys(conn):
    conn.host_key = conn.host_key_fingerprint = ""
    conn.offered_host_key = conn.offered_host_key_fingerprint = ""
    conn.host_key_pinned_at = conn.offered_host_key_at = None


def generate_key(practice_id):
    """A new ed25519 key pair for the practice: the private half sealed, the public half
    returned (and kept) for the owner to register with the clearinghouse. Replaces any
    earlier pair, which then stops working."""
    private, public = secretbox.new_ssh_key(f"massage-portal-practice-{practice_id}")
    with database.atomic("IMMEDIATE"):
        conn = connection_for(practice_id) or ClearinghouseConnection(practice=practice_id)
        replaced = conn.has_key
        conn.private_key_enc = secretbox.seal(
            _instance(), private, _context(practice_id, "private_key")
        )
        conn.public_key = public
        conn.key_created_at = conn.updated_at = clock.utcnow()
        conn.save()
        audit.record(
            "clearinghouse.key_generate",
            obj=conn,
            object_type=CONN,
            detail=("replaced " if replaced else "") + public_key_fingerprint(public),
        )
    return public


def public_key_fingerprint(public_line):
    """SHA256:... of an OpenSSH public key line, as `ssh-keygen -lf` shows it."""
    try:
        blob = base64.b64decode(public_line.split()[1])
    except (IndexError, ValueError):
        return ""
    digest = base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")
    return "SHA256:" + digest


def open_password(conn):
    """The SFTP password in clear, for the transport only. SecretUnavailable if it cannot be."""
    return secretbox.open_sealed(
        _instance(), conn.password_enc, _context(conn.practice_id, "password")
    ).decode()


def open_private_key(conn):
    """The private key (OpenSSH PEM) in clear, for the transport only."""
    return secretbox.open_sealed(
        _instance(), conn.private_key_enc, _context(conn.practice_id, "private_key")
    ).decode()


# --- the server's host key -----------------------------------------------------------------


def pin_host_key(conn, key_line, fingerprint):
    """First connection: trust and remember the server's key (only if none is pinned yet)."""
    now = clock.utcnow()
    with database.atomic("IMMEDIATE"):
        n = (
            ClearinghouseConnection.update(
                host_key=key_line, host_key_fingerprint=fingerprint, host_key_pinned_at=now
            )
            .where(
                (ClearinghouseConnection.id == conn.id) & (ClearinghouseConnection.host_key == "")
            )
            .execute()
        )
        if n:
            audit.record(
                "clearinghouse.host_key_pin",
                obj=conn,
                object_type=CONN,
                detail=fingerprint,
                practice_id=conn.practice_id,
            )
    conn.host_key, conn.host_key_fingerprint, conn.host_key_pinned_at = key_line, fingerprint, now
    return bool(n)


def offer_host_key(conn, key_line, fingerprint):
    """The server showed a key other than the pinned one: keep it for the owner to look at.
    Transfers stay stopped until the owner accepts it (accept_host_key)."""
    if conn.offered_host_key == key_line:
        return  # already recorded and audited
    now = clock.utcnow()
    with database.atomic("IMMEDIATE"):
        ClearinghouseConnection.update(
            offered_host_key=key_line,
            offered_host_key_fingerprint=fingerprint,
            offered_host_key_at=now,
        ).where(ClearinghouseConnection.id == conn.id).execute()
        audit.record(
            "clearinghouse.host_key_changed",
            obj=conn,
            object_type=CONN,
            detail=f"{conn.host_key_fingerprint} -> {fingerprint}",
            practice_id=conn.practice_id,
        )
    conn.offered_host_key, conn.offered_host_key_fingerprint = key_line, fingerprint
    conn.offered_host_key_at = now


def accept_host_key(practice_id, fingerprint):
    """The owner accepts the new key they were shown (`fingerprint`, so a key that changed
    again since the page was drawn is not accepted blindly)."""
    with database.atomic("IMMEDIATE"):
        conn = connection_for(practice_id)
        if conn is None or not conn.offered_host_key:
            raise ClearinghouseError("No new server key is waiting to be accepted.")
        if fingerprint != conn.offered_host_key_fingerprint:
            raise ClearinghouseError(
                "The server offered yet another key since this page was shown. "
                "Compare the fingerprint below with the clearinghouse again."
            )
        old = conn.host_key_fingerprint
        conn.host_key, conn.host_key_fingerprint = conn.offered_host_key, fingerprint
        conn.host_key_pinned_at = conn.updated_at = clock.utcnow()
        conn.offered_host_key = conn.offered_host_key_fingerprint = ""
        conn.offered_host_key_at = None
        if conn.last_error_code == HOST_KEY_CHANGED:  # the failure was the key: settled
            conn.last_error_code = ""
        conn.save()
        audit.record(
            "clearinghouse.host_key_accept",
            obj=conn,
            object_type=CONN,
            detail=f"{old} -> {fingerprint}",
        )
    return conn


def sentences(message, size):
    """Whole sentences of `message` within `size` characters (a cut mid-word when there is
    no sentence to keep, marked with an ellipsis)."""
    if len(message) <= size:
        return message
    cut = message[:size].rfind(". ")
    return message[: cut + 1] if cut > 0 else message[: size - 1] + "…"


def record_outcome(conn, code="", message=""):
    """Remember the last successful connection, or the last error (code and message, in
    whole sentences). The connection is failing while last_error_code is set."""
    now = clock.utcnow()
    if code:
        words = sentences(message, 255)
        values = {"last_error_code": code, "last_error": words, "last_error_at": now}
    else:  # the last error's time and words stay, for the record; its code is cleared
        values = {"last_ok_at": now, "last_error_code": ""}
    with database.atomic("IMMEDIATE"):
        ClearinghouseConnection.update(**values).where(
            ClearinghouseConnection.id == conn.id
        ).execute()
    for name, value in values.items():
        setattr(conn, name, value)


# --- received files --------------------------------------------------------------------------

READ_KINDS = ("999", "277", "835")


def kind_of(data):
    """(kind, error) for the bytes of a received file, by content (portal.x12.segments):
    kind is "999", "277", "835", "ta1" (an interchange acknowledgment: a TA1 with no
    transaction set) or "unknown"; a TA1 before the transaction sets of its interchange
    keeps the sets' kind (the claims code applies both); error is "" for a file the
    claims code can read, else a sentence for the owner saying why the portal cannot
    read it."""
    if data.startswith(b"\xef\xbb\xbf"):  # a byte order mark some systems add
        data = data[3:]
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError:
        return "unknown", "Not an X12 file: it holds characters X12 does not use."
    try:
        _, segments = parse(text)
    except X12Error as exc:
        words = str(exc)
        return "unknown", words if words.startswith(
            "This is not"
        ) else f"Not a readable X12 file: {words}"
    sets = sorted({seg[1] for seg in segments if seg.id == "ST"})
    if not sets:
        if any(seg.id == "TA1" for seg in segments):
            return "ta1", _ta1_error(text)
        return "unknown", "An X12 file without a transaction set (no ST segment)."
    if len(sets) > 1:
        return "unknown", "An X12 file mixing transaction sets " + ", ".join(sets) + "."
    if sets[0] not in READ_KINDS:
        return "unknown", f"An X12 {sets[0] or 'file'} transaction set, not a 999, 277 or 835."
    if any(seg.id == "TA1" for seg in segments):  # a TA1 before the sets: applied with them
        return sets[0], _ta1_error(text)
    return sets[0], ""


def _ta1_error(text):
    """ "" for a TA1 the claims code can apply, else why not."""
    try:
        read_ta1(text)
    except X12Error as exc:
        return (
            f"An interchange acknowledgment (TA1) the portal cannot read: {exc} "
            "Ask the clearinghouse."
        )
    return ""


def seen_paths(practice_id, paths):
    """{(remote_path, size, mtime)} already downloaded, among `paths`."""
    seen = set()
    paths = list(paths)
    for i in range(0, len(paths), 500):
        chunk = paths[i : i + 500]
        q = ClearinghouseDownload.select(
            ClearinghouseDownload.remote_path,
            ClearinghouseDownload.remote_size,
            ClearinghouseDownload.remote_mtime,
        ).where(
            (ClearinghouseDownload.practice == practice_id)
            & ClearinghouseDownload.remote_path.in_(chunk)
        )
        seen.update(q.tuples())
    return seen


def store_download(practice_id, remote_path, size, mtime, data):
    """Keep a downloaded file: (file, created). A file whose content is already kept (same
    SHA-256) is not kept again; the sighting of the remote file is recorded either way, so
    the next fetch skips it. The kind comes from the content; an unreadable file is kept
    with status "error" and the reason."""
    digest = hashlib.sha256(data).hexdigest()
    kind, error = kind_of(data)
    name = remote_path.rsplit("/", 1)[-1]
    with database.atomic("IMMEDIATE"):
        f = ClearinghouseFile.get_or_none(
            (ClearinghouseFile.practice == practice_id) & (ClearinghouseFile.sha256 == digest)
        )
        created = f is None
        if created:
            f = ClearinghouseFile.create(
                practice=practice_id,
                sha256=digest,
                size_bytes=len(data),
                data=data,
                remote_name=name[:255],
                kind=kind,
                status=FILE_ERROR if error else FILE_NEW,
                error=error,
                received_at=clock.utcnow(),
            )
            audit.record(
                "clearinghouse.file_receive",
                obj=f,
                object_type=FILE,
                detail=kind,
                practice_id=practice_id,
            )
        already = ClearinghouseDownload.get_or_none(
            (ClearinghouseDownload.practice == practice_id)
            & (ClearinghouseDownload.remote_path == remote_path)
            & (ClearinghouseDownload.remote_size == size)
            & (ClearinghouseDownload.remote_mtime == mtime)
        )
        if already is None:  # another fetch running at once may have recorded it first
            ClearinghouseDownload.create(
                practice=practice_id,
                remote_path=remote_path,
                remote_size=size,
                remote_mtime=mtime,
                file=f.id,
                downloaded_at=clock.utcnow(),
            )
    return f, created


def process_file(file_id):
    """Hand a new file to the claims code (the `clearinghouse_file_received` signal), once:
    status "new" becomes "processed" when a receiver handled it, "error" with the message
    when one raised, and stays "new" while no receiver handles its kind. Returns the status."""
    try:
        with database.atomic("IMMEDIATE"):
            f = ClearinghouseFile.get_by_id(file_id)
            if f.status != FILE_NEW:
                return f.status
            replies = events.clearinghouse_file_received.send(f)
            if not any(result for _, result in replies):
                return FILE_NEW
            _set_status(f, FILE_PROCESSED, "")
            return FILE_PROCESSED
    except (OperationalError, InterfaceError):
        raise  # the database, not the file: leave it "new" for the next run
    except Exception as exc:  # a receiver refused the file: keep why, post nothing
        message = str(exc) or type(exc).__name__
        with database.atomic("IMMEDIATE"):
            f = ClearinghouseFile.get_by_id(file_id)
            _set_status(f, FILE_ERROR, message)
        return FILE_ERROR


def _set_status(f, status, error):
    ClearinghouseFile.update(status=status, error=error, processed_at=clock.utcnow()).where(
        ClearinghouseFile.id == f.id
    ).execute()
    audit.record(
        "clearinghouse.file_" + ("process" if status == FILE_PROCESSED else "error"),
        obj=f,
        object_type=FILE,
        detail=f.kind,
        practice_id=f.practice_id,
    )


def process_pending(practice_id):
    """Offer every file still "new" to the receivers, oldest first: {file id: status}."""
    ids = [
        row.id
        for row in ClearinghouseFile.select(ClearinghouseFile.id)
        .where((ClearinghouseFile.practice == practice_id) & (ClearinghouseFile.status == FILE_NEW))
        .order_by(ClearinghouseFile.id)
    ]
    return {file_id: process_file(file_id) for file_id in ids}


def recent_files(practice_id, limit=20):
    """The latest received files, without their bytes (for the settings page)."""
    fields = [f for f in ClearinghouseFile._meta.sorted_fields if f.name != "data"]
    return list(
        ClearinghouseFile.select(*fields)
        .where(ClearinghouseFile.practice == practice_id)
        .order_by(ClearinghouseFile.id.desc())
        .limit(limit)
    )


def file_counts(practice_id):
    """{status: count} of the practice's received files."""
    rows = (
        ClearinghouseFile.select(ClearinghouseFile.status, fn.COUNT(ClearinghouseFile.id))
        .where(ClearinghouseFile.practice == practice_id)
        .group_by(ClearinghouseFile.status)
        .tuples()
    )
    return dict(rows)
