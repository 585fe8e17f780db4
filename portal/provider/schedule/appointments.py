"""One appointment: book (once or as a weekly series), see, move or resize, cancel,
no-show, undo, check in and check out. Each change is one call of
`portal.services.scheduling`; the status rules are `portal.rules.appointments`."""

import datetime as dt

from flask import abort, flash, redirect, request, url_for
from flask_login import current_user

from portal import clock
from portal.access import get_or_404, roles_required, scoped
from portal.formutil import CsrfForm, choices
from portal.htmx import render
from portal.inputs import int_arg
from portal.models import (
    Appointment,
    AppointmentMinutes,
    AppointmentType,
    Client,
    Provider,
    Room,
)
from portal.provider import bp
from portal.provider.finder import found_row
from portal.provider.schedule.common import (
    STAFF,
    fmt_slot,
    handover_url,
    local,
    practice,
    scoped_appt,
    sees_intake,
    to_utc,
    today,
)
from portal.provider.schedule.forms import AppointmentForm, CancelForm, MoveForm, NoShowForm
from portal.provider.visit import note_first_page
from portal.rules import appointments as rules
from portal.rules import schedule_input
from portal.rules.money import format_cents
from portal.services import charting, client_finder, coverage, visit_flow
from portal.services import scheduling as svc
from portal.services.claims import desk as claims_desk

# A CPT code's description in check-out's closed <select> is cut after this many characters
# (the defaults, 79 at most, show whole at 1024 px); the full text is the option's title and is
# listed under the table.
CPT_LABEL_CHARS = 80
SLOT_TAKEN = "That time was just taken, or the provider is busy then. Choose another time."


def _fill_choices(form):
    practice_id = current_user.practice_id
    providers = svc.practice_providers(practice_id)
    form.provider_id.choices = choices([(p.id, p.display_name) for p in providers])
    rooms = svc.active_rooms(practice_id)
    form.room_id.choices = choices([(0, "No room")] + [(r.id, r.name) for r in rooms])
    if isinstance(form, AppointmentForm):
        types = svc.bookable_types(practice_id)
        form.appointment_type_id.choices = choices(
            [(t.id, f"{t.name} ({t.duration_minutes} min)") for t in types]
        )


def _prefill_new(form):
    """A new appointment from a link: ?date=, ?time=, ?provider=, ?client_id=, ?type=."""
    form.date.data = schedule_input.date_or(request.args.get("date"), today())
    form.time.data = schedule_input.time_or(request.args.get("time"), dt.time(9))
    provider_id = int_arg("provider", current_user.provider_id)
    if provider_id is not None:
        form.provider_id.data = provider_id
    type_id = int_arg("type")
    if type_id:
        form.appointment_type_id.data = type_id
    client_id = int_arg("client_id")
    if client_id:
        form.client_id.data = client_id


def _finder(form):
    """The client finder's state: the chosen client (through portal.access) and the
    matches for the words typed."""
    chosen = None
    if form.client_id.data:
        client = scoped(Client).where(Client.id == form.client_id.data).first()
        chosen = found_row(client) if client else None
    q = (request.form.get("client_id_q") or "")[:100]
    found, more = client_finder.find(q) if q else ([], False)
    return {"chosen": chosen, "found": found, "more": more, "q": q}


def _chosen(form):
    """The form's type, provider and room, each through the access helper."""
    return dict(
        practice=practice(),
        appt_type=get_or_404(AppointmentType, form.appointment_type_id.data),
        provider=get_or_404(Provider, form.provider_id.data),
        room=get_or_404(Room, form.room_id.data) if form.room_id.data else None,
    )


def _series(form, client, chosen, starts_at):
    """Plan a series (shown first, with its conflicts), or book it once confirmed.
    Returns (plan, a redirect or None)."""
    series = dict(
        first_start=starts_at,
        every_weeks=form.repeat_weeks.data,
        count=form.repeat_count.data or 2,
        **chosen,
    )
    if form.confirm_series.data != "yes":
        plan = svc.plan_series(client=client, **series)
        return [(fmt_slot(s), problem) for s, problem in plan], None
    booked, skipped = svc.book_series(client=client, user=current_user, **series)
    flash(
        f"Booked {len(booked)} appointments"
        + (f"; skipped {len(skipped)} with conflicts." if skipped else "."),
        "success",
    )
    return None, redirect(url_for("provider.schedule", date=form.date.data.isoformat()))


