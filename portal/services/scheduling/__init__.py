"""Scheduling use cases: free slots, book, move/resize, cancel, no-show, check-in,
check-out, recurring series, the day and week, the practice's scheduling settings and
the mail that goes with them.

Each write runs in ONE `database.atomic("IMMEDIATE")` with its audit rows and emits its
event inside that transaction. Status changes are checked once per write, against the
stored row, with the transition table in `portal.rules.appointments`. Double-booking is
refused twice: the overlap is re-checked inside the IMMEDIATE transaction (which
serialises writers), and triggers in the database abort any INSERT/UPDATE that would
overlap anyway.

Modules: catalog (types, rooms, the booking policy), slots (free times), booking (book,
series, move), visits (check-in to check-out, cancel, no-show), agenda (the day and week
as the user may see them), settings (hours, time off, types, rooms, policy), notices
(confirmations and reminders).
"""

from portal.rules.appointments import BookingError
from portal.services.scheduling.agenda import (
    AgendaRow,
    day_bounds,
    day_rows,
    practice_providers,
    provider_names,
    working_day,
)
from portal.services.scheduling.booking import book, book_series, move, plan_series
from portal.services.scheduling.catalog import (
    active_rooms,
    all_rooms,
    all_types,
    bookable_types,
    policy_for,
    practices_with_online_services,
    providers_for_type,
    type_codes,
    type_provider_ids,
)
from portal.services.scheduling.guards import ClientConflict, conflicts_for
from portal.services.scheduling.notices import queue_confirmation, send_reminders
from portal.services.scheduling.settings import (
    add_exception,
    add_room,
    delete_exception,
    exceptions_since,
    save_hours,
    save_policy,
    save_type,
    toggle_room,
    weekly_hours,
)
from portal.services.scheduling.slots import SlotTaken, free_slots, free_slots_any, next_slots
from portal.services.scheduling.visits import cancel, check_in, check_out, no_show, undo_status

__all__ = [
    "ClientConflict",
    "conflicts_for",
    "working_day",
    "practice_providers",
    "provider_names",
    "day_bounds",
    "AgendaRow",
    "weekly_hours",
    "toggle_room",
    "save_type",
    "save_policy",
    "save_hours",
    "exceptions_since",
    "delete_exception",
    "add_room",
    "add_exception",
    "BookingError",
    "SlotTaken",
    "active_rooms",
    "all_rooms",
    "all_types",
    "book",
    "book_series",
    "bookable_types",
    "cancel",
    "check_in",
    "check_out",
    "day_rows",
    "free_slots",
    "free_slots_any",
    "move",
    "next_slots",
    "no_show",
    "plan_series",
    "policy_for",
    "practices_with_online_services",
    "providers_for_type",
    "queue_confirmation",
    "send_reminders",
    "type_codes",
    "type_provider_ids",
    "undo_status",
]
