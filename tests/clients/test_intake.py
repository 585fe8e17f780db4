"""Intake: the owner edits forms; clients sign in the portal or on the front-desk tablet;
submissions are immutable, flagged, printable as PDF."""

import subprocess

import pytest
from peewee import IntegrityError

from portal.models import AuditLog, IntakeField, IntakeForm, IntakeSubmission
from portal.services import coverage
from tests.clients import helpers as h
from tests.conftest import login


def _answers(form, **override):
    fields = {f.label: f for f in form.active_fields()}
    data = {
        f"q{fields['Reason for visit'].id}": "Low back pain",
        f"q{fields['Blood clots?'].id}": "yes",
        f"q{fields['Blood clots?'].id}_details": "DVT in 2024",
        f"q{fields['Pressure'].id}": "Firm",
        f"q{fields['I consent'].id}": "yes",
        "signature_name": "Client Person",
    }
    data.update(override)
    return data


def test_owner_builds_a_form_with_flagged_question(app, client, world):
    login(client, world.a.owner)
    r = client.post(
        "/provider/intake/forms/new",
        data={
            "title": "Health history",
            "kind": "health_history",
            "description": "Before your visit",
            "position": "1",
            "active": "y",
        },
    )
    assert r.status_code == 302
    form = IntakeForm.get()
    r = client.post(
        f"/provider/intake/forms/{form.id}/fields/new",
        data={
            "label": "Pressure",
            "field_type": "choice",
            "choices_text": "Light",
            "position": "1",
            "active": "y",
        },
    )
    assert r.status_code == 400 and "at least two choices" in r.get_data(as_text=True)
    r = client.post(
        f"/provider/intake/forms/{form.id}/fields/new",
        data={"label": "Name", "field_type": "text", "flag": "y", "position": "1", "active": "y"},
    )
    assert r.status_code == 400 and "Only a checkbox or a yes/no" in r.get_data(as_text=True)
    r = client.post(
        f"/provider/intake/forms/{form.id}/fields/new",
        data={
            "label": "Blood clots?",
            "field_type": "yes_no",
            "flag": "y",
            "flag_label": "Contraindication: blood clots",
            "position": "2",
            "active": "y",
        },
    )
    assert r.status_code == 302
    f = IntakeField.get()
    assert (f.form_id, f.flag, f.flag_label, f.field_type) == (
        form.id,
        True,
        "Contraindication: blood clots",
        "yes_no",
    )
    r = client.post(
        f"/provider/intake/fields/{f.id}/edit",
        data={
            "label": "Blood clots or DVT?",
            "field_type": "yes_no",
            "flag": "y",
            "position": "2",
            "active": "y",
        },
    )
    assert r.status_code == 302 and IntakeField.get().label == "Blood clots or DVT?"


@pytest.mark.parametrize("role", ["therapist", "frontdesk"])
def test_only_the_owner_edits_forms(app, client, world, role):
    form = h.intake_form(world.a.practice)
    login(client, getattr(world.a, role))
    assert client.get("/provider/intake/forms").status_code == 404
    assert client.get(f"/provider/intake/forms/{form.id}").status_code == 404
    assert client.post("/provider/intake/forms/new", data={"title": "x"}).status_code == 404


def test_client_fills_signs_and_gets_a_pdf(app, client, world):
    form = h.intake_form(world.a.practice)
    login(client, world.a.cu1)
    page = client.get("/portal/intake").get_data(as_text=True)
    assert "Health history" in page and "Not signed yet" in page
    r = client.post(
        f"/portal/intake/{form.id}",
        data=_answers(form, signature_name="", **{f"q{form.active_fields()[3].id}": ""}),
    )
    assert r.status_code == 400
    text = r.get_data(as_text=True)
    assert "Type your full name to sign." in text and "Check this box to continue." in text
    assert IntakeSubmission.select().count() == 0
    r = client.post(f"/portal/intake/{form.id}", data=_answers(form, signature_name="Client"))
    assert r.status_code == 400 and "first and last name" in r.get_data(as_text=True)
    r = client.post(
        f"/portal/intake/{form.id}",
        data=_answers(form),
        headers={"User-Agent": "PhoneBrowser/1.0"},
        environ_base={"REMOTE_ADDR": "198.51.100.7"},
    )
    assert r.status_code == 302
    sub = IntakeSubmission.get()
    assert (sub.client_id, sub.signature_name, sub.signed_ip, sub.via, sub.user_agent) == (
        world.a.c1.id,
        "Client Person",
        "198.51.100.7",
        "portal",
        "PhoneBrowser/1.0",
    )
    assert sub.flags == ["Contraindication: blood clots (DVT in 2024)"]
    assert [a["answer"] for a in sub.answers] == ["Low back pain", "Yes", "Firm", "Yes"]
    assert coverage.intake_flags(world.a.c1) == ["Contraindication: blood clots (DVT in 2024)"]
    assert AuditLog.select().where(AuditLog.action == "intake.sign").count() == 1
    r = client.get(f"/portal/intake/submissions/{sub.id}/pdf")
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    text = subprocess.run(
        ["pdftotext", "-", "-"], input=r.data, capture_output=True, check=True
    ).stdout.decode()
    for s in (
        "Health history",
        "Low back pain",
        "Contraindication: blood clots",
        "Client Person",
        "198.51.100.7",
        sub.content_sha256[:20],
    ):
        assert s in text, s


