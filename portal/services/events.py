"""Seams between areas, as blinker signals (blinker ships with Flask).

Senders emit inside their own database transaction, so a receiver's writes commit or
roll back with the sender's. Receivers must not open their own transaction with
IMMEDIATE (they are already inside one) and raise to abort the whole change.

Signals (sender is the Appointment unless said otherwise):
- appointment_booked(appointment)
- appointment_completed(appointment)              at check-out, after minutes are recorded
- appointment_cancelled(appointment, late: bool)  late = inside the cancellation window
- appointment_no_show(appointment)
"""

from blinker import Namespace

_signals = Namespace()

appointment_booked = _signals.signal("appointment-booked")
appointment_completed = _signals.signal("appointment-completed")
appointment_cancelled = _signals.signal("appointment-cancelled")
appointment_no_show = _signals.signal("appointment-no-show")
