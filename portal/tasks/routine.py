"""The routine work the consumer does on a schedule, so a server needs no cron for it:
appointment reminders, package expiry, e-mail that failed to send and the database's
planner statistics; and e-mail a page left for it to send (deliver_mail). Each stays a
`flask --app wsgi ...` command too, for running by hand."""

from flask import current_app

from portal import db, mail
from portal.services import packages, scheduling
from portal.tasks import crontab, periodic, task


@periodic(crontab(minute="*/15"))
def send_reminders():
    """Reminders for visits starting within each practice's lead time (deduplicated)."""
    return scheduling.send_reminders()


@periodic(crontab(minute="10", hour="3"))
def expire_packages():
    """Packages past their expiry lose their unused credits (daily)."""
    return packages.expire_due()


@periodic(crontab(minute="*/30"))
def retry_mail():
    """E-mail whose sending failed in the last day is tried again (with SMTP set up)."""
    if not current_app.config.get("MAIL_SERVER"):
        return 0
    return mail.retry_failed(24)


@task()
def deliver_mail(message_id):
    """One e-mail a page stored without waiting for the mail server (mail.held()); if it
    fails, retry_mail tries again."""
    return mail.deliver(message_id)


@periodic(crontab(minute="50", hour="3"))
def refresh_statistics():
    """The query planner's statistics, as the data grows (daily; `flask db analyze`)."""
    db.refresh_statistics()
