"""A thread's generic (kind, id) link: appointments and invoices for staff and clients,
chart notes for therapists and owners only, always scoped; unknown kinds refused."""

import dataclasses

from portal.models import Appointment
from portal.services.messaging import links
from tests.charting.helpers import make_note
from tests.messaging import helpers as h


def test_staff_link_appointments_invoices_and_notes(ctx, world):
    owner = h.user(world.a.owner)
    appt = h.appointment(world.a)
    inv = h.invoice(world.a)
    kind, obj = links.target("appointment", appt.id, owner)
    assert kind.name == "appointment" and obj.id == appt.id
    assert links.target("invoice", str(inv.id), owner)[1].id == inv.id
    note = make_note(h.user(world.a.therapist), world.a.c1, world.a.provider.id)
    assert links.target("note", note.id, owner)[1].id == note.id
    assert links.target("note", note.id, h.user(world.a.therapist))[1].id == note.id


def test_what_is_refused(ctx, world):
    appt = h.appointment(world.a)
    draft = h.invoice(world.a)
    note = make_note(h.user(world.a.therapist), world.a.c1, world.a.provider.id)
    desk, client = h.user(world.a.frontdesk), h.user(world.a.cu1)
    assert links.target("claim", 1, desk) is None  # no such kind (yet)
    assert links.target("appointment", "x", desk) is None
    assert links.target("note", note.id, desk) is None  # the front desk never links notes
    assert links.target("note", note.id, client) is None
    assert links.target("invoice", draft.id, client) is None  # a draft is not the client's yet
    assert links.target("appointment", appt.id, h.user(world.a.cu2)) is None  # another client
    assert links.target("appointment", appt.id, h.user(world.b.owner)) is None  # another practice
    assert links.target("appointment", appt.id, client)[1].id == appt.id


def test_resolution_depends_on_who_looks(ctx, world):
    appt = h.appointment(world.a)
    note = make_note(h.user(world.a.therapist), world.a.c1, world.a.provider.id)
    tz = world.a.practice.tz
    t = h.thread(world.a, link=links.target("appointment", appt.id, h.user(world.a.cu1)))
    seen = links.resolve(t, h.user(world.a.frontdesk), tz)
    assert seen.label.startswith("Appointment on ") and seen.endpoint == "provider.appointment"
    assert seen.args == {"appointment_id": appt.id}
    mine = links.resolve(t, h.user(world.a.cu1), tz)
    assert mine.endpoint == "client.appointments" and mine.args == {}
    t2 = h.thread(
        world.a, sender=world.a.therapist, link=links.target("note", note.id, h.user(world.a.owner))
    )
    assert links.resolve(t2, h.user(world.a.therapist), tz).label.startswith("Chart note of")
    assert links.resolve(t2, h.user(world.a.frontdesk), tz) is None
    assert links.resolve(t2, h.user(world.a.cu1), tz) is None
    # A linked record that is gone.
    Appointment.delete().where(Appointment.id == appt.id).execute()
    gone = links.resolve(t, h.user(world.a.owner), tz)
    assert gone.obj is None and "no longer available" in gone.label


def test_a_new_kind_needs_no_migration(ctx, world):
    """Claims will register their own kind; a thread stores any (kind, id)."""
    claim = dataclasses.replace(links.KINDS["invoice"], name="claim", noun="claim")
    links.register(claim)
    try:
        inv = h.invoice(world.a)
        found = links.target("claim", inv.id, h.user(world.a.owner))
        t = h.thread(world.a, sender=world.a.owner, link=found)
        assert t.link_kind == "claim" and t.link_id == inv.id
    finally:
        links.KINDS.pop("claim")


def test_every_kind_names_pages_that_exist(app):
    for kind in links.KINDS.values():
        assert kind.staff_endpoint in app.view_functions, kind.name
        if kind.client_sees:
            assert kind.client_endpoint in app.view_functions, kind.name
