"""The charting service and the database locks: a signed note cannot change, even by SQL."""

import datetime as dt

import pytest
from peewee import IntegrityError

from portal.db import database, q
from portal.models import (
    AuditLog,
    ChartNote,
    NoteAddendum,
    NoteBodyRegion,
    NoteDiagnosis,
    NoteMinutes,
    NoteTemplate,
)
from portal.services import charting as svc
from portal.services import note_templates
from tests.charting.helpers import make_note


@pytest.fixture
def signed(ctx, world):
    return make_note(world.a.therapist, world.a.c1, world.a.provider.id, sign=True)


def test_sign_records_who_and_when(signed, world):
    assert signed.status == "signed" and signed.signed_at is not None
    assert signed.signed_by_id == world.a.therapist.id
    assert signed.signature == world.a.provider.display_name
    row = AuditLog.get(AuditLog.action == "note.sign")
    assert row.user_id == world.a.therapist.id and row.client_id == world.a.c1.id


def test_service_refuses_changes_to_a_signed_note(signed, world):
    data = svc.NoteInput(visit_date=dt.date(2026, 11, 21), provider_id=world.a.provider.id)
    with pytest.raises(svc.NoteLocked):
        svc.save_note(world.a.therapist, world.a.c1, data, note=signed)
    with pytest.raises(svc.NoteLocked):
        svc.sign_note(world.a.therapist, signed)
    with pytest.raises(svc.NoteLocked):
        svc.delete_draft(world.a.therapist, signed)
    assert ChartNote.get_by_id(signed.id).visit_date == dt.date(2026, 11, 20)


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE chart_note SET subjective = 'changed' WHERE id = ?",
        "UPDATE chart_note SET status = 'draft', signed_at = NULL, signed_by_id = NULL "
        "WHERE id = ?",
        "UPDATE chart_note SET pain_after = 0 WHERE id = ?",
        "DELETE FROM chart_note WHERE id = ?",
        "UPDATE note_minutes SET minutes = 60 WHERE note_id = ?",
        "DELETE FROM note_minutes WHERE note_id = ?",
        "INSERT INTO note_minutes (practice_id, client_id, note_id, cpt_code, minutes) "
        "SELECT practice_id, client_id, id, '97140', 10 FROM chart_note WHERE id = ?",
        "DELETE FROM note_diagnosis WHERE note_id = ?",
        "UPDATE note_diagnosis SET code = 'M54.59' WHERE note_id = ?",
        "DELETE FROM note_body_region WHERE note_id = ?",
    ],
)
def test_database_refuses_changes_to_a_signed_note(signed, sql):
    with pytest.raises(IntegrityError, match="signed and locked"):
        with database.atomic():
            database.execute_sql(q(sql), (signed.id,))


def test_no_op_save_and_unlinking_an_appointment_are_allowed(signed):
    # A full-row save that changes no content passes; so does SET NULL of the appointment.
    ChartNote.get_by_id(signed.id).save()
    database.execute_sql(
        q("UPDATE chart_note SET appointment_id = NULL WHERE id = ?"), (signed.id,)
    )


def test_addenda_are_append_only(signed, world):
    row = svc.add_addendum(world.a.owner, signed, "Late entry.")
    assert row.author_name == world.a.owner.name
    for sql in (
        "UPDATE note_addendum SET body = 'x' WHERE id = ?",
        "DELETE FROM note_addendum WHERE id = ?",
    ):
        with pytest.raises(IntegrityError, match="append-only"):
            with database.atomic():
                database.execute_sql(q(sql), (row.id,))


def test_addendum_needs_a_signed_note_even_in_sql(ctx, world):
    draft = make_note(world.a.therapist, world.a.c1, world.a.provider.id)
    with pytest.raises(svc.ChartingError):
        svc.add_addendum(world.a.therapist, draft, "x")
    with pytest.raises(IntegrityError, match="signed notes only"):
        with database.atomic():
            NoteAddendum.create(
                practice=draft.practice_id,
                client=draft.client_id,
                note=draft.id,
                author=world.a.therapist.id,
                body="x",
            )


def test_draft_edits_replace_children(ctx, world):
    note = make_note(world.a.therapist, world.a.c1, world.a.provider.id)
    data = svc.NoteInput(
        visit_date=note.visit_date,
        provider_id=note.provider_id,
        subjective="Changed.",
        regions=["foot-r"],
        minutes={"97140": 20},
        diagnoses=["M79.18", "M54.2"],
    )
    version = svc.note_details(note)["version"]  # what the edit form was opened on
    svc.save_note(world.a.therapist, world.a.c1, data, note=note, version=version)
    assert [r.region for r in NoteBodyRegion.select()] == ["foot-r"]
    assert [(m.cpt_code, m.minutes) for m in NoteMinutes.select()] == [("97140", 20)]
    assert [
        (d.position, d.code) for d in NoteDiagnosis.select().order_by(NoteDiagnosis.position)
    ] == [
        (1, "M79.18"),
        (2, "M54.2"),
    ]
    detail = AuditLog.select().where(AuditLog.action == "note.update").get().detail
    assert set(detail.split(",")) >= {"subjective", "regions", "minutes", "diagnoses"}


