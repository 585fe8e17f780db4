"""Owner settings (note templates, CPT codes), ICD-10 lookup, autocomplete and favourites,
the body diagram's coverage of every region, and the demo's charting data."""

import re

import pytest

from portal.models import AuditLog, ChartNote, Icd10Favourite, NoteAddendum, NoteTemplate
from portal.rules import charting as rules
from portal.services import note_templates
from tests.conftest import login


def test_owner_adds_and_edits_the_default_template(client, world):
    login(client, world.a.owner)
    assert client.get("/provider/settings/charting/templates").status_code == 200
    r = client.post("/provider/settings/charting/templates/default")
    t = NoteTemplate.get()
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/templates/{t.id}")
    page = client.get(f"/provider/settings/charting/templates/{t.id}").get_data(as_text=True)
    assert "Chief complaint:" in page
    r = client.post(
        f"/provider/settings/charting/templates/{t.id}",
        data={
            "name": "Sports massage",
            "subjective": "Sport and training load:",
            "objective": "",
            "assessment": "",
            "plan": "",
            "techniques": "Sports massage\nAssisted stretching\n\nSports massage",
            "is_default": "y",
            "active": "y",
        },
    )
    assert r.status_code == 302
    t = NoteTemplate.get_by_id(t.id)
    assert t.name == "Sports massage" and t.technique_list == [
        "Sports massage",
        "Assisted stretching",
    ]
    assert AuditLog.get(AuditLog.action == "note_template.update").detail
    # New notes start from it.
    therapist = client.application.test_client()
    login(therapist, world.a.therapist)
    form = therapist.get(f"/provider/clients/{world.a.c1.id}/notes/new").get_data(as_text=True)
    assert "Sport and training load:" in form and "Assisted stretching" in form


def test_template_needs_a_name(client, world):
    login(client, world.a.owner)
    r = client.post("/provider/settings/charting/templates/new", data={"name": ""})
    assert r.status_code == 400 and "Name the template" in r.get_data(as_text=True)


@pytest.mark.parametrize("who", ["therapist", "frontdesk"])
def test_settings_are_for_the_owner(client, world, who):
    t = note_templates.ensure_default_template(world.a.practice.id)
    login(client, getattr(world.a, who))
    for url in (
        "/provider/settings/charting/templates",
        f"/provider/settings/charting/templates/{t.id}",
        "/provider/settings/charting/codes",
    ):
        assert client.get(url).status_code == 404, url
    assert (
        client.post("/provider/settings/charting/codes", data={"code": "97112"}).status_code == 404
    )


def test_another_practices_template_is_404(client, world):
    t = note_templates.ensure_default_template(world.b.practice.id)
    login(client, world.a.owner)
    assert client.get(f"/provider/settings/charting/templates/{t.id}").status_code == 404
    assert AuditLog.select().where(AuditLog.action == "access.denied").exists()


def test_owner_adds_and_hides_cpt_codes(client, world):
    login(client, world.a.owner)
    r = client.post(
        "/provider/settings/charting/codes",
        data={"code": "97112", "description": "Neuromuscular re-education"},
    )
    assert r.status_code == 302
    r = client.post("/provider/settings/charting/codes", data={"code": "97", "description": "x"})
    assert r.status_code == 400 and "5 characters" in r.get_data(as_text=True)
    r = client.post(
        "/provider/settings/charting/codes/toggle", data={"code": "97140", "active": "0"}
    )
    assert r.status_code == 302
    form = client.get(f"/provider/clients/{world.a.c1.id}/notes/new").get_data(as_text=True)
    assert 'name="minutes-97112"' in form and 'name="minutes-97124"' in form
    assert 'name="minutes-97140"' not in form


def test_icd10_lookup_page_for_all_staff(client, world):
    login(client, world.a.frontdesk)
    assert client.get("/provider/icd10").status_code == 200
    r = client.post("/provider/icd10", data={"q": "M54.5"})
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    assert "M54.5 is a category, not a billable code" in html and "M54.50" in html
    assert "Add to favourites" not in html  # the front desk does not edit favourites


