"""Real browser (Debian's Chromium): at 1024x768 the front desk sells a package at
check-out (three taps) and pays the visit with a credit; at a phone viewport a client pays
an invoice through Checkout and downloads the receipt.

The Checkout page is stubbed: localstripe has no Checkout Sessions, so the app's Stripe
HTTP client is tests/billing/conftest.py's CheckoutStub, whose "hosted page" URL points
straight back to the live server's success URL (as Stripe would after a paid card).
Everything else (the PaymentIntent behind it) is real, in localstripe.
Screenshots: test-artifacts/billing-*.png."""

import re

import pytest
from playwright.sync_api import expect

from portal.models.billing import (
    Invoice,
    PackageDefinition,
    PackagePurchase,
    Payment,
    StoredDocument,
)
from portal.services import invoicing, packages, scheduling
from tests import factories
from tests.billing import conftest as billing
from tests.billing.conftest import appointment, appt_type, package
from tests.browser.helpers import login as _login
from tests.browser.helpers import tablet_page
from tests.browser.helpers import watch as _watch

# The billing fixtures: an app wired to localstripe with the Checkout stub.
localstripe_url = billing.localstripe_url
checkout_stub = billing.checkout_stub
app = billing.app

pytestmark = pytest.mark.browser


def _client_invoices_on_a_phone(browser, base, client_user, problems):
    """The client's invoices page on a phone (375x812), asking them to pay nothing; returns
    the page (its context is the caller's to close)."""
    phone = browser.new_context(viewport={"width": 375, "height": 812}, is_mobile=True)
    page = phone.new_page()
    _watch(page, into=problems)
    _login(page, base, client_user.email, landing=r"/portal/")
    page.goto(f"{base}/portal/invoices")
    expect(page.get_by_text("Nothing to pay. Thank you!")).to_be_visible()
    return page


def test_front_desk_sells_a_package_and_redeems_a_credit(app, live_server, page, screenshot):
    with app.test_request_context():
        practice = factories.practice(name="Harbor Massage")
        provider = factories.provider(practice, first_name="Maya", last_name="Lindqvist")
        desk = factories.user(practice, "frontdesk", name="Sam Front")
        client = factories.client(practice, first_name="Jordan", last_name="Avery")
        t = appt_type(practice)
        package(practice, types=[t])
        appt = appointment(practice, client, provider, t)
        scheduling.check_out(appt, {"97124": 60})  # completed: a $100 visit invoice
        visit = Invoice.get(Invoice.appointment == appt.id)
    problems = _watch(page)
    _login(page, live_server, desk.email)
    page.goto(f"{live_server}/provider/billing/checkout/{appt.id}")
    expect(page.get_by_text("due $100.00")).to_be_visible()
    page.get_by_role("link", name=re.compile("5 x 60-minute massage")).click()  # tap 1
    page.get_by_role("button", name=re.compile("^Cash")).click()  # tap 2
    page.get_by_role("button", name="Confirm $425.00").click()  # tap 3: over $200, confirmed
    page.wait_for_url(re.compile(rf"/checkout/{appt.id}$"))
    assert page.get_by_text(re.compile("sold and paid")).is_visible()
    screenshot(page, "billing-checkout-sold")
    page.get_by_label(re.compile("Package credit")).check()  # offered, not taken
    page.get_by_role("button", name="Take payment").click()
    page.wait_for_url(re.compile(rf"/checkout/{appt.id}$"))
    expect(page.get_by_text(re.compile("Paid with a 5 x 60-minute massage credit"))).to_be_visible()
    screenshot(page, "billing-checkout-redeemed")
    page.get_by_role("link", name="Open the invoice").click()
    page.wait_for_url(re.compile(r"/billing/invoices/\d+$"))
    expect(page.get_by_text("Package credit").first).to_be_visible()
    screenshot(page, "billing-invoice-paid-by-credit")
    # the client page loads the billing section from provider.client_billing (HTMX)
    page.goto(f"{live_server}/provider/clients/{client.id}")
    section = page.locator("#billing-section")
    section.get_by_text(re.compile("4 of 5 left")).wait_for()
    section.scroll_into_view_if_needed()
    screenshot(page, "billing-client-page-section")
    purchase = PackagePurchase.get()
    assert packages.balance(purchase.id) == 4
    assert Invoice.get_by_id(visit.id).status == "paid"
    assert packages.per_visit_price(appt.id) == 8500
    assert problems == []


