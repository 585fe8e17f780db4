"""Client portal: book online (type, provider or any, day, time, confirm), see
appointments, reschedule or cancel within the practice's policy."""

import datetime as dt

from flask import abort, flash, redirect, request, url_for
from flask_login import current_user

from portal import audit, clock
from portal.access import get_or_404, scoped
from portal.booking import parse_start, picker, start_param
from portal.client import bp
from portal.formutil import CsrfForm
from portal.htmx import render
from portal.models import Appointment, AppointmentType, Provider
from portal.rules import appointments as rules
from portal.rules import slots as slot_rules
from portal.rules.money import format_cents
from portal.services import intake as intake_svc
from portal.services import scheduling as svc


def _practice():
    return current_user.practice


@bp.route("/book")
def book():
    practice = _practice()
    ctx = picker(practice, request.args)

    def slot_url(t):
        return url_for(
            "client.book_confirm",
            type=ctx["type"].id,
            provider=ctx.get("provider_sel", "any"),
            start=start_param(t),
        )

    return render(
        "client/booking/book.html",
        block="slot_picker",
        practice=practice,
        tz=practice.tz,
        start_param=start_param,
        nav_url=lambda **kw: url_for("client.book", **kw),
        slot_url=slot_url,
        **ctx,
    )


def _visit_words(appt):
    """'60-minute massage with Maya, Wednesday 9 December 2026, 9:00 AM': which visit a
    message is about (the practice's time)."""
    when = clock.to_local(appt.starts_at, appt.practice.tz)
    return (
        f"{appt.appointment_type.name} with {appt.provider.first_name}, "
        f"{when:%A} {when.day} {when:%B %Y}, {when:%-I:%M %p}"
    )


def _unsigned_forms():
    offered = {f.id for f in intake_svc.offered_forms(current_user.practice_id)}
    return offered - intake_svc.signed_form_ids(current_user.client)


def _chosen():
    appt_type = get_or_404(AppointmentType, request.values.get("type"))
    if not (appt_type.online_bookable and appt_type.active):
        abort(404)
    provider = None
    sel = request.values.get("provider", "any")
    if sel != "any":
        # Providers are not client-visible rows; a client may pick among those who offer
        # the type in their own practice (the type was scoped above).
        provider = next((p for p in svc.providers_for_type(appt_type) if str(p.id) == sel), None)
        if provider is None:
            abort(404)
    start = parse_start(request.values.get("start"))
    if start is None:
        abort(404)
    return appt_type, provider, start


@bp.route("/book/confirm", methods=["GET", "POST"])
def book_confirm():
    practice = _practice()
    appt_type, provider, start = _chosen()
    form = CsrfForm()
    status = 200
    taken = None
    if form.validate_on_submit():
        try:
            appt = svc.book(
                practice=practice,
                client=current_user.client,
                appt_type=appt_type,
                provider=provider,
                starts_at=start,
                user=current_user,
                online=True,
            )
        except svc.SlotTaken as exc:
            taken = exc.next_slots
            status = 409
        except svc.BookingError as exc:
            flash(str(exc), "error")
            status = 400
        else:
            flash(
                f"Booked: {_visit_words(appt)}. A confirmation is on its way to your e-mail.",
                "success",
            )
            if _unsigned_forms():
                # A new client: the intake forms come next, before the visit.
                flash("Before your visit, please fill in and sign your forms below.", "info")
                return redirect(url_for("client.intake"))
            return redirect(url_for("client.appointments"))
    elif request.method == "POST":
        status = 400
    policy = svc.policy_for(practice.id)
    return render(
        "client/booking/confirm.html",
        appt_type=appt_type,
        provider=provider,
        start=start,
        tz=practice.tz,
        form=form,
        taken=taken,
        policy=policy,
        start_param=start_param,
        fee=format_cents(policy.late_cancel_fee_cents),
    ), status