@bp.route("/schedule/new", methods=["GET", "POST"])
@roles_required(*STAFF)
def appointment_new():
    form = AppointmentForm()
    _fill_choices(form)
    if request.method == "GET":
        _prefill_new(form)
    status, plan, next_slots, conflicts = 200, None, [], []
    if request.form.get("find_client"):
        pass  # the finder's Find button without JavaScript: show the matches
    elif form.validate_on_submit():
        client = get_or_404(Client, form.client_id.data)
        chosen = _chosen(form)
        starts_at = to_utc(form.date.data, form.time.data)
        try:
            if form.repeat_weeks.data:
                plan, done = _series(form, client, chosen, starts_at)
                if done:
                    return done
            else:
                appt = svc.book(
                    client=client,
                    starts_at=starts_at,
                    notes=form.notes.data,
                    user=current_user,
                    duration_minutes=form.length.data,
                    override_reason=form.override_reason.data,
                    **chosen,
                )
                flash("Appointment booked.", "success")
                day = local(appt.starts_at).date().isoformat()
                return redirect(url_for("provider.schedule", date=day))
        except svc.SlotTaken as exc:
            form.form_errors.append(exc.reason or SLOT_TAKEN)
            next_slots = [fmt_slot(t) for t in exc.next_slots]
            status = 409
        except svc.ClientConflict as exc:
            conflicts, status = _conflict_rows(form, exc), 409
        except svc.BookingError as exc:
            form.form_errors.append(str(exc))
            status = 400
    elif request.method == "POST" and not request.form.get("find_client"):
        status = 400
    return render(
        "provider/schedule/appointment_form.html",
        form=form,
        plan=plan,
        next_slots=next_slots,
        conflicts=conflicts,
        finder=_finder(form),
        title="New appointment",
    ), status


def _conflict_rows(form, exc):
    """The warning's lines (when, with whom, overlapping or back to back); the form asks
    for a reason to book anyway."""
    form.override_reason.errors = ["Give a reason to book anyway, or choose another time."]
    return [
        (
            "Overlaps" if kind == rules.OVERLAP else "Back to back with",
            f"{fmt_slot(other.starts_at)}–{local(other.ends_at):%-I:%M %p}",
            other.provider.display_name,
        )
        for kind, other in exc.conflicts
    ]


@bp.route("/appointments/<int:appointment_id>")
@roles_required(*STAFF)
def appointment(appointment_id):
    appt = scoped_appt(appointment_id)
    policy = svc.policy_for(appt.practice_id)
    now = clock.utcnow()
    series = []
    if appt.series_id:
        series = list(
            scoped(Appointment)
            .where(Appointment.series_id == appt.series_id)
            .order_by(Appointment.starts_at)
        )
    visit_note = visit_flow.note_of(appt.id)
    return render(
        "provider/schedule/appointment.html",
        appt=appt,
        start=local(appt.starts_at),
        end=local(appt.ends_at),
        policy=policy,
        late=rules.is_late_cancellation(appt.starts_at, now, policy.cancellation_window_hours),
        started=appt.starts_at <= now,
        no_show_due=rules.no_show_due(appt.starts_at, now, policy.no_show_grace_minutes),
        check_in_closed=rules.check_in_refusal(
            appt.starts_at, now, practice().tz, policy.check_in_window_minutes
        ),
        visit_note=visit_note,
        note_link=(
            url_for("provider.note_for_appointment", appointment_id=appt.id)
            if sees_intake()
            else None
        ),
        checkout_refusal=visit_flow.checkout_refusal(appt, visit_note),
        allowed=rules.allowed_actions(appt.status),
        minutes=list(appt.minutes.order_by(AppointmentMinutes.cpt_code)),
        series=series,
        cancel_form=CancelForm(),
        no_show_form=NoShowForm(),
        fmt=fmt_slot,
    )


@bp.route("/appointments/<int:appointment_id>/edit", methods=["GET", "POST"])
@roles_required(*STAFF)
def appointment_edit(appointment_id):
    appt = scoped_appt(appointment_id)
    form = MoveForm()
    _fill_choices(form)
    if request.method == "GET":
        start = local(appt.starts_at)
        form.provider_id.data = appt.provider_id
        form.room_id.data = appt.room_id or 0
        form.date.data, form.time.data = start.date(), start.time()
        form.length.data = appt.duration_minutes
        form.notes.data = appt.notes
    status, next_slots, conflicts = 200, [], []
    if form.validate_on_submit():
        provider = get_or_404(Provider, form.provider_id.data)
        room = get_or_404(Room, form.room_id.data) if form.room_id.data else None
        try:
            appt = svc.move(
                appt,
                starts_at=to_utc(form.date.data, form.time.data),
                duration_minutes=form.length.data,
                provider=provider,
                room=room,
                keep_room=False,
                notes=form.notes.data or "",
                user=current_user,
                override_reason=form.override_reason.data,
            )
        except svc.SlotTaken as exc:
            form.form_errors.append(exc.reason or "The provider is busy then. Choose another time.")
            next_slots = [fmt_slot(t) for t in exc.next_slots]
            status = 409
        except svc.ClientConflict as exc:
            conflicts, status = _conflict_rows(form, exc), 409
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
        conflicts=conflicts,
    ), status


