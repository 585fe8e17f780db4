"""An appointment's life: its statuses, the one table of which action may move it from
which status to which, and the fee and timing rules that go with them. Pure functions
that raise BookingError with a message for the person.

The scheduling services check every status change here once, inside their write
transaction, against the row as it is stored at that moment.
"""

import datetime as dt
from dataclasses import dataclass

from portal.rules.slots import is_late_cancellation, to_local

BOOKED = "booked"
CHECKED_IN = "checked_in"
COMPLETED = "completed"
CANCELLED = "cancelled"
LATE_CANCELLED = "late_cancelled"
NO_SHOW = "no_show"

STATUSES = (BOOKED, CHECKED_IN, COMPLETED, CANCELLED, LATE_CANCELLED, NO_SHOW)
CANCELLED_STATUSES = (CANCELLED, LATE_CANCELLED)
ACTIVE_STATUSES = tuple(s for s in STATUSES if s not in CANCELLED_STATUSES)
LABELS = {
    BOOKED: "Booked",
    CHECKED_IN: "Checked in",
    COMPLETED: "Completed",
    CANCELLED: "Cancelled",
    LATE_CANCELLED: "Late-cancelled",
    NO_SHOW: "No-show",
}

# What staff (or the client) do to an appointment.
CHECK_IN = "check_in"
CHECK_OUT = "check_out"  # complete the visit, minutes recorded
CANCEL = "cancel"  # outside the cancellation window
LATE_CANCEL = "late_cancel"  # inside it: the late-cancellation fee is due
MARK_NO_SHOW = "no_show"
UNDO = "undo"  # a mistaken check-in or no-show, back to booked
CHANGE = "change"  # move, resize, another provider or room, staff notes: status stays

# action: (the statuses it may start from, the status it leads to; None = unchanged)
TRANSITIONS = {
    CHECK_IN: ({BOOKED}, CHECKED_IN),
    CHECK_OUT: ({BOOKED, CHECKED_IN}, COMPLETED),
    CANCEL: ({BOOKED, CHECKED_IN}, CANCELLED),
    LATE_CANCEL: ({BOOKED, CHECKED_IN}, LATE_CANCELLED),
    MARK_NO_SHOW: ({BOOKED, CHECKED_IN}, NO_SHOW),
    UNDO: ({CHECKED_IN, NO_SHOW}, BOOKED),
    CHANGE: ({BOOKED, CHECKED_IN}, None),
}
REFUSALS = {
    CHECK_IN: "Only a booked appointment can be checked in.",
    CHECK_OUT: "Only a booked or checked-in appointment can be checked out.",
    CANCEL: "This appointment cannot be cancelled any more.",
    LATE_CANCEL: "This appointment cannot be cancelled any more.",
    MARK_NO_SHOW: "Only a booked or checked-in appointment can be marked as a no-show.",
    UNDO: "Only a check-in or a no-show can be undone.",
    CHANGE: "Only a booked or checked-in appointment can be changed.",
}

MAX_MINUTES_PER_CODE = 720


class BookingError(ValueError):
    """A booking or change the rules refuse; the message is for the person."""


class InvalidTransition(BookingError):
    """The appointment's status does not allow the action."""


def check(action: str, current: str) -> str:
    """The status `action` leads to from `current` (the same one for a change), or
    InvalidTransition."""
    sources, target = TRANSITIONS[action]
    if current not in sources:
        raise InvalidTransition(REFUSALS[action])
    return current if target is None else target


def allowed_actions(current: str) -> frozenset:
    """Every action the table allows from `current` (what a page may offer)."""
    return frozenset(a for a, (sources, _) in TRANSITIONS.items() if current in sources)


def cancellation(
    current, *, starts_at, now, window_hours, fee_cents, by_client=False, waive_fee=False
):
    """(new status, fee due in cents) of cancelling now. Inside the window it is a late
    cancellation with the practice's fee, which staff (never the client) may waive; a
    client cannot cancel a visit that has started."""
    late = is_late_cancellation(starts_at, now, window_hours)
    status = check(LATE_CANCEL if late else CANCEL, current)
    if by_client and starts_at <= now:
        raise BookingError("This appointment has already started.")
    waived = waive_fee and not by_client
    return status, (fee_cents if late and not waived else 0)


