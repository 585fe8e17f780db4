"""The provider's schedule: day view (tablet default) and week view, appointment forms,
status changes, check-in and check-out, scheduling settings and the private calendar feed.

Dates may appear in URLs (they are not PHI); client names never do.
"""

import datetime as dt
import math
from types import SimpleNamespace

from flask import abort, current_app, flash, g, redirect, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from portal import audit, pagecache
from portal.access import get_or_404, roles_required, scoped
from portal.db import column_list, database, model_from_row
from portal.formutil import choices
from portal.htmx import render
from portal.inputs import int_arg
from portal.models import (
    Appointment,
    AppointmentMinutes,
    AppointmentType,
    AppointmentTypeCode,
    AppointmentTypeProvider,
    AvailabilityException,
    BookingPolicy,
    Client,
    Provider,
    ProviderHours,
    Room,
)
from portal.models.scheduling import ACTIVE_STATUSES, STATUS_LABELS
from portal.provider import bp
from portal.rules import slots as slot_rules
from portal.rules.money import format_cents, parse_dollars
from portal.services import calendar as cal_service
from portal.services import scheduling as svc

STAFF = ("owner", "therapist", "frontdesk")
OWNER = ("owner",)
COLORS = [
    ("#4a7c59", "Sage"),
    ("#2f6f8f", "Lake"),
    ("#8a5a9e", "Plum"),
    ("#b5651d", "Clay"),
    ("#a83f5b", "Rose"),
    ("#5b6770", "Slate"),
    ("#c49a00", "Ochre"),
    ("#3d7f7a", "Teal"),
]
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
ROW_MINUTES = 15


# --- helpers -----------------------------------------------------------------------------


def _practice():
    return current_user.practice


def _today():
    from portal import clock

    return slot_rules.to_local(clock.utcnow(), _practice().tz).date()


def _parse_date(value, default=None):
    try:
        return dt.date.fromisoformat(value) if value else (default or _today())
    except ValueError:
        return default or _today()


_PROVIDERS_SQL = []  # built once per process: peewee spends ~0.2 ms building it per request


def _providers():
    """The practice's active providers by name (once per request)."""
    cached = getattr(g, "_schedule_providers", None)
    if cached is not None:
        return cached
    if not _PROVIDERS_SQL:
        _PROVIDERS_SQL.append(
            f"SELECT {column_list(Provider, 'p')} FROM provider AS p "
            "WHERE p.practice_id = ? AND p.active = 1 ORDER BY p.first_name, p.last_name"
        )
    cursor = database.execute_sql(_PROVIDERS_SQL[0], [current_user.practice_id])
    g._schedule_providers = [model_from_row(Provider, row) for row in cursor]
    return g._schedule_providers


def _provider_or_404(provider_id):
    return get_or_404(Provider, provider_id)


def _local_midnight_utc(day):
    return slot_rules.to_utc(dt.datetime.combine(day, dt.time()), _practice().tz)


def _to_utc(day, time_):
    return slot_rules.to_utc(dt.datetime.combine(day, time_), _practice().tz)


def _local(value):
    return slot_rules.to_local(value, _practice().tz)


def _can_manage_hours(provider):
    return current_user.is_owner or current_user.provider_id == provider.id


def _managed_provider_or_404(provider_id):
    """A provider whose hours, exceptions and feed the user may manage (the owner: any;
    a therapist: their own), or 404 with an audit row."""
    provider = _provider_or_404(provider_id)
    if not _can_manage_hours(provider):
        from portal.access import deny

        deny()
    return provider


def _color_class(color):
    return "c-" + (color or "").lstrip("#").lower()


def _scoped_appt(appointment_id, action="appointment.view"):
    return get_or_404(Appointment, appointment_id, audit_action=action)


def _handover_url(appt):
    """Where check-out leads: payment (payments area), else the chart note, else the day."""
    views = current_app.view_functions
    if "provider.checkout_payment" in views:
        return url_for("provider.checkout_payment", appointment_id=appt.id)
    if "provider.note_for_appointment" in views:
        return url_for("provider.note_for_appointment", appointment_id=appt.id)
    return url_for("provider.schedule", date=_local(appt.starts_at).date().isoformat())


# --- day and week ------------------------------------------------------------------------


def _visible_providers(selected):
    providers = _providers()
    if selected == "all":
        return providers, "all"
    if selected:
        try:
            pid = int(selected)
        except ValueError:
            pid = None
        chosen = [p for p in providers if p.id == pid]
        if chosen:
            return chosen, str(pid)
    own = current_user.provider_id
    if own and any(p.id == own for p in providers):
        return [p for p in providers if p.id == own], str(own)
    return providers, "all"


def _scope_appts(rows):
    """Apply the therapist-own-clients rule (scoped) to a prefetched list."""
    if current_user.role == "therapist" and not _practice().therapists_see_all_clients:
        own = {
            cid
            for (cid,) in database.execute_sql(
                "SELECT id FROM client WHERE therapist_id = ?", [current_user.provider_id]
            )
        }
        return [a for a in rows if a.client_id in own or a.provider_id == current_user.provider_id]
    return rows


def _id_url(endpoint, arg):
    """url_for(endpoint, arg=n) for many ids n: the URL is built once and the id put in."""
    marker = 987654321
    head, tail = url_for(endpoint, **{arg: marker}).split(str(marker))
    return lambda n: f"{head}{int(n)}{tail}"