@bp.route("/appointments")
def appointments():
    now = clock.utcnow()
    with_names = (
        Appointment.select(Appointment, AppointmentType, Provider)
        .join(AppointmentType, on=Appointment.appointment_type == AppointmentType.id)
        .switch(Appointment)
        .join(Provider, on=Appointment.provider == Provider.id)
    )
    rows = list(
        scoped(Appointment, query=with_names)
        .where(Appointment.client == current_user.client_id)
        .order_by(Appointment.starts_at.desc())
        .limit(100)
    )
    upcoming = sorted(
        (a for a in rows if a.starts_at >= now and a.status in (rules.BOOKED, rules.CHECKED_IN)),
        key=lambda a: a.starts_at,
    )
    past = [a for a in rows if a not in upcoming]
    audit.record("appointment.list", client=current_user.client_id, detail="client portal")
    policy = svc.policy_for(current_user.practice_id)
    return render(
        "client/booking/appointments.html",
        upcoming=upcoming,
        past=past,
        policy=policy,
        may_change=lambda a: rules.client_may_change(a.status, starts_at=a.starts_at, now=now),
        can_reschedule=lambda a: (
            not slot_rules.is_late_cancellation(a.starts_at, now, policy.cancellation_window_hours)
        ),
    )


def _own_upcoming(appointment_id):
    appt = get_or_404(Appointment, appointment_id, audit_action="appointment.view")
    if not rules.client_may_change(appt.status, starts_at=appt.starts_at, now=clock.utcnow()):
        flash("This appointment can no longer be changed online.", "error")
        return None
    return appt


@bp.route("/appointments/<int:appointment_id>/cancel", methods=["GET", "POST"])
def appointment_cancel(appointment_id):
    appt = _own_upcoming(appointment_id)
    if appt is None:
        return redirect(url_for("client.appointments"))
    policy = svc.policy_for(appt.practice_id)
    late = slot_rules.is_late_cancellation(
        appt.starts_at, clock.utcnow(), policy.cancellation_window_hours
    )
    form = CsrfForm()
    if form.validate_on_submit():
        try:
            appt = svc.cancel(appt, user=current_user, by_client=True)
        except svc.BookingError as exc:
            flash(str(exc), "error")
        else:
            flash(
                f"Cancelled: {_visit_words(appt)}."
                + (
                    f" A late-cancellation fee of {format_cents(appt.fee_due_cents)} applies."
                    if appt.fee_due_cents
                    else ""
                ),
                "success",
            )
        return redirect(url_for("client.appointments"))
    return render(
        "client/booking/cancel.html",
        appt=appt,
        late=late,
        fee_from=appt.starts_at - dt.timedelta(hours=policy.cancellation_window_hours),
        fee=format_cents(policy.late_cancel_fee_cents),
        policy=policy,
        form=form,
    ), (200 if request.method == "GET" else 400)


@bp.route("/appointments/<int:appointment_id>/reschedule", methods=["GET", "POST"])
def appointment_reschedule(appointment_id):
    appt = _own_upcoming(appointment_id)
    if appt is None:
        return redirect(url_for("client.appointments"))
    practice = _practice()
    policy = svc.policy_for(practice.id)
    if slot_rules.is_late_cancellation(
        appt.starts_at, clock.utcnow(), policy.cancellation_window_hours
    ):
        flash(
            f"Within {policy.cancellation_window_hours} hours of the visit, please call "
            "the practice to change it.",
            "error",
        )
        return redirect(url_for("client.appointments"))
    form = CsrfForm()
    status = 200
    taken = None
    if form.validate_on_submit():
        start = parse_start(request.form.get("start"))
        if start is None:
            abort(400)
        try:
            appt = svc.move(appt, starts_at=start, user=current_user, online=True)
        except svc.SlotTaken as exc:
            taken = exc.next_slots
            status = 409
        except svc.BookingError as exc:
            flash(str(exc), "error")
            status = 400
        else:
            flash("Rescheduled. A new confirmation is on its way.", "success")
            return redirect(url_for("client.appointments"))
    elif request.method == "POST":
        status = 400
    ctx = picker(
        practice,
        request.args,
        exclude_id=appt.id,
        fixed_type=appt.appointment_type,
        fixed_provider=appt.provider,
    )
    return render(
        "client/booking/reschedule.html",
        block="slot_picker",
        appt=appt,
        tz=practice.tz,
        form=form,
        taken=taken,
        start_param=start_param,
        nav_url=lambda **kw: url_for(
            "client.appointment_reschedule", appointment_id=appt.id, date=kw.get("date")
        ),
        fixed=True,
        slot_post=True,
        **ctx,
    ), status