def no_show(current, *, starts_at, now, fee_cents, waive_fee=False, grace_minutes=0):
    """(new status, fee due in cents) of marking a no-show: only once the visit was due and
    the practice's grace period after its start has passed (a client running late is not
    a no-show)."""
    status = check(MARK_NO_SHOW, current)
    if starts_at > now:
        raise BookingError("An appointment in the future cannot be a no-show yet.")
    if not no_show_due(starts_at, now, grace_minutes):
        raise BookingError(
            f"Give the client {grace_minutes} minutes after the start before marking a no-show."
        )
    return status, (0 if waive_fee else fee_cents)


def no_show_due(starts_at, now, grace_minutes) -> bool:
    """The grace period after the start has passed: a no-show (and its fee) may be offered."""
    return now >= starts_at + dt.timedelta(minutes=max(0, grace_minutes))


def check_in_refusal(starts_at, now, tz, window_minutes):
    """Why check-in is not open now, or None when it is. Check-in is only on the visit's
    own day (in the practice's time zone), from `window_minutes` before its start."""
    start = to_local(starts_at, tz)
    local_now = to_local(now, tz)
    if local_now.date() > start.date():
        return (
            f"This visit was on {start:%A %-d %B}: check-in is only on the visit's day. "
            "Check it out or mark it as a no-show instead."
        )
    day_start = start.replace(hour=0, minute=0, second=0, microsecond=0)
    opens = max(start - dt.timedelta(minutes=max(0, window_minutes)), day_start)
    if local_now < opens:
        when = (
            f"{opens:%-I:%M %p}"
            if opens.date() == local_now.date()
            else f"{opens:%-I:%M %p on %A %-d %B}"
        )
        return f"Check-in opens at {when}, on the visit's day."
    return None


# --- one client, two providers -------------------------------------------------------------

OVERLAP = "overlap"
BACK_TO_BACK = "back_to_back"
BACK_TO_BACK_MINUTES = 15  # a gap this short between two visits is "back to back"


@dataclass(frozen=True)
class OtherVisit:
    id: int
    starts_at: dt.datetime
    ends_at: dt.datetime
    provider_id: int


def client_conflicts(starts_at, ends_at, provider_id, others, gap_minutes=BACK_TO_BACK_MINUTES):
    """[(OVERLAP | BACK_TO_BACK, other)] for a client's visit at [starts_at, ends_at) with
    `provider_id` against their other active visits with OTHER providers (the database
    already refuses a provider's own overlaps; back to back with one therapist is a double
    session, not a mistake)."""
    gap = dt.timedelta(minutes=gap_minutes)
    found = []
    for other in sorted(others, key=lambda o: o.starts_at):
        if other.provider_id == provider_id:
            continue
        if other.starts_at < ends_at and starts_at < other.ends_at:
            found.append((OVERLAP, other))
        elif dt.timedelta(0) <= starts_at - other.ends_at <= gap or (
            dt.timedelta(0) <= other.starts_at - ends_at <= gap
        ):
            found.append((BACK_TO_BACK, other))
    return found


def client_may_change(current, *, starts_at, now) -> bool:
    """A client changes or cancels online only a booked visit that has not started."""
    return current == BOOKED and starts_at > now


def visit_minutes(minutes_by_code: dict) -> dict:
    """Check-out minutes per CPT code, cleaned: codes upper-cased and five characters,
    empty or zero rows dropped, the same code added up; at least one code."""
    cleaned = {}
    for code, minutes in minutes_by_code.items():
        code = (code or "").strip().upper()
        if not code:
            continue
        if not (len(code) == 5 and code.isalnum()):
            raise BookingError(f"{code} is not a CPT code (five characters).")
        if minutes is None or int(minutes) <= 0:
            continue
        if int(minutes) > MAX_MINUTES_PER_CODE:
            raise BookingError(f"Minutes per code must be at most {MAX_MINUTES_PER_CODE}.")
        cleaned[code] = cleaned.get(code, 0) + int(minutes)
    if not cleaned:
        raise BookingError("Record the minutes for at least one code.")
    return cleaned
