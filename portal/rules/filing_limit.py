"""Timely filing: a payer refuses a claim it first receives more than its limit of days
after the date of service (CARC 29, "the time limit for filing has expired"). Commonly 90
days for commercial plans, 180 or 365 for others; workers' comp and auto by state. The
limit is the payer's setting (Payer.filing_limit_days; None: not known, no warning).

    filing_deadline(service_date, 90)          # the last day the payer takes it, or None
    first_received([(day, "submitted"), (day, "rejected"), ...])    # date or None
    s = filing_status(service_date, 90, first_sent, today)          # FilingStatus
    s.state, s.deadline, s.days_left, s.warns, s.words

What counts is the claim's first receipt: a corrected claim (frequency 7) replaces a claim
the payer already has, so its original's first submission decides, however late the
correction goes; the claim row is the same one (rules/claim_status.py), its sends in its
history. A send the clearinghouse or the payer rejected (999 or 277CA) never entered the
payer's system: only a later send counts. A void claim (8) withdraws one: no limit.

The date of service is the claim's first (the earliest of its lines: the strictest).
Received on the last day is in time: deadline = date of service + limit days.

The warning window is 14 days: two weekly billing runs, with room for a rejection (a
277CA comes back in one to three days) to be fixed and the claim sent again before the
payer's limit; a share of the limit would give a 365-day payer seven weeks of noise and
a 30-day workers' comp payer four days.
"""

import dataclasses
import datetime as dt
from collections.abc import Iterable

from portal.rules.claim_status import REJECTED, SUBMITTED

UNKNOWN = "unknown"  # no limit known for the payer: no warning
IN_TIME = "in_time"  # first received on or before the deadline
OPEN = "open"  # not received yet, more than WARN_DAYS left
DUE_SOON = "due_soon"  # not received yet, WARN_DAYS or fewer left (0: today is the last day)
LATE = "late"  # not received by the deadline, or first received after it

WARN_DAYS = 14
MIN_DAYS, MAX_DAYS = 1, 730

LATE_NEXT = "the payer will deny it (CARC 29); appeal with proof of timely filing or write it off."


def _d(day):
    return f"{day:%b %d, %Y}"


@dataclasses.dataclass(frozen=True, slots=True)
class FilingStatus:
    state: str
    limit_days: int | None = None
    deadline: dt.date | None = None
    days_left: int | None = None  # today to the deadline; negative once past
    first_sent: dt.date | None = None

    @property
    def warns(self) -> bool:
        """Whether the desk should act: the deadline is near or past."""
        return self.state in (DUE_SOON, LATE)

    @property
    def words(self) -> str:
        """What the desk reads ('' when the limit is not known)."""
        if self.state == UNKNOWN:
            return ""
        limit = f"the payer's {self.limit_days}-day filing limit"
        if self.state == IN_TIME:
            return f"First sent {_d(self.first_sent)}, within {limit} ({_d(self.deadline)})."
        if self.state == LATE and self.first_sent is not None:
            return (
                f"First sent {_d(self.first_sent)}, after {limit} ({_d(self.deadline)}): "
                + LATE_NEXT
            )
        if self.state == LATE:
            return f"Past the filing limit on {_d(self.deadline)}: " + LATE_NEXT
        if self.days_left == 0:
            return f"File by {_d(self.deadline)}: today is the last day of {limit}."
        left = f"{self.days_left} day{'s' if self.days_left != 1 else ''} left"
        return f"File by {_d(self.deadline)} ({left} of {limit})."


def filing_deadline(service_date: dt.date, limit_days: int | None) -> dt.date | None:
    """The last day the payer takes the claim in, or None when the limit is not known."""
    if limit_days is None:
        return None
    return service_date + dt.timedelta(days=limit_days)


def first_received(sends: Iterable[tuple[dt.date, str]], numbered: bool = False):
    """The day the payer first received the claim, from its history in order: (day,
    status) pairs whose status is SUBMITTED (a send) or REJECTED (the send before it was
    refused: it never entered the payer's system); other statuses are ignored. None when
    no send stands. `numbered`: the payer gave the claim its number, so it has it: when
    every send was rejected since (a correction refused), the first send is the date."""
    first = candidate = None
    for day, status in sends:
        if status == SUBMITTED:
            if candidate is not None:
                return candidate  # the send before this one was never rejected
            candidate = day
            first = first or day
        elif status == REJECTED:
            candidate = None
    if candidate is not None:
        return candidate
    return first if numbered else None


def filing_status(
    service_date: dt.date,
    limit_days: int | None,
    first_sent: dt.date | None,
    today: dt.date,
    warn_days: int = WARN_DAYS,
) -> FilingStatus:
    """Where the claim stands against the payer's filing limit (today: the practice's
    local date; first_sent: first_received's answer, None for a claim not received)."""
    deadline = filing_deadline(service_date, limit_days)
    if deadline is None:
        return FilingStatus(UNKNOWN)
    base = dict(limit_days=limit_days, deadline=deadline, first_sent=first_sent)
    if first_sent is not None:
        return FilingStatus(IN_TIME if first_sent <= deadline else LATE, **base)
    left = (deadline - today).days
    if left < 0:
        state = LATE
    elif left <= warn_days:
        state = DUE_SOON
    else:
        state = OPEN
    return FilingStatus(state, days_left=left, **base)