def test_submission_is_immutable_in_the_database(app, world):
    form = h.intake_form(world.a.practice)
    with app.test_request_context():
        from portal.services import intake as svc

        answers, errors = svc.read_answers(form, _answers(form))
        assert not errors
        sub = svc.submit(form, world.a.c1, answers, "Client Person", world.a.cu1)
    sub.signature_name = "Someone Else"
    with pytest.raises(IntegrityError, match="immutable"):
        sub.save()
    assert IntakeSubmission.get().signature_name == "Client Person"


def test_editing_a_question_does_not_change_a_signed_form(app, client, world):
    form = h.intake_form(world.a.practice)
    login(client, world.a.cu1)
    client.post(f"/portal/intake/{form.id}", data=_answers(form))
    IntakeField.update(label="Changed question").execute()
    assert IntakeSubmission.get().answers[0]["label"] == "Reason for visit"


def test_staff_view_of_answers_is_for_clinicians_only(app, client, world):
    form = h.intake_form(world.a.practice)
    login(client, world.a.cu1)
    client.post(f"/portal/intake/{form.id}", data=_answers(form))
    client.post("/logout")
    sub = IntakeSubmission.get()
    login(client, world.a.frontdesk)
    assert client.get(f"/provider/intake/submissions/{sub.id}").status_code == 404
    assert client.get(f"/provider/intake/submissions/{sub.id}/pdf").status_code == 404
    client.post("/logout")
    login(client, world.a.therapist)
    r = client.get(f"/provider/intake/submissions/{sub.id}")
    assert r.status_code == 200 and "DVT in 2024" in r.get_data(as_text=True)
    assert AuditLog.select().where(AuditLog.action == "intake.view").count() == 1
    assert client.get(f"/provider/intake/submissions/{sub.id}/pdf").status_code == 200


def test_front_desk_tablet_mode_locks_until_the_password(app, client, world):
    form = h.intake_form(world.a.practice)
    login(client, world.a.frontdesk)
    r = client.post(f"/provider/clients/{world.a.c1.id}/tablet", data={"form": str(form.id)})
    assert r.status_code == 302 and r.headers["Location"].endswith("/provider/tablet")
    page = client.get("/provider/tablet").get_data(as_text=True)
    assert "Health history" in page and 'class="mainnav"' not in page
    # while the client holds the tablet, staff pages are out of reach
    r = client.get(f"/provider/clients/{world.a.c2.id}")
    assert r.status_code == 302 and r.headers["Location"].endswith("/provider/tablet")
    r = client.post("/provider/tablet", data=_answers(form))
    assert r.status_code == 302
    sub = IntakeSubmission.get()
    assert (sub.via, sub.client_id, sub.submitted_by_id) == (
        "tablet",
        world.a.c1.id,
        world.a.frontdesk.id,
    )
    assert "hand the tablet back" in client.get("/provider/tablet").get_data(as_text=True)
    assert client.get("/provider/clients").status_code == 302
    r = client.post("/provider/tablet/return", data={"password": "wrong"})
    assert r.status_code == 400 and "not right" in r.get_data(as_text=True)
    from tests.factories import PASSWORD

    r = client.post("/provider/tablet/return", data={"password": PASSWORD})
    assert r.status_code == 302
    assert client.get("/provider/clients").status_code == 200


def test_tablet_for_another_practices_client_or_form_is_refused(app, client, world):
    form = h.intake_form(world.a.practice)
    other_form = h.intake_form(world.b.practice)
    login(client, world.a.frontdesk)
    assert (
        client.post(
            f"/provider/clients/{world.b.c1.id}/tablet", data={"form": str(form.id)}
        ).status_code
        == 404
    )
    r = client.post(f"/provider/clients/{world.a.c1.id}/tablet", data={"form": str(other_form.id)})
    assert r.status_code == 302 and not client.get("/provider/clients").status_code == 302


def test_owner_adds_the_default_health_history(app, client, world):
    login(client, world.a.owner)
    r = client.post("/provider/intake/forms/default")
    assert r.status_code == 302
    form = IntakeForm.get()
    assert (form.practice_id, form.title) == (world.a.practice.id, "Health history")
    flagged = [f.flag_label for f in form.fields if f.flag]
    assert "Contraindication: blood clots / DVT" in flagged
    assert client.get("/provider/intake/forms").status_code == 200
    client.post("/logout")
    login(client, world.a.frontdesk)
    assert client.post("/provider/intake/forms/default").status_code == 404
