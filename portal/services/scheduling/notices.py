"""The client's mail about appointments: confirmations (with an .ics), cancellations and
reminders. Bodies name the practice and the time, never the client."""

import datetime as dt

from flask import current_app, has_app_context
from peewee import fn

from portal import audit, clock, mail
from portal.db import database
from portal.models import Appointment, BookingPolicy
from portal.rules import slots as slot_rules
from portal.rules.appointments import BOOKED
from portal.services.calendar import appointment_ics
from portal.services.scheduling.catalog import policy_for

HEADLINES = {
    "appointment.booked": "Your appointment is booked.",
    "appointment.moved": "Your appointment has moved.",
}
DEFAULT_REMINDER_HOURS = 24


def _when(appt_or_dt, tz):
    value = getattr(appt_or_dt, "starts_at", appt_or_dt)
    return slot_rules.to_local(value, tz).strftime("%A %d %B %Y at %-I:%M %p")


def _portal_link():
    base = current_app.config.get("BASE_URL", "") if has_app_context() else ""
    return base.rstrip("/") + "/portal/appointments"


def mail_body(appt, headline, series=None):
    practice = appt.practice
    lines = [headline, ""]
    for a in series or [appt]:
        lines.append("  " + _when(a, practice.tz))
    lines += [
        "",
        practice.name,
        ", ".join(x for x in (practice.address1, practice.city) if x),
        "",
        "To see, reschedule or cancel, log in: " + _portal_link(),
    ]
    return "\n".join(lines) + "\n"


def queue_confirmation(appt, practice, client, kind="appointment.booked", series=None):
    if not client.email:
        return None
    return mail.queue(
        client.email,
        f"Appointment {'confirmed' if kind == 'appointment.booked' else 'changed'}: "
        f"{practice.name}",
        mail_body(appt, HEADLINES.get(kind, "Your appointment."), series),
        practice=practice.id,
        kind=kind,
        dedupe_key=f"{kind}:{appt.id}:{appt.starts_at:%Y%m%d%H%M}",
        attachment_name="appointment.ics",
        attachment_type="text/calendar",
        attachment=appointment_ics(series or [appt], practice),
    )


def queue_cancellation(appt):
    if not appt.client.email:
        return None
    return mail.queue(
        appt.client.email,
        f"Appointment cancelled: {appt.practice.name}",
        mail_body(appt, "Your appointment has been cancelled."),
        practice=appt.practice_id,
        kind="appointment.cancelled",
        dedupe_key=f"appt-cancel:{appt.id}",
    )


def _remind(appt):
    """Queue one reminder (once per appointment and start time); True when queued."""
    with database.atomic("IMMEDIATE"):
        msg = mail.queue(
            appt.client.email,
            f"Reminder: your appointment at {appt.practice.name}",
            mail_body(appt, "A reminder of your appointment:"),
            practice=appt.practice_id,
            kind="appointment.reminder",
            dedupe_key=f"reminder:{appt.id}:{appt.starts_at:%Y%m%d%H%M}",
        )
        if msg is not None:
            audit.record(
                "appointment.reminder", obj=appt, practice_id=appt.practice_id, detail="queued"
            )
    return msg is not None


def send_reminders(now=None, hours=None):
    """Queue a reminder for every booked appointment starting within `hours` (default: each
    practice's policy, 24) from now. A dedupe key per appointment and start time makes a
    second run send nothing; a moved appointment is reminded again. Returns the count."""
    now = now or clock.utcnow()
    if hours is None:
        longest = BookingPolicy.select(fn.MAX(BookingPolicy.reminder_hours)).scalar()
        horizon = max(DEFAULT_REMINDER_HOURS, longest or DEFAULT_REMINDER_HOURS)
    else:
        horizon = hours
    q = Appointment.select().where(
        (Appointment.status == BOOKED)
        & (Appointment.starts_at > now)
        & (Appointment.starts_at <= now + dt.timedelta(hours=horizon))
    )
    sent = 0
    policies = {}
    for appt in q:
        if hours is None:
            if appt.practice_id not in policies:
                policies[appt.practice_id] = policy_for(appt.practice_id)
            window = dt.timedelta(hours=policies[appt.practice_id].reminder_hours)
            if appt.starts_at > now + window:
                continue
        if appt.client.email and _remind(appt):
            sent += 1
    return sent
