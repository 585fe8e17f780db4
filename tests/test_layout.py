"""The layouts' fixed links (portal/layout.py): built once per script root, each the URL
url_for gives, and the navigation each kind of user sees."""

import re

from flask import url_for

from portal import layout
from tests.conftest import login


def _check(app, base_url):
    with app.test_request_context("/", base_url=base_url):
        links = layout.links(app.jinja_env.globals["HTMX_JS"])
        for endpoint, href in links.url.items():
            assert href == url_for(endpoint)
        for name in layout.STATIC_FILES:
            assert links.static[name] == url_for("static", filename=name)
        assert links.static["htmx"] == url_for("static", filename=app.jinja_env.globals["HTMX_JS"])
        for nav in (links.staff_nav, links.owner_nav, links.client_nav):
            for label, endpoint, section, href in nav:
                assert href == url_for(endpoint) and endpoint.endswith("." + section) and label
        return links


def test_links_are_url_for_and_follow_the_script_root(app):
    at_root = _check(app, "http://localhost/")
    mounted = _check(app, "http://localhost/portal-sub/")
    assert mounted is not at_root
    assert mounted.url["provider.clients"] == "/portal-sub" + at_root.url["provider.clients"]
    assert _check(app, "http://localhost/") is at_root  # kept, not rebuilt


def _nav_labels(html):
    nav = re.search(r'<nav class="mainnav".*?</nav>', html, re.S).group(0)
    return re.findall(r'class="nav-link[^"]*"[^>]*>([A-Z][a-z]+)', nav)


def test_owner_and_staff_navigation(app, client, world):
    login(client, world.a.owner)
    html = client.get("/provider/clients").get_data(as_text=True)
    assert _nav_labels(html) == [
        "Today",
        "Schedule",
        "Clients",
        "Messages",
        "Billing",
        "Claims",
        "Reports",
        "Settings",
    ]
    assert re.search(r'href="/provider/clients" class="nav-link active" aria-current="page"', html)
    therapist = app.test_client()
    login(therapist, world.a.therapist)
    html = therapist.get("/provider/").get_data(as_text=True)
    assert _nav_labels(html) == ["Today", "Schedule", "Clients", "Messages", "Billing", "Claims"]
    assert 'id="messages-live"' in html and 'id="messages-badge"' in html


def test_client_portal_navigation(app, world):
    client = app.test_client()
    login(client, world.a.cu1)
    html = client.get("/portal/").get_data(as_text=True)
    assert _nav_labels(html) == [
        "Home",
        "Book",
        "Appointments",
        "Invoices",
        "Documents",
        "Insurance",
        "Forms",
        "Messages",
    ]
    assert re.search(r'href="/portal/" class="nav-link active" aria-current="page">Home<', html)
    assert 'id="messages-live"' in html and 'id="messages-badge"' in html
    assert 'href="/static/css/client.css"' in html


def test_no_lead_paragraph_opens_a_card():
    """`.lead` pulls itself up under the page's heading (a negative top margin): as the first
    thing in a card it touched the card's top border (the desk's package sale did)."""
    import pathlib

    root = pathlib.Path(__file__).resolve().parent.parent / "templates"
    opening = re.compile(r'<section class="card[^"]*"[^>]*>\s*<p class="lead')
    pages = root.rglob("*.html")
    found = [str(p.relative_to(root)) for p in pages if opening.search(p.read_text())]
    assert found == []
