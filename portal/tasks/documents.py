"""The clients' paperwork on a schedule: last month's superbill for each client who asked
for one (daily: a month already done is skipped, so a missed day catches up), and the
owner's practice exports deleted from the server once they expire (hourly)."""

from portal.services import practice_export, superbills
from portal.tasks import crontab, periodic, task


@periodic(crontab(minute="20", hour="6"))
def monthly_superbills():
    """Superbills of the month before, for clients who opted in (idempotent)."""
    return superbills.issue_monthly()


@periodic(crontab(minute="5"))
def delete_expired_exports():
    """Practice exports past their time are removed from the instance folder."""
    return practice_export.delete_expired()


@task()
def build_practice_export(export_id):
    """Build one practice export (a ZIP), advancing its job's progress."""
    return practice_export.build(export_id)
