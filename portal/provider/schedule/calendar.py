"""The calendar: the day view (the tablet's default) and the week view, the home page's
list of today's visits, and a client's appointments. Dates may appear in URLs (they are
not PHI); client names never do."""

import datetime as dt

from flask import request, url_for
from flask_login import current_user

from portal import audit, pagecache
from portal.access import get_or_404, roles_required, scoped
from portal.htmx import render
from portal.models import Appointment, Client
from portal.provider import bp
from portal.provider.schedule.common import STAFF, local, practice, sees_intake, today
from portal.rules import day_grid
from portal.rules.appointments import LABELS
from portal.rules.schedule_input import date_or
from portal.services import coverage
from portal.services import scheduling as svc


def _mark_intake_flags(rows):
    """Mark visits whose client's intake raised a flag (the details are at check-in)."""
    if rows and sees_intake():
        flagged = coverage.flagged_client_ids(current_user.practice_id, [a.client_id for a in rows])
        for a in rows:
            a.flagged = a.client_id in flagged
    return rows


def _day(day, providers):
    tz = practice().tz
    ids = [p.id for p in providers]
    rows = _mark_intake_flags(svc.day_rows(ids, *svc.day_bounds(tz, day)))
    hours, exceptions = svc.working_day(ids, day)
    layout = day_grid.day_layout(
        day, tz, ids, day_grid.working_ranges(day, ids, hours, exceptions), rows
    )
    # A free cell links to a new appointment there: one URL for the page, its query
    # completed per cell (a day has dozens); a time "HH:MM" and an id need no quoting.
    new_url = url_for("provider.appointment_new", date=day.isoformat())
    for cell in layout.free:
        cell.href = f"{new_url}&time={cell.time}&provider={cell.provider_id}"
    _link_visits(layout.blocks)
    _link_visits(layout.cancelled)
    return layout


def _link_visits(items):
    """Each visit's page, set on the day grid's items."""
    for item in items:
        item.href = url_for("provider.appointment", appointment_id=item.appt.id)
    return items


def _week(day, providers, link):
    tz = practice().tz
    monday = day_grid.monday_of(day)
    rows = svc.day_rows(
        [p.id for p in providers], *svc.day_bounds(tz, monday, days=7), include_cancelled=False
    )
    week = day_grid.week_layout(monday, tz, _mark_intake_flags(rows))
    for d in week.days:
        d.href = link(d.date, "day")
        _link_visits(d.visits)
    return week


def _linker(base, selected):
    """link(date, view): this page (at `base`) for another date or view, same provider
    selection. Its query completed per link: a date, "day"/"week" and the selection ("all"
    or an id) need no quoting."""

    def link(d, view):
        return f"{base}?date={d.isoformat()}&view={view}&provider={selected}"

    return link


@bp.route("/schedule/")
@roles_required(*STAFF)
@pagecache.cached_page
def schedule():
    """The day or week view, served from the render cache while nothing changed; the view
    audit runs on every request, hit or miss (registered with pagecache.each_time: its
    detail names the provider selection the render validates)."""
    now = today()
    day = date_or(request.args.get("date"), now)
    view = "week" if request.args.get("view") == "week" else "day"
    all_providers = svc.provider_names(current_user.practice_id)
    providers, selected = day_grid.pick_providers(
        all_providers, request.args.get("provider"), current_user.provider_id
    )
    step = dt.timedelta(days=1 if view == "day" else 7)
    schedule_url = url_for("provider.schedule")
    link = _linker(schedule_url, selected)
    ctx = dict(
        day=day,
        view=view,
        providers=providers,
        all_providers=all_providers,
        selected=selected,
        selected_id=None if selected == "all" else int(selected),
        today=now,
        provider_names={p.id: p.first_name for p in providers},
        status_labels=LABELS,
        schedule_url=schedule_url,
        links={
            "prev": link(day - step, view),
            "today": link(now, view),
            "next": link(day + step, view),
            "day": link(day, "day"),
            "week": link(day, "week"),
        },
    )
    if view == "day":
        ctx["layout"] = _day(day, providers)
    else:
        ctx["week"] = _week(day, providers, link)
    # Once per user, page and 10 minutes (audit.record_view): a day view reloaded on a
    # tablet all day long would otherwise write a row every time.
    detail = f"{view} view {day.isoformat()} {selected}"
    pagecache.each_time(audit.record_view, "schedule.view", detail=detail)
    return render("provider/schedule/schedule.html", block="schedule_body", **ctx)


@bp.app_template_global()
def todays_appointments():
    """For the home panel: today's active visits of the user's provider (or everyone's),
    as day_grid.Listed (the visit and its local start)."""
    if not current_user.is_authenticated or not current_user.is_staff:
        return []
    tz = practice().tz
    day = today()
    providers, _ = day_grid.pick_providers(
        svc.provider_names(current_user.practice_id), None, current_user.provider_id
    )
    rows = svc.day_rows(
        [p.id for p in providers], *svc.day_bounds(tz, day), include_cancelled=False
    )
    if rows:
        # on every request: the home page is served from the render cache
        detail = f"home panel {day.isoformat()}"
        pagecache.each_time(audit.record_view, "schedule.view", detail=detail)
    return _link_visits(day_grid.listed(rows, tz))


@bp.route("/clients/<int:client_id>/appointments")
@roles_required(*STAFF)
def client_appointments(client_id):
    client = get_or_404(Client, client_id, audit_action="client.appointments_view")
    appts = list(
        scoped(Appointment)
        .where(Appointment.client == client.id)
        .order_by(Appointment.starts_at.desc())
        .limit(50)
    )
    return render(
        "provider/schedule/client_appointments.html",
        block="client_appointments",
        client=client,
        appts=appts,
        local=local,
    )
