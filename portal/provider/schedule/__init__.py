"""The provider's schedule, one module per part of it:

- calendar: the day view (the tablet's default) and week view, today's visits on the home
  page, a client's appointments;
- appointments: book (once or weekly), see, move, cancel, no-show, undo, check-in and
  check-out;
- settings: appointment types, weekly hours and time off, rooms, the booking policy;
- feed: a provider's private calendar link;
- forms and common: what these share.

Every change is one call of `portal.services.scheduling`; the day grid's arithmetic and
the form parsers are pure functions in `portal.rules`.
"""

from portal.provider.schedule import appointments, calendar, feed, settings  # noqa: F401