# Cells of the day grid are attribute objects: Jinja looks `x.row` up as an attribute
# first; on a dict that fails (an exception) before it tries x["row"], hundreds of times
# on a busy day.
_Cell = SimpleNamespace
_MINUTE_LABELS = {}


def _minute_label(m):
    """'9:30 AM' for minute 570 of the day (remembered: strftime costs ~1 us)."""
    label = _MINUTE_LABELS.get(m)
    if label is None:
        label = _MINUTE_LABELS[m] = dt.time(m // 60, m % 60).strftime("%-I:%M %p")
    return label


def _mark_intake_flags(appts):
    """Mark appointments whose client's intake raised a flag (details at check-in).
    Owner and therapists only: the front desk does not see intake answers or flags."""
    if current_user.role not in ("owner", "therapist") or not appts:
        return appts
    from portal.services import coverage

    flagged = coverage.flagged_client_ids(current_user.practice_id, [a.client_id for a in appts])
    for a in appts:
        a.flagged = a.client_id in flagged
    return appts


def _day_layout(day, providers):
    tz = _practice().tz
    start_utc = _local_midnight_utc(day)
    end_utc = _local_midnight_utc(day + dt.timedelta(days=1))
    appts = _mark_intake_flags(
        _scope_appts(
            svc.day_rows(current_user.practice_id, [p.id for p in providers], start_utc, end_utc)
        )
    )
    ids = [p.id for p in providers]
    marks = ",".join("?" * len(ids))
    hours = list(
        database.execute_sql(
            "SELECT provider_id, weekday, start_minute, end_minute FROM provider_hours "
            f"WHERE provider_id IN ({marks}) AND weekday = ?",
            [*ids, day.weekday()],
        )
    )
    exceptions = list(
        database.execute_sql(
            "SELECT provider_id, kind, start_minute, end_minute FROM availability_exception "
            f"WHERE provider_id IN ({marks}) AND on_date = ?",
            [*ids, day.isoformat()],
        )
    )
    first, last = 8 * 60, 19 * 60
    work = {}
    for p in providers:
        ranges = slot_rules.local_ranges(
            day,
            [(wd, sm, em) for pid, wd, sm, em in hours if pid == p.id],
            [(day, kind, sm, em) for pid, kind, sm, em in exceptions if pid == p.id],
        )
        work[p.id] = ranges
        for s, e in ranges:
            first, last = min(first, s), max(last, e)
    for a in appts:
        ls = slot_rules.to_local(a.starts_at, tz)
        m = ls.hour * 60 + ls.minute
        first = min(first, m)
        last = max(last, m + a.duration_minutes)
    first = (first // 60) * 60
    last = min(24 * 60, math.ceil(last / 60) * 60)

    def row(minute):
        return 1 + max(0, (minute - first) // ROW_MINUTES)

    col_of = {p.id: i + 2 for i, p in enumerate(providers)}
    # links built once, then filled in: url_for costs ~10 us a call, and a day has dozens
    appt_url = _id_url("provider.appointment", "appointment_id")
    new_url = url_for("provider.appointment_new", date=day.isoformat())
    blocks, cancelled = [], []
    for a in appts:
        if a.status not in ACTIVE_STATUSES:
            cancelled.append(a)
            continue
        ls = slot_rules.to_local(a.starts_at, tz)
        m = ls.hour * 60 + ls.minute
        blocks.append(
            _Cell(
                appt=a,
                href=appt_url(a.id),
                row=row(m),
                span=max(1, math.ceil(a.duration_minutes / ROW_MINUTES)),
                col=col_of[a.provider_id],
                color=_color_class(a.appointment_type.color),
                start=ls,
                end=slot_rules.to_local(a.ends_at, tz),
            )
        )
    work_blocks = [
        _Cell(row=row(s), span=max(1, (e - s) // ROW_MINUTES), col=col_of[pid])
        for pid, ranges in work.items()
        for s, e in ranges
    ]
    # Free half hours inside working hours: links to a new appointment there (a tap on
    # the tablet instead of a drag); booked time covers them.
    taken = {}
    for b in blocks:
        m = b.start.hour * 60 + b.start.minute
        a = b.appt
        held = int((a.blocked_until - a.starts_at).total_seconds() // 60)  # with its buffer
        taken.setdefault(a.provider_id, []).append((m, m + held))
    names = {p.id: p.first_name for p in providers}
    free = []
    for pid, ranges in work.items():
        for s, e in ranges:
            for m in range(s, e - 29, 30):
                if any(m < te and ts < m + 30 for ts, te in taken.get(pid, [])):
                    continue
                free.append(
                    _Cell(
                        row=row(m),
                        col=col_of[pid],
                        time=f"{m // 60:02d}:{m % 60:02d}",
                        label=_minute_label(m),
                        provider_id=pid,
                        provider=names[pid],
                        # = url_for("provider.appointment_new", date=, time=, provider=)
                        href=f"{new_url}&time={m // 60:02d}:{m % 60:02d}&provider={pid}",
                    )
                )
    hour_labels = [
        _Cell(row=row(m), label=dt.time(m // 60).strftime("%-I %p")) for m in range(first, last, 60)
    ]
    return {
        "blocks": blocks,
        "cancelled": cancelled,
        "work": work_blocks,
        "hours": hour_labels,
        "rows": (last - first) // ROW_MINUTES,
        "count": len(blocks),
        "free": free,
    }


def _week_layout(day, providers):
    monday = day - dt.timedelta(days=day.weekday())
    start_utc = _local_midnight_utc(monday)
    end_utc = _local_midnight_utc(monday + dt.timedelta(days=7))
    appts = _mark_intake_flags(
        _scope_appts(
            svc.day_rows(
                current_user.practice_id,
                [p.id for p in providers],
                start_utc,
                end_utc,
                include_cancelled=False,
            )
        )
    )
    days = []
    for i in range(7):
        d = monday + dt.timedelta(days=i)
        days.append({"date": d, "items": []})
    for a in appts:
        ls = _local(a.starts_at)
        idx = (ls.date() - monday).days
        if 0 <= idx < 7:
            days[idx]["items"].append(
                {"appt": a, "start": ls, "color": _color_class(a.appointment_type.color)}
            )
    return {"monday": monday, "days": days}


@bp.route("/schedule/")
@roles_required(*STAFF)
@pagecache.cached_page
def schedule():
    """The day or week view, served from the render cache while nothing changed; the view
    audit runs on every request, hit or miss (registered with pagecache.each_time: its
    detail names the provider selection the render validates)."""
    day = _parse_date(request.args.get("date"))
    view = "week" if request.args.get("view") == "week" else "day"
    providers, selected = _visible_providers(request.args.get("provider"))
    ctx = dict(
        day=day,
        view=view,
        providers=providers,
        all_providers=_providers(),
        selected=selected,
        today=_today(),
        provider_names={p.id: p.first_name for p in providers},
        status_labels=STATUS_LABELS,
    )
    if view == "day":
        ctx["layout"] = _day_layout(day, providers)
        ctx["prev"], ctx["next"] = day - dt.timedelta(days=1), day + dt.timedelta(days=1)
    else:
        ctx["week"] = _week_layout(day, providers)
        ctx["prev"], ctx["next"] = day - dt.timedelta(days=7), day + dt.timedelta(days=7)
    # Once per user, page and 10 minutes (audit.record_view): a day view reloaded on a
    # tablet all day long would otherwise write a row every time.
    detail = f"{view} view {day.isoformat()} {selected}"
    pagecache.each_time(audit.record_view, "schedule.view", detail=detail)
    return render("provider/schedule/schedule.html", block="schedule_body", **ctx)


def todays_appointments():
    """For the home panel: today's active appointments of the user's provider (or all)."""
    if not current_user.is_authenticated or not current_user.is_staff:
        return []
    day = _today()
    providers, _ = _visible_providers(None)
    rows = svc.day_rows(
        current_user.practice_id,
        [p.id for p in providers],
        _local_midnight_utc(day),
        _local_midnight_utc(day + dt.timedelta(days=1)),
        include_cancelled=False,
    )
    rows = _scope_appts(rows)
    if rows:
        # on every request: the home page is served from the render cache
        detail = f"home panel {day.isoformat()}"
        pagecache.each_time(audit.record_view, "schedule.view", detail=detail)
    return rows


# --- forms -------------------------------------------------------------------------------


class AppointmentForm(FlaskForm):
    client_id = SelectField("Client", coerce=int, validators=[InputRequired("Choose a client.")])
    appointment_type_id = SelectField(
        "Type", coerce=int, validators=[InputRequired("Choose a type.")]
    )
    provider_id = SelectField("Provider", coerce=int, validators=[InputRequired()])
    room_id = SelectField("Room", coerce=int, validators=[Optional()])
    date = DateField("Date", validators=[DataRequired("Choose a date.")])
    time = TimeField("Start time", validators=[DataRequired("Choose a start time.")])
    length = IntegerField(
        "Length (minutes)",
        validators=[Optional(), NumberRange(5, 720, "Between 5 and 720 minutes.")],
        description="Leave empty for the type's usual length.",
    )
    notes = TextAreaField("Notes for staff", validators=[Optional(), Length(max=2000)])
    repeat_weeks = IntegerField(
        "Repeat every N weeks",
        validators=[Optional(), NumberRange(1, 12, "Between 1 and 12 weeks.")],
        description="Leave empty for a single appointment.",
    )
    repeat_count = IntegerField(
        "How many times in all",
        validators=[Optional(), NumberRange(2, 52, "Between 2 and 52 appointments.")],
    )
    confirm_series = StringField("confirm", validators=[Optional()])


class MoveForm(FlaskForm):
    provider_id = SelectField("Provider", coerce=int, validators=[InputRequired()])
    room_id = SelectField("Room", coerce=int, validators=[Optional()])
    date = DateField("Date", validators=[DataRequired("Choose a date.")])
    time = TimeField("Start time", validators=[DataRequired("Choose a start time.")])
    length = IntegerField(
        "Length (minutes)",
        validators=[InputRequired("Enter the length."), NumberRange(5, 720, "5 to 720 minutes.")],
    )
    notes = TextAreaField("Notes for staff", validators=[Optional(), Length(max=2000)])


class CancelForm(FlaskForm):
    waive_fee = BooleanField("Waive the late-cancellation fee")


class NoShowForm(FlaskForm):
    waive_fee = BooleanField("Waive the no-show fee")


def _fill_choices(form, appt_type_required=True):
    practice_id = current_user.practice_id
    providers = _providers()
    form.provider_id.choices = choices([(p.id, p.display_name) for p in providers])
    rooms = svc.active_rooms(practice_id)
    form.room_id.choices = choices([(0, "No room")] + [(r.id, r.name) for r in rooms])
    if hasattr(form, "appointment_type_id"):
        types = svc.bookable_types(practice_id)
        form.appointment_type_id.choices = choices(
            [(t.id, f"{t.name} ({t.duration_minutes} min)") for t in types]
        )
    if hasattr(form, "client_id"):
        clients = (
            scoped(Client)
            .where(Client.active == True)  # noqa: E712
            .order_by(Client.last_name, Client.first_name)
        )
        form.client_id.choices = choices(
            [(c.id, f"{c.last_name}, {c.preferred_name or c.first_name}") for c in clients]
        )
    return providers, rooms


def _fmt_slot(t):
    return _local(t).strftime("%a %d %b, %-I:%M %p")


@bp.route("/schedule/new", methods=["GET", "POST"])
@roles_required(*STAFF)
def appointment_new():
    form = AppointmentForm()
    providers, rooms = _fill_choices(form)
    if request.method == "GET":
        form.date.data = _parse_date(request.args.get("date"))
        try:
            form.time.data = dt.time.fromisoformat(request.args.get("time") or "09:00")
        except ValueError:
            form.time.data = dt.time(9)
        provider_id = int_arg("provider", current_user.provider_id)
        if provider_id is not None:
            form.provider_id.data = provider_id
        client_id = int_arg("client_id")
        if client_id:
            form.client_id.data = client_id
    status = 200
    plan = None
    next_slots = []
    if form.validate_on_submit():
        client = get_or_404(Client, form.client_id.data)
        appt_type = get_or_404(AppointmentType, form.appointment_type_id.data)
        provider = _provider_or_404(form.provider_id.data)
        room = get_or_404(Room, form.room_id.data) if form.room_id.data else None
        starts_at = _to_utc(form.date.data, form.time.data)
        if form.repeat_weeks.data:
            count = form.repeat_count.data or 2
            if form.confirm_series.data != "yes":
                try:
                    plan = svc.plan_series(
                        practice=_practice(),
                        provider=provider,
                        appt_type=appt_type,
                        first_start=starts_at,
                        every_weeks=form.repeat_weeks.data,
                        count=count,
                        room=room,
                    )
                except svc.BookingError as exc:
                    form.form_errors.append(str(exc))
                    status = 400
                else:
                    plan = [(_fmt_slot(s), problem) for s, problem in plan]
            else:
                booked, skipped = svc.book_series(
                    practice=_practice(),
                    client=client,
                    provider=provider,
                    appt_type=appt_type,
                    first_start=starts_at,
                    every_weeks=form.repeat_weeks.data,
                    count=count,
                    room=room,
                    user=current_user,
                )
                flash(
                    f"Booked {len(booked)} appointments"
                    + (f"; skipped {len(skipped)} with conflicts." if skipped else "."),
                    "success",
                )
                return redirect(url_for("provider.schedule", date=form.date.data.isoformat()))
        else:
            try:
                appt = svc.book(
                    practice=_practice(),
                    client=client,
                    provider=provider,
                    appt_type=appt_type,
                    starts_at=starts_at,
                    room=room,
                    notes=form.notes.data,
                    user=current_user,
                    duration_minutes=form.length.data,
                )
            except svc.SlotTaken as exc:
                form.form_errors.append(
                    "That time was just taken, or the provider is busy then. Choose another time."
                )
                next_slots = [_fmt_slot(t) for t in exc.next_slots]
                status = 409
            except svc.BookingError as exc:
                form.form_errors.append(str(exc))
                status = 400
            else:
                flash("Appointment booked.", "success")
                return redirect(
                    url_for("provider.schedule", date=_local(appt.starts_at).date().isoformat())
                )
    elif request.method == "POST":
        status = 400
    return render(
        "provider/schedule/appointment_form.html",
        form=form,
        plan=plan,
        next_slots=next_slots,
        title="New appointment",
    ), status


@bp.route("/appointments/<int:appointment_id>")
@roles_required(*STAFF)
def appointment(appointment_id):
    appt = _scoped_appt(appointment_id)
    policy = svc.policy_for(appt.practice_id)
    from portal import clock

    late = slot_rules.is_late_cancellation(
        appt.starts_at, clock.utcnow(), policy.cancellation_window_hours
    )
    minutes = list(appt.minutes.order_by(AppointmentMinutes.cpt_code))
    series = []
    if appt.series_id:
        series = list(
            Appointment.select()
            .where(
                (Appointment.series_id == appt.series_id)
                & (Appointment.practice == appt.practice_id)
            )
            .order_by(Appointment.starts_at)
        )
    return render(
        "provider/schedule/appointment.html",
        appt=appt,
        start=_local(appt.starts_at),
        end=_local(appt.ends_at),
        policy=policy,
        late=late,
        started=appt.starts_at <= clock.utcnow(),
        minutes=minutes,
        series=series,
        cancel_form=CancelForm(),
        no_show_form=NoShowForm(),
        handover=_handover_url(appt) if appt.status == "completed" else None,
        fmt=_fmt_slot,
    )


@bp.route("/appointments/<int:appointment_id>/edit", methods=["GET", "POST"])
@roles_required(*STAFF)
def appointment_edit(appointment_id):
    appt = _scoped_appt(appointment_id)
    form = MoveForm(obj=None)
    _fill_choices(form)
    if request.method == "GET":
        start = _local(appt.starts_at)
        form.provider_id.data = appt.provider_id
        form.room_id.data = appt.room_id or 0
        form.date.data = start.date()
        form.time.data = start.time()
        form.length.data = appt.duration_minutes
        form.notes.data = appt.notes
    status = 200
    next_slots = []
    if form.validate_on_submit():
        provider = _provider_or_404(form.provider_id.data)
        room = get_or_404(Room, form.room_id.data) if form.room_id.data else None
        try:
            appt = svc.move(
                appt,
                starts_at=_to_utc(form.date.data, form.time.data),
                duration_minutes=form.length.data,
                provider=provider,
                room=room,
                keep_room=False,
                user=current_user,
            )
            if (form.notes.data or "") != appt.notes:
                with database.atomic("IMMEDIATE"):
                    Appointment.update(notes=form.notes.data or "").where(
                        Appointment.id == appt.id
                    ).execute()
                    audit.record("appointment.edit", obj=appt, detail="notes")
        except svc.SlotTaken as exc:
            form.form_errors.append("The provider is busy then. Choose another time.")
            next_slots = [_fmt_slot(t) for t in exc.next_slots]
            status = 409
        except svc.BookingError as exc:
            form.form_errors.append(str(exc))
            status = 400
        else:
            flash("Appointment changed.", "success")
            return redirect(url_for("provider.appointment", appointment_id=appt.id))
    elif request.method == "POST":
        status = 400
    return render(
        "provider/schedule/move_form.html",
        form=form,
        appt=appt,
        next_slots=next_slots,
    ), status


def _status_action(appointment_id, action, **kw):
    appt = _scoped_appt(appointment_id, action=None)
    try:
        appt = action(appt, user=current_user, **kw)
    except svc.BookingError as exc:
        flash(str(exc), "error")
        return redirect(url_for("provider.appointment", appointment_id=appt.id)), 303
    return appt


@bp.route("/appointments/<int:appointment_id>/cancel", methods=["POST"])
@roles_required(*STAFF)
def appointment_cancel(appointment_id):
    form = CancelForm()
    result = _status_action(appointment_id, svc.cancel, waive_fee=bool(form.waive_fee.data))
    if isinstance(result, tuple):
        return result
    msg = "Appointment cancelled."
    if result.status == "late_cancelled":
        msg = f"Late cancellation recorded; fee due {format_cents(result.fee_due_cents)}."
    flash(msg, "success")
    return redirect(url_for("provider.schedule", date=_local(result.starts_at).date().isoformat()))


@bp.route("/appointments/<int:appointment_id>/no-show", methods=["POST"])
@roles_required(*STAFF)
def appointment_no_show(appointment_id):
    form = NoShowForm()
    result = _status_action(appointment_id, svc.no_show, waive_fee=bool(form.waive_fee.data))
    if isinstance(result, tuple):
        return result
    flash("Marked as a no-show.", "success")
    return redirect(url_for("provider.appointment", appointment_id=result.id))


@bp.route("/appointments/<int:appointment_id>/undo", methods=["POST"])
@roles_required(*STAFF)
def appointment_undo(appointment_id):
    result = _status_action(appointment_id, svc.undo_status)
    if isinstance(result, tuple):
        return result
    flash("Back to booked.", "success")
    return redirect(url_for("provider.appointment", appointment_id=result.id))


class CheckInForm(FlaskForm):
    pass


@bp.route("/appointments/<int:appointment_id>/check-in", methods=["GET", "POST"])
@roles_required(*STAFF)
def appointment_check_in(appointment_id):
    appt = _scoped_appt(appointment_id, action="appointment.check_in_view")
    form = CheckInForm()
    if form.validate_on_submit():
        try:
            svc.check_in(appt, user=current_user)
        except svc.BookingError as exc:
            flash(str(exc), "error")
        else:
            flash("Checked in.", "success")
        return redirect(url_for("provider.appointment", appointment_id=appt.id))
    from portal.services import coverage

    # intake answers are clinical: the front desk sees insurance warnings only
    show_flags = current_user.role in ("owner", "therapist")
    return render(
        "provider/schedule/check_in.html",
        appt=appt,
        start=_local(appt.starts_at),
        form=form,
        flags=coverage.intake_flags(appt.client) if show_flags else [],
        show_flags=show_flags,
        warnings=coverage.visit_warnings(appt.client, _local(appt.starts_at).date()),
    ), (200 if request.method == "GET" else 400)


@bp.route("/appointments/<int:appointment_id>/check-out", methods=["GET", "POST"])
@roles_required(*STAFF)
def appointment_check_out(appointment_id):
    appt = _scoped_appt(appointment_id, action="appointment.check_out_view")
    errors = []
    status = 200
    if request.method == "GET":
        rows = [(c.cpt_code, c.minutes) for c in svc.type_codes(appt.appointment_type)]
        if not rows:
            rows = [("97124", appt.duration_minutes)]
    else:
        codes = request.form.getlist("cpt_code")
        mins = request.form.getlist("minutes")
        rows = []
        for code, m in zip(codes, mins, strict=False):
            rows.append((code.strip().upper(), m.strip()))
        form = CheckInForm()
        if not form.validate_on_submit():
            abort(400)
        parsed = {}
        for code, m in rows:
            if not code and not m:
                continue
            try:
                value = int(m)
            except ValueError:
                errors.append(f"Enter whole minutes for {code or 'each code'}.")
                continue
            parsed[code] = parsed.get(code, 0) + value
        if not errors:
            try:
                appt = svc.check_out(appt, parsed, user=current_user)
            except svc.BookingError as exc:
                errors.append(str(exc))
            else:
                flash("Checked out. Minutes recorded.", "success")
                return redirect(_handover_url(appt))
        status = 400
    while len(rows) < 4:
        rows.append(("", ""))
    return render(
        "provider/schedule/check_out.html",
        appt=appt,
        start=_local(appt.starts_at),
        rows=rows,
        errors=errors,
        form=CheckInForm(),
    ), status


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
        local=_local,
    )


# --- settings ----------------------------------------------------------------------------


class TypeForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired("Name the type."), Length(max=120)])
    description = StringField("Short description", validators=[Optional(), Length(max=255)])
    duration_minutes = IntegerField(
        "Length (minutes)", validators=[InputRequired(), NumberRange(5, 720)]
    )
    price = StringField("Price ($)", validators=[DataRequired("Enter a price, or 0.")])
    color = SelectField("Colour", validators=[DataRequired()])
    buffer_after_minutes = IntegerField(
        "Buffer after (minutes)",
        default=0,
        validators=[InputRequired(), NumberRange(0, 240)],
    )
    online_bookable = BooleanField("Clients can book it online", default=True)
    bill_insurance = BooleanField("Bill to insurance by default")
    active = BooleanField("Active", default=True)
    provider_ids = SelectMultipleField("Offered by", coerce=int, validators=[Optional()])
    codes = TextAreaField(
        "Default CPT codes and minutes",
        validators=[Optional(), Length(max=500)],
        description="One per line, e.g. 97124 60",
    )


def _parse_codes(text):
    out = []
    for line in (text or "").splitlines():
        parts = line.replace(",", " ").replace("x", " ").split()
        if not parts:
            continue
        if len(parts) != 2 or len(parts[0]) != 5 or not parts[0].isalnum():
            raise ValueError(f'"{line.strip()}" is not "CODE MINUTES".')
        try:
            minutes = int(parts[1])
        except ValueError as exc:
            raise ValueError(f'"{line.strip()}": minutes must be a whole number.') from exc
        if not 1 <= minutes <= 720:
            raise ValueError(f'"{line.strip()}": minutes must be 1 to 720.')
        out.append((parts[0].upper(), minutes))
    if len({c for c, _ in out}) != len(out):
        raise ValueError("List each code once.")
    return out


@bp.route("/schedule/settings")
@roles_required(*STAFF)
def schedule_settings():
    practice_id = current_user.practice_id
    types = list(
        AppointmentType.select()
        .where(AppointmentType.practice == practice_id)
        .order_by(AppointmentType.active.desc(), AppointmentType.name)
    )
    providers = _providers()
    if not current_user.is_owner:
        providers = [p for p in providers if p.id == current_user.provider_id]
    return render(
        "provider/schedule/settings.html",
        types=types,
        providers=providers,
        rooms=list(Room.select().where(Room.practice == practice_id).order_by(Room.name)),
        policy=svc.policy_for(practice_id),
        room_form=RoomForm(),
    )


@bp.route("/schedule/types/new", methods=["GET", "POST"])
@bp.route("/schedule/types/<int:type_id>", methods=["GET", "POST"])
@roles_required(*OWNER)
def appointment_type_edit(type_id=None):
    appt_type = get_or_404(AppointmentType, type_id) if type_id else None
    form = TypeForm(obj=appt_type)
    form.color.choices = choices(COLORS)
    providers = _providers()
    form.provider_ids.choices = choices([(p.id, p.display_name) for p in providers])
    if request.method == "GET":
        if appt_type:
            form.price.data = f"{appt_type.price_cents / 100:.2f}"
            form.provider_ids.data = [
                r.provider_id
                for r in AppointmentTypeProvider.select().where(
                    AppointmentTypeProvider.appointment_type == appt_type
                )
            ]
            form.codes.data = "\n".join(
                f"{c.cpt_code} {c.minutes}" for c in svc.type_codes(appt_type)
            )
        else:
            form.provider_ids.data = [p.id for p in providers]
            form.price.data = ""
    status = 200
    if form.validate_on_submit():
        price_cents = codes = None
        try:
            price_cents = parse_dollars(form.price.data)
        except ValueError as exc:
            form.price.errors.append(str(exc))
        try:
            codes = _parse_codes(form.codes.data)
        except ValueError as exc:
            form.codes.errors.append(str(exc))
        if price_cents is not None and codes is not None:
            fields = dict(
                name=form.name.data.strip(),
                description=(form.description.data or "").strip(),
                duration_minutes=form.duration_minutes.data,
                price_cents=price_cents,
                color=form.color.data,
                buffer_after_minutes=form.buffer_after_minutes.data,
                online_bookable=form.online_bookable.data,
                bill_insurance=form.bill_insurance.data,
                active=form.active.data,
            )
            with database.atomic("IMMEDIATE"):
                if appt_type is None:
                    appt_type = AppointmentType.create(practice=current_user.practice_id, **fields)
                    action = "appointment_type.create"
                else:
                    AppointmentType.update(**fields).where(
                        AppointmentType.id == appt_type.id
                    ).execute()
                    action = "appointment_type.update"
                AppointmentTypeProvider.delete().where(
                    AppointmentTypeProvider.appointment_type == appt_type.id
                ).execute()
                valid = {p.id for p in providers}
                for pid in form.provider_ids.data or []:
                    if pid in valid:
                        AppointmentTypeProvider.create(
                            practice=current_user.practice_id,
                            appointment_type=appt_type.id,
                            provider=pid,
                        )
                AppointmentTypeCode.delete().where(
                    AppointmentTypeCode.appointment_type == appt_type.id
                ).execute()
                for code, minutes in codes:
                    AppointmentTypeCode.create(
                        practice=current_user.practice_id,
                        appointment_type=appt_type.id,
                        cpt_code=code,
                        minutes=minutes,
                    )
                audit.record(action, obj=appt_type, detail="type, providers, codes")
            flash("Appointment type saved.", "success")
            return redirect(url_for("provider.schedule_settings"))
        status = 400
    elif request.method == "POST":
        status = 400
    return render("provider/schedule/type_form.html", form=form, appt_type=appt_type), status


def _fmt_minutes(m):
    return f"{m // 60:02d}:{m % 60:02d}"


def _parse_ranges(text):
    """'9:00-12:00, 13:00-17:30' -> [(540, 720), (780, 1050)]."""
    out = []
    for part in (text or "").replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        try:
            a, b = (x.strip() for x in part.split("-"))
            ta, tb = (
                dt.time.fromisoformat(a.zfill(5)),
                (None if b in ("24:00", "24") else dt.time.fromisoformat(b.zfill(5))),
            )
        except ValueError as exc:
            raise ValueError(f'"{part}" is not like 09:00-12:00.') from exc
        s = ta.hour * 60 + ta.minute
        e = 1440 if tb is None else tb.hour * 60 + tb.minute
        if e <= s:
            raise ValueError(f'"{part}": the end must come after the start.')
        out.append((s, e))
    return out


class HoursForm(FlaskForm):
    pass


class ExceptionForm(FlaskForm):
    on_date = DateField("Date", validators=[DataRequired("Choose a date.")])
    kind = SelectField("Kind", validators=[DataRequired()])
    start = TimeField("From", validators=[Optional()])
    end = TimeField("Until", validators=[Optional()])
    note = StringField("Note (private)", validators=[Optional(), Length(max=120)])


@bp.route("/schedule/hours/<int:provider_id>", methods=["GET", "POST"])
@roles_required(*STAFF)
def provider_hours(provider_id):
    provider = _managed_provider_or_404(provider_id)
    current = list(
        ProviderHours.select()
        .where(ProviderHours.provider == provider.id)
        .order_by(ProviderHours.weekday, ProviderHours.start_minute)
    )
    values = {
        i: ", ".join(
            f"{_fmt_minutes(h.start_minute)}-{_fmt_minutes(h.end_minute)}"
            for h in current
            if h.weekday == i
        )
        for i in range(7)
    }
    errors = {}
    form = HoursForm()
    status = 200
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        parsed = {}
        for i in range(7):
            values[i] = request.form.get(f"day{i}", "")
            try:
                parsed[i] = _parse_ranges(values[i])
            except ValueError as exc:
                errors[i] = str(exc)
        if not errors:
            with database.atomic("IMMEDIATE"):
                ProviderHours.delete().where(ProviderHours.provider == provider.id).execute()
                for i, ranges in parsed.items():
                    for s, e in ranges:
                        ProviderHours.create(
                            practice=provider.practice_id,
                            provider=provider.id,
                            weekday=i,
                            start_minute=s,
                            end_minute=e,
                        )
                audit.record("provider_hours.update", obj=provider, detail="weekly hours")
            flash("Working hours saved.", "success")
            return redirect(url_for("provider.provider_hours", provider_id=provider.id))
        status = 400
    exc_form = ExceptionForm()
    exc_form.kind.choices = choices([("off", "Time off"), ("extra", "Extra hours")])
    exceptions = list(
        AvailabilityException.select()
        .where(
            (AvailabilityException.provider == provider.id)
            & (AvailabilityException.on_date >= _today() - dt.timedelta(days=30))
        )
        .order_by(AvailabilityException.on_date)
    )
    return render(
        "provider/schedule/hours.html",
        provider=provider,
        values=values,
        errors=errors,
        weekdays=WEEKDAYS,
        form=form,
        exc_form=exc_form,
        exceptions=exceptions,
        fmt_minutes=_fmt_minutes,
    ), status


@bp.route("/schedule/hours/<int:provider_id>/exceptions", methods=["POST"])
@roles_required(*STAFF)
def provider_exception_add(provider_id):
    provider = _managed_provider_or_404(provider_id)
    form = ExceptionForm()
    form.kind.choices = choices([("off", "Time off"), ("extra", "Extra hours")])
    problem = None
    if not form.validate_on_submit():
        problem = " ".join(e for errs in form.errors.values() for e in errs) or "Check the form."
    else:
        s = form.start.data
        e = form.end.data
        if form.kind.data == "extra" and (s is None or e is None):
            problem = "Extra hours need a start and an end."
        elif (s is None) != (e is None):
            problem = "Give both times, or neither for the whole day."
        elif s is not None and (e.hour * 60 + e.minute) <= (s.hour * 60 + s.minute):
            problem = "The end must come after the start."
    if problem:
        flash(problem, "error")
        return redirect(url_for("provider.provider_hours", provider_id=provider.id)), 303
    with database.atomic("IMMEDIATE"):
        row = AvailabilityException.create(
            practice=provider.practice_id,
            provider=provider.id,
            on_date=form.on_date.data,
            kind=form.kind.data,
            start_minute=None if s is None else s.hour * 60 + s.minute,
            end_minute=None if e is None else e.hour * 60 + e.minute,
            note=(form.note.data or "").strip(),
        )
        audit.record("availability_exception.create", obj=row)
    flash("Saved.", "success")
    return redirect(url_for("provider.provider_hours", provider_id=provider.id))


@bp.route("/schedule/exceptions/<int:exception_id>/delete", methods=["POST"])
@roles_required(*STAFF)
def provider_exception_delete(exception_id):
    row = get_or_404(AvailabilityException, exception_id)
    if not _can_manage_hours(row.provider):
        from portal.access import deny

        deny()
    form = HoursForm()
    if not form.validate_on_submit():
        abort(400)
    with database.atomic("IMMEDIATE"):
        audit.record("availability_exception.delete", obj=row)
        row.delete_instance()
    flash("Removed.", "success")
    return redirect(url_for("provider.provider_hours", provider_id=row.provider_id))


class RoomForm(FlaskForm):
    name = StringField("Room name", validators=[DataRequired("Name the room."), Length(max=80)])


@bp.route("/schedule/rooms", methods=["POST"])
@roles_required(*OWNER)
def room_add():
    form = RoomForm()
    if not form.validate_on_submit():
        flash("Name the room.", "error")
        return redirect(url_for("provider.schedule_settings")), 303
    with database.atomic("IMMEDIATE"):
        room = Room.create(practice=current_user.practice_id, name=form.name.data.strip())
        audit.record("room.create", obj=room)
    flash("Room added.", "success")
    return redirect(url_for("provider.schedule_settings"))


@bp.route("/schedule/rooms/<int:room_id>/toggle", methods=["POST"])
@roles_required(*OWNER)
def room_toggle(room_id):
    room = get_or_404(Room, room_id)
    form = HoursForm()
    if not form.validate_on_submit():
        abort(400)
    with database.atomic("IMMEDIATE"):
        Room.update(active=not room.active).where(Room.id == room.id).execute()
        audit.record("room.update", obj=room, detail="active")
    return redirect(url_for("provider.schedule_settings"))


class PolicyForm(FlaskForm):
    min_lead_minutes = IntegerField(
        "Minimum notice for online booking (minutes)",
        validators=[InputRequired(), NumberRange(0, 60 * 24 * 14)],
    )
    max_days_ahead = IntegerField(
        "Furthest day ahead clients can book (days)",
        validators=[InputRequired(), NumberRange(1, 730)],
    )
    cancellation_window_hours = IntegerField(
        "Cancellation window (hours before the visit)",
        validators=[InputRequired(), NumberRange(0, 24 * 14)],
    )
    late_cancel_fee = StringField("Late-cancellation fee ($)", validators=[DataRequired()])
    no_show_fee = StringField("No-show fee ($)", validators=[DataRequired()])
    slot_step_minutes = SelectField(
        "Offer start times every", coerce=int, validators=[InputRequired()]
    )
    reminder_hours = IntegerField(
        "Send reminders this many hours ahead", validators=[InputRequired(), NumberRange(1, 168)]
    )
    online_booking_enabled = BooleanField("Clients can book online")


@bp.route("/schedule/policy", methods=["GET", "POST"])
@roles_required(*OWNER)
def booking_policy():
    policy = svc.policy_for(current_user.practice_id)
    form = PolicyForm(obj=policy)
    form.slot_step_minutes.choices = choices(
        [(5, "5 minutes"), (10, "10 minutes"), (15, "15 minutes"), (30, "30 minutes"), (60, "hour")]
    )
    if request.method == "GET":
        form.late_cancel_fee.data = f"{policy.late_cancel_fee_cents / 100:.2f}"
        form.no_show_fee.data = f"{policy.no_show_fee_cents / 100:.2f}"
    status = 200
    if form.validate_on_submit():
        fees = {}
        for name in ("late_cancel_fee", "no_show_fee"):
            try:
                fees[name + "_cents"] = parse_dollars(getattr(form, name).data)
            except ValueError as exc:
                getattr(form, name).errors.append(str(exc))
        if len(fees) == 2:
            fields = dict(
                min_lead_minutes=form.min_lead_minutes.data,
                max_days_ahead=form.max_days_ahead.data,
                cancellation_window_hours=form.cancellation_window_hours.data,
                slot_step_minutes=form.slot_step_minutes.data,
                reminder_hours=form.reminder_hours.data,
                online_booking_enabled=form.online_booking_enabled.data,
                **fees,
            )
            with database.atomic("IMMEDIATE"):
                if policy.id is None:
                    policy = BookingPolicy.create(practice=current_user.practice_id, **fields)
                else:
                    BookingPolicy.update(**fields).where(BookingPolicy.id == policy.id).execute()
                audit.record("booking_policy.update", obj=policy, detail=",".join(fields))
            flash("Booking policy saved.", "success")
            return redirect(url_for("provider.schedule_settings"))
        status = 400
    elif request.method == "POST":
        status = 400
    return render("provider/schedule/policy.html", form=form), status


# --- private calendar feed ---------------------------------------------------------------


@bp.route("/schedule/feed/<int:provider_id>", methods=["GET", "POST"])
@roles_required(*STAFF)
def calendar_feed(provider_id):
    provider = _managed_provider_or_404(provider_id)
    form = HoursForm()
    new_url = None
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        if request.form.get("action") == "revoke":
            cal_service.revoke_feed(provider, user=current_user)
            flash("The calendar link no longer works.", "success")
            return redirect(url_for("provider.calendar_feed", provider_id=provider.id))
        token = cal_service.new_feed_token(provider, user=current_user)
        new_url = current_app.config["BASE_URL"].rstrip("/") + url_for(
            "public_booking.calendar_feed_ics", token=token
        )
    return render(
        "provider/schedule/feed.html",
        provider=provider,
        active=cal_service.active_feed(provider),
        new_url=new_url,
        form=form,
    )
