"""A chart note between sessions: long text on paper, two tabs (or the owner) on one draft,
a note signed elsewhere while its form is open, minutes and dates against the visit, and
signing refused with the reason by the field."""

import datetime as dt
import re
import subprocess

import pytest

from portal.models import Appointment, AppointmentType, AuditLog, ChartNote
from portal.rules import charting as rules
from portal.services import charting as svc
from portal.services import note_templates
from tests.charting.helpers import form_data, make_note, page_version
from tests.claims import factories as cf
from tests.conftest import login


def actions(**where):
    q = AuditLog.select()
    for k, v in where.items():
        q = q.where(getattr(AuditLog, k) == v)
    return [a.action for a in q.order_by(AuditLog.id)]


def _pdf_text(client, note, tmp_path):
    r = client.get(f"/provider/notes/{note.id}/pdf")
    assert r.status_code == 200
    path = tmp_path / "note.pdf"
    path.write_bytes(r.data)
    return subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, check=True, text=True
    ).stdout


def test_a_long_unbroken_line_wraps_on_the_pdf_instead_of_running_off_the_page(
    client, world, tmp_path
):
    link = "https://example.com/referral/" + "abcdefghij" * 20 + "/END"
    note = make_note(
        world.a.therapist, world.a.c1, world.a.provider.id, subjective="Referral letter: " + link
    )
    svc.sign_note(world.a.therapist, note)
    svc.add_addendum(world.a.therapist, note, "Copy: " + link)
    login(client, world.a.therapist)
    text = re.sub(r"\s+", "", _pdf_text(client, note, tmp_path))
    # All of it is on the page (pdftotext reads only what is inside it), in the note and
    # in the addendum.
    assert text.count(link) == 2


# --- two tabs (or the owner and the therapist) on one draft ---------------------------------


def test_a_second_tab_does_not_overwrite_a_newer_save_silently(client, world):
    note = make_note(world.a.therapist, world.a.c1, world.a.provider.id)
    login(client, world.a.therapist)
    url = f"/provider/notes/{note.id}/edit"
    opened = page_version(client.get(url).get_data(as_text=True))  # both tabs open the form

    first = form_data(world.a.provider.id, version=opened, subjective="Tab one: neck better.")
    assert client.post(url, data=first).status_code == 302

    second = form_data(world.a.provider.id, version=opened, subjective="Tab two: shoulder.")
    r = client.post(url, data=second)
    html = r.get_data(as_text=True)
    assert r.status_code == 409
    assert "saved elsewhere after you opened it" in html
    assert "by you, in another tab or window" in html
    assert "Tab two: shoulder." in html  # what was typed is kept on the page
    assert ChartNote.get_by_id(note.id).subjective == "Tab one: neck better."
    assert "note.update.conflict" in actions(object_id=note.id)

    # Saving again from that page is deliberate: it replaces the other save.
    again = form_data(
        world.a.provider.id, version=page_version(html), subjective="Tab two: shoulder."
    )
    assert client.post(url, data=again).status_code == 302
    assert ChartNote.get_by_id(note.id).subjective == "Tab two: shoulder."


def test_the_owner_and_the_therapist_on_one_draft_are_told_who_saved(client, world, app):
    note = make_note(world.a.therapist, world.a.c1, world.a.provider.id)
    url = f"/provider/notes/{note.id}/edit"
    login(client, world.a.therapist)
    opened = page_version(client.get(url).get_data(as_text=True))
    owner = app.test_client()
    login(owner, world.a.owner)
    data = form_data(
        world.a.provider.id, version=page_version(owner.get(url).get_data(as_text=True))
    )
    assert owner.post(url, data={**data, "plan": "Owner's plan."}).status_code == 302

    r = client.post(url, data=form_data(world.a.provider.id, version=opened, plan="Mine."))
    assert r.status_code == 409
    assert world.a.owner.name in r.get_data(as_text=True)
    assert ChartNote.get_by_id(note.id).plan == "Owner's plan."


