"""The owner's reports: revenue by month, payer, CPT code and provider, claims by status,
package liability, for a period of the practice's dates; each downloadable as CSV.
Owner only (anyone else gets 404, audited)."""

import datetime as dt

from flask import abort, request
from flask_login import current_user

from portal import audit, clock
from portal.access import roles_required
from portal.downloads import csv_download
from portal.htmx import render
from portal.inputs import parse_day
from portal.models.people import OWNER_ROLES
from portal.provider import bp
from portal.services.claims import reports as service

MAX_DAYS = 3 * 366


def _period():
    """(start, end, error): the dates asked for, this year to today by default."""
    today = clock.today(current_user.practice.tz)
    start, end = today.replace(month=1, day=1), today
    for name in ("start", "end"):
        if request.args.get(name, "").strip():
            day, error = parse_day(request.args[name])
            if error:
                return today.replace(month=1, day=1), today, error
            start, end = (day, end) if name == "start" else (start, day)
    if end < start:
        return start, start, "The end date is before the start date: showing the start day."
    if (end - start).days > MAX_DAYS:
        return (
            end - dt.timedelta(days=MAX_DAYS),
            end,
            "At most three years: showing the last three.",
        )
    return start, end, ""


@bp.route("/reports")
@roles_required(*OWNER_ROLES)
def reports():
    start, end, error = _period()
    report = service.build(current_user.practice, start, end)
    audit.record_view("report.view", detail=f"{start}..{end}")
    return render(
        "provider/claims/reports.html", report=report, error=error, names=service.NAMES,
        section="reports",
    )  # fmt: skip


@bp.route("/reports/<name>.csv")
@roles_required(*OWNER_ROLES)
def report_csv(name):
    if name not in service.NAMES:
        abort(404)
    start, end, _ = _period()
    title, headers, rows = service.table(service.build(current_user.practice, start, end), name)
    audit.record("report.download", detail=f"{name} {start}..{end}")
    return csv_download(f"{name}-{start}-{end}.csv", headers, rows)
