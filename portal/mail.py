"""E-mail: every message goes into the outbox; with SMTP configured it is also sent.

Bodies never carry PHI: date, time, the practice and a link at most.
"""

import smtplib
from email.message import EmailMessage

from flask import current_app
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
        send(msg)
    return msg


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
