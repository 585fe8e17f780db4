"""What people type into the schedule's forms, read and checked: weekly hours, time off
and extra hours, an appointment type's default CPT codes, check-out minutes, and the
date and time in a schedule link. Pure functions; a refusal is a BookingError whose
message says what to type instead.

Times of day are minutes after local midnight (540 = 09:00; 1440 = the end of the day).
"""

import datetime as dt

from portal.rules.appointments import BookingError

END_OF_DAY = 1440
MAX_TYPE_MINUTES = 720


def format_minute(minute: int) -> str:
    """540 -> '09:00' (1440 -> '24:00')."""
    return f"{minute // 60:02d}:{minute % 60:02d}"


def _minute_of(text: str) -> int:
    if text in ("24:00", "24"):
        return END_OF_DAY
    t = dt.time.fromisoformat(text.zfill(5))
    return t.hour * 60 + t.minute


def parse_ranges(text: str) -> list:
    """'9:00-12:00, 13:00-17:30' -> [(540, 720), (780, 1050)]; empty text: no hours."""
    out = []
    for part in (text or "").replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        try:
            a, b = (x.strip() for x in part.split("-"))
            start, end = _minute_of(a), _minute_of(b)
        except ValueError as exc:
            raise BookingError(f'"{part}" is not like 09:00-12:00.') from exc
        if start == END_OF_DAY:
            raise BookingError(f'"{part}" is not like 09:00-12:00.')
        if end <= start:
            raise BookingError(f'"{part}": the end must come after the start.')
        out.append((start, end))
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
