"""Free appointment start times: a pure function of hours, exceptions and bookings.

Everything here is plain Python (no flask, peewee or stripe).

- Weekly hours and exceptions are wall-clock minutes after local midnight in the
  practice's time zone (weekday 0 = Monday; an end of 1440 means midnight).
- Bookings and results are naive UTC datetimes, as stored.
- A slot [start, start + duration) lies wholly inside one working range; the type's
  buffer comes after it and must not run into another booking (it may run past the
  end of the working day: cleaning up after the last client is fine).
- Busy intervals are (starts_at, blocked_until): the booked visit plus its own buffer.
- Daylight saving: range edges are turned into real instants, and candidates step in
  real time from the start of each range, so a 23- or 25-hour day yields the right
  times. A wall time that does not exist (the spring-forward gap) or exists twice
  (the fall-back hour) is read so that the range can only shrink, never grow.
"""

import datetime as dt
from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass

UTC = dt.UTC
MINUTES_PER_DAY = 1440


@dataclass(frozen=True)
class Exception_:
    """A date exception: kind 'off' (whole day when start/end are None) or 'extra'."""

    on_date: dt.date
    kind: str
    start_minute: int | None = None
    end_minute: int | None = None


def _merge(ranges):
    out = []
    for s, e in sorted(r for r in ranges if r[1] > r[0]):
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


def _subtract(ranges, cut):
    cs, ce = cut
    out = []
    for s, e in ranges:
        if ce <= s or cs >= e:
            out.append((s, e))
            continue
        if s < cs:
            out.append((s, cs))
        if ce < e:
            out.append((ce, e))
    return out


def local_ranges(day, weekly_hours, exceptions):
    """Working ranges for one local date as [(start_minute, end_minute)], merged and sorted.

    weekly_hours: iterable of (weekday, start_minute, end_minute).
    exceptions: iterable of Exception_ (or tuples on_date, kind, start, end).
    """
    ranges = [(s, e) for (wd, s, e) in weekly_hours if wd == day.weekday()]
    todays = [x if isinstance(x, Exception_) else Exception_(*x) for x in exceptions]
    todays = [x for x in todays if x.on_date == day]
    if any(x.kind == "off" and x.start_minute is None for x in todays):
        ranges = []
    ranges = _merge(ranges + [(x.start_minute, x.end_minute) for x in todays if x.kind == "extra"])
    for x in todays:
        if x.kind == "off" and x.start_minute is not None:
            ranges = _subtract(ranges, (x.start_minute, x.end_minute))
    return _merge(ranges)


def _interpretations(local_naive, tz):
    """UTC instants whose wall time in tz is exactly local_naive (0, 1 or 2 of them)."""
    found = set()
    for fold in (0, 1):
        aware = local_naive.replace(tzinfo=tz, fold=fold)
        utc = aware.astimezone(UTC).replace(tzinfo=None)
        back = utc.replace(tzinfo=UTC).astimezone(tz).replace(tzinfo=None)
        if back == local_naive:
            found.add(utc)
    return found


def to_utc(local_naive, tz, edge="start"):
    """A local wall time as naive UTC. For a wall time that occurs twice, the reading
    that keeps a range inside its wall-clock hours: the later instant for a start,
    the earlier for an end. For a wall time in the spring-forward gap, the instant
    of the jump (the first moment the clock shows a time at or after it)."""
    found = _interpretations(local_naive, tz)
    if found:
        return max(found) if edge == "start" else min(found)
    # In the spring-forward gap: both folds give an instant outside the gap.
    u0 = local_naive.replace(tzinfo=tz, fold=0).astimezone(UTC).replace(tzinfo=None)
    u1 = local_naive.replace(tzinfo=tz, fold=1).astimezone(UTC).replace(tzinfo=None)
    lo, hi = sorted((u0, u1))
    probe = lo
    while probe < hi:
        probe += dt.timedelta(minutes=1)
        if to_local(probe, tz) >= local_naive:
            break
    return probe


def to_local(utc_naive, tz):
    """A stored naive UTC datetime as a naive wall time in tz."""
    return utc_naive.replace(tzinfo=UTC).astimezone(tz).replace(tzinfo=None)


def working_intervals_utc(day, tz, weekly_hours, exceptions):
    """The working ranges of one local date as [(start_utc, end_utc)] naive UTC."""
    midnight = dt.datetime.combine(day, dt.time())
    out = []
    for s, e in local_ranges(day, weekly_hours, exceptions):
        su = to_utc(midnight + dt.timedelta(minutes=s), tz, "start")
        eu = to_utc(midnight + dt.timedelta(minutes=e), tz, "end")
        if eu > su:
            out.append((su, eu))
    return out


def free_slots(
    *,
    tz,
    start_date: dt.date,
    end_date: dt.date,
    weekly_hours: Iterable,
    exceptions: Iterable = (),
    busy: Iterable = (),
    duration_minutes: int,
    buffer_after_minutes: int = 0,
    step_minutes: int = 15,
    not_before: dt.datetime | None = None,
    not_after: dt.datetime | None = None,
):
    """Free start times (naive UTC, ascending) on local dates start_date..end_date inclusive.

    busy: iterable of (starts_at, blocked_until) naive UTC of active bookings.
    not_before / not_after: naive UTC bounds on the start (lead time, furthest day).
    """
    if duration_minutes <= 0 or step_minutes <= 0:
        raise ValueError("duration and step must be positive")
    weekly_hours = list(weekly_hours)
    exceptions = [x if isinstance(x, Exception_) else Exception_(*x) for x in exceptions]
    busy = sorted((s, e) for s, e in busy if e > s)
    busy_starts = [s for s, _ in busy]
    # blocked_until is not monotone in start order; keep a running maximum to scan back.
    duration = dt.timedelta(minutes=duration_minutes)
    hold = dt.timedelta(minutes=duration_minutes + buffer_after_minutes)
    step = dt.timedelta(minutes=step_minutes)
    longest = max((e - s for s, e in busy), default=dt.timedelta(0))
    out = []
    day = start_date
    while day <= end_date:
        for rs, re_ in working_intervals_utc(day, tz, weekly_hours, exceptions):
            t = rs
            while t + duration <= re_:
                if (not_before is None or t >= not_before) and (
                    not_after is None or t <= not_after
                ):
                    if not _clashes(t, t + hold, busy, busy_starts, longest):
                        out.append(t)
                elif not_after is not None and t > not_after:
                    break
                t += step
        day += dt.timedelta(days=1)
    return out


def _clashes(start, end, busy, busy_starts, longest):
    """Does [start, end) overlap any busy (s, e)? Busy is sorted by start."""
    i = bisect_left(busy_starts, start - longest)
    n = len(busy)
    while i < n and busy[i][0] < end:
        if busy[i][1] > start:
            return True
        i += 1
    return False


def overlaps(a_start, a_end, b_start, b_end):
    """Half-open intervals overlap."""
    return a_start < b_end and b_start < a_end


def is_late_cancellation(starts_at, now, window_hours):
    """Cancelling at `now` falls inside the policy window before `starts_at`."""
    return starts_at - now < dt.timedelta(hours=window_hours)


def recurring_starts(first_start_utc, tz, every_weeks, count):
    """Start times (naive UTC) of a series at the same local wall time every N weeks,
    across daylight-saving changes."""
    if every_weeks < 1 or count < 1:
        raise ValueError("every_weeks and count must be at least 1")
    local = to_local(first_start_utc, tz)
    return [to_utc(local + dt.timedelta(weeks=every_weeks * i), tz, "start") for i in range(count)]
