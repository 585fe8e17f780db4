"""Scheduling settings: appointment types, each provider's weekly hours and date
exceptions, rooms and the booking policy. Owners change everything; a therapist their
own hours and time off."""

import datetime as dt

from flask import abort, flash, redirect, request, url_for
from flask_login import current_user

from portal import clock
from portal.access import deny, get_or_404, roles_required
from portal.formutil import CsrfForm, choices
from portal.htmx import render
from portal.models import AppointmentType, AvailabilityException, Room
from portal.provider import bp
from portal.provider.schedule.common import (
    OWNER,
    STAFF,
    can_manage_hours,
    managed_provider_or_404,
    today,
)
from portal.provider.schedule.forms import (
    WEEKDAYS,
    ExceptionForm,
    PolicyForm,
    RoomForm,
    TypeForm,
)
from portal.rules import schedule_input
from portal.rules.money import parse_dollars
from portal.services import scheduling as svc

EXCEPTIONS_SHOWN_DAYS = 30  # time off already past stays listed this long


@bp.route("/schedule/settings")
@roles_required(*STAFF)
def schedule_settings():
    practice_id = current_user.practice_id
    providers = svc.practice_providers(practice_id)
    if not current_user.is_owner:
        providers = [p for p in providers if p.id == current_user.provider_id]
    return render(
        "provider/schedule/settings.html",
        types=svc.all_types(practice_id),
        providers=providers,
        rooms=svc.all_rooms(practice_id),
        policy=svc.policy_for(practice_id),
        room_form=RoomForm(),
    )


def _dollars(field):
    """The field's amount in cents, or None with the reason next to the field."""
    try:
        return parse_dollars(field.data)
    except ValueError as exc:
        field.errors.append(str(exc))
        return None


def _codes(field):
    try:
        return schedule_input.parse_codes(field.data)
    except svc.BookingError as exc:
        field.errors.append(str(exc))
        return None


def _type_form(appt_type, providers):
    form = TypeForm(obj=appt_type)
    form.provider_ids.choices = choices([(p.id, p.display_name) for p in providers])
    if request.method == "GET":
        if appt_type:
            form.price.data = f"{appt_type.price_cents / 100:.2f}"
            form.provider_ids.data = svc.type_provider_ids(appt_type)
            form.codes.data = schedule_input.format_codes(
                (c.cpt_code, c.minutes) for c in svc.type_codes(appt_type)
            )
        else:
            form.provider_ids.data = [p.id for p in providers]
            form.price.data = ""
    return form


@bp.route("/schedule/types/new", methods=["GET", "POST"])
@bp.route("/schedule/types/<int:type_id>", methods=["GET", "POST"])
@roles_required(*OWNER)
def appointment_type_edit(type_id=None):
    appt_type = get_or_404(AppointmentType, type_id) if type_id else None
    form = _type_form(appt_type, svc.practice_providers(current_user.practice_id))
    status = 200 if request.method == "GET" else 400
    if form.validate_on_submit():
        price_cents, codes = _dollars(form.price), _codes(form.codes)
        if price_cents is not None and codes is not None:
            svc.save_type(
                current_user.practice_id,
                user=current_user,
                appt_type=appt_type,
                provider_ids=form.provider_ids.data or [],
                codes=codes,
                name=form.name.data.strip(),
                description=(form.description.data or "").strip(),
                price_cents=price_cents,
                **{name: getattr(form, name).data for name in TypeForm.FIELDS},
            )
            flash("Appointment type saved.", "success")
            return redirect(url_for("provider.schedule_settings"))
    return render("provider/schedule/type_form.html", form=form, appt_type=appt_type), status


def _parse_week(values):
    """{weekday: ranges} and {weekday: error} from the seven text boxes."""
    parsed, errors = {}, {}
    for day, text in values.items():
        try:
            parsed[day] = schedule_input.parse_ranges(text)
        except svc.BookingError as exc:
            errors[day] = str(exc)
    return parsed, errors


