"""The day sheet (services/day_sheet): the money taken and given back on one day, by way of
paying, to close the cash drawer and make the bank deposit; also as a CSV. The desk's and
the owner's (a therapist gets 404). It names clients: each view is audited."""

import datetime as dt

from flask import Response, request
from flask_login import current_user

from portal import audit, clock
from portal.access import roles_required
from portal.downloads import csv_download
from portal.htmx import render
from portal.inputs import parse_day
from portal.models.people import DESK_ROLES
from portal.provider import bp
from portal.rules.reports import csv_text
from portal.services import day_sheet as service


def _day(today):
    """(day, error): the day asked for (`?day=`), `today` when none; (None, the message)
    for a date not taken."""
    raw = request.args.get("day", "").strip()
    return parse_day(raw) if raw else (today, "")


@bp.route("/billing/day")
@roles_required(*DESK_ROLES)
def day_sheet():
    today = clock.today(current_user.practice.tz)
    day, error = _day(today)
    if error:
        page = render(
            "provider/billing/day_sheet.html", sheet=None, day=None, error=error,
            raw=request.args.get("day", "")[:40], section="billing",
        )  # fmt: skip
        return page, 400
    sheet = service.build(current_user.practice, day)
    audit.record_view("day_sheet.view", detail=day.isoformat())
    return render(
        "provider/billing/day_sheet.html",
        sheet=sheet,
        day=day,
        error="",
        raw=day.isoformat(),
        today=today,
        one_day=dt.timedelta(days=1),
        section="billing",
    )


# Amounts as numbers (-20.00); text a spreadsheet would run as a formula quoted; moves_money
# "no" for what the page greys (package and account credit, refunds kept as credit).
CSV_HEADERS = (
    "time", "what", "client", "invoice", "way_of_paying", "reference", "amount", "moves_money",
    "by",
)  # fmt: skip


@bp.route("/billing/day.csv")
@roles_required(*DESK_ROLES)
def day_sheet_csv():
    day, error = _day(clock.today(current_user.practice.tz))
    if error:
        return Response(error + "\n", status=400, mimetype="text/plain")
    sheet = service.build(current_user.practice, day)
    rows = [
        (
            e.at.strftime("%Y-%m-%d %H:%M"),
            csv_text(e.kind_label),
            csv_text(e.client_name),
            e.invoice_number,
            e.method_label,
            csv_text(e.reference),
            f"{e.cents / 100:.2f}",
            "yes" if e.is_money else "no",
            csv_text(e.by),
        )
        for e in sheet.entries
    ]
    audit.record("day_sheet.download", detail=day.isoformat())
    return csv_download(f"day-sheet-{day.isoformat()}.csv", CSV_HEADERS, rows)
