"""Card payments against a real localstripe server (tests/billing/conftest.py).

Checkout Sessions do not exist in localstripe: for those tests ONLY stripe-python's HTTP
client is stubbed (CheckoutStub answers /v1/checkout/sessions and forwards the rest to
localstripe), and checkout.session.completed events are signed with the test secret.
"""

import json
import threading
import time

import pytest

from portal import payments
from portal.db import database
from portal.models.billing import (
    CheckoutAttempt,
    Invoice,
    Payment,
    SavedPaymentMethod,
    StripeEvent,
)
from portal.services import invoicing, payments_service
from tests.billing.conftest import WEBHOOK_SECRET, signed
from tests.conftest import login


def open_invoice(w, cents=10000):
    return invoicing.create_invoice(
        practice_id=w.a.practice.id,
        client_id=w.a.c1.id,
        lines=[{"kind": "visit", "description": "60-minute massage", "unit_cents": cents}],
    )


def saved_card(w, pm="pm_card_visa", last4="4242"):
    payments_service.ensure_customer(w.a.c1)
    return SavedPaymentMethod.create(
        practice=w.a.practice,
        client=w.a.c1,
        stripe_payment_method_id=pm,
        brand="visa",
        last4=last4,
    )


def test_off_session_visa_pays_the_invoice(ctx, world):
    inv = open_invoice(world)
    card = saved_card(world)
    payment = payments_service.charge_card_on_file(inv, card)
    inv = Invoice.get_by_id(inv.id)
    assert inv.status == "paid" and inv.balance_cents == 0
    assert payment.method == "card_on_file" and payment.stripe_payment_intent_id.startswith("pi_")
    assert (payment.card_brand, payment.card_last4) == ("visa", "4242")
    assert Payment.get_by_id(payment.id).receipt_id is not None
    attempt = CheckoutAttempt.get_by_id(payment.checkout_attempt_id)
    assert attempt.status == "completed" and attempt.purpose == "off_session"


def test_declined_card_leaves_the_invoice_open(ctx, world):
    inv = open_invoice(world)
    card = saved_card(world, pm="pm_card_chargeCustomerFail", last4="0341")
    with pytest.raises(payments.PaymentDeclined, match="declined"):
        payments_service.charge_card_on_file(inv, card)
    inv = Invoice.get_by_id(inv.id)
    assert inv.status == "open" and inv.balance_cents == 10000
    assert not Payment.select().exists()
    attempt = CheckoutAttempt.get()
    assert attempt.status == "failed" and "declined" in attempt.error


def test_declined_card_message_at_the_desk(client, world):
    with client.application.test_request_context():
        inv = open_invoice(world)
        saved_card(world, pm="pm_card_chargeCustomerFail", last4="0341")
    login(client, world.a.frontdesk)
    page = client.get(f"/provider/billing/invoices/{inv.id}")
    card_id = SavedPaymentMethod.get().id
    r = client.post(f"/provider/billing/invoices/{inv.id}/charge-card", data={"card_id": card_id})
    assert r.status_code == 402, page.status_code
    assert "card was declined" in r.get_data(as_text=True)
    assert Invoice.get_by_id(inv.id).status == "open"


def test_refund_through_stripe(ctx, world):
    inv = open_invoice(world)
    payment = payments_service.charge_card_on_file(inv, saved_card(world))
    refund = invoicing.refund_payment(payment, 4000, reason="shortened visit", settles=False)
    assert refund.status == "succeeded" and refund.stripe_refund_id.startswith("re_")
    assert refund.document.kind == "credit_note"
    inv = Invoice.get_by_id(inv.id)
    assert inv.status == "partially_paid" and inv.refunded_cents == 4000
    invoicing.refund_payment(payment, 6000, settles=False)
    assert Invoice.get_by_id(inv.id).status == "open"


