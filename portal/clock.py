"""The one clock: naive UTC datetimes everywhere.

Call it as `clock.utcnow()` (through the module) so tests can replace it to move time.
"""

import datetime as _dt


def utcnow() -> _dt.datetime:
    return _dt.datetime.now(_dt.UTC).replace(tzinfo=None, microsecond=0)


def to_local(when, tz):
    """A stored naive-UTC datetime as an aware datetime in `tz` (a practice's time zone),
    for display; None stays None. The one conversion every page and document uses."""
    if when is None:
        return None
    return when.replace(tzinfo=_dt.UTC).astimezone(tz)


def local_date(when, tz):
    """The date a stored naive-UTC datetime falls on in `tz`; None stays None."""
    return None if when is None else to_local(when, tz).date()


def today(tz):
    """Today's date in `tz`."""
    return to_local(utcnow(), tz).date()
