"""Timely filing: a payer refuses a claim it first receives more than its limit of days
after the date of service (CARC 29, "the time limit for filing has expired"). Commonly 90
days for commercial plans, 180 or 365 for others; workers' comp and auto by state. The
limit is the payer's setting (Payer.filing_limit_days; None: not known, no warning).

    filing_deadline(service_date, 90)          # the last day the payer takes it, or None
    first_received([(day, "submitted"), (day, "rejected"), ...])    # date or None
    start = clock_start(service_date, secondary, [(day, "paid"), ...])  # Start
    s = filing_status(service_date, 90, first_sent, today, start=start)  # FilingStatus
    s.state, s.deadline, s.days_left, s.warns, s.words

A secondary claim goes out only once the primary payer has answered (its 835 or EOB), and
the secondary payer counts its limit from that answer, not from the date of service: the
clock starts on the primary claim's first answer (paid, partly paid or denied; the first:
the strict choice when the primary was answered again after a reversal or an appeal).
When that answer is not known (no primary claim, or none of its answers on record), the
clock starts on the date of service: the earliest it can start (the strict choice: a
deadline is never hidden, though the warning may come early).

What counts is the claim's first receipt: a corrected claim (frequency 7) replaces a claim
the payer already has, so its original's first submission decides, however late the
correction goes; the claim row is the same one (rules/claim_status.py), its sends in its
history. A send the clearinghouse or the payer rejected (999 or 277CA) never entered the
payer's system: only a later send counts. A void claim (8) withdraws one: no limit.

The date of service is the claim's first (the earliest of its lines: the strictest).
Received on the last day is in time: deadline = the clock's start + limit days.

The warning window is 14 days: two weekly billing runs, with room for a rejection (a
277CA comes back in one to three days) to be fixed and the claim sent again before the
payer's limit; a share of the limit would give a 365-day payer seven weeks of noise and
a 30-day workers' comp payer four days.
"""

import dataclasses
import datetime as dt
from collections.abc import Iterable

from portal.rules.claim_status import DENIED, PAID, PARTIALLY_PAID, REJECTED, SUBMITTED

UNKNOWN = "unknown"  # no limit known for the payer: no warning
IN_TIME = "in_time"  # first received on or before the deadline
OPEN = "open"  # not received yet, more than WARN_DAYS left
DUE_SOON = "due_soon"  # not received yet, WARN_DAYS or fewer left (0: today is the last day)
LATE = "late"  # not received by the deadline, or first received after it

WARN_DAYS = 14
MIN_DAYS, MAX_DAYS = 1, 730

# The primary claim's answers that start a secondary claim's clock, and their word.
PAYMENT, DENIAL = "payment", "denial"
ANSWERS = {PAID: PAYMENT, PARTIALLY_PAID: PAYMENT, DENIED: DENIAL}

LATE_NEXT = "the payer will deny it (CARC 29); appeal with proof of timely filing or write it off."


def _d(day):
    return f"{day:%b %d, %Y}"


@dataclasses.dataclass(frozen=True, slots=True)
class Start:
    """The day the filing clock starts on: the date of service (after == ""), or for a
    secondary claim the primary's answer (after: PAYMENT or DENIAL)."""

    day: dt.date
    after: str = ""


@dataclasses.dataclass(frozen=True, slots=True)
class FilingStatus:
    state: str
    limit_days: int | None = None
    deadline: dt.date | None = None
    days_left: int | None = None  # today to the deadline; negative once past
    first_sent: dt.date | None = None
    start: Start | None = None  # None: counted from the date of service

    @property
    def warns(self) -> bool:
        """Whether the desk should act: the deadline is near or past."""
        return self.state in (DUE_SOON, LATE)

    @property
    def words(self) -> str:
        """What the desk reads ('' when the limit is not known)."""
        if self.state == UNKNOWN:
            return ""
        limit = f"the payer's {self.limit_days}-day filing limit{self._after}"
        if self.state == IN_TIME:
            return f"First sent {_d(self.first_sent)}, within {limit} ({_d(self.deadline)})."
        if self.state == LATE and self.first_sent is not None:
            return (
                f"First sent {_d(self.first_sent)}, after {limit} ({_d(self.deadline)}): "
                + LATE_NEXT
            )
        if self.state == LATE:
            counted = f" ({self.limit_days} days{self._after})" if self._after else ""
            return f"Past the filing limit on {_d(self.deadline)}{counted}: " + LATE_NEXT
        if self.days_left == 0:
            return f"File by {_d(self.deadline)}: today is the last day of {limit}."
        left = f"{self.days_left} day{'s' if self.days_left != 1 else ''} left"
        return f"File by {_d(self.deadline)} ({left} of {limit})."

    @property
    def _after(self) -> str:
        """What a secondary claim's limit counts from ('' for the date of service)."""
        if self.start is None or not self.start.after:
            return ""
        return f" after the primary's {self.start.after} on {_d(self.start.day)}"


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


def clock_start(
    service_date: dt.date, secondary: bool, primary_answers: Iterable[tuple[dt.date, str]] = ()
) -> Start:
    """Where the claim's filing clock starts. `primary_answers`: (day, status) of the
    primary claim's history for a secondary claim (the day of each answer: the 835's
    payment date, or the day it was posted); statuses other than ANSWERS are ignored.
    The first answer starts it; none known (or a primary claim): the date of service."""
    if secondary:
        answered = sorted((day, ANSWERS[s]) for day, s in primary_answers if s in ANSWERS)
        if answered:
            return Start(*answered[0])
    # A primary claim; or a secondary whose primary's answer is not on record: the date of
    # service, the earliest the clock can start (strict: it never hides a deadline).
    return Start(service_date)


def filing_status(
    service_date: dt.date,
    limit_days: int | None,
    first_sent: dt.date | None,
    today: dt.date,
    warn_days: int = WARN_DAYS,
    start: Start | None = None,
) -> FilingStatus:
    """Where the claim stands against the payer's filing limit (today: the practice's
    local date; first_sent: first_received's answer, None for a claim not received;
    start: clock_start's answer, None for the date of service)."""
    deadline = filing_deadline(start.day if start else service_date, limit_days)
    start = start if start is not None and start.after else None  # words only after one
    if deadline is None:
        return FilingStatus(UNKNOWN)
    base = dict(limit_days=limit_days, deadline=deadline, first_sent=first_sent, start=start)
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
