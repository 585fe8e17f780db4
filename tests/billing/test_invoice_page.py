"""The invoice page shows each section only where it applies: payments with their refunds
(a failed refund listed, not counted), the card that paid, the package sold on it, the
saved cards to charge while a balance is due, refund and void forms for the desk. Run with
the speed-ups on and off: both must show the same page."""

import pytest

from portal.models.billing import Payment, Refund, SavedPaymentMethod
from portal.services import invoicing, packages
from tests.billing.conftest import appt_type, package
from tests.billing.test_views import billed  # noqa: F401 (a fixture)
from tests.conftest import login


@pytest.fixture(params=[True, False], ids=["speedups", "plain"])
def speedups(request, app):
    app.config["SPEEDUPS"] = request.param


def page(client, invoice_id):
    r = client.get(f"/provider/billing/invoices/{invoice_id}")
    assert r.status_code == 200
    return r.get_data(as_text=True)


def test_payments_refunds_and_the_forms_shown(app, client, world, billed, speedups):  # noqa: F811
    ids = billed["a"]  # $100.00 invoiced, $40.00 paid in cash
    with app.test_request_context():
        cash = Payment.get_by_id(ids["pay"])
        invoicing.refund_payment(cash, 1000, "sore", settles=False)
        # A card refund Stripe could not make: listed, never counted.
        Refund.create(
            practice=world.a.practice,
            client=world.a.c1,
            payment=cash,
            amount_cents=500,
            status="failed",
            failure_message="charge_expired_for_capture",
        )
        SavedPaymentMethod.create(
            practice=world.a.practice,
            client=world.a.c1,
            stripe_payment_method_id="pm_test_page",
            brand="visa",
            last4="4242",
            exp_month=12,
            exp_year=2040,
        )
    login(client, world.a.frontdesk)
    text = page(client, ids["inv"])
    assert "Refund: sore (succeeded, due again)" in text
    assert "(failed): Stripe could not return the money (charge expired for capture)" in text
    # The failed refund gave nothing back: $10.00 refunded, up to $30.00 left to refund.
    assert '<td class="num">$10.00</td>' in text and "up to $30.00" in text
    assert '<td class="num" id="refunded-due-again">$10.00</td>' in text
    assert "Refunded, settled" not in text
    assert "Charge Visa ending 4242 $70.00" in text  # the balance: $100 - ($40 - $10)
    assert "Record payment" in text and "<h2>Void</h2>" not in text  # money was taken

    therapist = app.test_client()
    login(therapist, world.a.therapist)
    text = page(therapist, ids["inv"])
    assert "Refund: sore (succeeded, due again)" in text and "<h2>Refund</h2>" not in text


def test_a_package_invoice(app, client, world, speedups):
    with app.test_request_context():
        d = package(world.a.practice, types=[appt_type(world.a.practice)], sessions=5)
        _, open_inv = packages.sell(d, world.a.c1.id)
        _, paid_inv = packages.sell(d, world.a.c2.id)
        invoicing.record_payment(paid_inv, method="cash", amount_cents=paid_inv.total_cents)
    login(client, world.a.owner)
    text = page(client, open_inv.id)
    assert "<h2>Package</h2>" in text and "0 of 5 credits left" in text
    assert "Take a payment" in text and "<h2>Void</h2>" in text
    assert "Charge " not in text  # no saved card
    text = page(client, paid_inv.id)
    assert "5 of 5 credits left" in text and "Refund 5 unused sessions" in text
    assert "Take a payment" not in text and "<h2>Refund</h2>" not in text  # by its sessions
    assert "<h2>Void</h2>" not in text
