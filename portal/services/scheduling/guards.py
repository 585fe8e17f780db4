"""Guards on one client's visits: overlapping or back-to-back visits with two providers.

Staff are warned and may book anyway with a reason (kept on the appointment, audited as
an override; the reason itself is not put in the audit log: it may name health details).
An online booking that overlaps another visit of the client is refused.
"""

import datetime as dt

from portal.models import Appointment
from portal.rules import appointments as rules
from portal.rules.appointments import BookingError

REASON_MAX = 255


class ClientConflict(BookingError):
    """The client has other visits overlapping or right next to this one with another
    provider. `conflicts` is [(kind, Appointment)]; staff may book anyway with a reason."""

    def __init__(self, conflicts):
        kinds = {kind for kind, _ in conflicts}
        if rules.OVERLAP in kinds:
            message = "The client has another visit with another provider at that time."
        else:
            message = "The client has another visit with another provider right before or after."
        super().__init__(message)
        self.conflicts = conflicts


def conflicts_for(client_id, starts_at, ends_at, provider_id, exclude_id=None):
    """[(kind, Appointment)] of the client's active visits with other providers that overlap
    [starts_at, ends_at) or sit back to back with it."""
    margin = dt.timedelta(minutes=rules.BACK_TO_BACK_MINUTES)
    q = Appointment.select().where(
        (Appointment.client == client_id)
        & (Appointment.starts_at <= ends_at + margin)
        & (Appointment.ends_at >= starts_at - margin)
        & Appointment.status.not_in(rules.CANCELLED_STATUSES)
    )
    if exclude_id:
        q = q.where(Appointment.id != exclude_id)
    rows = {a.id: a for a in q}
    others = [rules.OtherVisit(a.id, a.starts_at, a.ends_at, a.provider_id) for a in rows.values()]
    found = rules.client_conflicts(starts_at, ends_at, provider_id, others)
    return [(kind, rows[other.id]) for kind, other in found]


def check_client(
    client_id, starts_at, ends_at, provider_id, *, online, override_reason, exclude_id=None
):
    """Inside the booking transaction: raise ClientConflict unless staff gave a reason;
    online, an overlap is refused outright. Returns the reason to store ('' for none)."""
    found = conflicts_for(client_id, starts_at, ends_at, provider_id, exclude_id)
    if not found:
        return ""
    if online:
        if any(kind == rules.OVERLAP for kind, _ in found):
            raise BookingError("You already have a visit at that time. Choose another time.")
        return ""
    reason = (override_reason or "").strip()[:REASON_MAX]
    if not reason:
        raise ClientConflict(found)
    return reason
