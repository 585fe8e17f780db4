"""render(): the whole page, or one block of it for an HTMX request, with Vary: HX-Request."""

from portal.htmx import render
from tests.conftest import login


def test_full_page_or_fragment(client, world):
    login(client, world.a.owner)
    full = client.get("/provider/settings/audit")
    assert "<html" in full.get_data(as_text=True)
    assert "HX-Request" in full.headers["Vary"]
    part = client.get("/provider/settings/audit", headers={"HX-Request": "true"})
    body = part.get_data(as_text=True)
    assert "<html" not in body and body.lstrip().startswith('<div id="audit-results">')
    assert "HX-Request" in part.headers["Vary"]
    # A history restore gets the whole page.
    restore = client.get(
        "/provider/settings/audit",
        headers={"HX-Request": "true", "HX-History-Restore-Request": "true"},
    )
    assert "<html" in restore.get_data(as_text=True)


def test_a_page_may_pass_a_template_variable(app, world):
    with app.test_request_context("/", headers={"HX-Request": "true"}):
        resp = render("errors/error.html", code=404, title="T", message="M", template="mine")
        assert "T" in resp.get_data(as_text=True)
        resp = render("owner/audit.html", block="audit_results", rows=[], template="x")
        assert resp.get_data(as_text=True).strip().startswith('<div id="audit-results">')