def test_missing_keys_give_a_setup_message(ctx, world):
    ctx.config["STRIPE_SECRET_KEY"] = ""
    inv = open_invoice(world)
    with pytest.raises(payments.PaymentsUnavailable, match="not set up"):
        payments_service.start_invoice_checkout(inv)
    assert payments.status()["problems"] == ["The Stripe secret key is missing."]
    # everything else works
    invoicing.record_payment(inv, method="cash", amount_cents=10000)
    assert Invoice.get_by_id(inv.id).status == "paid"


def test_wrong_key_is_a_setup_problem(ctx, world):
    ctx.config["STRIPE_SECRET_KEY"] = "pk_live_nope"
    assert not payments.is_configured()
    assert "should start with sk_live_" in payments.status()["problems"][0]


def test_localstripe_webhook_reaches_the_live_server(app, world, live_server, webhook_to):
    """An off-session charge whose local recording never happened (a crash right after
    Stripe answered): localstripe's signed payment_intent.succeeded webhook, sent to the
    live server, is verified and records the payment."""
    webhook_to(f"{live_server}/webhooks/stripe")
    with app.test_request_context():
        inv = open_invoice(world)
        card = saved_card(world)
        attempt = payments_service._new_attempt(
            "off_session", world.a.c1, None, inv, inv.balance_cents, inv.currency
        )
        pi = payments.charge_off_session(
            customer=payments_service.customer_id_for(world.a.c1.id),
            payment_method=card.stripe_payment_method_id,
            amount_cents=inv.balance_cents,
            currency="usd",
            description="test",
            metadata=payments_service._metadata(attempt),
            idempotency_key=attempt.idempotency_key,
        )
    database.close()
    deadline = time.time() + 10
    payment = None
    while time.time() < deadline and payment is None:
        time.sleep(0.3)
        with database.connection_context():
            payment = Payment.get_or_none(Payment.stripe_payment_intent_id == pi["id"])
    database.connect(reuse_if_open=True)
    assert payment is not None, "the webhook did not arrive or was not applied"
    assert Invoice.get_by_id(inv.id).status == "paid"
    ev = StripeEvent.get(
        (StripeEvent.type == "payment_intent.succeeded") & (StripeEvent.object_id == pi["id"])
    )
    assert ev.status == "processed"


# --- Checkout (stubbed HTTP client) and signed events -------------------------------------


def _checkout(client, w, stub):
    login(client, w.a.cu1)
    with client.application.test_request_context():
        inv = open_invoice(w)
    r = client.post(f"/portal/invoices/{inv.id}/pay")
    assert r.status_code == 303
    sid = next(iter(stub.sessions))
    assert r.headers["Location"].endswith(f"/done?session_id={sid}")
    return inv, sid


def _event(stub, sid, kind="checkout.session.completed", eid="evt_1"):
    from tests.billing.conftest import _public

    return {
        "id": eid,
        "object": "event",
        "type": kind,
        "created": int(time.time()),
        "data": {"object": _public(stub.sessions[sid])},
    }


def test_checkout_success_page_and_webhook_make_one_payment(client, world, checkout_stub):
    inv, sid = _checkout(client, world, checkout_stub)
    create_call = [c for c in checkout_stub.calls if c[0] == "post"][0]
    attempt = CheckoutAttempt.get()
    assert create_call[2]["Idempotency-Key"] == attempt.idempotency_key
    r = client.get(f"/portal/checkout/{attempt.id}/done?session_id={sid}")
    assert r.status_code == 200 and "Thank you" in r.get_data(as_text=True)
    body, headers = signed(_event(checkout_stub, sid))
    for _ in range(2):  # the same event twice
        r = client.post("/webhooks/stripe", data=body, headers=headers, csrf=False)
        assert r.status_code == 200
    assert r.get_json()["result"] == "duplicate"
    r = client.get(f"/portal/checkout/{attempt.id}/done?session_id={sid}")  # reload
    assert Payment.select().count() == 1
    p = Payment.get()
    assert p.method == "card" and p.amount_cents == 10000 and p.card_last4 == "4242"
    assert Invoice.get_by_id(inv.id).status == "paid"