def test_client_pays_an_invoice_on_a_phone_and_downloads_the_receipt(
    app, live_server, browser, screenshot
):
    with app.test_request_context():
        practice = factories.practice(name="Harbor Massage")
        provider = factories.provider(practice)
        client = factories.client(practice, first_name="Jordan", last_name="Avery")
        cu = factories.client_user(practice, client)
        inv = invoicing.create_invoice(
            practice_id=practice.id,
            client_id=client.id,
            lines=[
                {
                    "kind": "visit",
                    "description": "60-minute massage",
                    "unit_cents": 10000,
                    "cpt_code": "97124",
                    "provider_id": provider.id,
                }
            ],
        )
    context = browser.new_context(
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
        accept_downloads=True,
    )
    page = context.new_page()
    problems = _watch(page)
    _login(page, live_server, cu.email, landing=r"/portal/")
    page.goto(f"{live_server}/portal/invoices")
    screenshot(page, "billing-phone-invoices")
    page.get_by_role("button", name="Pay $100.00 by card").click()
    page.wait_for_url(re.compile(r"/portal/checkout/\d+/done"))
    expect(page.get_by_role("heading", name="Thank you")).to_be_visible()
    screenshot(page, "billing-phone-paid")
    with page.expect_download() as info:
        page.get_by_role("link", name=re.compile("Download your receipt")).click()
    download = info.value
    data = open(download.path(), "rb").read()
    payment = Payment.get()
    assert data == StoredDocument.get_by_id(payment.receipt_id).data
    assert download.suggested_filename.startswith(f"receipt-{inv.number}")
    assert Invoice.get_by_id(inv.id).status == "paid"
    assert (payment.method, payment.card_last4) == ("card", "4242")
    context.close()
    assert problems == []


def test_front_desk_refunds_a_package_partly_used_and_the_client_owes_nothing(
    app, live_server, browser, screenshot
):
    """On a tablet (1024x768) the desk refunds the 4 unused sessions of a 5-for-$425
    package: the button and its confirmation say $340.00, the invoice stays paid with
    nothing due, the ledger says where the credits went; on a phone (375x812) the client
    is asked to pay nothing and reads they have no credits left."""
    with app.test_request_context():
        practice = factories.practice(name="Harbor Massage")
        provider = factories.provider(practice)
        desk = factories.user(practice, "frontdesk", name="Sam Front")
        client = factories.client(practice, first_name="Jordan", last_name="Avery")
        cu = factories.client_user(practice, client)
        t = appt_type(practice)
        purchase, inv = packages.sell(package(practice, types=[t]), client.id)
        invoicing.record_payment(inv, method="cash", amount_cents=42500)
        packages.redeem(appointment(practice, client, provider, t), purchase=purchase)
    asked = []
    tablet, page, problems = tablet_page(browser, asked=asked, touch=False)
    _login(page, live_server, desk.email)
    page.goto(f"{live_server}/provider/billing/invoices/{inv.id}")
    page.get_by_role("button", name="Refund 4 unused sessions: $340.00").click()
    page.wait_for_load_state()
    assert asked == ["Refund $340.00 for the 4 unused sessions of this package?"]
    expect(page.get_by_text("Unused sessions refunded: $340.00 returned.")).to_be_visible()
    page.get_by_text("Where the credits went").click()
    expect(page.get_by_role("cell", name="Refunded: $340.00 returned")).to_be_visible()
    expect(page.locator("#balance-due")).to_have_text("$0.00")
    assert PackagePurchase.get_by_id(purchase.id).status == "refunded"
    screenshot(page, "billing-package-refunded")
    tablet.close()
    page = _client_invoices_on_a_phone(browser, live_server, cu, problems)
    expect(page.get_by_text("No package credits to use.")).to_be_visible()
    screenshot(page, "billing-phone-package-refunded")
    page.context.close()
    assert problems == []