def test_signing_from_the_note_page_refuses_a_draft_changed_since_it_was_read(client, world, app):
    note = make_note(world.a.therapist, world.a.c1, world.a.provider.id)
    login(client, world.a.therapist)
    page = client.get(f"/provider/notes/{note.id}").get_data(as_text=True)
    read = page_version(page)
    owner = app.test_client()
    login(owner, world.a.owner)
    url = f"/provider/notes/{note.id}/edit"
    data = form_data(
        world.a.provider.id, version=page_version(owner.get(url).get_data(as_text=True))
    )
    assert owner.post(url, data={**data, "assessment": "Changed by the owner."}).status_code == 302

    r = client.post(f"/provider/notes/{note.id}/sign", data={"version": read})
    assert r.status_code == 302
    assert ChartNote.get_by_id(note.id).status == "draft"
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "changed since you opened it" in page and "Changed by the owner." in page
    # Read again, it signs.
    r = client.post(f"/provider/notes/{note.id}/sign", data={"version": page_version(page)})
    assert ChartNote.get_by_id(note.id).status == "signed"


def test_a_note_signed_in_another_tab_keeps_what_the_open_form_had_typed(client, world):
    note = make_note(world.a.therapist, world.a.c1, world.a.provider.id)
    login(client, world.a.therapist)
    url = f"/provider/notes/{note.id}/edit"
    opened = page_version(client.get(url).get_data(as_text=True))
    svc.sign_note(world.a.therapist, note)  # the other tab signs

    typed = form_data(
        world.a.provider.id,
        version=opened,
        subjective=note.subjective,  # unchanged: not repeated
        plan="Typed after signing: stretch the left hip flexors daily.",
    )
    r = client.post(url, data=typed)
    html = r.get_data(as_text=True)
    assert r.status_code == 409
    assert "This note is signed and locked" in html
    assert "not saved" in html and "Typed after signing: stretch the left hip flexors" in html
    assert html.count(note.subjective) == 0
    assert 'name="body"' in html  # the addendum form, to put it in
    assert ChartNote.get_by_id(note.id).plan == "Two more visits."


# --- minutes and the date against the visit ---------------------------------------------------


def _visit(world, client, start, minutes=60):
    kind = AppointmentType.create(
        practice=world.a.practice, name=f"Massage {minutes}", duration_minutes=minutes
    )
    end = start + dt.timedelta(minutes=minutes)
    return Appointment.create(
        practice=world.a.practice,
        client=client,
        provider=world.a.provider,
        appointment_type=kind,
        starts_at=start,
        ends_at=end,
        blocked_until=end,
        status="completed",
    )


def _post_new(client, world, **kw):
    login(client, world.a.therapist)
    url = f"/provider/clients/{world.a.c1.id}/notes/new"
    return client.post(url, data=form_data(world.a.provider.id, **kw))


def test_minutes_over_the_visits_length_are_refused_by_the_minutes(client, world):
    # 17:00 UTC on 20 Nov is 9 AM in Los Angeles (the practice's zone): a 60-minute visit.
    appt = _visit(world, world.a.c1, dt.datetime(2026, 11, 20, 17, 0))
    r = _post_new(
        client, world, appointment=str(appt.id), **{"minutes-97124": "45", "minutes-97140": "30"}
    )
    html = r.get_data(as_text=True)
    assert r.status_code == 400
    box = html[html.index("Minutes per code") : html.index("Diagnosis codes (ICD-10-CM)")]
    assert "75 minutes" in box and "60-minute visit" in box
    assert 'aria-invalid="true"' in box  # the first field to correct is focused
    assert "Hypertonic lumbar paraspinals" in html and 'value="30"' in html  # kept
    assert ChartNote.select().count() == 0

    r = _post_new(
        client, world, appointment=str(appt.id), **{"minutes-97124": "45", "minutes-97140": "15"}
    )
    assert r.status_code == 302  # the whole hour is fine


def test_the_visit_date_must_be_the_linked_visits_day_in_the_practices_zone(client, world):
    # 02:30 UTC on the 21st is the evening of the 20th in Los Angeles.
    appt = _visit(world, world.a.c1, dt.datetime(2026, 11, 21, 2, 30))
    r = _post_new(client, world, appointment=str(appt.id), visit_date="2026-11-21")
    html = r.get_data(as_text=True)
    assert r.status_code == 400
    error = re.search(r'<p class="error" id="visit_date-error">([^<]*)</p>', html)
    assert error and "Fri 20 Nov 2026" in error.group(1)
    assert ChartNote.select().count() == 0
    assert _post_new(client, world, appointment=str(appt.id)).status_code == 302  # the 20th


def test_the_service_links_a_note_only_to_the_clients_own_visit(ctx, world):
    other = _visit(world, world.a.c2, dt.datetime(2026, 11, 20, 17, 0))
    with pytest.raises(svc.ChartingError, match="this client's visits"):
        make_note(world.a.therapist, world.a.c1, world.a.provider.id, appointment_id=other.id)
    assert ChartNote.select().count() == 0


