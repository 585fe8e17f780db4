"""The schedule's day grid and week list, as arithmetic: which row, column and height each
appointment, working range and free half hour takes. Pure (no flask, no database).

The day grid has one column per provider (column 1 holds the hour labels) and one row per
ROW_MINUTES. It spans 8 AM to 7 PM at least, widened to whole hours to show every working
range and every appointment of the day.

Appointments come in as any objects with `starts_at`, `ends_at` and `blocked_until`
(naive UTC, `blocked_until` being the end of the type's buffer), `provider_id`, `status`
and `type_color`; they are passed through to the cells untouched.
"""

import datetime as dt
import math
from dataclasses import dataclass, field

from portal.rules.appointments import ACTIVE_STATUSES
from portal.rules.slots import local_ranges, to_local

ROW_MINUTES = 15
FREE_MINUTES = 30  # the free cells offered for a new appointment
DAY_FROM, DAY_UNTIL = 8 * 60, 19 * 60  # always shown
END_OF_DAY = 24 * 60


@dataclass(slots=True)
class Block:
    """An active appointment on the grid (start and end in local wall time; `times` says
    them, e.g. "9:15–10:15 AM"; the view adds `href`, the visit's page)."""

    appt: object
    row: int
    span: int
    col: int
    color: str
    start: object
    end: object
    times: str
    href: str = ""


@dataclass(slots=True)
class Cell:
    """A working range of one provider (the lane's background)."""

    row: int
    span: int
    col: int


@dataclass(slots=True)
class FreeSlot:
    """A free half hour inside working hours: a tap books there (the view adds `href`)."""

    row: int
    col: int
    minute: int
    provider_id: int
    href: str = ""

    @property
    def time(self):
        return f"{self.minute // 60:02d}:{self.minute % 60:02d}"

    @property
    def label(self):
        return minute_label(self.minute)


@dataclass(slots=True)
class Listed:
    """A visit in a list (the day's cancelled ones, today's on the home page): `time` is its
    local start, "9:30 AM" (the view adds `href`, the visit's page)."""

    appt: object
    time: str
    href: str = ""


@dataclass(slots=True)
class HourMark:
    row: int
    label: str


@dataclass(slots=True)
class DayLayout:
    blocks: list
    cancelled: list
    work: list
    free: list
    hours: list
    rows: int

    @property
    def count(self):
        return len(self.blocks)


@dataclass(slots=True)
class WeekDay:
    """A day of the week list (the view adds `href`, the day view of that date)."""

    date: object
    visits: list = field(default_factory=list)
    href: str = ""

    @property
    def label(self):
        return self.date.strftime("%a %-d %b")


@dataclass(slots=True)
class WeekVisit:
    """A visit in the week list; `time` is its local start, "9:30 AM" (the view adds
    `href`, the visit's page)."""

    appt: object
    start: object
    color: str
    time: str
    href: str = ""


@dataclass(slots=True)
class WeekLayout:
    monday: object
    days: list


def minute_label(minute: int) -> str:
    """570 -> '9:30 AM' (the C locale's %-I:%M %p)."""
    hour, m = divmod(minute, 60)
    return f"{hour % 12 or 12}:{m:02d} {'AM' if hour < 12 else 'PM'}"


def clock_label(minute: int) -> str:
    """570 -> '9:30' (%-I:%M)."""
    hour, m = divmod(minute, 60)
    return f"{hour % 12 or 12}:{m:02d}"


def hour_label(minute: int) -> str:
    """780 -> '1 PM'."""
    hour = minute // 60
    return f"{hour % 12 or 12} {'AM' if hour < 12 else 'PM'}"


def color_class(color) -> str:
    """'#4A7C59' -> 'c-4a7c59' (the stylesheet's class for a type's colour)."""
    return "c-" + (color or "").lstrip("#").lower()


def pick_providers(providers, selected, own_id=None):
    """(providers to show, the selection's key) for ?provider=all|<id>|nothing: one
    provider when chosen, else the user's own column, else everyone."""
    if selected == "all":
        return list(providers), "all"
    if selected:
        try:
            wanted = int(selected)
        except ValueError:
            wanted = None
        chosen = [p for p in providers if p.id == wanted]
        if chosen:
            return chosen, str(wanted)
    own = [p for p in providers if own_id and p.id == own_id]
    if own:
        return own, str(own_id)
    return list(providers), "all"


def _minute_of_day(local):
    return local.hour * 60 + local.minute


