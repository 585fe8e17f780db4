"""E-mail: every message goes into the outbox; with SMTP configured it is also sent.

Bodies never carry PHI: date, time, the practice and a link at most.
"""

import contextlib
import datetime as dt
import smtplib
from email.message import EmailMessage

from flask import current_app, g, has_app_context
from peewee import IntegrityError

from portal import clock
from portal.db import database
from portal.models import OutboxMessage


def queue(
    to_addr,
    subject,
    body,
    practice=None,
    kind="",
    dedupe_key=None,
    attachment_name="",
    attachment_type="",
    attachment="",
):
    """Queue (and, with SMTP, send) one message. A repeated dedupe_key sends nothing twice.

    Returns the OutboxMessage, or None when the dedupe_key was already used.
    """
    try:
        with database.atomic():
            msg = OutboxMessage.create(
                practice=practice,
                to_addr=to_addr,
                subject=subject,
                body=body,
                kind=kind,
                dedupe_key=dedupe_key,
                attachment_name=attachment_name,
                attachment_type=attachment_type,
                attachment=attachment,
            )
    except IntegrityError:
        return None
    if current_app.config.get("MAIL_SERVER"):
        hold = g.get("_mail_hold") if has_app_context() else None
        if hold is not None:
            hold.append(msg.id)  # the caller hands it to the task queue (held())
        elif database.in_transaction() and has_app_context():
            # Never talk to an SMTP server while holding the database's write lock (and
            # never send a message whose transaction then rolls back): send after commit.
            g.setdefault("_mail_pending", []).append(msg.id)
        else:
            send(msg)
    return msg


def init_app(app):
    @app.after_request
    def _send_after_commit(resp):
        flush()
        return resp

    @app.teardown_appcontext
    def _send_leftovers(exc):
        # CLI commands (e.g. reminders from cron) have no after_request.
        if exc is None and g.get("_mail_pending"):
            with database.connection_context():
                flush()


@contextlib.contextmanager
def held():
    """Messages queued inside are stored, not sent; the list yielded gets their ids (with
    SMTP configured) for the caller to hand to the task queue (tasks.routine.deliver_mail).
    For a page whose reply must not wait for the mail server: one that answers alike for
    known and unknown addresses would otherwise tell them apart by its time."""
    ids = []
    g._mail_hold = ids
    try:
        yield ids
    finally:
        g.pop("_mail_hold", None)


def deliver(message_id):
    """Send one stored message unless it went already (the task queue's side of held())."""
    msg = OutboxMessage.get_or_none(
        (OutboxMessage.id == message_id) & OutboxMessage.sent_at.is_null()
    )
    return bool(msg is not None and send(msg))


def flush():
    """Send what was queued inside transactions that have committed since. Returns a count."""
    if database.in_transaction() or not g.get("_mail_pending"):
        return 0
    ids = g.pop("_mail_pending")
    sent = 0
    for msg in OutboxMessage.select().where(
        OutboxMessage.id.in_(ids) & OutboxMessage.sent_at.is_null()
    ):
        send(msg)
        sent += 1
    return sent


def retry_failed(hours=24):
    """Try again the messages whose sending failed within the last `hours` (cron)."""
    since = clock.utcnow() - dt.timedelta(hours=hours)
    rows = OutboxMessage.select().where(
        OutboxMessage.sent_at.is_null()
        & (OutboxMessage.error != "")
        & (OutboxMessage.created_at > since)
    )
    return sum(1 for msg in rows if send(msg))


def send(msg):
    cfg = current_app.config
    email = EmailMessage()
    email["From"] = cfg["MAIL_FROM"]
    email["To"] = msg.to_addr
    email["Subject"] = msg.subject
    email.set_content(msg.body)
    if msg.attachment:
        maintype, _, subtype = (msg.attachment_type or "text/plain").partition("/")
        email.add_attachment(
            msg.attachment,
            subtype=subtype or "plain",
            filename=msg.attachment_name or "attachment.txt",
        )
    try:
        with smtplib.SMTP(cfg["MAIL_SERVER"], cfg["MAIL_PORT"], timeout=20) as smtp:
            if cfg["MAIL_USE_TLS"]:
                smtp.starttls()
            if cfg["MAIL_USERNAME"]:
                smtp.login(cfg["MAIL_USERNAME"], cfg["MAIL_PASSWORD"])
            smtp.send_message(email)
        msg.sent_at = clock.utcnow()
        msg.error = ""
    except (OSError, smtplib.SMTPException) as exc:
        msg.error = type(exc).__name__
    msg.save()
    return msg.sent_at is not None
