"""What the owner changes about staff users: disabling and enabling them, their role, their
two-step login after a lost phone; and what a disabled therapist leaves on the schedule
(their visits ahead stay booked until the owner moves or cancels them: the staff page
keeps pointing at them)."""

import datetime as dt
from typing import NamedTuple

from peewee import IntegrityError, fn

from portal import audit, clock, tokens
from portal.db import database, unique_violation
from portal.models import ROLE_FRONTDESK, Appointment, User, UserToken
from portal.models.scheduling import STATUS_BOOKED, STATUS_CHECKED_IN
from portal.services import calendar, recovery_codes
from portal.sessions import revoke_sessions


class Ahead(NamedTuple):
    """A provider's booked visits from now on: how many, and when the first starts (UTC)."""

    count: int
    first: dt.datetime

    def words(self):
        return f"{self.count} booked visit{'s' if self.count != 1 else ''} ahead"

    @property
    def them(self):
        return "it" if self.count == 1 else "them"


def visits_ahead(provider_ids):
    """{provider id: Ahead} for those of `provider_ids` with visits still to come."""
    ids = [p for p in provider_ids if p]
    if not ids:
        return {}
    first = fn.MIN(Appointment.starts_at)
    rows = (
        Appointment.select(Appointment.provider, fn.COUNT(Appointment.id), first)
        .where(
            Appointment.provider.in_(ids)
            & (Appointment.starts_at >= clock.utcnow())
            & Appointment.status.in_((STATUS_BOOKED, STATUS_CHECKED_IN))
        )
        .group_by(Appointment.provider)
        .tuples()
    )
    return {
        pid: Ahead(count, Appointment.starts_at.python_value(start)) for pid, count, start in rows
    }


class AlreadyHere(ValueError):
    """The address is already a user's in this practice (staff or client)."""


def invite(practice, email, name, role, provider_id):
    """A new staff user of `practice`, invited by a one-time link; returns the user, or
    raises AlreadyHere. Only the practice's own users count: an address with an account in
    another practice is invited exactly as a new one (nothing the owner sees differs), and
    its link, once followed, tells only the address's owner (portal/auth.py)."""
    taken = User.select().where((User.practice == practice.id) & (User.email == email))
    if taken.exists():
        raise AlreadyHere(email)
    try:
        with database.atomic("IMMEDIATE"):
            user = User.create(
                practice=practice.id, email=email, name=name, role=role, provider=provider_id
            )
            tokens.send_invite(user, practice)
            audit.record("user.invite", obj=user, detail=user.role)
    except IntegrityError as exc:  # invited twice at the same moment
        if not unique_violation(exc, "user"):
            raise
        raise AlreadyHere(email) from None
    return user


def set_active(user, active):
    """Enable or disable a staff user. Disabling ends their sessions everywhere, spends
    their open one-time links (an invitation sent earlier must not let them in) and ends
    their private calendar link for good (enabling them again does not revive it). Returns
    their visits ahead (Ahead) when disabled with some, else None."""
    with database.atomic("IMMEDIATE"):
        User.update(active=active).where(User.id == user.id).execute()
        user.active = active
        if active:
            audit.record("user.enable", obj=user)
            return None
        ended = revoke_sessions(user, "disabled")
        UserToken.update(used_at=clock.utcnow()).where(
            (UserToken.user == user.id) & UserToken.used_at.is_null()
        ).execute()
        calendar.end_feed_of_disabled(user.provider_id, user.practice_id)
        ahead = visits_ahead([user.provider_id]).get(user.provider_id)
        detail = f"ended {ended} session{'s' if ended != 1 else ''}"
        detail += f"; {ahead.words()}" if ahead else ""
        audit.record("user.disable", obj=user, detail=detail)
    return ahead


def change_role(user, role, provider_id):
    """Give a staff user another role (and therapist record; the front desk has none). It
    takes effect at their next request: every request reads the user afresh. Returns
    whether anything changed."""
    if role == ROLE_FRONTDESK:
        provider_id = None
    before = user.role
    if (role, provider_id) == (before, user.provider_id):
        return False
    with database.atomic("IMMEDIATE"):
        User.update(role=role, provider=provider_id).where(User.id == user.id).execute()
        user.role, user.provider_id = role, provider_id
        audit.record("user.role", obj=user, detail=f"{before} -> {role}")
    return True


def reset_two_step(user, detail=""):
    """For a lost phone: two-step login off, their recovery codes gone, their sessions
    ended; they log in with the password alone and set it up again (at once, if the
    practice requires it), with new codes."""
    with database.atomic("IMMEDIATE"):
        User.update(totp_enabled=False, totp_secret=None, totp_new_secret=None).where(
            User.id == user.id
        ).execute()
        recovery_codes.clear(user)
        revoke_sessions(user, "two-step login reset")
        audit.record("user.totp_reset", obj=user, detail=detail)
