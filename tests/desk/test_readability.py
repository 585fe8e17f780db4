"""Readable by everyone (issue 11 item 5), the parts a page's HTML shows: the audit log in
names and words, filtered by a client found by name (never a name in the URL); table
headers named; the settings and billing menus as menus. (Contrast and tap sizes are
measured in the browser: tests/browser/test_accessibility_axe.py.)"""

import re

from portal.models import AuditLog
from portal.rules.audit_words import action_words
from portal.services import client_merge
from tests import factories
from tests.conftest import login
from tests.routes import rules


def test_the_audit_log_reads_in_names_and_words_and_filters_by_a_client_found_by_name(
    app, client, world
):
    a = world.a
    with app.test_request_context():
        dup = factories.client(a.practice, first_name="Priya", last_name="Copy")
        client_merge.merge(a.c1, dup, user=a.owner)
    login(client, a.owner)
    client.get(f"/provider/clients/{a.c2.id}")  # a view of another client
    page = client.get("/provider/settings/audit").get_data(as_text=True)
    assert "Viewed a client&#39;s record" in page or "Viewed a client's record" in page
    assert a.c2.display_name in page and f"client #{a.c2.id}" not in page
    # the finder fills the filter: a POST with the words, the id in the URL
    r = client.post(
        "/provider/clients/find",
        data={"field": "client", "client_q": a.c1.last_name, "purpose": "audit"},
        headers={"HX-Request": "true"},
    )
    assert f'name="client" value="{a.c1.id}"' in r.get_data(as_text=True)
    filtered = client.get(f"/provider/settings/audit?client={a.c1.id}").get_data(as_text=True)
    assert "Merged a duplicate record into this client" in filtered
    assert "Merged this duplicate record into another" in filtered  # the duplicate's rows too
    assert "Viewed a client" not in filtered.split("<tbody>")[1]  # c2's view is filtered out
    assert f'value="{a.c1.id}" checked' in filtered
    page = client.get("/provider/settings/audit").get_data(as_text=True)
    assert 'form="audit-client-find"' in page and 'name="client_q"' in page
    # a made-up code still reads as words
    assert action_words("referral.update") == "Referral: update"
    assert AuditLog.select().where(AuditLog.action == "client.merge").count() == 1


def test_every_table_header_is_named(app, client, world):
    from portal import demo

    with app.test_request_context():
        demo.load()
    login(client, "owner@demo.example", password=demo.DEMO_PASSWORDS["owner@demo.example"])
    empty = []
    for rule, url in rules(app, "GET", "/provider"):
        if rule.arguments:
            continue
        response = client.get(url)
        if not response.mimetype.startswith("text/html"):
            continue  # a download (the practice export's ZIP, a PDF)
        body = response.get_data(as_text=True)
        if re.search(r"<th[^>]*>\s*</th>", body):
            empty.append(url)
    assert not empty


def test_settings_and_billing_menus_are_menus(app, client, world):
    login(client, world.a.owner)
    page = client.get("/provider/settings/audit").get_data(as_text=True)
    for heading in ("Practice", "Clients and notes", "Schedule", "Billing", "Records"):
        assert 'class="menu-head" id="menu-' in page and f">{heading}</p>" in page
    assert 'aria-current="page">Audit log</a>' in page
    billing = client.get("/provider/billing/packages").get_data(as_text=True)
    assert 'class="subnav menu-bar" aria-label="Billing"' in billing
    assert 'aria-current="page">Packages</a>' in billing
