"""The owner's export of the whole practice: a ZIP with a CSV per table, every stored
document and uploaded file, and a README saying what each file holds; built by the task
queue with a progress bar.

Where it lives and for how long (it is PHI): the ZIP is written to `exports/` inside the
instance folder (a folder only the portal's user can read, the file 0600), never into
the database or its backups, under a random name; only the owner who started it can
download it; it is deleted from the server `PRACTICE_EXPORT_KEEP_HOURS` after it was
made (24 by default) by the hourly task, or at once with "Delete it now". Building,
downloading and deleting are audited.

Not exported: secrets that would let someone log in or act as the practice (password and
two-step hashes and secrets, session and link tokens, the sealed clearinghouse password
and key, Stripe idempotency tokens), throttling rows, and rows shared by every practice
of the install (Stripe's event log). Rows of other practices in the same install never.
"""

import csv
import datetime as dt
import hashlib
import io
import os
import secrets
import zipfile

from flask import current_app
from peewee import BlobField

from portal import audit, clock
from portal.db import database
from portal.models import (
    ALL_MODELS,
    CardImage,
    ClearinghouseFile,
    DataExport,
    MessageAttachment,
    Practice,
    StoredDocument,
)
from portal.models.documents import EXPORT_BUILDING, EXPORT_DELETED, EXPORT_FAILED, EXPORT_READY
from portal.services import jobs, uploads

SKIPPED_TABLES = {
    "user_session": "login sessions (token hashes)",
    "user_token": "one-time links (token hashes)",
    "recovery_code": "two-step recovery codes (hashes)",
    "login_attempt": "throttling of failed logins",
    "stripe_event": "Stripe's event log, shared by every practice of this server",
    "data_export": "these exports themselves",
}
SECRET_COLUMNS = {
    "password_hash",
    "totp_secret",
    "token_hash",
    "code_hash",
    "password_enc",
    "private_key_enc",
    "token",
    "data",
}


class ExportError(ValueError):
    pass


def export_dir():
    path = os.path.join(current_app.instance_path, "exports")
    os.makedirs(path, mode=0o700, exist_ok=True)
    return path


def keep_hours():
    return int(current_app.config.get("PRACTICE_EXPORT_KEEP_HOURS", 24))


def start(user):
    """A queued export (and its job) for the owner `user`; the caller enqueues the task
    after this commits. Returns the DataExport."""
    if not user.is_owner:
        raise ExportError("Only the owner exports the practice.")
    now = clock.utcnow()
    with database.atomic("IMMEDIATE"):
        running = (
            DataExport.select()
            .where(
                (DataExport.practice == user.practice_id)
                & (DataExport.status == EXPORT_BUILDING)
                & (DataExport.created_at > now - dt.timedelta(hours=1))
            )
            .first()
        )
        if running is not None:
            return running
        job = jobs.create(user.practice_id, user.id, "practice_export", "Practice export")
        export = DataExport.create(
            practice=user.practice_id,
            job=job.id,
            created_by=user.id,
            status=EXPORT_BUILDING,
            created_at=now,
            expires_at=now + dt.timedelta(hours=keep_hours()),
        )
        audit.record("export.practice.start", obj=export, user=user)
    return export


def _tables(practice_id):
    """[(table name, model, query or None, why skipped)] in ALL_MODELS order."""
    out = []
    for model in ALL_MODELS:
        name = model._meta.table_name
        if name in SKIPPED_TABLES:
            out.append((name, model, None, SKIPPED_TABLES[name]))
            continue
        fields = model._meta.fields
        if model is Practice:
            query = model.select().where(model.id == practice_id)
        elif "practice" in fields:
            query = model.select().where(model.practice == practice_id)
        elif "practice_id" in fields:
            query = model.select().where(model.practice_id == practice_id)
        else:
            out.append((name, model, None, "shared by every practice of this server"))
            continue
        out.append((name, model, query, ""))
    return out


def _columns(model):
    return [
        f
        for f in model._meta.sorted_fields
        if f.column_name not in SECRET_COLUMNS and not isinstance(f, BlobField)
    ]


def _write_csv(zf, name, model, query):
    cols = _columns(model)
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow([c.column_name for c in cols])
    n = 0
    for row in query.select(*cols).tuples().iterator():
        w.writerow(
            ["" if v is None else (v.isoformat() if hasattr(v, "isoformat") else v) for v in row]
        )
        n += 1
    zf.writestr(f"tables/{name}.csv", "\ufeff" + out.getvalue())
    return n, [c.column_name for c in cols]


def _files(zf, practice_id):
    count = 0
    for doc in StoredDocument.select(StoredDocument.id, StoredDocument.filename).where(
        StoredDocument.practice == practice_id
    ):
        data = (
            StoredDocument.select(StoredDocument.data).where(StoredDocument.id == doc.id).scalar()
        )
        zf.writestr(f"documents/{doc.id:06d}-{doc.filename}", data)
        count += 1
    for model, folder in ((CardImage, "uploads/cards"), (MessageAttachment, "uploads/messages")):
        for row in model.select().where(model.practice == practice_id):
            try:
                zf.writestr(
                    f"{folder}/{row.id:06d}-{row.stored_name}", uploads.load(row.stored_name)
                )
            except FileNotFoundError:
                continue
            count += 1
    for f in ClearinghouseFile.select().where(ClearinghouseFile.practice == practice_id):
        zf.writestr(f"clearinghouse/{f.id:06d}.x12", f.data)
        count += 1
    return count