def test_same_event_twice_at_once_from_two_threads(app, world, checkout_stub):
    client = app.test_client()
    inv, sid = _checkout(client, world, checkout_stub)
    body, headers = signed(_event(checkout_stub, sid, eid="evt_race"))
    database.close()
    codes = []
    barrier = threading.Barrier(2)

    def deliver():
        c = app.test_client()
        barrier.wait()
        codes.append(c.post("/webhooks/stripe", data=body, headers=headers, csrf=False).status_code)

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    database.connect(reuse_if_open=True)
    assert codes == [200, 200]
    assert Payment.select().count() == 1
    assert Invoice.get_by_id(inv.id).status == "paid"


def test_two_different_events_for_one_session_at_once(app, world, checkout_stub):
    client = app.test_client()
    inv, sid = _checkout(client, world, checkout_stub)
    bodies = [signed(_event(checkout_stub, sid, eid=f"evt_{i}")) for i in range(4)]
    database.close()
    barrier = threading.Barrier(4)
    codes = []

    def deliver(body, headers):
        c = app.test_client()
        barrier.wait()
        codes.append(c.post("/webhooks/stripe", data=body, headers=headers, csrf=False).status_code)

    threads = [threading.Thread(target=deliver, args=b) for b in bodies]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    database.connect(reuse_if_open=True)
    assert codes == [200] * 4
    assert Payment.select().count() == 1


@pytest.mark.parametrize("attack", ["tampered", "wrong_secret", "ten_minutes_old", "unsigned"])
def test_bad_signatures_are_refused_and_nothing_applied(client, world, checkout_stub, attack):
    inv, sid = _checkout(client, world, checkout_stub)
    event = _event(checkout_stub, sid)
    if attack == "wrong_secret":
        body, headers = signed(event, secret="whsec_wrong")
    elif attack == "ten_minutes_old":
        body, headers = signed(event, timestamp=int(time.time()) - 600)
    else:
        body, headers = signed(event)
    if attack == "tampered":
        body = body.replace('"amount_total": 10000', '"amount_total": 1')
    if attack == "unsigned":
        headers.pop("Stripe-Signature")
    r = client.post("/webhooks/stripe", data=body, headers=headers, csrf=False)
    assert r.status_code == 400
    assert not StripeEvent.select().exists()
    assert not Payment.select().exists()
    assert Invoice.get_by_id(inv.id).status == "open"


def test_amount_mismatch_grants_nothing(client, world, checkout_stub):
    inv, sid = _checkout(client, world, checkout_stub)
    checkout_stub.sessions[sid]["amount_total"] = 100  # Stripe says another amount
    body, headers = signed(_event(checkout_stub, sid))
    r = client.post("/webhooks/stripe", data=body, headers=headers, csrf=False)
    assert r.status_code == 200
    assert not Payment.select().exists()
    assert "mismatch: amount" in CheckoutAttempt.get().error
    assert Invoice.get_by_id(inv.id).status == "open"


def test_events_out_of_order_end_right(client, world, checkout_stub):
    inv, sid = _checkout(client, world, checkout_stub)
    # completed arrives first, then an (older) expired event: stays completed
    for kind, eid in (
        ("checkout.session.completed", "evt_a"),
        ("checkout.session.expired", "evt_b"),
    ):
        body, headers = signed(_event(checkout_stub, sid, kind=kind, eid=eid))
        assert (
            client.post("/webhooks/stripe", data=body, headers=headers, csrf=False).status_code
            == 200
        )
    assert CheckoutAttempt.get().status == "completed"
    assert Invoice.get_by_id(inv.id).status == "paid"


