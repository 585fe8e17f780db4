"""axe-core on every staff page of the demo (issue 11): 0 critical and 0 serious
violations; and no tap target under 44 x 44 px on the main tablet and phone pages."""

import datetime as dt

import pytest
from werkzeug.exceptions import HTTPException

from portal import clock, demo
from portal.models import Appointment, Invoice, PackageDefinition
from tests.a11y import axe_violations, crawl, small_targets
from tests.browser.helpers import login
from tests.routes import rules

pytestmark = pytest.mark.browser
IMPACTS = ("critical", "serious", "moderate", "minor")


def _login(page, base, email):
    login(page, base, email, demo.DEMO_PASSWORDS[email])


def _route_of(app):
    adapter = app.url_map.bind("localhost")

    def route(path):
        try:
            return adapter.match(path, method="GET")[0]
        except HTTPException:
            return path

    return route


def test_axe_finds_no_serious_violation_on_any_staff_page(app, live_server, page):
    with app.test_request_context():
        demo.load()
    _login(page, live_server, "owner@demo.example")
    # every page linked from the home page on, and every page of the URL map without ids
    plain = [url for rule, url in rules(app, "GET", "/provider") if not rule.arguments]
    pages = crawl(
        page, live_server, "/provider/", limit=150, per_route=1, route_of=_route_of(app), also=plain
    )
    assert len(pages) >= 40, pages
    found = {}
    for url in pages:
        page.goto(url)
        bad = axe_violations(page, impacts=IMPACTS)
        if bad:
            found[url.removeprefix(live_server)] = bad
    report = [
        f"{url}: {v['id']} ({v['impact']}, {v['count']}x) {v['nodes']}"
        for url, vs in found.items()
        for v in vs
    ]
    assert not found, f"{len(pages)} pages checked; violations:\n" + "\n".join(report)


TABLET = {"width": 1024, "height": 768}
PHONE = {"width": 390, "height": 844}


@pytest.mark.parametrize("viewport", [TABLET, PHONE], ids=["tablet", "phone"])
def test_tap_targets_on_the_main_tablet_pages(app, live_server, browser, viewport):
    with app.test_request_context():
        demo.load()
        now = clock.utcnow()
        appt = (
            Appointment.select()
            .where(Appointment.starts_at >= now - dt.timedelta(hours=12))
            .order_by(Appointment.starts_at)
            .first()
        )
        done = Appointment.select().where(Appointment.status == "completed").first()
        inv = Invoice.select().where(Invoice.number.is_null(False)).first()
        package = PackageDefinition.select().first()
        client_id = appt.client_id
    context = browser.new_context(viewport=viewport, has_touch=True)
    page = context.new_page()
    _login(page, live_server, "therapist@demo.example")
    urls = [
        "/provider/",
        "/provider/schedule/",
        "/provider/schedule/new",
        f"/provider/appointments/{appt.id}",
        f"/provider/appointments/{appt.id}/check-in",
        f"/provider/clients/{client_id}",
        "/provider/clients",
        f"/provider/clients/{client_id}/notes/new?appointment={appt.id}",
        f"/provider/billing/checkout/{done.id}",
        f"/provider/billing/invoices/{inv.id}",
        f"/provider/billing/checkout/{done.id}/sell/{package.id}",
        "/provider/notes/unsigned",
    ]
    small = {}
    for url in urls:
        resp = page.goto(live_server + url)
        assert resp.status == 200, url
        page.wait_for_load_state("networkidle")
        bad = small_targets(page)
        if bad:
            small[url] = bad
    context.close()
    report = [f"{url}: {item}" for url, items in small.items() for item in items]
    assert not small, "\n".join(report)
