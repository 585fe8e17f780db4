"""Chart note pages: write, validate, sign, refuse edits of signed notes (409), addenda,
PDF, the client page section, the unsigned list, and who may see what."""

import datetime as dt
import re
import shutil
import subprocess

import pytest

from portal import clock
from portal.models import (
    AuditLog,
    ChartNote,
    Claim,
    NoteAddendum,
    NoteBodyRegion,
    NoteDiagnosis,
    NoteMinutes,
)
from tests.charting.helpers import form_data, make_note, page_version, sign_from_page
from tests.claims import factories as cf
from tests.conftest import login


def actions(**where):
    q = AuditLog.select()
    for k, v in where.items():
        q = q.where(getattr(AuditLog, k) == v)
    return [a.action for a in q.order_by(AuditLog.id)]


def write_note(client, w, **kw):
    login(client, w.a.therapist)
    url = f"/provider/clients/{w.a.c1.id}/notes/new"
    return client.post(url, data=form_data(w.a.provider.id, **kw))


# --- writing ---------------------------------------------------------------------------------


def test_new_note_form_starts_from_the_default_template(client, world):
    login(client, world.a.therapist)
    r = client.get(f"/provider/clients/{world.a.c1.id}/notes/new")
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    assert "Chief complaint:" in html  # the default massage template's prompts
    assert 'name="minutes-97124"' in html and 'name="minutes-97140"' in html
    assert 'data-region="low-back"' in html and 'value="low-back"' in html
    assert "Trigger point therapy" in html
    assert world.a.c1.display_name in html


def test_therapist_writes_a_note(client, world):
    r = write_note(client, world)
    assert r.status_code == 302
    note = ChartNote.get()
    assert r.headers["Location"].endswith(f"/provider/notes/{note.id}")
    assert note.status == "draft" and note.client_id == world.a.c1.id
    assert note.provider_id == world.a.provider.id and note.created_by_id == world.a.therapist.id
    assert note.pain_before == 6 and note.pain_after == 3
    assert note.technique_list == ["Swedish massage", "Trigger point therapy"]
    assert {r.region for r in NoteBodyRegion.select()} == {"low-back", "glute-l"}
    assert [(m.cpt_code, m.minutes) for m in NoteMinutes.select()] == [("97124", 30)]
    assert [(d.position, d.code, d.description) for d in NoteDiagnosis.select()] == [
        (1, "M54.50", "Low back pain, unspecified")
    ]
    assert "note.create" in actions(object_type="chartnote", object_id=note.id)
    page = client.get(r.headers["Location"])
    html = page.get_data(as_text=True)
    assert "Hypertonic lumbar paraspinals" in html and "M54.50" in html and "Low back" in html
    assert actions(action="note.view", object_id=note.id)


def test_typed_codes_are_added_without_javascript(client, world):
    r = write_note(client, world, dx=[], dx_new="m5450, M62.830")
    assert r.status_code == 302
    codes = [d.code for d in NoteDiagnosis.select().order_by(NoteDiagnosis.position)]
    assert codes == ["M54.50", "M62.830"]


def test_a_non_billable_code_is_refused_with_its_children_offered(client, world):
    r = write_note(client, world, dx=[], dx_new="M54.5")
    html = r.get_data(as_text=True)
    assert r.status_code == 400
    assert "M54.5 is a category, not a billable code" in html
    for child in ("M54.50", "M54.51", "M54.59"):
        assert f'value="{child}"' in html
    assert ChartNote.select().count() == 0  # nothing half-written


def test_words_in_the_code_box_are_refused_without_javascript(client, world):
    r = write_note(client, world, dx_new="low back")
    assert r.status_code == 400
    assert "Pick a code from the suggestions" in r.get_data(as_text=True)


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("minutes-97124", "241", "At most 240 minutes"),
        ("minutes-97124", "-5", "whole minutes"),
        ("minutes-97124", "12.5", "whole minutes"),
        ("minutes-97124", "abc", "whole minutes"),
        ("minutes-99999", "15", "99999 is not on the practice"),
        ("pain_before", "11", "Not a valid choice"),
        ("regions", ["low-back", "tail"], "Not a valid choice"),
        ("visit_date", "", "Enter the visit date"),
    ],
)
def test_bad_input_is_refused_next_to_the_field(client, world, field, value, message):
    r = write_note(client, world, **{field: value})
    assert r.status_code == 400
    html = r.get_data(as_text=True)
    assert message.lower() in html.lower()
    assert ChartNote.select().count() == 0
    # What was typed is kept.
    assert "Hypertonic lumbar paraspinals" in html