def test_a_goodwill_refund_settles_the_visit_on_a_tablet(app, live_server, browser, screenshot):
    """On a tablet (1024x768) the desk gives $30.00 of a paid $100.00 visit back as
    goodwill: the choice of what the refund means is two large choices, "settles it"
    already checked; the invoice stays paid with nothing due and says the $30.00 is
    settled; on a phone the client is asked to pay nothing."""
    from tests.a11y import small_targets

    with app.test_request_context():
        practice = factories.practice(name="Harbor Massage")
        desk = factories.user(practice, "frontdesk", name="Sam Front")
        client = factories.client(practice, first_name="Jordan", last_name="Avery")
        cu = factories.client_user(practice, client)
        inv = invoicing.create_invoice(
            practice_id=practice.id,
            client_id=client.id,
            lines=[{"kind": "visit", "description": "60-minute massage", "unit_cents": 10000}],
        )
        invoicing.record_payment(inv, method="cash", amount_cents=10000)
    tablet, page, problems = tablet_page(browser, touch=False)
    _login(page, live_server, desk.email)
    page.goto(f"{live_server}/provider/billing/invoices/{inv.id}")
    form = page.locator("form.refund-form")
    form.get_by_label("Amount ($)").fill("30.00")
    form.get_by_label("Reason").fill("goodwill: the room was cold")
    settles = form.get_by_label("The refund settles it: the client owes nothing more for it")
    expect(settles).to_be_checked()
    assert small_targets(page) == []
    screenshot(page, "billing-refund-choice")
    form.get_by_role("button", name="Refund").click()
    page.get_by_text("$30.00 refunded (settled).").wait_for()
    expect(page.locator("#balance-due")).to_have_text("$0.00")
    expect(page.locator("#refunded-settled")).to_have_text("$30.00")
    expect(page.locator("#refunded-due-again")).to_have_count(0)
    inv = Invoice.get_by_id(inv.id)
    assert (inv.status, inv.refunded_cents, inv.settled_cents) == ("paid", 3000, 3000)
    screenshot(page, "billing-refund-settled")
    tablet.close()
    _client_invoices_on_a_phone(browser, live_server, cu, problems).context.close()
    assert problems == []


