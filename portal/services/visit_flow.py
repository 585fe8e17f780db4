"""One visit from the appointment to check-out: its chart note (found or started from the
appointment), whether check-out may go ahead without a signed note, and the guard that
enforces it on every check-out.

The guard receives `appointment_completed` (inside check-out's transaction) and raises
BookingError to abort a check-out the rules refuse: the appointment page, the check-out
page and any other caller of `services.scheduling.check_out` meet the same rule.
"""

from dataclasses import dataclass

from portal.models import AppointmentMinutes, ChartNote, ClaimSettings
from portal.models.charting import NOTE_SIGNED
from portal.rules import desk as rules
from portal.rules.appointments import BookingError
from portal.services import charting, events

_connected = False


@dataclass
class VisitNote:
    state: str  # rules.NOTE_NONE | NOTE_DRAFT | NOTE_SIGNED
    note: ChartNote | None

    @property
    def signed(self):
        return self.state == rules.NOTE_SIGNED


def note_of(appointment_id):
    """The visit's chart note: the newest signed one, else the newest draft, else none."""
    notes = list(
        ChartNote.select()
        .where(ChartNote.appointment == appointment_id)
        .order_by(ChartNote.id.desc())
    )
    for note in notes:
        if note.status == NOTE_SIGNED:
            return VisitNote(rules.NOTE_SIGNED, note)
    if notes:
        return VisitNote(rules.NOTE_DRAFT, notes[0])
    return VisitNote(rules.NOTE_NONE, None)


def cash_checkout_without_note(practice_id):
    """The practice's choice (Settings: claims); allowed when never set."""
    row = ClaimSettings.get_or_none(ClaimSettings.practice == practice_id)
    return True if row is None else bool(row.cash_checkout_without_note)


def checkout_refusal(appt, visit_note=None):
    """Why this visit cannot be checked out yet (its chart note), or None."""
    visit_note = visit_note or note_of(appt.id)
    return rules.checkout_note_refusal(
        visit_note.state,
        billed_to_insurance=appt.appointment_type.bill_insurance,
        cash_without_note=cash_checkout_without_note(appt.practice_id),
    )


def _guard(appointment, **kw):
    """Check-out's receiver: the chart note rule, and codes only from the practice's list
    (the list a note's minutes come from; never typed freely)."""
    refusal = checkout_refusal(appointment)
    if refusal:
        raise BookingError(refusal)
    listed = {c for c, _, _, _ in charting.cpt_codes(appointment.practice_id, True)}
    for row in AppointmentMinutes.select(AppointmentMinutes.cpt_code).where(
        AppointmentMinutes.appointment == appointment.id
    ):
        if row.cpt_code not in listed:
            raise BookingError(
                f"{row.cpt_code} is not on the practice's list of CPT codes (Settings: CPT codes)."
            )


def after_signing(note):
    """The appointment a freshly signed note should lead to for check-out, or None (no
    linked visit, or one already checked out or cancelled)."""
    if not note.appointment_id:
        return None
    appt = note.appointment
    return appt if appt.status in ("booked", "checked_in") else None


def connect():
    global _connected
    if not _connected:
        events.appointment_completed.connect(_guard, weak=False)
        _connected = True


def init_app(app):
    connect()
