"""What the schedule's pages share: roles, the practice's time zone and "today", and the
look-ups through `portal.access` (a foreign id answers 404 with an audit row)."""

import datetime as dt

from flask import url_for
from flask_login import current_user

from portal import clock
from portal.access import deny, get_or_404
from portal.models import ROLE_OWNER, ROLE_THERAPIST, STAFF_ROLES, Appointment, Provider
from portal.rules import slots as slot_rules

STAFF = STAFF_ROLES
OWNER = (ROLE_OWNER,)
CLINICAL = (ROLE_OWNER, ROLE_THERAPIST)  # the front desk never sees intake answers or flags


def practice():
    return current_user.practice


def today():
    return slot_rules.to_local(clock.utcnow(), practice().tz).date()


def local(value):
    """A stored naive-UTC time in the practice's wall time."""
    return slot_rules.to_local(value, practice().tz)


def to_utc(day, time_):
    return slot_rules.to_utc(dt.datetime.combine(day, time_), practice().tz)


def fmt_slot(value):
    return local(value).strftime("%a %d %b, %-I:%M %p")


def sees_intake():
    return current_user.role in CLINICAL


def can_manage_hours(provider):
    """The owner manages everyone's hours, exceptions and calendar link; a therapist their
    own."""
    return current_user.is_owner or current_user.provider_id == provider.id


def managed_provider_or_404(provider_id):
    provider = get_or_404(Provider, provider_id)
    if not can_manage_hours(provider):
        deny()
    return provider


def scoped_appt(appointment_id, action="appointment.view"):
    return get_or_404(Appointment, appointment_id, audit_action=action)


def handover_url(appt):
    """Where a completed visit leads: its payment at the desk."""
    return url_for("provider.checkout_payment", appointment_id=appt.id)