def test_save_and_sign_in_one_step(client, world):
    r = write_note(client, world, action="sign")
    assert r.status_code == 302
    note = ChartNote.get()
    assert note.status == "signed" and note.signed_by_id == world.a.therapist.id
    assert note.signature == world.a.provider.display_name


def test_signing_needs_a_diagnosis_when_minutes_are_recorded(client, world):
    r = write_note(client, world, dx=[], action="sign")
    assert r.status_code == 302
    note = ChartNote.get()
    assert note.status == "draft"
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "Add a diagnosis code" in page


def test_edit_a_draft_then_sign_then_edits_are_refused_with_409(client, world):
    write_note(client, world)
    note = ChartNote.get()
    r = client.get(f"/provider/notes/{note.id}/edit")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert "Hypertonic lumbar paraspinals" in html and 'value="M54.50" checked' in html
    version = re.search(r'name="version"[^>]*value="([0-9a-f]+)"', html).group(1)
    r = client.post(
        f"/provider/notes/{note.id}/edit",
        data=form_data(
            world.a.provider.id, version=version, plan="Twice a week.", regions=["low-back"]
        ),
    )
    assert r.status_code == 302
    note = ChartNote.get_by_id(note.id)
    assert note.plan == "Twice a week."
    assert [r.region for r in NoteBodyRegion.select()] == ["low-back"]
    upd = AuditLog.get(AuditLog.action == "note.update")
    assert "plan" in upd.detail and "regions" in upd.detail
    assert "Twice" not in upd.detail  # field names, never values

    r = client.post(f"/provider/notes/{note.id}/sign")  # a bare POST: which draft was read?
    assert r.status_code == 302
    assert ChartNote.get_by_id(note.id).status == "draft"
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "Not signed: read the note on its page, then sign it there." in page
    assert AuditLog.get(AuditLog.action == "note.update.conflict").detail == "sign, no version"
    r = sign_from_page(client, note.id)
    assert r.status_code == 302
    assert ChartNote.get_by_id(note.id).status == "signed"
    assert actions(action="note.sign")

    r = client.get(f"/provider/notes/{note.id}/edit")
    assert r.status_code == 409
    assert "signed and locked" in r.get_data(as_text=True)
    r = client.post(
        f"/provider/notes/{note.id}/edit",
        data=form_data(world.a.provider.id, plan="Sneaky change."),
    )
    assert r.status_code == 409
    assert "Add an addendum" in r.get_data(as_text=True)
    assert ChartNote.get_by_id(note.id).plan == "Twice a week."
    assert client.post(f"/provider/notes/{note.id}/sign").status_code == 409
    assert client.post(f"/provider/notes/{note.id}/delete").status_code == 409
    assert ChartNote.select().count() == 1

    r = client.post(f"/provider/notes/{note.id}/addenda", data={"body": "Client called: better."})
    assert r.status_code == 302
    add = NoteAddendum.get()
    assert add.author_id == world.a.therapist.id and add.body == "Client called: better."
    assert add.author_name == world.a.therapist.name
    page = client.get(f"/provider/notes/{note.id}").get_data(as_text=True)
    assert "Client called: better." in page and world.a.therapist.name in page
    assert actions(action="note.addendum")


def test_empty_addendum_is_refused(client, world):
    note = make_note(world.a.therapist, world.a.c1, world.a.provider.id, sign=True)
    login(client, world.a.therapist)
    r = client.post(f"/provider/notes/{note.id}/addenda", data={"body": "  "})
    assert r.status_code == 400
    assert NoteAddendum.select().count() == 0


def test_addendum_on_a_draft_is_refused(client, world):
    note = make_note(world.a.therapist, world.a.c1, world.a.provider.id)
    login(client, world.a.therapist)
    r = client.post(f"/provider/notes/{note.id}/addenda", data={"body": "x"})
    assert r.status_code == 400
    assert "addenda follow signing" in r.get_data(as_text=True)


def test_only_the_notes_therapist_signs(client, world):
    note = make_note(world.a.therapist, world.a.c1, world.a.provider.id)
    login(client, world.a.owner)  # the owner has no provider record here
    r = client.post(f"/provider/notes/{note.id}/sign")
    assert r.status_code == 403
    assert ChartNote.get_by_id(note.id).status == "draft"