def working_ranges(day, provider_ids, hours, exceptions):
    """{provider_id: [(start_minute, end_minute)]} on `day`. hours: (provider_id, weekday,
    start, end) rows; exceptions: (provider_id, kind, start, end) rows of that date."""
    return {
        pid: local_ranges(
            day,
            [(wd, s, e) for p, wd, s, e in hours if p == pid],
            [(day, kind, s, e) for p, kind, s, e in exceptions if p == pid],
        )
        for pid in provider_ids
    }


def _bounds(work, starts, appts):
    first, last = DAY_FROM, DAY_UNTIL
    for ranges in work.values():
        for s, e in ranges:
            first, last = min(first, s), max(last, e)
    for a, m in zip(appts, starts, strict=True):
        first = min(first, m)
        last = max(last, m + int((a.ends_at - a.starts_at).total_seconds() // 60))
    return (first // 60) * 60, min(END_OF_DAY, math.ceil(last / 60) * 60)


def _touched(s, count, busy):
    """Indexes k of the half hours [s + 30k, s + 30k + 30), k < count, that a booking
    (start, end) of `busy` overlaps: those with start - 30 < s + 30k < end."""
    out = set()
    for ts, te in busy:
        first = max(0, (ts - FREE_MINUTES - s) // FREE_MINUTES + 1)
        last = min(count - 1, -((s - te) // FREE_MINUTES) - 1)  # ceil((te - s) / 30) - 1
        out.update(range(first, last + 1))
    return out


def _free(work, taken, row, col_of):
    """Free half hours inside working hours that no booking (with its buffer) touches."""
    out = []
    for pid, ranges in work.items():
        busy = taken.get(pid, ())
        col = col_of[pid]
        for s, e in ranges:
            count = max(0, (e - s) // FREE_MINUTES)
            touched = _touched(s, count, busy)
            for k in range(count):
                if k not in touched:
                    m = s + k * FREE_MINUTES
                    out.append(FreeSlot(row=row(m), col=col, minute=m, provider_id=pid))
    return out


def day_layout(day, tz, provider_ids, work, appointments):
    """The day grid of `day` for these providers (in column order). work: from
    working_ranges; appointments: that day's, active and cancelled (listed apart)."""
    starts_local = [to_local(a.starts_at, tz) for a in appointments]
    starts = [_minute_of_day(t) for t in starts_local]
    first, last = _bounds(work, starts, appointments)

    def row(minute):
        return 1 + max(0, (minute - first) // ROW_MINUTES)

    col_of = {pid: i + 2 for i, pid in enumerate(provider_ids)}
    blocks, cancelled, taken = [], [], {}
    for a, local, m in zip(appointments, starts_local, starts, strict=True):
        if a.status not in ACTIVE_STATUSES:
            cancelled.append(Listed(appt=a, time=minute_label(m)))
            continue
        minutes = int((a.ends_at - a.starts_at).total_seconds() // 60)
        held = int((a.blocked_until - a.starts_at).total_seconds() // 60)
        taken.setdefault(a.provider_id, []).append((m, m + held))
        end = to_local(a.ends_at, tz)
        blocks.append(
            Block(
                appt=a,
                row=row(m),
                span=max(1, math.ceil(minutes / ROW_MINUTES)),
                col=col_of[a.provider_id],
                color=color_class(a.type_color),
                start=local,
                end=end,
                times=f"{clock_label(m)}–{minute_label(_minute_of_day(end))}",
            )
        )
    return DayLayout(
        blocks=blocks,
        cancelled=cancelled,
        work=[
            Cell(row=row(s), span=max(1, (e - s) // ROW_MINUTES), col=col_of[pid])
            for pid, ranges in work.items()
            for s, e in ranges
        ],
        free=_free(work, taken, row, col_of),
        hours=[HourMark(row=row(m), label=hour_label(m)) for m in range(first, last, 60)],
        rows=(last - first) // ROW_MINUTES,
    )


def listed(appointments, tz):
    """The visits as a list says them: each with its local start, "9:30 AM"."""
    return [
        Listed(appt=a, time=minute_label(_minute_of_day(to_local(a.starts_at, tz))))
        for a in appointments
    ]


def monday_of(day):
    return day - dt.timedelta(days=day.weekday())


def week_layout(monday, tz, appointments):
    """Seven days from `monday`, each with its appointments in start order."""
    days = [WeekDay(date=monday + dt.timedelta(days=i)) for i in range(7)]
    for a in appointments:
        local = to_local(a.starts_at, tz)
        index = (local.date() - monday).days
        if 0 <= index < 7:
            visit = WeekVisit(
                appt=a,
                start=local,
                color=color_class(a.type_color),
                time=minute_label(_minute_of_day(local)),
            )
            days[index].visits.append(visit)
    return WeekLayout(monday=monday, days=days)
