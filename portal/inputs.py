"""Numbers and redirect targets taken from a request, bounded before they are used.

- A number from a URL, a query string or a form reaches a query only inside what the
  database can hold: SQLite's INTEGER (PostgreSQL's BIGINT) ends at 2**63 - 1, and a
  larger Python int raises OverflowError (a 500) instead of finding nothing.
  `<int:...>` in a route is bounded by `BoundedIntConverter` (registered by
  `portal.security.init_app`): a larger number matches no route, so 404.
- A redirect target taken from a request is a local path or nothing (`local_path`):
  never another site, however it is spelled (`//host`, `/\\host`, a tab, a scheme).
- A date typed in a query string is a day with a day before and after it (`parse_day`):
  one at the calendar's ends (9999-12-31) overflowed to a 500 when a page reached the
  next day.
"""

import datetime as dt
from urllib.parse import urlsplit

from flask import request
from werkzeug.routing import IntegerConverter

SQL_INT_MAX = 2**63 - 1
MAX_PAGE = 100_000  # page numbers of lists: far past any real list, far below overflow


class BoundedIntConverter(IntegerConverter):
    """werkzeug's int converter, at most SQL_INT_MAX unless a route asks for less."""

    def __init__(self, map, fixed_digits=0, min=None, max=SQL_INT_MAX, signed=False):
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def bounded_int(value, lo=0, hi=SQL_INT_MAX):
    """`value` as an int in [lo, hi], or None (missing, not a whole number, out of range)."""
    if value is None or isinstance(value, bool):
        return None
    if not isinstance(value, int):
        text = str(value).strip()
        digits = text[1:] if text.startswith("-") else text
        # ASCII only: "²" passes str.isdigit() and then fails int().
        if not digits or len(digits) > 19 or not (digits.isascii() and digits.isdigit()):
            return None
        value = int(text)
    return value if lo <= value <= hi else None


def int_arg(name, default=None, lo=0, hi=SQL_INT_MAX, source=None):
    """A bounded int from the query string (or `source`, e.g. request.values)."""
    values = request.args if source is None else source
    found = bounded_int(values.get(name), lo=lo, hi=hi)
    return default if found is None else found


def page_arg(name="page"):
    """A list's page number: 1 when missing or not a number, kept within 1..MAX_PAGE."""
    raw = (request.args.get(name) or "").strip()
    if not (raw.isascii() and raw.isdigit()):
        return 1
    return MAX_PAGE if len(raw) > 6 else max(1, min(MAX_PAGE, int(raw)))


FIRST_DAY, LAST_DAY = dt.date(1900, 1, 1), dt.date(9998, 12, 31)
BAD_DATE = "Enter a date like 2026-01-31."
DATE_RANGE = "Enter a date between 1900 and 9998."


def parse_day(text):
    """(date, "") for an ISO date (2026-01-31) from FIRST_DAY to LAST_DAY, else (None, the
    message to show next to the field)."""
    try:
        day = dt.date.fromisoformat((text or "").strip())
    except ValueError:
        return None, BAD_DATE
    if not FIRST_DAY <= day <= LAST_DAY:
        return None, DATE_RANGE
    return day, ""


def local_path(target, fallback=None):
    """`target` when it is a path on this site ("/provider/..."), else `fallback`.

    Browsers read a backslash as a slash and drop tabs and newlines inside a URL, so
    "/\\evil.example" and "/\\t/evil.example" lead off-site like "//evil.example": any
    such character refuses the target.
    """
    if not isinstance(target, str) or not target.startswith("/") or len(target) > 2048:
        return fallback
    if "\\" in target or any(ord(ch) < 33 or ord(ch) == 127 for ch in target):
        return fallback
    if target.startswith("//"):
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return fallback
    return target