def test_discard_a_draft(client, world):
    note = make_note(world.a.therapist, world.a.c1, world.a.provider.id)
    login(client, world.a.therapist)
    r = client.post(f"/provider/notes/{note.id}/delete")
    assert r.status_code == 302
    assert ChartNote.select().count() == 0 and NoteMinutes.select().count() == 0
    assert actions(action="note.delete")


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="make test installs poppler-utils")
def test_note_pdf_reads_back(client, world, tmp_path):
    note = make_note(world.a.therapist, world.a.c1, world.a.provider.id, sign=True)
    from portal.services import charting as svc

    svc.add_addendum(world.a.therapist, note, "Follow-up call: pain 1/10.")
    login(client, world.a.therapist)
    r = client.get(f"/provider/notes/{note.id}/pdf")
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/pdf"
    assert r.headers["Cache-Control"] == "no-store"
    assert world.a.c1.last_name not in r.headers["Content-Disposition"]
    path = tmp_path / "note.pdf"
    path.write_bytes(r.data)
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True, text=True
    ).stdout
    for expected in (
        "Chart note",
        world.a.c1.first_name,
        "Neck stiffness.",
        "Tight upper trapezius.",
        "Back of neck",
        "Upper back",
        "97124",
        "45",
        "M54.2",
        "Cervicalgia",
        "Electronically signed by " + world.a.provider.display_name,
        "Follow-up call: pain 1/10.",
    ):
        assert expected in text, expected
    assert "DRAFT" not in text
    assert actions(action="note.pdf", object_id=note.id)


def test_draft_pdf_is_marked(client, world, tmp_path):
    note = make_note(world.a.therapist, world.a.c1, world.a.provider.id)
    login(client, world.a.therapist)
    r = client.get(f"/provider/notes/{note.id}/pdf")
    path = tmp_path / "d.pdf"
    path.write_bytes(r.data)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True).stdout
    assert "DRAFT, NOT SIGNED" in text


# --- the client page section, unsigned notes ------------------------------------------------


def test_client_notes_section_is_a_fragment_for_htmx(client, world):
    note = make_note(world.a.therapist, world.a.c1, world.a.provider.id, sign=True)
    make_note(world.a.therapist, world.a.c2, world.a.provider.id)  # another client's
    login(client, world.a.therapist)
    r = client.get(f"/provider/clients/{world.a.c1.id}/notes", headers={"HX-Request": "true"})
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "HX-Request" in r.headers["Vary"]
    assert html.lstrip().startswith('<div id="client-notes"')
    assert f"/provider/notes/{note.id}" in html and "M54.2" in html and "Signed" in html
    assert html.count("/provider/notes/") == 1
    full = client.get(f"/provider/clients/{world.a.c1.id}/notes").get_data(as_text=True)
    assert "<html" in full and 'id="client-notes"' in full
    assert actions(action="note.list", client_id=world.a.c1.id)


def test_unsigned_notes_older_than_a_day(app, client, world, monkeypatch):
    t0 = dt.datetime(2026, 11, 20, 18, 0)
    monkeypatch.setattr(clock, "utcnow", lambda: t0)
    old = make_note(world.a.therapist, world.a.c1, world.a.provider.id)
    other = make_note(world.a.owner, world.a.c2, world.a.provider2.id)  # another therapist's
    monkeypatch.setattr(clock, "utcnow", lambda: t0 + dt.timedelta(hours=20))
    fresh = make_note(world.a.therapist, world.a.c2, world.a.provider.id)
    monkeypatch.setattr(clock, "utcnow", lambda: t0 + dt.timedelta(hours=26))
    login(client, world.a.therapist)
    html = client.get("/provider/notes/unsigned").get_data(as_text=True)
    assert f"/provider/notes/{old.id}" in html
    assert f"/provider/notes/{fresh.id}" not in html  # 6 hours old
    assert f"/provider/notes/{other.id}" not in html  # not theirs
    assert "(1 day ago)" in html and "days ago" not in html
    home = client.get("/provider/").get_data(as_text=True)
    assert 'id="unsigned-notes-panel"' in home
    # one sentence, the count in it: the home does not load charting.css, where a count in
    # a paragraph of its own read as a stray "1" above "unsigned note older than a day"
    assert '<strong class="count">1</strong> unsigned note older than a day' in home
    assert world.a.c1.first_name not in home  # the panel shows a count, not names
    owner = app.test_client()
    login(owner, world.a.owner)
    html = owner.get("/provider/notes/unsigned").get_data(as_text=True)
    assert f"/provider/notes/{old.id}" in html and f"/provider/notes/{other.id}" in html


# --- access -------------------------------------------------------------------------------------


