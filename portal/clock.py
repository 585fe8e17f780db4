"""The one clock: naive UTC datetimes everywhere.

Call it as `clock.utcnow()` (through the module) so tests can replace it to move time.
"""

import datetime as _dt


def utcnow() -> _dt.datetime:
    return _dt.datetime.now(_dt.UTC).replace(tzinfo=None, microsecond=0)
