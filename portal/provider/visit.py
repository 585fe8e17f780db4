"""One visit, joined up: the appointment page leads to its chart note (opened, or started
linked to the visit), the note's signing leads to check-out, and check-out without a signed
note says so and offers the note first (`portal.services.visit_flow`).

Who: the note itself is for owners and therapists (the front desk sees whether it is
signed, never its content).
"""

from flask import redirect, url_for
from flask_login import current_user

from portal.access import get_or_404, roles_required
from portal.htmx import render
from portal.models import ROLE_OWNER, ROLE_THERAPIST, Appointment
from portal.provider import bp
from portal.rules.slots import to_local
from portal.services import charting, visit_flow

# (no import of portal.provider.schedule: its views import this module)
CLINICAL = (ROLE_OWNER, ROLE_THERAPIST)


def note_url(visit_note, appt):
    """Where "Chart note" leads: the signed note, the draft (its form, for its writer), or
    a new note for this visit."""
    note = visit_note.note
    if note is None:
        return url_for("provider.note_new", client_id=appt.client_id, appointment=appt.id)
    if not note.is_signed and charting.may_edit(current_user, note):
        return url_for("provider.note_edit", note_id=note.id)
    return url_for("provider.note_view", note_id=note.id)


@bp.route("/appointments/<int:appointment_id>/note")
@roles_required(*CLINICAL)
def note_for_appointment(appointment_id):
    appt = get_or_404(Appointment, appointment_id, audit_action="appointment.view")
    return redirect(note_url(visit_flow.note_of(appt.id), appt))


def note_first_page(appt, refusal, status):
    """Check-out refused for want of a signed note: say so, and offer the note."""
    visit_note = visit_flow.note_of(appt.id)
    return render(
        "provider/desk/note_first.html",
        appt=appt,
        start=to_local(appt.starts_at, current_user.practice.tz),
        refusal=refusal,
        visit_note=visit_note,
        note_link=(
            url_for("provider.note_for_appointment", appointment_id=appt.id)
            if current_user.role in CLINICAL
            else None
        ),
    ), status


def after_sign_redirect(note):
    """After signing: on to the visit's check-out when it still waits for it, else None."""
    appt = visit_flow.after_signing(note)
    if appt is None:
        return None
    return redirect(url_for("provider.appointment_check_out", appointment_id=appt.id))