def test_payment_failed_after_succeeded_keeps_it_paid(client, world):
    with client.application.test_request_context():
        inv = open_invoice(world)
        payment = payments_service.charge_card_on_file(inv, saved_card(world))
    pi = {
        "id": payment.stripe_payment_intent_id,
        "object": "payment_intent",
        "status": "requires_payment_method",
        "metadata": {},
        "last_payment_error": {"message": "Your card was declined."},
    }
    body, headers = signed(
        {
            "id": "evt_late",
            "type": "payment_intent.payment_failed",
            "created": int(time.time()) - 60,
            "data": {"object": pi},
        }
    )
    r = client.post("/webhooks/stripe", data=body, headers=headers, csrf=False)
    assert r.status_code == 200
    assert Payment.get_by_id(payment.id).status == "succeeded"
    assert CheckoutAttempt.get().status == "completed"
    assert Invoice.get_by_id(inv.id).status == "paid"


def test_save_a_card_in_setup_mode_then_charge_it(client, world, checkout_stub):
    login(client, world.a.cu1)
    r = client.post("/portal/cards/new")
    assert r.status_code == 303
    attempt = CheckoutAttempt.get()
    assert attempt.purpose == "setup"
    r = client.get(f"/portal/checkout/{attempt.id}/done")
    assert r.status_code == 200
    card = SavedPaymentMethod.get()
    assert (card.client_id, card.last4) == (world.a.c1.id, "4242")
    with client.application.test_request_context():
        inv = open_invoice(world)
        payments_service.charge_card_on_file(inv, card)
    assert Invoice.get_by_id(inv.id).status == "paid"


def test_unknown_event_types_are_recorded_and_ignored(client):
    body, headers = signed({"id": "evt_x", "type": "customer.created", "data": {"object": {}}})
    r = client.post("/webhooks/stripe", data=body, headers=headers, csrf=False)
    assert r.status_code == 200 and r.get_json()["result"] == "ignored"
    assert StripeEvent.get().status == "ignored"
    assert json.loads(body)["id"] == "evt_x"
    assert WEBHOOK_SECRET.startswith("whsec_")


def test_client_buys_a_package_online(client, world, checkout_stub, app):
    from tests.billing.conftest import package

    with app.test_request_context():
        d = package(world.a.practice)
    checkout_stub.auto_pay = False  # the client leaves Stripe's page without paying
    login(client, world.a.cu1)
    assert client.post(f"/portal/packages/{d.id}/buy").status_code == 303
    assert client.post(f"/portal/packages/{d.id}/buy").status_code == 303  # again
    from portal.models.billing import PackagePurchase

    assert PackagePurchase.select().count() == 1  # the unpaid purchase is reused
    assert len(checkout_stub.sessions) == 1  # and so is the open Checkout Session
    sid = next(iter(checkout_stub.sessions))
    checkout_stub._complete(checkout_stub.sessions[sid])  # now the card is paid
    attempt = CheckoutAttempt.get()
    r = client.get(f"/portal/checkout/{attempt.id}/done")
    assert r.status_code == 200 and "Thank you" in r.get_data(as_text=True)
    purchase = PackagePurchase.get()
    from portal.services import packages

    assert purchase.status == "active" and packages.balance(purchase.id) == 5
    page = client.get("/portal/invoices").get_data(as_text=True)
    assert "5 of 5 sessions left" in page


def test_unpaid_session_grants_nothing(client, world, checkout_stub):
    checkout_stub.auto_pay = False
    login(client, world.a.cu1)
    with client.application.test_request_context():
        inv = open_invoice(world)
    assert client.post(f"/portal/invoices/{inv.id}/pay").status_code == 303
    attempt = CheckoutAttempt.get()
    r = client.get(f"/portal/checkout/{attempt.id}/done")
    assert "not finished" in r.get_data(as_text=True)
    assert not Payment.select().exists()
    assert Invoice.get_by_id(inv.id).status == "open"


