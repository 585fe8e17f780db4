"""Real browser (Debian's Chromium), tablet (1024x768): the desk refunds a client's
overpaid insurance share. The invoice bills a copay, so the refund form offers three large
choices; the desk picks "The client's overpaid insurance share", the refund settles (nothing
due), the refund row says which it was and the status says what went back.
Screenshots: test-artifacts/billing-share-refund-*.png."""

import pytest
from playwright.sync_api import expect

from portal.models.billing import Invoice, Refund
from portal.services import invoicing
from tests import factories
from tests.a11y import small_targets
from tests.browser.helpers import login as _login
from tests.browser.helpers import watch as _watch
from tests.browser.test_billing_browser import app, checkout_stub, localstripe_url

pytestmark = pytest.mark.browser
__all__ = ["app", "checkout_stub", "localstripe_url"]  # the billing fixtures, used by `app`

SHARE = "The client's overpaid insurance share: the insurer paid it after all"


def test_the_desk_refunds_an_overpaid_share_on_a_tablet(app, live_server, browser, screenshot):
    with app.test_request_context():
        practice = factories.practice(name="Harbor Massage")
        desk = factories.user(practice, "frontdesk", name="Sam Front")
        client = factories.client(practice, first_name="Jordan", last_name="Avery")
        inv = invoicing.create_invoice(
            practice_id=practice.id,
            client_id=client.id,
            reason="insurance_share",
            lines=[{"kind": "patient_responsibility", "description": "Estimated copay",
                    "unit_cents": 4000}],
        )  # fmt: skip
        invoicing.record_payment(inv, method="cash", amount_cents=4000)
    tablet = browser.new_context(viewport={"width": 1024, "height": 768}, has_touch=True)
    page = tablet.new_page()
    problems = _watch(page)
    page.on("dialog", lambda d: d.accept())
    _login(page, live_server, desk.email)
    page.goto(f"{live_server}/provider/billing/invoices/{inv.id}")
    form = page.locator("form.refund-form")
    expect(form.locator("label.choice")).to_have_count(3)
    form.get_by_label("Amount ($)").fill("15.00")
    form.get_by_label("Reason").fill("insurer paid more than estimated")
    form.get_by_label(SHARE).check()
    page.wait_for_load_state("load")
    assert small_targets(page) == []
    screenshot(page, "billing-share-refund-choice")
    form.get_by_role("button", name="Refund").click()
    expect(page.get_by_text("$15.00 refunded (overpaid share, settled).")).to_be_visible()
    expect(page.locator("#balance-due")).to_have_text("$0.00")
    expect(page.locator("#refunded-settled")).to_have_text("$15.00")
    expect(page.locator(".refund-row")).to_contain_text("overpaid insurance share, settled")
    expect(page.locator(".badge").filter(has_text="Paid, part refunded")).to_be_visible()
    screenshot(page, "billing-share-refund-done")
    refund = Refund.get()
    assert (refund.settles, refund.overpaid_share) == (True, True)
    assert Invoice.get_by_id(inv.id).settled_cents == 1500
    tablet.close()
    assert problems == []