def _note_urls(note, client_id):
    return [
        ("GET", f"/provider/notes/{note.id}"),
        ("GET", f"/provider/notes/{note.id}/edit"),
        ("GET", f"/provider/notes/{note.id}/pdf"),
        ("POST", f"/provider/notes/{note.id}/edit"),
        ("POST", f"/provider/notes/{note.id}/sign"),
        ("POST", f"/provider/notes/{note.id}/addenda"),
        ("POST", f"/provider/notes/{note.id}/delete"),
        ("GET", f"/provider/clients/{client_id}/notes"),
        ("GET", f"/provider/clients/{client_id}/notes/new"),
        ("POST", f"/provider/clients/{client_id}/notes/new"),
    ]


def _call(client, method, url):
    if method == "GET":
        return client.get(url)
    return client.post(url, data={"body": "x", "subjective": "x"})


@pytest.mark.parametrize("who", ["frontdesk", "other_practice_therapist", "other_practice_owner"])
def test_refused_with_404_and_audited(client, world, who):
    note = make_note(world.a.therapist, world.a.c1, world.a.provider.id)
    user = {
        "frontdesk": world.a.frontdesk,
        "other_practice_therapist": world.b.therapist,
        "other_practice_owner": world.b.owner,
    }[who]
    login(client, user)
    # One row in the refused user's own log per request (a probe from practice b is also
    # written to practice a's log: tests/hardening/test_invites_and_audit.py).
    own = AuditLog.select().where(
        (AuditLog.action == "access.denied") & (AuditLog.practice_id == user.practice_id)
    )
    for method, url in _note_urls(note, world.a.c1.id):
        before = own.count()
        r = _call(client, method, url)
        assert r.status_code == 404, (method, url, r.status_code)
        assert world.a.c1.first_name not in r.get_data(as_text=True)
        assert own.count() == before + 1, (method, url)
    assert ChartNote.get_by_id(note.id).subjective == "Neck stiffness."
    assert NoteAddendum.select().count() == 0


def test_client_users_never_see_notes(client, world):
    note = make_note(world.a.therapist, world.a.c1, world.a.provider.id, sign=True)
    login(client, world.a.cu1)  # the note's own client
    for method, url in _note_urls(note, world.a.c1.id):
        assert _call(client, method, url).status_code == 404, url


def test_logged_out_goes_to_login(client, world):
    note = make_note(world.a.therapist, world.a.c1, world.a.provider.id)
    for method, url in _note_urls(note, world.a.c1.id):
        r = _call(client, method, url)
        if method == "GET":
            assert r.status_code == 302 and "/login" in r.headers["Location"], url
        else:
            assert r.status_code in (302, 400), url  # no CSRF session yet -> 400 first
    assert client.get("/provider/notes/unsigned").status_code == 302


def test_therapist_sees_only_own_clients_when_the_practice_says_so(client, world):
    note = make_note(world.a.owner, world.a.c2, world.a.provider2.id)  # c2 is provider2's
    login(client, world.a.therapist)
    assert client.get(f"/provider/notes/{note.id}").status_code == 200
    world.a.practice.therapists_see_all_clients = False
    world.a.practice.save()
    assert client.get(f"/provider/notes/{note.id}").status_code == 404
    assert client.get(f"/provider/clients/{world.a.c2.id}/notes").status_code == 404
    assert client.get(f"/provider/clients/{world.a.c1.id}/notes").status_code == 200


def test_therapist_cannot_edit_another_therapists_draft(client, world):
    note = make_note(world.a.owner, world.a.c2, world.a.provider2.id)
    login(client, world.a.therapist)
    r = client.post(f"/provider/notes/{note.id}/edit", data=form_data(world.a.provider.id))
    assert r.status_code == 403
    assert ChartNote.get_by_id(note.id).provider_id == world.a.provider2.id


def test_therapist_cannot_write_under_another_provider(client, world):
    r = write_note(client, world, provider=str(world.a.provider2.id))
    assert r.status_code == 400
    assert ChartNote.select().count() == 0


def test_owner_writes_for_a_chosen_provider(client, world):
    login(client, world.a.owner)
    r = client.post(
        f"/provider/clients/{world.a.c2.id}/notes/new", data=form_data(world.a.provider2.id)
    )
    assert r.status_code == 302
    assert ChartNote.get().provider_id == world.a.provider2.id


def test_foreign_provider_id_is_refused(client, world):
    login(client, world.a.owner)
    r = client.post(
        f"/provider/clients/{world.a.c1.id}/notes/new", data=form_data(world.b.provider.id)
    )
    assert r.status_code == 400
    assert ChartNote.select().count() == 0