def _readme(practice, tables, made):
    lines = [
        f"Export of {practice.name}",
        f"Made {made:%Y-%m-%d %H:%M} UTC by the practice portal.",
        "",
        "HOW TO OPEN IT",
        "tables/*.csv: one file per table of the portal's database, this practice's rows only,",
        "UTF-8 with a byte-order mark (Excel, LibreOffice, Numbers and any database import it).",
        "The first row names the columns; a column ending in _id holds the id of a row of",
        "another table (client_id -> tables/client.csv, column id). Times are UTC; money is in",
        "cents (12500 = $125.00). Every value is exactly as stored, for a database to import:",
        "a text cell that starts with = + - or @ (a name or note typed that way) is not altered,",
        "so open the tables in a spreadsheet with formulas off, or import them as text.",
        "documents/: every issued document (invoices, receipts, credit notes, superbills, letters,",
        "claim forms) exactly as issued; the number before the name is stored_document.id.",
        "uploads/: insurance card photos and message attachments (the number is the row's id in",
        "card_image.csv or message_attachment.csv).",
        "clearinghouse/: the files received from the clearinghouse (X12 text).",
        "",
        "THIS FILE HOLDS PROTECTED HEALTH INFORMATION",
        "Keep it encrypted and out of shared folders and e-mail. On the server it was written to",
        "the instance folder's exports/ (readable by the portal's user only), downloadable only by",
        f"the owner who asked for it, and it is deleted there {keep_hours()} hours after it was",
        "made (or when the owner deletes it sooner). The portal keeps a record of who built,",
        "downloaded and deleted it (the audit log), not the file.",
        "",
        "WHAT EACH TABLE HOLDS",
    ]
    for name, model, _query, skipped in tables:
        about = " ".join((model.__doc__ or "").split())[:200]
        if skipped:
            lines.append(f"- {name}: not exported ({skipped}).")
        else:
            lines.append(f"- tables/{name}.csv: {about or name.replace('_', ' ')}")
    lines += [
        "",
        "LEFT OUT ON PURPOSE",
        "Password hashes, two-step secrets, login and link tokens, the sealed clearinghouse",
        "password and key, and payment idempotency tokens: they would let someone log in or act",
        "as the practice, and are of no use elsewhere.",
    ]
    return "\n".join(lines) + "\n"


def build(export_id):
    """Write the ZIP (the task queue runs this); the job shows its progress."""
    export = DataExport.get_by_id(export_id)
    if export.status != EXPORT_BUILDING:
        return export.status
    practice = Practice.get_by_id(export.practice_id)
    tables = _tables(practice.id)
    jobs.start(export.job_id, total=len(tables) + 2)
    name = f"{secrets.token_hex(16)}.zip"
    path = os.path.join(export_dir(), name)
    tmp = path + ".part"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh, zipfile.ZipFile(fh, "w", zipfile.ZIP_DEFLATED) as zf:
            done = 0
            for table, model, query, _skipped in tables:
                if query is not None:
                    _write_csv(zf, table, model, query)
                done += 1
                jobs.advance(export.job_id, done)
            _files(zf, practice.id)
            jobs.advance(export.job_id, done + 1)
            zf.writestr("README.txt", _readme(practice, tables, clock.utcnow()))
            jobs.advance(export.job_id, done + 2)
        os.replace(tmp, path)
    except Exception:
        if os.path.exists(tmp):
            os.remove(tmp)
        with database.atomic("IMMEDIATE"):
            DataExport.update(status=EXPORT_FAILED).where(DataExport.id == export.id).execute()
        jobs.fail(export.job_id, "The export could not be written (the server's log says why).")
        raise
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    with database.atomic("IMMEDIATE"):
        DataExport.update(
            status=EXPORT_READY,
            path=name,
            filename=f"practice-export-{clock.utcnow():%Y-%m-%d}.zip",
            sha256=digest.hexdigest(),
            size_bytes=os.path.getsize(path),
        ).where(DataExport.id == export.id).execute()
        audit.record(
            "export.practice.build",
            obj=export,
            practice_id=practice.id,
            detail=f"{len(tables)} tables",
        )
    jobs.finish(export.job_id)
    return EXPORT_READY


def file_path(export):
    if export.status != EXPORT_READY or not export.path:
        return None
    path = os.path.join(export_dir(), os.path.basename(export.path))
    return path if os.path.isfile(path) else None


def _remove(export, reason, user=None):
    with database.atomic("IMMEDIATE"):
        fresh = DataExport.get_by_id(export.id)
        if fresh.status == EXPORT_DELETED:
            return
        if fresh.path:
            try:
                os.remove(os.path.join(export_dir(), os.path.basename(fresh.path)))
            except FileNotFoundError:
                pass
        DataExport.update(status=EXPORT_DELETED, deleted_at=clock.utcnow()).where(
            DataExport.id == export.id
        ).execute()
        audit.record(
            "export.practice.delete",
            obj=fresh,
            user=user,
            practice_id=fresh.practice_id,
            detail=reason,
        )


def delete(export, user):
    _remove(export, "by the owner", user=user)


def delete_expired(now=None):
    """Delete every export past its time (and any left building for a day). Returns how
    many were removed."""
    now = now or clock.utcnow()
    due = list(
        DataExport.select().where(
            (DataExport.status != EXPORT_DELETED)
            & (
                (DataExport.expires_at <= now)
                | (
                    (DataExport.status == EXPORT_BUILDING)
                    & (DataExport.created_at < now - dt.timedelta(days=1))
                )
            )
        )
    )
    for export in due:
        _remove(export, "expired")
    return len(due)


def mark_downloaded(export, user):
    with database.atomic("IMMEDIATE"):
        DataExport.update(downloaded_at=clock.utcnow()).where(DataExport.id == export.id).execute()
        audit.record("export.practice.download", obj=export, user=user)
