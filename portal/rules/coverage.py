"""Whether a referral or a prior authorization can carry a visit: pure, no I/O.

state(start, end, allowed, used, on_date) -> (state, text) where state is one of
not_started | expired | used_up | last | ok. `end` and `allowed` may be None (open).
"""

import datetime as dt

OK_STATES = ("ok", "last")


def day(value: dt.date) -> str:
    return f"{value:%b} {value.day}, {value.year}"


def state(start, end, allowed, used, on_date):
    if start > on_date:
        return "not_started", f"starts {day(start)}"
    if end is not None and end < on_date:
        return "expired", f"expired {day(end)}"
    if allowed is not None and used >= allowed:
        return "used_up", f"used up ({used} of {allowed} visits)"
    if allowed is not None and allowed - used == 1:
        return "last", f"1 visit left of {allowed}"
    left = f"{allowed - used} of {allowed} visits left" if allowed is not None else "no visit limit"
    until = f", until {day(end)}" if end is not None else ""
    return "ok", left + until


def visits_left(per_year, used_reported, used_since):
    """Visits left in the benefit year: never below zero; None when there is no limit."""
    if per_year is None:
        return None
    return max(0, per_year - (used_reported or 0) - used_since)