def test_post_routes_need_csrf(client, world):
    note = make_note(world.a.therapist, world.a.c1, world.a.provider.id, sign=True)
    login(client, world.a.therapist)
    for method, url in _note_urls(note, world.a.c1.id):
        if method == "POST":
            assert client.post(url, data={"body": "x"}, csrf=False).status_code == 400, url
    assert NoteAddendum.select().count() == 0


def _appointment(world, client, start):
    from portal.models import Appointment, AppointmentType

    t = AppointmentType.create(practice=world.a.practice, name="Massage 60", duration_minutes=60)
    return Appointment.create(
        practice=world.a.practice,
        client=client,
        provider=world.a.provider,
        appointment_type=t,
        starts_at=start,
        ends_at=start + dt.timedelta(hours=1),
        blocked_until=start + dt.timedelta(hours=1),
        status="completed",
    )


def test_a_note_from_an_appointment(client, world):
    # 02:30 UTC on the 21st is the evening of the 20th in Los Angeles (the practice's zone).
    appt = _appointment(world, world.a.c1, dt.datetime(2026, 11, 21, 2, 30))
    other = _appointment(world, world.a.c2, dt.datetime(2026, 11, 22, 18, 0))
    login(client, world.a.therapist)
    html = client.get(
        f"/provider/clients/{world.a.c1.id}/notes/new?appointment={appt.id}"
    ).get_data(as_text=True)
    assert 'value="2026-11-20"' in html
    assert f'<option selected value="{appt.id}">' in html
    appt_select = html[
        html.index('id="appointment"') : html.index("</select>", html.index('id="appointment"'))
    ]
    assert f'value="{other.id}"' not in appt_select  # another client's visit is not offered
    r = client.post(
        f"/provider/clients/{world.a.c1.id}/notes/new",
        data=form_data(world.a.provider.id, appointment=str(other.id)),
    )
    assert r.status_code == 400
    r = client.post(
        f"/provider/clients/{world.a.c1.id}/notes/new",
        data=form_data(world.a.provider.id, appointment=str(appt.id)),
    )
    assert r.status_code == 302
    assert ChartNote.get().appointment_id == appt.id


def test_a_note_whose_coding_would_hold_the_claim_says_so_before_and_after_signing(
    app, client, world
):
    """The note form's 45 min of 97124 and 15 of 97140 with one diagnosis: the payer takes
    the pair only with each on its own diagnosis, so the claim made at signing is held.
    The draft's page says so before signing, signing is not blocked, and the signed note's
    page says it again; a note with two diagnoses says nothing, a payer refusing the pair
    its own words; another practice's note stays 404."""
    a = world.a
    with app.test_request_context():
        appt, policy = cf.insured_visit(a, diagnoses=("M54.50",), sign=False)
        fine, _ = cf.insured_visit(a, client=a.c2, hour=18, sign=False)
        refused, refusing = cf.insured_visit(
            world.b, payer_kw={"allow_97124_97140": False}, sign=False
        )
    note, other, theirs = (
        ChartNote.get(ChartNote.appointment == x.id) for x in (appt, fine, refused)
    )
    payer = policy.payer.name
    words = (
        "97124 and 97140 on one date: give each its own diagnosis (its own body region) "
        f"for {payer}, or the claim is held."
    )
    login(client, a.therapist)
    html = client.get(f"/provider/notes/{note.id}").get_data(as_text=True)
    assert "Before you sign: the insurance claim would be held" in html and words in html
    r = client.post(f"/provider/notes/{note.id}/sign", data={"version": page_version(html)})
    assert r.status_code == 302 and ChartNote.get_by_id(note.id).is_signed
    [claim] = Claim.select().where(Claim.appointment == appt.id)
    assert claim.held  # signing was not blocked; the claim waits, as the page warned
    html = client.get(f"/provider/notes/{note.id}").get_data(as_text=True)
    assert "The insurance claim for this visit is held until this is fixed" in html
    assert words in html
    html = client.get(f"/provider/notes/{other.id}").get_data(as_text=True)
    assert "claim-warnings" not in html
    assert client.get(f"/provider/notes/{theirs.id}").status_code == 404
    theirs_client = app.test_client()
    login(theirs_client, world.b.therapist)
    html = theirs_client.get(f"/provider/notes/{theirs.id}").get_data(as_text=True)
    assert f"{refusing.payer.name} does not take 97124 and 97140 on one date" in html