def test_autocomplete_fragment(client, world):
    login(client, world.a.therapist)
    r = client.post(
        "/provider/icd10/suggest", data={"dx_new": "low back"}, headers={"HX-Request": "true"}
    )
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and html.lstrip().startswith('<div id="dx-suggestions"')
    assert 'data-code="M54.50"' in html
    assert "low back" not in r.headers.get("Location", "")
    r = client.post("/provider/icd10/suggest", data={"dx_new": "M54.5"})
    assert 'data-code="M54.50"' in r.get_data(as_text=True)
    assert 'class="suggest-category"' in r.get_data(as_text=True)  # M54.5 is not pickable
    assert client.get("/provider/icd10/suggest").status_code == 405


def test_autocomplete_logged_out_and_client_user(app, client, world):
    r = client.post("/provider/icd10/suggest", data={"dx_new": "low back"})
    assert r.status_code == 302 and "/login" in r.headers["Location"]
    cu = app.test_client()
    login(cu, world.a.cu1)
    assert cu.post("/provider/icd10/suggest", data={"dx_new": "low back"}).status_code == 404


def test_favourites(client, world):
    login(client, world.a.therapist)
    client.post("/provider/icd10/favourites", data={"code": "m5450"})
    fav = Icd10Favourite.get()
    assert fav.code == "M54.50" and fav.practice_id == world.a.practice.id
    r = client.post("/provider/icd10/favourites", data={"code": "M54.5"}, follow_redirects=True)
    assert "not a billable code" in r.get_data(as_text=True)
    assert Icd10Favourite.select().count() == 1
    form = client.get(f"/provider/clients/{world.a.c1.id}/notes/new").get_data(as_text=True)
    assert 'id="dx-favourites"' in form and 'value="M54.50"' in form
    other = Icd10Favourite.create(practice=world.b.practice, code="M54.2")
    assert client.post(f"/provider/icd10/favourites/{other.id}/delete").status_code == 404
    assert client.post(f"/provider/icd10/favourites/{fav.id}/delete").status_code == 302
    assert Icd10Favourite.select().count() == 1  # only the other practice's is left


def test_front_desk_cannot_change_favourites(client, world):
    login(client, world.a.frontdesk)
    assert client.post("/provider/icd10/favourites", data={"code": "M54.50"}).status_code == 404
    assert Icd10Favourite.select().count() == 0


def test_body_diagram_draws_every_region_and_lists_a_checkbox_for_each(client, world):
    login(client, world.a.therapist)
    html = client.get(f"/provider/clients/{world.a.c1.id}/notes/new").get_data(as_text=True)
    svg = html[html.index("<svg") : html.index("</svg>")]
    drawn = set(re.findall(r'data-region="([a-z-]+)"', svg))
    ids = {r for r, _, _ in rules.REGIONS}
    assert drawn == ids
    boxes = set(re.findall(r'name="regions" value="([a-z-]+)"', html))
    assert boxes == ids
    assert 'aria-hidden="true"' in svg  # the list is the accessible input
    assert "<script>" not in html and " style=" not in html and " onclick" not in html


def test_demo_charting(app):
    from portal import demo

    with app.test_request_context():
        ctx = demo.load()
    client_id = ctx["client"].id
    # the charting demo's two notes (the claims demo adds signed notes of billed visits)
    notes = [ChartNote.get_by_id(n.id) for n in ctx["notes"]]
    assert [n.status for n in notes] == ["signed", "draft"]
    assert {n.client_id for n in notes} == {client_id}
    assert NoteAddendum.select().where(NoteAddendum.note == notes[0].id).count() == 1
    assert NoteTemplate.select().count() == 1
    c = app.test_client()
    login(c, "therapist@demo.example", password=demo.DEMO_PASSWORDS["therapist@demo.example"])
    page = c.get("/provider/notes/unsigned").get_data(as_text=True)
    assert f"/provider/notes/{notes[1].id}" in page