def test_payments_unavailable_for_the_client_is_a_plain_message(client, world, app):
    app.config["STRIPE_SECRET_KEY"] = ""
    login(client, world.a.cu1)
    with app.test_request_context():
        inv = open_invoice(world)
    page = client.get("/portal/invoices").get_data(as_text=True)
    assert "not available yet" in page and "by card" not in page
    r = client.post(f"/portal/invoices/{inv.id}/pay", follow_redirects=True)
    assert r.status_code == 200 and "not available yet" in r.get_data(as_text=True)


def test_client_removes_a_saved_card(client, world, app):
    with app.test_request_context():
        mine = saved_card(world)
        theirs = SavedPaymentMethod.create(
            practice=world.a.practice,
            client=world.a.c2,
            stripe_payment_method_id="pm_other",
            brand="visa",
            last4="1111",
        )
    login(client, world.a.cu1)
    assert client.post(f"/portal/cards/{theirs.id}/remove").status_code == 404
    assert client.post(f"/portal/cards/{mine.id}/remove", csrf=False).status_code == 400
    assert client.post(f"/portal/cards/{mine.id}/remove").status_code == 303
    assert not SavedPaymentMethod.get_by_id(mine.id).active
    assert SavedPaymentMethod.get_by_id(theirs.id).active
    assert payments_service.saved_cards(world.a.c1.id) == []


def test_a_refund_stripe_sends_back_later_stops_counting(client, world):
    """A refund made through Stripe (localstripe) that Stripe later reports failed (its
    signed refund.failed event): the refund is marked failed, the invoice is paid again,
    an audit row says so; the same event again changes nothing."""
    from portal.models import AuditLog
    from portal.models.billing import Refund

    with client.application.test_request_context():
        inv = open_invoice(world)
        payment = payments_service.charge_card_on_file(inv, saved_card(world))
        refund = invoicing.refund_payment(payment, 10000, reason="cancelled visit", settles=False)
    assert refund.status == "succeeded" and Invoice.get_by_id(inv.id).status == "open"
    credit_note = refund.document_id
    event = {
        "id": "evt_refund_failed",
        "type": "refund.failed",
        "created": int(time.time()),
        "data": {
            "object": {
                "id": refund.stripe_refund_id,
                "object": "refund",
                "amount": 10000,
                "status": "failed",
                "failure_reason": "expired_or_canceled_card",
                "payment_intent": payment.stripe_payment_intent_id,
                "metadata": {"refund_id": str(refund.id)},
            }
        },
    }
    body, headers = signed(event)
    r = client.post("/webhooks/stripe", data=body, headers=headers, csrf=False)
    assert r.status_code == 200 and r.get_json()["result"] == "refund updated"
    refund = Refund.get_by_id(refund.id)
    assert refund.status == "failed" and refund.failure_message == "expired_or_canceled_card"
    assert refund.document_id == credit_note  # the issued credit note is kept as issued
    inv = Invoice.get_by_id(inv.id)
    assert (inv.status, inv.paid_cents, inv.refunded_cents) == ("paid", 10000, 0)
    row = AuditLog.get(AuditLog.action == "refund.failed")
    assert row.object_id == refund.id and row.detail == "after it succeeded"
    login(client, world.a.owner)
    page = client.get(f"/provider/billing/invoices/{inv.id}").get_data(as_text=True)
    assert "Stripe could not return the money (expired or canceled card)" in page
    again = client.post("/webhooks/stripe", data=body, headers=headers, csrf=False)
    assert again.get_json()["result"] == "duplicate"
    assert AuditLog.select().where(AuditLog.action == "refund.failed").count() == 1
    # A refund of Stripe's that the portal does not know: recorded, nothing applied.
    stranger = dict(event, id="evt_other")
    stranger["data"] = {"object": dict(event["data"]["object"], id="re_unknown", metadata={})}
    body, headers = signed(stranger)
    r = client.post("/webhooks/stripe", data=body, headers=headers, csrf=False)
    assert r.get_json()["result"] == "ignored"
    assert StripeEvent.get(StripeEvent.event_id == "evt_other").status == "ignored"