@pytest.mark.parametrize(
    "kw, message",
    [
        ({"minutes": {"99999": 10}}, "not on the practice's list"),
        ({"minutes": {"97124": 241}}, "1-240"),
        ({"diagnoses": ["M54.5"]}, "not a billable code"),
        ({"regions": ["tail"]}, "Unknown body region"),
        ({"pain_before": 12}, "Pain is 0-10"),
        ({"diagnoses": ["M54.50"] * 13}, "At most 12"),
    ],
)
def test_service_guards_its_input(ctx, world, kw, message):
    with pytest.raises(svc.ChartingError, match=message):
        make_note(world.a.therapist, world.a.c1, world.a.provider.id, **kw)
    assert ChartNote.select().count() == 0


def test_sign_refuses_an_empty_note_and_another_therapist(ctx, world):
    empty = make_note(
        world.a.therapist,
        world.a.c1,
        world.a.provider.id,
        subjective="",
        objective="",
        assessment="",
        plan="",
    )
    with pytest.raises(svc.NoteIncomplete):
        svc.sign_note(world.a.therapist, empty)
    other = make_note(world.a.owner, world.a.c2, world.a.provider2.id)
    with pytest.raises(svc.NotAllowed):
        svc.sign_note(world.a.therapist, other)
    assert ChartNote.select().where(ChartNote.status == "signed").count() == 0


def test_cpt_codes_defaults_additions_and_hiding(ctx, world):
    pid = world.a.practice.id
    assert svc.active_cpt_codes(pid) == ["97124", "97140"]
    svc.add_cpt_code(world.a.owner, "97112", "Neuromuscular re-education")
    svc.set_cpt_active(world.a.owner, "97140", False)
    assert svc.active_cpt_codes(pid) == ["97112", "97124"]
    assert svc.active_cpt_codes(world.b.practice.id) == ["97124", "97140"]  # per practice
    with pytest.raises(svc.ChartingError):
        svc.add_cpt_code(world.a.owner, "97", "bad")
    with pytest.raises(svc.ChartingError, match="not on the practice's list"):
        make_note(world.a.therapist, world.a.c1, world.a.provider.id, minutes={"97140": 15})
    make_note(world.a.therapist, world.a.c1, world.a.provider.id, minutes={"97112": 15})


def test_favourites_only_billable_and_once(ctx, world):
    svc.add_favourite(world.a.owner, "m5450")
    svc.add_favourite(world.a.owner, "M54.50")
    assert [f.code for f in svc.favourites(world.a.practice.id)] == ["M54.50"]
    assert svc.favourites(world.b.practice.id) == []
    with pytest.raises(svc.ChartingError, match="not a billable code"):
        svc.add_favourite(world.a.owner, "M54.5")


def test_default_template_created_once(ctx, world):
    pid = world.a.practice.id
    assert note_templates.template_for_new_note(pid).id is None  # the built-in one, unsaved
    t1 = note_templates.ensure_default_template(pid, user=world.a.owner)
    t2 = note_templates.ensure_default_template(pid, user=world.a.owner)
    assert t1.id == t2.id and t1.is_default
    assert NoteTemplate.select().count() == 1
    assert "Trigger point therapy" in t1.technique_list
    assert note_templates.template_for_new_note(pid).id == t1.id


def test_visit_coding_for_billing(ctx, world):
    from portal.models import Appointment, AppointmentType

    t = AppointmentType.create(practice=world.a.practice, name="60", duration_minutes=60)
    start = dt.datetime(2026, 11, 20, 17, 0)
    appt = Appointment.create(
        practice=world.a.practice,
        client=world.a.c1,
        provider=world.a.provider,
        appointment_type=t,
        starts_at=start,
        ends_at=start + dt.timedelta(hours=1),
        blocked_until=start + dt.timedelta(hours=1),
        status="completed",
    )
    note = make_note(world.a.therapist, world.a.c1, world.a.provider.id, appointment_id=appt.id)
    assert svc.visit_coding(appt.id) is None  # a draft is not billed
    svc.sign_note(world.a.therapist, note)
    assert svc.visit_coding(appt.id) == {
        "note_id": note.id,
        "minutes": {"97124": 45},
        "diagnoses": ["M54.2"],
    }


def test_service_guards_who_writes_for_whom(ctx, world):
    with pytest.raises(svc.NotAllowed):
        make_note(world.a.therapist, world.a.c1, world.a.provider2.id)
    with pytest.raises(svc.ChartingError, match="therapist of this practice"):
        make_note(world.a.owner, world.a.c1, world.b.provider.id)
    with pytest.raises(svc.NotAllowed):
        make_note(world.a.owner, world.b.c1, world.a.provider.id)
    assert ChartNote.select().count() == 0
