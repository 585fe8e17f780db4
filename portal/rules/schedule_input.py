"""What people type into the schedule's forms, read and checked: weekly hours, time off
and extra hours, an appointment type's default CPT codes, check-out minutes, and the
date and time in a schedule link. Pure functions; a refusal is a BookingError whose
message says what to type instead.

Times of day are minutes after local midnight (540 = 09:00; 1440 = the end of the day).
"""

import datetime as dt
import re
from dataclasses import dataclass

from portal.rules.appointments import BookingError

END_OF_DAY = 1440
MAX_TYPE_MINUTES = 720


def format_minute(minute: int) -> str:
    """540 -> '09:00' (1440 -> '24:00')."""
    return f"{minute // 60:02d}:{minute % 60:02d}"


RANGE_FORM = "like 9-5, 9am-5pm or 09:00-17:00"
# "9-5", "9 – 5", "9—5", "9 to 5"
_BETWEEN = re.compile(r"\s*(?:-|\u2013|\u2014|\bto\b)\s*", re.IGNORECASE)
# "9", "09", "9:30", "17:00", "24", with "am"/"pm" ("9am", "9 a.m."), or "noon"/"midnight"
_TIME = re.compile(
    r"(?P<word>noon|midnight)|(?P<hour>\d{1,2})(?::(?P<minute>\d{2}))?"
    r"(?:\s*(?P<ampm>[ap])\.?\s*m\.?)?",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class _Time:
    """One side of a typed range: `minute` after midnight; `ampm` "am"/"pm" when written
    (noon is a pm, midnight an am); `loose` when it could be the afternoon's as well
    (an hour 1-12 without am/pm or a leading zero: "5" is 5:00 or 17:00)."""

    text: str
    minute: int
    ampm: str | None
    loose: bool

    def at(self, ampm):
        """This loose time read as a morning's or an afternoon's."""
        return (self.minute % 720) + (720 if ampm == "pm" else 0)


def _unreadable(part):
    return BookingError(f'"{part}" is not a range of hours: write it {RANGE_FORM}.')


def _time_of(text, part):
    found = _TIME.fullmatch(text)
    if found is None:
        raise _unreadable(part)
    if found["word"]:
        noon = found["word"].lower() == "noon"
        return _Time(text, 720 if noon else 0, "pm" if noon else "am", False)
    hour, minute = int(found["hour"]), int(found["minute"] or 0)
    ampm = found["ampm"].lower() + "m" if found["ampm"] else None
    if ampm:
        possible = 1 <= hour <= 12 and minute < 60
        value = (hour % 12) * 60 + minute + (720 if ampm == "pm" else 0)
    else:
        possible = minute < 60 and (hour < 24 or (hour, minute) == (24, 0))
        value = hour * 60 + minute
    if not possible:
        raise BookingError(f'"{text}" is not a time of day: write it {RANGE_FORM}.')
    loose = ampm is None and 1 <= hour <= 12 and not found["hour"].startswith("0")
    return _Time(text, value, ampm, loose)


def _with_hints(a, b):
    """Start and end minutes, each side's am or pm read into the other when it has none:
    "9-5pm" is 9am-5pm, "9am-5" 9am-5pm, "11-1pm" 11am-1pm."""
    start, end = a.minute, b.minute
    if a.loose and b.ampm:
        start = next((a.at(m) for m in (b.ampm, "am") if a.at(m) < end), a.at("am"))
    if b.loose and a.ampm:
        end = next((b.at(m) for m in (a.ampm, "pm") if b.at(m) > start), b.at(a.ampm))
    return start, end


def _ambiguous(part, a, b):
    """A start in the small hours without am or pm ("1-5"): morning or afternoon?"""
    if b.loose and b.minute > a.minute:
        first, second = a.text.replace(" ", ""), b.text.replace(" ", "")
        hint = f"{first}am-{second}am or {first}pm-{second}pm"
        return BookingError(f'"{part}": morning or afternoon? Write {hint}.')
    return BookingError(f'"{part}": morning or afternoon? Write it with am and pm, like 9am-5pm.')


def _range_of(part):
    """One typed range -> (start, end) minutes, or a BookingError saying what to type."""
    sides = _BETWEEN.split(part)
    if len(sides) != 2 or not all(sides):
        raise _unreadable(part)
    a, b = (_time_of(side, part) for side in sides)
    if a.minute == END_OF_DAY:
        raise BookingError(f'"{part}": a day\'s hours start before 24:00.')
    if a.loose and not b.ampm and a.minute < 6 * 60:
        raise _ambiguous(part, a, b)
    start, end = _with_hints(a, b)
    if end == 0:  # 00:00, 12am or midnight as an end: the end of the day
        end = END_OF_DAY
    if end <= start and b.loose and not a.ampm and b.minute < 720 and b.minute + 720 > start:
        end = b.minute + 720  # "9-5": the end not after the start reads as the afternoon
    if end <= start:
        raise BookingError(f'"{part}": the end must come after the start, like 09:00-17:00.')
    return start, end


def parse_ranges(text: str) -> list:
    """What a therapist types for a day's hours -> [(start, end)] minutes; empty text: no
    hours. Ranges are separated by commas or semicolons: '9:00-12:00, 13:00-17:30' ->
    [(540, 720), (780, 1050)]. A range may be written '9-5' (an end not after the start
    is the afternoon's: 9:00-17:00), '9am-5pm', '9:30-17:00', '09:00–17:00' or '9 to 5'.
    A start in the small hours without am or pm ('1-5') is refused as ambiguous."""
    out = []
    for part in (text or "").replace(";", ",").split(","):
        part = " ".join(part.split())
        if part:
            out.append(_range_of(part))
    return out


def format_ranges(ranges) -> str:
    """[(540, 720), (780, 1050)] -> '09:00-12:00, 13:00-17:30' (what parse_ranges reads)."""
    return ", ".join(f"{format_minute(s)}-{format_minute(e)}" for s, e in ranges)


def exception_minutes(kind: str, start, end):
    """(start_minute, end_minute) of a date's time off or extra hours from two optional
    times of day; (None, None) is the whole day off."""
    if kind == "extra" and (start is None or end is None):
        raise BookingError("Extra hours need a start and an end.")
    if (start is None) != (end is None):
        raise BookingError("Give both times, or neither for the whole day.")
    if start is None:
        return None, None
    s, e = start.hour * 60 + start.minute, end.hour * 60 + end.minute
    if e <= s:
        raise BookingError("The end must come after the start.")
    return s, e


def parse_codes(text: str) -> list:
    """An appointment type's default codes, one 'CODE MINUTES' a line ('97124 60',
    '97124 x 60', '97124, 60') -> [('97124', 60)], each code once."""
    out = []
    for line in (text or "").splitlines():
        parts = line.replace(",", " ").replace("x", " ").split()
        if not parts:
            continue
        if len(parts) != 2 or len(parts[0]) != 5 or not parts[0].isalnum():
            raise BookingError(f'"{line.strip()}" is not "CODE MINUTES".')
        try:
            minutes = int(parts[1])
        except ValueError as exc:
            raise BookingError(f'"{line.strip()}": minutes must be a whole number.') from exc
        if not 1 <= minutes <= MAX_TYPE_MINUTES:
            raise BookingError(f'"{line.strip()}": minutes must be 1 to {MAX_TYPE_MINUTES}.')
        out.append((parts[0].upper(), minutes))
    if len({c for c, _ in out}) != len(out):
        raise BookingError("List each code once.")
    return out


def format_codes(rows) -> str:
    """[('97124', 60)] -> '97124 60' (what parse_codes reads)."""
    return "\n".join(f"{code} {minutes}" for code, minutes in rows)


def checkout_rows(codes, minutes):
    """The check-out form's parallel lists of codes and minutes ->
    (rows to show again, {code: minutes} added up, [errors]). Empty rows are skipped;
    the codes themselves are checked by appointments.visit_minutes."""
    rows = [(c.strip().upper(), m.strip()) for c, m in zip(codes, minutes, strict=False)]
    parsed, errors = {}, []
    for code, text in rows:
        if not code and not text:
            continue
        try:
            value = int(text)
        except ValueError:
            errors.append(f"Enter whole minutes for {code or 'each code'}.")
            continue
        parsed[code] = parsed.get(code, 0) + value
    return rows, parsed, errors


def checkout_defaults(type_codes, booked_minutes, blank_rows=4):
    """The rows a check-out form starts with: the type's default codes, else 97124 for the
    booked length, padded with empty rows."""
    rows = [(code, str(m)) for code, m in type_codes] or [("97124", str(booked_minutes))]
    return pad_rows(rows, blank_rows)


def pad_rows(rows, count=4):
    return list(rows) + [("", "")] * max(0, count - len(rows))


def date_or(value, default: dt.date) -> dt.date:
    """A schedule link's ?date=YYYY-MM-DD, or `default` when missing or not a date."""
    try:
        return dt.date.fromisoformat(value) if value else default
    except ValueError:
        return default


def time_or(value, default: dt.time) -> dt.time:
    """A schedule link's ?time=HH:MM, or `default` when missing or not a time."""
    try:
        return dt.time.fromisoformat(value) if value else default
    except ValueError:
        return default
