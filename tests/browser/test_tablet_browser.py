"""Real browser (issue 9): while a client holds the front-desk tablet, typing the staff
user's account pages into the address bar lands back on the tablet form, and guessing the
staff password on "take the tablet back" is throttled with a clear message. Screenshots:
test-artifacts/tablet-*.png."""

import re

import pytest
from playwright.sync_api import expect

from portal.models import User
from tests import factories
from tests.clients import helpers as h

pytestmark = pytest.mark.browser


def test_tablet_lock_and_throttled_return(app, live_server, page, screenshot):
    with app.test_request_context():
        practice = factories.practice(name="Harbor Massage")
        desk = factories.user(practice, "frontdesk", name="Sam Front")
        client = factories.client(practice, first_name="Jordan", last_name="Avery")
        h.intake_form(practice)
    page.goto(live_server + "/login")
    page.get_by_label("E-mail").fill(desk.email)
    page.get_by_label("Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/provider/$"))
    page.goto(f"{live_server}/provider/clients/{client.id}")
    page.get_by_role("button", name="Start tablet mode").click()
    page.wait_for_url(re.compile(r"/provider/tablet$"))
    expect(page.get_by_role("heading", name="Health history")).to_be_visible()

    # The client tries the staff user's own pages: every one leads back to the form.
    for path in ("/account/totp", "/account/password", "/provider/", "/portal/", "/login"):
        page.goto(live_server + path)
        assert page.url.endswith("/provider/tablet"), path
    assert "otpauth" not in page.content()
    assert User.get_by_id(desk.id).totp_secret is None
    screenshot(page, "tablet-locked-form")

    # Guessing the staff password to leave tablet mode: 10 tries, then a clear refusal.
    page.goto(live_server + "/provider/tablet/return")
    for _ in range(app.config["LOGIN_MAX_FAILURES_ACCOUNT"]):
        page.get_by_label("Staff password").fill("not the password")
        page.get_by_role("button", name="Back to staff mode").click()
        expect(page.get_by_text("That password is not right.")).to_be_visible()
    page.get_by_label("Staff password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Back to staff mode").click()
    expect(
        page.get_by_text(re.compile(r"Too many failed attempts\. Try again in 15 minutes"))
    ).to_be_visible()
    assert page.url.endswith("/provider/tablet/return")
    page.wait_for_load_state("load")  # its size once the stylesheet has come (tests/a11y.py)
    button = page.get_by_role("button", name="Back to staff mode").bounding_box()
    assert button["height"] >= 44  # a touch target on a tablet
    screenshot(page, "tablet-return-throttled")
    page.goto(live_server + "/provider/clients")
    assert page.url.endswith("/provider/tablet")