# --- signing refused: the reason by the field ------------------------------------------------


def _error_of(html, field_id):
    found = re.search(rf'<p class="error" id="{field_id}-error">([^<]*)</p>', html)
    return found.group(1) if found else ""


def test_save_and_sign_with_nothing_coded_shows_the_reason_by_the_diagnosis_box(client, world):
    r = _post_new(client, world, dx=[], action="sign")
    note = ChartNote.get()
    assert note.status == "draft"  # saved, not signed
    assert r.status_code == 302
    assert r.headers["Location"].endswith(f"/provider/notes/{note.id}/edit?sign=1")
    html = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "Add a diagnosis code" in _error_of(html, "dx_new")
    assert "saved as a draft, not signed" in html.lower()
    assert "nothing was saved" not in html
    assert "Hypertonic lumbar paraspinals" in html and 'value="30"' in html

    # The note page's Sign button leads there too.
    page = client.get(f"/provider/notes/{note.id}").get_data(as_text=True)
    r = client.post(f"/provider/notes/{note.id}/sign", data={"version": page_version(page)})
    assert r.headers["Location"].endswith(f"/provider/notes/{note.id}/edit?sign=1")
    assert ChartNote.get_by_id(note.id).status == "draft"


def test_signing_an_empty_note_marks_the_soap_fields(client, world):
    empty = {name: "" for name in ("subjective", "objective", "assessment", "plan")}
    r = _post_new(client, world, action="sign", **empty)
    html = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "Write at least one of subjective" in _error_of(html, "subjective")
    assert not _error_of(html, "dx_new")
    assert ChartNote.get().status == "draft"


def test_a_note_of_the_templates_prompts_alone_is_not_signed(client, world):
    prompts = {name: note_templates.DEFAULT_TEMPLATE[name] for name in rules.SOAP_FIELDS}
    r = _post_new(client, world, action="sign", **prompts, **{"minutes-97124": ""})
    assert r.headers["Location"].endswith("/edit?sign=1")
    assert ChartNote.get().status == "draft"
    html = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "Write at least one of subjective" in _error_of(html, "subjective")


def test_a_therapist_kept_to_their_own_clients_reaches_no_page_of_anothers_note(client, world):
    note = make_note(world.a.owner, world.a.c2, world.a.provider2.id)  # c2 is provider2's
    world.a.practice.therapists_see_all_clients = False
    world.a.practice.save()
    login(client, world.a.therapist)
    for method, url in (
        ("GET", f"/provider/notes/{note.id}"),
        ("GET", f"/provider/notes/{note.id}/edit"),
        ("GET", f"/provider/notes/{note.id}/pdf"),
        ("POST", f"/provider/notes/{note.id}/edit"),
        ("POST", f"/provider/notes/{note.id}/sign"),
        ("POST", f"/provider/notes/{note.id}/addenda"),
        ("POST", f"/provider/notes/{note.id}/delete"),
        ("GET", f"/provider/clients/{world.a.c2.id}/notes/new"),
    ):
        call = client.get if method == "GET" else client.post
        r = call(url, data=form_data(world.a.provider.id)) if method == "POST" else call(url)
        assert r.status_code == 404, (method, url, r.status_code)
        assert "Tight upper trapezius" not in r.get_data(as_text=True)
    assert ChartNote.get_by_id(note.id).subjective == "Neck stiffness."
    assert "access.denied" in actions(user_id=world.a.therapist.id)


def test_check_out_minutes_that_differ_are_told_in_the_words_of_the_note(app, client, world):
    with app.test_request_context():
        appt, policy = cf.insured_visit(
            world.a, minutes={"97124": 45}, checkout={"97124": 45, "97140": 15}, sign=False
        )
    note = ChartNote.get(ChartNote.appointment == appt.id)
    login(client, world.a.therapist)
    html = client.get(f"/provider/notes/{note.id}").get_data(as_text=True)
    box = html[html.index('class="card claim-warnings"') :]
    box = box[: box.index("</section>")]
    assert "Check-out recorded 97124 45 min, 97140 15 min; this note says 97124 45 min." in box
    assert "correct this draft before signing" in box
    assert "signed note" not in box  # it is a draft
    assert policy.payer.name in box
    svc.sign_note(world.a.therapist, note)
    html = client.get(f"/provider/notes/{note.id}").get_data(as_text=True)
    assert "add an addendum" in html and "correct this draft" not in html


