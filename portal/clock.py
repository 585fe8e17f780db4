"""The one clock: naive UTC datetimes everywhere.

Call it as `clock.utcnow()` (through the module) so tests can replace it to move time.
`with clock.told(when):` makes it answer `when` inside the block, in this thread only: for
telling a history after the fact (the demo's claims, worked over weeks, are loaded in one
moment; their history rows are append-only and cannot be dated afterwards).
"""

import contextlib as _contextlib
import contextvars as _contextvars
import datetime as _dt

_told = _contextvars.ContextVar("clock_told", default=None)


def utcnow() -> _dt.datetime:
    when = _told.get()
    if when is not None:
        return when
    return _dt.datetime.now(_dt.UTC).replace(tzinfo=None, microsecond=0)


@_contextlib.contextmanager
def told(when: _dt.datetime):
    """Inside the block, utcnow() answers `when` (naive UTC), in this context only."""
    token = _told.set(when.replace(microsecond=0))
    try:
        yield when
    finally:
        _told.reset(token)


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


def zone_label(tz, when=None):
    """A time zone as a client reads it: "Los Angeles time (PDT)" for America/Los_Angeles,
    its abbreviation at `when` (naive UTC; now by default)."""
    city = tz.key.rsplit("/", 1)[-1].replace("_", " ")
    abbreviation = to_local(when or utcnow(), tz).strftime("%Z")
    return f"{city} time ({abbreviation})"
