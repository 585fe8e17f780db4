"""Seams between areas, as blinker signals (blinker ships with Flask).

Senders emit inside their own database transaction, so a receiver's writes commit or
roll back with the sender's. Receivers must not open their own transaction with
IMMEDIATE (they are already inside one) and raise to abort the whole change.

Scheduling announces (sender: the Appointment); billing listens:
- appointment_booked(appointment)
- appointment_completed(appointment)              at check-out, after minutes are recorded
- appointment_cancelled(appointment, late: bool)  late = inside the cancellation window
- appointment_no_show(appointment)

Invoicing announces (sender: the Invoice or Payment, with `user`, the staff member or None);
packages listens (packages sells through invoicing, so invoicing never imports packages):
- invoice_paid(invoice, user)                     a payment made it paid in full
- invoice_voided(invoice, user)
- payment_refunded(payment, refund, user)         a refund of it succeeded

Charting (sender is the ChartNote):
- note_signed(note, user)                         when a note is signed (and locked)

Clearinghouse (sender is the ClearinghouseFile):
- clearinghouse_file_received(file)   a file fetched from the clearinghouse (its `kind`,
  found by content: "999", "277", "835" or "ta1"), sent once per file while its status is "new"
  (portal.services.clearinghouse.process_file). A receiver that handles the kind processes
  the file and returns True: the file becomes "processed". Raising aborts the receiver's
  writes and marks the file "error" with the exception's message (for the owner's eyes:
  no PHI). With no receiver returning True the file stays "new", to be processed later.
"""

from blinker import Namespace

_signals = Namespace()

appointment_booked = _signals.signal("appointment-booked")
appointment_completed = _signals.signal("appointment-completed")
appointment_cancelled = _signals.signal("appointment-cancelled")
appointment_no_show = _signals.signal("appointment-no-show")

invoice_paid = _signals.signal("invoice-paid")
invoice_voided = _signals.signal("invoice-voided")
payment_refunded = _signals.signal("payment-refunded")
note_signed = _signals.signal("note-signed")
clearinghouse_file_received = _signals.signal("clearinghouse-file-received")
