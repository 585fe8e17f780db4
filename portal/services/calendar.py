"""iCalendar (.ics) files: a client's confirmation and a provider's private feed.

Neither carries client names: a confirmation says "Appointment at <practice>", a feed
event says "Appointment: <type>".
"""

import datetime as dt
import hashlib
import secrets

from icalendar import Calendar, Event
from peewee import fn

from portal import audit, clock
from portal.db import database
from portal.models import Appointment, AppointmentType, CalendarFeedToken, Provider, User
from portal.models.scheduling import CANCELLED_STATUSES

PRODID = "-//Massage practice portal//scheduling//EN"


def _cal(name=None):
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    if name:
        cal.add("x-wr-calname", name)
    return cal


def _utc(value):
    return value.replace(tzinfo=dt.UTC)


def _uid(appt):
    return f"appointment-{appt.id}@portal"


def appointment_ics(appointments, practice):
    """One VEVENT per appointment, for the client's own calendar."""
    cal = _cal()
    cal.add("method", "PUBLISH")
    for appt in appointments:
        ev = Event()
        ev.add("uid", _uid(appt))
        ev.add("dtstamp", _utc(clock.utcnow()))
        ev.add("dtstart", _utc(appt.starts_at))
        ev.add("dtend", _utc(appt.ends_at))
        ev.add("summary", f"Appointment at {practice.name}")
        where = ", ".join(x for x in (practice.address1, practice.city, practice.state) if x)
        if where:
            ev.add("location", where)
        cal.add_component(ev)
    return cal.to_ical().decode()


def provider_feed_ics(provider, practice, days_back=30, days_ahead=180):
    now = clock.utcnow()
    rows = (
        Appointment.select(Appointment, AppointmentType)
        .join(AppointmentType, on=Appointment.appointment_type == AppointmentType.id)
        .where(
            (Appointment.provider == provider.id)
            & (Appointment.starts_at >= now - dt.timedelta(days=days_back))
            & (Appointment.starts_at < now + dt.timedelta(days=days_ahead))
            & Appointment.status.not_in(CANCELLED_STATUSES)
        )
        .order_by(Appointment.starts_at)
    )
    cal = _cal(f"{practice.name}: {provider.first_name}")
    for appt in rows:
        ev = Event()
        ev.add("uid", _uid(appt))
        ev.add("dtstamp", _utc(now))
        ev.add("dtstart", _utc(appt.starts_at))
        ev.add("dtend", _utc(appt.ends_at))
        ev.add("summary", f"Appointment: {appt.appointment_type.name}")
        cal.add_component(ev)
    return cal.to_ical().decode()


def _hash(token):
    return hashlib.sha256(token.encode()).hexdigest()


def new_feed_token(provider, user=None):
    """Revoke the provider's current feed link and issue a new one; returns the secret."""
    token = secrets.token_urlsafe(32)
    with database.atomic("IMMEDIATE"):
        CalendarFeedToken.update(revoked_at=clock.utcnow()).where(
            (CalendarFeedToken.provider == provider.id) & CalendarFeedToken.revoked_at.is_null()
        ).execute()
        row = CalendarFeedToken.create(
            practice=provider.practice_id, provider=provider.id, token_hash=_hash(token)
        )
        audit.record("calendar_feed.issue", obj=row, user=user)
    return token


def _revoke(provider_id):
    return (
        CalendarFeedToken.update(revoked_at=clock.utcnow())
        .where((CalendarFeedToken.provider == provider_id) & CalendarFeedToken.revoked_at.is_null())
        .execute()
    )


def revoke_feed(provider, user=None):
    with database.atomic("IMMEDIATE"):
        n = _revoke(provider.id)
        audit.record(
            "calendar_feed.revoke",
            user=user,
            practice_id=provider.practice_id,
            object_type="provider",
            object_id=provider.id,
        )
    return n


def end_feed_of_disabled(provider_id, practice_id):
    """A disabled user's calendar link stops for good (enabling them again does not bring
    it back: they make a new one). Runs inside the caller's transaction; returns how many
    links were ended (0 or 1), audited when one was."""
    n = _revoke(provider_id) if provider_id else 0
    if n:
        audit.record(
            "calendar_feed.revoke",
            practice_id=practice_id,
            object_type="provider",
            object_id=provider_id,
            detail="user disabled",
        )
    return n


def active_feed(provider):
    return (
        CalendarFeedToken.select()
        .where((CalendarFeedToken.provider == provider.id) & CalendarFeedToken.revoked_at.is_null())
        .first()
    )


def _logins_of(provider_column, active):
    return User.select(User.id).where((User.provider == provider_column) & (User.active == active))


def _logins_all_disabled(provider_column):
    """SQL: the provider has logins and every one of them is disabled."""
    return fn.EXISTS(_logins_of(provider_column, False)) & ~fn.EXISTS(
        _logins_of(provider_column, True)
    )


def login_disabled(provider):
    """Whether every login of `provider` is disabled: its links answer nothing meanwhile.
    (A record with two logins, one disabled: disabling ended the link there was, and a
    new one works for the login still there.)"""
    return (
        Provider.select()
        .where((Provider.id == provider.id) & _logins_all_disabled(Provider.id))
        .exists()
    )


def feed_for_token(token):
    """The active CalendarFeedToken row for a secret, or None. A link whose provider's
    logins are all disabled answers None too, whatever the row says: a link made before
    disabling ended it, or a user disabled by hand, must not keep showing the schedule."""
    if not token or len(token) > 200:
        return None
    return (
        CalendarFeedToken.select()
        .where(
            (CalendarFeedToken.token_hash == _hash(token))
            & CalendarFeedToken.revoked_at.is_null()
            & ~_logins_all_disabled(CalendarFeedToken.provider)
        )
        .first()
    )
