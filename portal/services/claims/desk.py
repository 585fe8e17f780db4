"""Claims at the desk: the receivers that make a visit's claim the moment it can be made.

A claim needs a completed visit AND its signed note, in either order:
- appointment_completed (check-out): the claim is made if the note is already signed;
- note_signed: the claim is made if the visit is already checked out.
Whatever is left (a note signed on a day the receivers could not run) is picked up by
`claims create-due`, nightly. Receivers run inside the sender's transaction: the claim
is written with the check-out or the signature, or not at all. A visit that cannot be
billed (a cash visit, no policy, no signed note yet) is not an error here.
"""

from flask import has_request_context
from flask_login import current_user

from portal.models import Appointment
from portal.services import events
from portal.services.claims import build

_connected = False


def _actor():
    if has_request_context() and current_user and current_user.is_authenticated:
        return current_user._get_current_object()
    return None


def on_completed(appointment, **kw):
    if not appointment.appointment_type.bill_insurance:
        return
    try:
        build.create_for_visit(appointment, user=_actor())
    except build.NotBillable:
        pass  # not yet: the signature or the nightly run makes it


def on_note_signed(note, user=None, **kw):
    if note.appointment_id is None:
        return
    appointment = Appointment.get_or_none(Appointment.id == note.appointment_id)
    if appointment is None or not appointment.appointment_type.bill_insurance:
        return
    try:
        build.create_for_visit(appointment, user=user or _actor())
    except build.NotBillable:
        pass  # not checked out yet: check-out makes it


def connect():
    global _connected
    if _connected:
        return
    events.appointment_completed.connect(on_completed, weak=False)
    events.note_signed.connect(on_note_signed, weak=False)
    _connected = True


def init_app(app):
    connect()
