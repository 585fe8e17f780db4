"""Real browser (Debian's Chromium), tablet (1024x768): the desk refunds a client's
overpaid insurance share. The invoice bills a copay, so the refund form offers three large
choices; the desk picks "The client's overpaid insurance share", the refund settles (nothing
due), the refund row says which it was and the status says what went back. Then the same
kept as the client's account credit instead: the next invoice is paid from it at the desk,
part of the rest is paid out by check, the day sheet counts the drawer, and on a phone the
client uses what is left on another invoice.
Screenshots: test-artifacts/billing-share-refund-*.png, billing-account-credit-*.png,
billing-day-sheet.png."""

import pytest
from playwright.sync_api import expect

from portal import clock
from portal.models.billing import Invoice, Payment, Refund
from portal.services import invoicing
from tests import factories
from tests.a11y import small_targets
from tests.browser.helpers import login as _login
from tests.browser.helpers import tablet_page
from tests.browser.helpers import watch as _watch
from tests.browser.test_billing_browser import app, checkout_stub, localstripe_url

pytestmark = pytest.mark.browser
__all__ = ["app", "checkout_stub", "localstripe_url"]  # the billing fixtures, used by `app`

SHARE = "The client's overpaid insurance share: the insurer paid it after all"


def _paid_estimate():
    """(practice, desk user, client, invoice): a $40.00 copay estimate, paid in cash."""
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
    return practice, desk, client, inv


def test_the_desk_refunds_an_overpaid_share_on_a_tablet(app, live_server, browser, screenshot):
    with app.test_request_context():
        practice, desk, client, inv = _paid_estimate()
    tablet, page, problems = tablet_page(browser)
    _login(page, live_server, desk.email)
    page.goto(f"{live_server}/provider/billing/invoices/{inv.id}")
    form = page.locator("form.refund-form")
    expect(form.locator(".refund-meaning label.choice")).to_have_count(3)
    expect(form.locator(".refund-destination label.choice")).to_have_count(2)
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


def test_the_overpaid_share_kept_as_credit_pays_later_invoices(
    app, live_server, browser, screenshot
):
    with app.test_request_context():
        practice, desk, client, estimate = _paid_estimate()
        portal_user = factories.client_user(practice, client)
        visits = [
            invoicing.create_invoice(
                practice_id=practice.id,
                client_id=client.id,
                lines=[{"kind": "visit", "description": "30-minute massage", "unit_cents": cents}],
            )  # fmt: skip
            for cents in (2000, 6000)
        ]
    tablet, page, problems = tablet_page(browser)
    _login(page, live_server, desk.email)
    page.goto(f"{live_server}/provider/billing/invoices/{estimate.id}")
    form = page.locator("form.refund-form")
    form.get_by_label("Amount ($)").fill("30.00")
    form.get_by_label(SHARE).check()
    form.get_by_label("Kept as the client's account credit").check()
    assert small_targets(page) == []
    screenshot(page, "billing-account-credit-keep")
    form.get_by_role("button", name="Refund").click()
    expect(
        page.get_by_text("$30.00 kept as the client's account credit (overpaid share, settled).")
    ).to_be_visible()
    expect(page.locator(".refund-row")).to_contain_text("kept as account credit")
    expect(page.locator("#balance-due")).to_have_text("$0.00")

    page.goto(f"{live_server}/provider/billing/invoices/{visits[0].id}")
    expect(page.get_by_text("The client holds $30.00 of account credit.")).to_be_visible()
    pay = page.get_by_role("button", name="Pay $20.00 from account credit")
    assert pay.bounding_box()["height"] >= 44
    pay.click()
    expect(page.get_by_text("$20.00 paid from the client's account credit.")).to_be_visible()
    expect(page.locator("#balance-due")).to_have_text("$0.00")
    page.goto(f"{live_server}/provider/billing/clients/{client.id}")
    expect(page.locator("#account-credit")).to_have_text("$10.00")
    page.get_by_text("Pay the credit out to the client").click()
    payout = page.locator("details.credit-payout form")
    payout.get_by_label("Amount ($)").fill("4.00")
    payout.get_by_label("Check", exact=True).check()
    payout.get_by_label("Check number or note").fill("Check 1182")
    assert small_targets(page) == []
    screenshot(page, "billing-account-credit-ledger")
    payout.get_by_role("button", name="Pay out").click()
    expect(page.get_by_text("$4.00 of account credit paid out.")).to_be_visible()
    expect(page.locator("#account-credit")).to_have_text("$6.00")
    expect(page.get_by_text("Paid out by check (Check 1182)")).to_be_visible()

    # The day sheet: the $40.00 cash is the drawer's, the $4.00 check went out, the $30.00
    # kept and the $20.00 used moved no money.
    paid = Payment.get(Payment.invoice == estimate.id)
    day = clock.local_date(paid.created_at, practice.tz).isoformat()
    page.goto(f"{live_server}/provider/billing/day?day={day}")
    expect(page.locator("#cash-net")).to_have_text("$40.00")
    expect(page.locator("#net-taken")).to_have_text("$36.00")
    expect(page.locator("#day-totals tbody tr")).to_have_count(2)
    expect(page.locator("#not-money")).to_contain_text("Paid from account credit: 1, $20.00")
    expect(page.locator("#day-entries tbody tr")).to_have_count(4)
    assert small_targets(page) == []
    screenshot(page, "billing-day-sheet")
    tablet.close()

    phone = browser.new_context(viewport={"width": 390, "height": 844}, has_touch=True)
    mobile = phone.new_page()
    phone_problems = _watch(mobile, name="phone")
    _login(mobile, live_server, portal_user.email, landing=r"/portal/")
    mobile.goto(f"{live_server}/portal/invoices")
    expect(mobile.locator("#account-credit")).to_contain_text("$6.00")
    mobile.get_by_role("button", name="Use $6.00 of my credit").click()
    expect(mobile.get_by_text("$6.00 paid from your account credit.")).to_be_visible()
    expect(mobile.locator("#account-credit")).to_have_count(0)
    expect(mobile.locator(".invoice-card .amount")).to_have_text("$54.00")
    screenshot(mobile, "billing-account-credit-phone")
    phone.close()
    assert Invoice.get_by_id(visits[1].id).balance_cents == 5400
    assert problems == [] and phone_problems == []