# --- the draft's fingerprint: required to save over a draft; the conflict page compares -----


def _differences(html):
    """{field label: (saved text, typed text)} from the conflict page's comparison."""
    rows = re.findall(
        r'<div class="diff-field">\s*<h3>([^<]*)</h3>.*?'
        r'<div class="diff-saved">.*?<p class="diff-text">(.*?)</p>.*?'
        r'<div class="diff-typed">.*?<p class="diff-text">(.*?)</p>',
        html,
        re.S,
    )
    return {label: (saved, typed) for label, saved, typed in rows}


def test_a_save_without_the_drafts_fingerprint_is_refused_and_keeps_the_typed_text(client, world):
    note = make_note(world.a.therapist, world.a.c1, world.a.provider.id)
    login(client, world.a.therapist)
    url = f"/provider/notes/{note.id}/edit"
    typed = form_data(world.a.provider.id, plan="Typed in a form without its fingerprint.")
    assert "version" not in typed
    r = client.post(url, data=typed)
    html = r.get_data(as_text=True)
    assert r.status_code == 409
    assert "Not saved" in html and "which version of the draft" in html
    assert "Typed in a form without its fingerprint." in html  # kept on the page
    assert ChartNote.get_by_id(note.id).plan == "Two more visits."
    assert "note.update.conflict" in actions(object_id=note.id)
    # The comparison shows what the saved draft holds where the form differs.
    assert _differences(html)["Plan"] == (
        "Two more visits.",
        "Typed in a form without its fingerprint.",
    )

    # The page now carries the draft's fingerprint: saving from it is deliberate.
    again = form_data(world.a.provider.id, version=page_version(html), plan="Second try.")
    assert client.post(url, data=again).status_code == 302
    assert ChartNote.get_by_id(note.id).plan == "Second try."


def test_the_service_refuses_a_draft_save_without_a_fingerprint(ctx, world):
    note = make_note(world.a.therapist, world.a.c1, world.a.provider.id)
    data = svc.NoteInput(
        visit_date=note.visit_date, provider_id=note.provider_id, subjective="Overwrite?"
    )
    for missing in (None, ""):
        with pytest.raises(svc.NoteChanged) as refused:
            svc.save_note(world.a.therapist, world.a.c1, data, note=note, version=missing)
        assert refused.value.missing
    assert ChartNote.get_by_id(note.id).subjective == "Neck stiffness."
    # With the fingerprint it saves; a brand-new draft needs none (make_note has none).
    version = svc.note_details(note)["version"]
    svc.save_note(world.a.therapist, world.a.c1, data, note=note, version=version)
    assert ChartNote.get_by_id(note.id).subjective == "Overwrite?"


def test_a_new_draft_is_saved_without_a_fingerprint(client, world):
    r = _post_new(client, world)
    assert r.status_code == 302
    assert ChartNote.get().plan == "Weekly for 4 weeks; hip flexor stretches at home."


def test_the_conflict_page_shows_the_saved_fields_next_to_the_typed_ones(client, world):
    note = make_note(world.a.therapist, world.a.c1, world.a.provider.id)
    login(client, world.a.therapist)
    url = f"/provider/notes/{note.id}/edit"
    opened = page_version(client.get(url).get_data(as_text=True))
    first = form_data(
        world.a.provider.id,
        version=opened,
        subjective="Tab one: neck better.",
        regions=["neck"],
        **{"minutes-97124": "40"},
    )
    assert client.post(url, data=first).status_code == 302

    second = form_data(
        world.a.provider.id,
        version=opened,
        subjective="Tab two: shoulder <tight>.",
        pain_after="4",
        regions=["neck", "shoulder-r"],
    )
    r = client.post(url, data=second)
    html = r.get_data(as_text=True)
    assert r.status_code == 409
    found = _differences(html)
    assert found == {
        "Subjective": ("Tab one: neck better.", "Tab two: shoulder &lt;tight&gt;."),
        "Pain after treatment (0-10)": ("3", "4"),
        "Body regions treated": ("Back of neck", "Back of neck, Right shoulder"),
        "Minutes per code": ("97124: 40 min", "97124: 30 min"),
    }
    # Only the fields that differ: the plan both saved is not listed.
    assert "Plan" not in found
    assert ChartNote.get_by_id(note.id).subjective == "Tab one: neck better."