def _change_status(appointment_id, change, success, **kw):
    """Run one status change of the service; on refusal, back to the appointment with
    the reason. `success(appt)` gives the message and where to go."""
    appt = scoped_appt(appointment_id, action=None)
    try:
        appt = change(appt, user=current_user, **kw)
    except svc.BookingError as exc:
        flash(str(exc), "error")
        return redirect(url_for("provider.appointment", appointment_id=appt.id), 303)
    message, target = success(appt)
    flash(message, "success")
    return redirect(target)


def _back_to(appt):
    return url_for("provider.appointment", appointment_id=appt.id)


@bp.route("/appointments/<int:appointment_id>/cancel", methods=["POST"])
@roles_required(*STAFF)
def appointment_cancel(appointment_id):
    def success(appt):
        msg = "Appointment cancelled."
        if appt.status == rules.LATE_CANCELLED:
            msg = f"Late cancellation recorded; fee due {format_cents(appt.fee_due_cents)}."
        day = local(appt.starts_at).date().isoformat()
        return msg, url_for("provider.schedule", date=day)

    waive = bool(CancelForm().waive_fee.data)
    return _change_status(appointment_id, svc.cancel, success, waive_fee=waive)


@bp.route("/appointments/<int:appointment_id>/no-show", methods=["POST"])
@roles_required(*STAFF)
def appointment_no_show(appointment_id):
    def success(appt):
        if appt.fee_due_cents:  # the fee invoice waits at the desk: offer it at once
            fee = format_cents(appt.fee_due_cents)
            return f"Marked as a no-show. The no-show fee of {fee} is due.", handover_url(appt)
        return "Marked as a no-show.", _back_to(appt)

    waive = bool(NoShowForm().waive_fee.data)
    return _change_status(appointment_id, svc.no_show, success, waive_fee=waive)


@bp.route("/appointments/<int:appointment_id>/undo", methods=["POST"])
@roles_required(*STAFF)
def appointment_undo(appointment_id):
    return _change_status(
        appointment_id, svc.undo_status, lambda appt: ("Back to booked.", _back_to(appt))
    )


@bp.route("/appointments/<int:appointment_id>/check-in", methods=["GET", "POST"])
@roles_required(*STAFF)
def appointment_check_in(appointment_id):
    appt = scoped_appt(appointment_id, action="appointment.check_in_view")
    form = CsrfForm()
    if form.validate_on_submit():
        try:
            svc.check_in(appt, user=current_user)
        except svc.BookingError as exc:
            flash(str(exc), "error")
        else:
            flash("Checked in.", "success")
        return redirect(_back_to(appt))
    start = local(appt.starts_at)
    warnings = claims_desk.checkin_warnings(appt, start.date())
    # intake answers are clinical: the front desk sees insurance warnings only
    return render(
        "provider/schedule/check_in.html",
        appt=appt,
        start=start,
        form=form,
        allowed=rules.allowed_actions(appt.status),
        flags=coverage.intake_flags(appt.client) if sees_intake() else [],
        show_flags=sees_intake(),
        warnings=warnings,
        all_clear="" if warnings else claims_desk.checkin_all_clear(appt, start.date()),
    ), (200 if request.method == "GET" else 400)


@bp.route("/appointments/<int:appointment_id>/check-out", methods=["GET", "POST"])
@roles_required(*STAFF)
def appointment_check_out(appointment_id):
    appt = scoped_appt(appointment_id, action="appointment.check_out_view")
    if appt.status in (rules.BOOKED, rules.CHECKED_IN):
        refusal = visit_flow.checkout_refusal(appt)
        if refusal:  # the chart note first (issue 11)
            return note_first_page(appt, refusal, 409 if request.method == "POST" else 200)
    form = CsrfForm()
    errors, status = [], 200
    from_note = claims_desk.note_minutes(appt.id)  # the signed note's: never typed twice
    if request.method == "GET":
        codes = [(c.cpt_code, c.minutes) for c in svc.type_codes(appt.appointment_type)]
        rows = schedule_input.checkout_defaults(codes, appt.duration_minutes)
    else:
        if not form.validate_on_submit():
            abort(400)
        if from_note:
            rows, minutes, errors = [], dict(from_note), []
        else:
            rows, minutes, errors = schedule_input.checkout_rows(
                request.form.getlist("cpt_code"), request.form.getlist("minutes")
            )
        if not errors:
            try:
                appt = svc.check_out(appt, minutes, user=current_user)
            except svc.BookingError as exc:
                errors.append(str(exc))
            else:
                flash("Checked out. Minutes recorded.", "success")
                return redirect(handover_url(appt))
        rows, status = schedule_input.pad_rows(rows), 400
    cpt = charting.cpt_codes(appt.practice_id)
    return render(
        "provider/schedule/check_out.html",
        appt=appt,
        start=local(appt.starts_at),
        rows=rows,
        from_note=from_note,
        errors=errors,
        form=form,
        codes=cpt,
        label_chars=CPT_LABEL_CHARS,
        codes_shortened=any(len(desc) > CPT_LABEL_CHARS for _, desc, _, _ in cpt),
    ), status