def test_the_owner_ticks_a_packages_covered_services_on_a_tablet(
    app, live_server, browser, screenshot
):
    """The covered services of a package are tick boxes a finger hits (44 px) on a
    1024x768 touch screen; a type no longer offered is refused beside the boxes."""
    with app.test_request_context():
        practice = factories.practice(name="Harbor Massage")
        owner = factories.user(practice, "owner", name="Olive Owner")
        t30 = appt_type(practice, name="30-minute massage")
        t60 = appt_type(practice, name="60-minute massage")
        t90 = appt_type(practice, name="90-minute massage")
    tablet, page, problems = tablet_page(browser)
    _login(page, live_server, owner.email)
    page.goto(f"{live_server}/provider/billing/packages")
    group = page.get_by_role("group", name="Eligible appointment types")
    boxes = group.locator(".check-option")
    expect(boxes).to_have_count(3)
    for i in range(3):
        box = boxes.nth(i).bounding_box()
        assert box["height"] >= 44 and box["width"] >= 44, box
    page.get_by_label("Name").fill("5 x 60 or 90")
    page.get_by_label("Sessions").fill("5")
    page.get_by_label("Price ($)").fill("425")
    boxes.filter(has_text="60-minute massage").tap()  # the label, not only the small box
    boxes.filter(has_text="90-minute massage").tap()
    expect(group.get_by_label("60-minute massage")).to_be_checked()
    expect(group.get_by_label("30-minute massage")).not_to_be_checked()
    screenshot(page, "billing-package-types-ticked")

    # A type stopped in another tab meanwhile: the message stands by the boxes.
    group.get_by_label("30-minute massage").evaluate("e => { e.value = '999999'; }")
    group.get_by_label("30-minute massage").tap()
    page.get_by_role("button", name="Save package").click()
    page.wait_for_load_state()
    expect(group.locator(".error")).to_have_text("Tick appointment types from the list.")
    expect(group.get_by_label("60-minute massage")).to_be_checked()
    screenshot(page, "billing-package-types-refused")
    with app.app_context():
        assert PackageDefinition.select().count() == 0
    problems.clear()  # the console reports the expected 400

    page.get_by_label("Name").fill("5 x 60 or 90")
    page.get_by_label("Sessions").fill("5")
    page.get_by_label("Price ($)").fill("425")
    page.get_by_role("button", name="Save package").click()
    page.wait_for_load_state()
    expect(page.get_by_text("Package saved.")).to_be_visible()
    with app.app_context():
        d = PackageDefinition.get()
        assert sorted(e.appointment_type_id for e in d.eligible) == sorted([t60.id, t90.id])
        assert t30.id not in [e.appointment_type_id for e in d.eligible]
    tablet.close()
    assert problems == []


def test_the_owner_refunds_an_expired_package_as_goodwill_on_a_tablet(
    app, live_server, browser, screenshot
):
    """An expired 5-for-$425 package with 4 sessions unused: on its invoice (1024x768) the
    owner is offered the goodwill refund of $340.00 with a reason; without one the message
    stands by the field; with one the money goes back and the ledger says how."""
    with app.test_request_context():
        practice = factories.practice(name="Harbor Massage")
        provider = factories.provider(practice)
        owner = factories.user(practice, "owner", name="Olive Owner")
        client = factories.client(practice, first_name="Jordan", last_name="Avery")
        t = appt_type(practice)
        purchase, inv = packages.sell(package(practice, types=[t], expiry_days=30), client.id)
        invoicing.record_payment(inv, method="cash", amount_cents=42500)
        packages.redeem(appointment(practice, client, provider, t), purchase=purchase)
        expires_at = PackagePurchase.get_by_id(purchase.id).expires_at  # set on payment
        assert packages.expire_due(now=expires_at) == 1
    asked = []
    tablet, page, problems = tablet_page(browser, asked=asked)
    _login(page, live_server, owner.email)
    page.goto(f"{live_server}/provider/billing/invoices/{inv.id}")
    button = page.get_by_role("button", name="Refund the 4 expired sessions: $340.00")
    button.click()
    page.wait_for_load_state()
    reason = page.get_by_label("Why refund them?")
    expect(page.locator("#reason-error")).to_have_text("Say why the expired sessions are refunded.")
    expect(reason).to_have_attribute("aria-invalid", "true")
    screenshot(page, "billing-package-goodwill-refused")
    problems.clear()  # the console reports the expected 400
    reason.fill("Moved across the country; asked kindly")
    page.get_by_role("button", name="Refund the 4 expired sessions: $340.00").click()
    page.wait_for_load_state()
    assert asked[-1] == "Refund $340.00 for the 4 expired sessions of this package?"
    expect(page.get_by_text("Expired sessions refunded: $340.00 returned.")).to_be_visible()
    page.get_by_text("Where the credits went").click()
    goodwill = "4 sessions refunded as goodwill: $340.00 returned"
    expect(page.get_by_role("cell", name=goodwill)).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 1024
    assert PackagePurchase.get_by_id(purchase.id).status == "refunded"
    screenshot(page, "billing-package-goodwill-refunded")
    tablet.close()
    assert problems == []