@bp.route("/schedule/hours/<int:provider_id>", methods=["GET", "POST"])
@roles_required(*STAFF)
def provider_hours(provider_id):
    provider = managed_provider_or_404(provider_id)
    form = CsrfForm()
    errors, status = {}, 200
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        values = {day: request.form.get(f"day{day}", "") for day in range(7)}
        parsed, errors = _parse_week(values)
        if not errors:
            svc.save_hours(provider, parsed, user=current_user)
            flash("Working hours saved.", "success")
            return redirect(url_for("provider.provider_hours", provider_id=provider.id))
        status = 400
    else:
        weekly = svc.weekly_hours(provider)
        values = {day: schedule_input.format_ranges(weekly[day]) for day in range(7)}
    since = today() - dt.timedelta(days=EXCEPTIONS_SHOWN_DAYS)
    return render(
        "provider/schedule/hours.html",
        provider=provider,
        values=values,
        errors=errors,
        weekdays=WEEKDAYS,
        form=form,
        exc_form=ExceptionForm(),
        exceptions=svc.exceptions_since(provider, since),
        fmt_minutes=schedule_input.format_minute,
        zone=clock.zone_label(current_user.practice.tz),
    ), status


@bp.route("/schedule/hours/<int:provider_id>/exceptions", methods=["POST"])
@roles_required(*STAFF)
def provider_exception_add(provider_id):
    provider = managed_provider_or_404(provider_id)
    form = ExceptionForm()
    back = redirect(url_for("provider.provider_hours", provider_id=provider.id), 303)
    if not form.validate_on_submit():
        problems = " ".join(e for errs in form.errors.values() for e in errs)
        flash(problems or "Check the form.", "error")
        return back
    try:
        svc.add_exception(
            provider,
            on_date=form.on_date.data,
            kind=form.kind.data,
            start=form.start.data,
            end=form.end.data,
            note=form.note.data,
            user=current_user,
        )
    except svc.BookingError as exc:
        flash(str(exc), "error")
        return back
    flash("Saved.", "success")
    return redirect(url_for("provider.provider_hours", provider_id=provider.id))


@bp.route("/schedule/exceptions/<int:exception_id>/delete", methods=["POST"])
@roles_required(*STAFF)
def provider_exception_delete(exception_id):
    row = get_or_404(AvailabilityException, exception_id)
    if not can_manage_hours(row.provider):
        deny()
    if not CsrfForm().validate_on_submit():
        abort(400)
    svc.delete_exception(row, user=current_user)
    flash("Removed.", "success")
    return redirect(url_for("provider.provider_hours", provider_id=row.provider_id))


@bp.route("/schedule/rooms", methods=["POST"])
@roles_required(*OWNER)
def room_add():
    form = RoomForm()
    if not form.validate_on_submit():
        flash("Name the room.", "error")
        return redirect(url_for("provider.schedule_settings"), 303)
    svc.add_room(current_user.practice_id, form.name.data, user=current_user)
    flash("Room added.", "success")
    return redirect(url_for("provider.schedule_settings"))


@bp.route("/schedule/rooms/<int:room_id>/toggle", methods=["POST"])
@roles_required(*OWNER)
def room_toggle(room_id):
    room = get_or_404(Room, room_id)
    if not CsrfForm().validate_on_submit():
        abort(400)
    svc.toggle_room(room, user=current_user)
    return redirect(url_for("provider.schedule_settings"))


@bp.route("/schedule/policy", methods=["GET", "POST"])
@roles_required(*OWNER)
def booking_policy():
    policy = svc.policy_for(current_user.practice_id)
    form = PolicyForm(obj=policy)
    if request.method == "GET":
        form.late_cancel_fee.data = f"{policy.late_cancel_fee_cents / 100:.2f}"
        form.no_show_fee.data = f"{policy.no_show_fee_cents / 100:.2f}"
    status = 200 if request.method == "GET" else 400
    if form.validate_on_submit():
        late_fee, no_show_fee = _dollars(form.late_cancel_fee), _dollars(form.no_show_fee)
        if late_fee is not None and no_show_fee is not None:
            svc.save_policy(
                current_user.practice_id,
                user=current_user,
                policy=policy,
                **{name: getattr(form, name).data for name in PolicyForm.FIELDS},
                late_cancel_fee_cents=late_fee,
                no_show_fee_cents=no_show_fee,
            )
            flash("Booking policy saved.", "success")
            return redirect(url_for("provider.schedule_settings"))
    return render("provider/schedule/policy.html", form=form), status
