"""A refund settles what it gives back, or makes it due again (refund.settles, migration
0034). A $100 visit paid in full by card (a real localstripe charge) with $30 refunded
through Stripe: settling, the invoice stays paid and the client owes nothing, on every
page; "the client will pay it another way", $30 is due again and the invoice is partially
paid. A refund Stripe refuses, or sends back later, changes neither. The staff form's
choice is checked on the server; the usual guards (another practice, logged out) hold."""

import time

import pytest

from portal.db import database, runner
from portal.models import AuditLog, ClaimProblem
from portal.models.billing import Invoice, Payment, Refund
from portal.services import invoicing, package_refunds, packages, payments_service
from tests.billing.conftest import appointment, appt_type, package, signed
from tests.billing.test_services import pdftext
from tests.billing.test_stripe import open_invoice, saved_card
from tests.conftest import login


@pytest.fixture
def paid_by_card(app, world):
    """Practice a: c1's $100.00 visit invoice, paid in full by the saved card (localstripe)."""
    with app.test_request_context():
        inv = open_invoice(world)
        payment = payments_service.charge_card_on_file(inv, saved_card(world))
    assert Invoice.get_by_id(inv.id).status == "paid"
    return inv, payment


def sums(inv):
    inv = Invoice.get_by_id(inv.id)
    return inv.status, inv.paid_cents, inv.refunded_cents, inv.settled_cents, inv.balance_cents


def refund_url(payment):
    return f"/provider/billing/payments/{payment.id}/refund"


def client_sees(app, world):
    """(the client portal home's balance words, the invoices page's "to pay" words)."""
    portal = app.test_client()
    login(portal, world.a.cu1)
    home = portal.get("/portal/").get_data(as_text=True)
    invoices = portal.get("/portal/invoices").get_data(as_text=True)
    return home, invoices


@pytest.mark.parametrize(
    "choice, status, balance, settled, line, client_owes, words",
    [
        ("settles", "paid", 0, 3000, "Refunded, settled (not owed)", None, "Paid, part refunded"),
        ("due_again", "partially_paid", 3000, 0, "Refunded, due again", "$30.00", "Partially paid"),
    ],
    ids=["settles", "due-again"],
)
def test_a_refund_settles_it_or_makes_it_due_again(
    app, client, world, paid_by_card, tmp_path, choice, status, balance, settled, line,
    client_owes, words,
):  # fmt: skip
    inv, payment = paid_by_card
    login(client, world.a.frontdesk)
    form = client.get(f"/provider/billing/invoices/{inv.id}").get_data(as_text=True)
    # The choice, settling by default, as two large radios.
    assert 'name="settles" value="settles" checked' in form
    assert 'name="settles" value="due_again">' in form and form.count('name="settles"') == 2
    r = client.post(refund_url(payment), data={"amount": "30.00", "settles": choice})
    assert r.status_code == 303

    refund = Refund.get(Refund.payment == payment.id)
    assert refund.status == "succeeded" and refund.stripe_refund_id.startswith("re_")
    assert refund.settles is (choice == "settles")
    assert sums(inv) == (status, 10000, 3000, settled, balance)
    audit = AuditLog.get(AuditLog.action == "refund.create")
    assert audit.detail == f"card_on_file, {'settles' if settled else 'due again'}"

    page = client.get(f"/provider/billing/invoices/{inv.id}").get_data(as_text=True)
    assert line in page
    assert f'id="balance-due"><strong>${balance / 100:.2f}</strong>' in page
    overview = client.get("/provider/billing/").get_data(as_text=True)
    assert f"${balance / 100:.2f}" in overview.split("Due from clients")[1].split("</p>")[0]
    assert f">{words}</span>" in page and f">{words}</span>" in overview
    with app.test_request_context():
        assert invoicing.due_total(world.a.owner) == balance
    note = pdftext(Refund.get_by_id(refund.id).document.data, tmp_path, "note.pdf")
    assert "Balance due" in note and f"${balance / 100:.2f}" in note
    assert ("Settles the amount" in note) is (choice == "settles")

    home, invoices = client_sees(app, world)
    if client_owes is None:
        assert "Nothing owed. Thank you!" in home and "Nothing to pay. Thank you!" in invoices
        assert f'<td data-label="Status">{words}</td>' in invoices
    else:
        assert f'<strong class="figure">{client_owes}</strong>' in home
        assert f'<span class="amount">{client_owes}</span>' in invoices


def test_a_refund_stripe_refuses_changes_neither(app, client, world):
    """A card payment whose PaymentIntent localstripe does not know (a Stripe account the
    charge was not made on): Stripe refuses the refund; it is marked failed, and the
    invoice's sums, settled amount and status are as they were."""
    with app.test_request_context():
        inv = open_invoice(world)
        payment = invoicing.record_payment(
            inv, method="card", amount_cents=10000, stripe_payment_intent_id="pi_not_at_stripe"
        )
    before = sums(inv)
    assert before == ("paid", 10000, 0, 0, 0)
    login(client, world.a.frontdesk)
    r = client.post(refund_url(payment), data={"amount": "30.00", "settles": "settles"})
    assert r.status_code == 400 and "The refund did not go through" in r.get_data(as_text=True)
    assert Refund.get(Refund.payment == payment.id).status == "failed"
    assert sums(inv) == before


def test_a_settling_refund_stripe_sends_back_later_stops_settling(app, client, world, paid_by_card):
    """Stripe accepted the refund (localstripe), then its signed refund.failed event says
    the money stayed with the practice: the refund no longer counts, settled or not."""
    inv, payment = paid_by_card
    with app.test_request_context():
        refund = invoicing.refund_payment(payment, 3000, reason="goodwill", settles=True)
    assert sums(inv) == ("paid", 10000, 3000, 3000, 0)
    obj = {"id": refund.stripe_refund_id, "object": "refund", "amount": 3000,
           "status": "failed", "failure_reason": "expired_or_canceled_card",
           "payment_intent": payment.stripe_payment_intent_id,
           "metadata": {"refund_id": str(refund.id)}}  # fmt: skip
    event = {"id": "evt_settled_failed", "type": "refund.failed", "created": int(time.time()),
             "data": {"object": obj}}  # fmt: skip
    body, headers = signed(event)
    r = client.post("/webhooks/stripe", data=body, headers=headers, csrf=False)
    assert r.status_code == 200 and r.get_json()["result"] == "refund updated"
    assert Refund.get_by_id(refund.id).status == "failed"
    assert sums(inv) == ("paid", 10000, 0, 0, 0)


@pytest.mark.parametrize(
    "data",
    [
        {"amount": "30.00", "settles": "maybe"},
        {"amount": "30.00", "settles": "1"},
        {"amount": "30.00"},  # no choice sent
    ],
    ids=["unknown", "a-number", "missing"],
)
def test_the_forms_choice_is_checked_on_the_server(client, world, paid_by_card, data):
    inv, payment = paid_by_card
    login(client, world.a.frontdesk)
    r = client.post(refund_url(payment), data=data)
    html = r.get_data(as_text=True)
    assert r.status_code == 400
    error = f'<p class="error" id="refund-meaning-error-{payment.id}">'
    assert error + "Choose whether the refund settles it or the amount is due again.</p>" in html
    assert 'aria-invalid="true"' in html
    assert 'name="settles" value="settles" checked' not in html  # asked again, none chosen
    assert not Refund.select().exists()
    assert not AuditLog.select().where(AuditLog.action == "refund.create").exists()
    assert sums(inv) == ("paid", 10000, 0, 0, 0)


def test_another_practices_invoice_and_payment_answer_404(app, client, world):
    with app.test_request_context():
        theirs = invoicing.create_invoice(
            practice_id=world.b.practice.id, client_id=world.b.c1.id,
            lines=[{"kind": "visit", "description": "Massage", "unit_cents": 10000}],
        )  # fmt: skip
        pay = invoicing.record_payment(theirs, method="cash", amount_cents=10000, receipt=False)
    login(client, world.a.frontdesk)
    assert client.get(f"/provider/billing/invoices/{theirs.id}").status_code == 404
    r = client.post(refund_url(pay), data={"amount": "30.00", "settles": "settles"})
    assert r.status_code == 404
    assert not Refund.select().exists() and sums(theirs) == ("paid", 10000, 0, 0, 0)


def test_logged_out_goes_to_the_login(client, world, paid_by_card):
    inv, payment = paid_by_card
    r = client.get(f"/provider/billing/invoices/{inv.id}")
    assert r.status_code == 302 and "/login" in r.headers["Location"]
    r = client.post(refund_url(payment), data={"amount": "30.00", "settles": "settles"})
    assert r.status_code == 302 and "/login" in r.headers["Location"]
    assert not Refund.select().exists()


def test_a_package_credit_given_back_is_due_again(app, client, world):
    """A visit paid with a package credit, the credit given back: the visit is due again
    (it cannot settle: the client has the credit back to pay with)."""
    with app.test_request_context():
        t = appt_type(world.a.practice)
        purchase, sale = packages.sell(package(world.a.practice, types=[t]), world.a.c1.id)
        invoicing.record_payment(sale, method="cash", amount_cents=42500, receipt=False)
        appt = appointment(world.a.practice, world.a.c1, world.a.provider, t, status="completed")
        visit = invoicing.create_invoice(
            practice_id=world.a.practice.id, client_id=world.a.c1.id, appointment_id=appt.id,
            reason="visit",
            lines=[{"kind": "visit", "description": "Massage", "unit_cents": 10000}],
        )  # fmt: skip
        credit = packages.pay_invoice_with_credit(visit, purchase, appt)
        with pytest.raises(invoicing.InvoiceError, match="makes the visit due again"):
            invoicing.refund_payment(credit, credit.amount_cents, settles=True)
        invoicing.refund_payment(credit, credit.amount_cents, settles=False)
    assert sums(visit) == ("open", 10000, 10000, 0, 10000)
    assert packages.balance(purchase.id) == 5


def test_the_migration_keeps_a_refunded_packages_invoice_paid(app, client, world):
    """A package refunded before 0034 (its invoice was let off in code, nothing settled
    then): taken back to before 0034 and up again, the refund settles, and the staff
    invoice page and the client portal say what they said: paid, nothing due."""
    with app.test_request_context():
        purchase, sale = packages.sell(package(world.a.practice), world.a.c1.id)
        invoicing.record_payment(sale, method="cash", amount_cents=42500, receipt=False)
        package_refunds.refund_unused(purchase)
    r = runner()
    (name,) = [m.name for m in r.status() if m.name.startswith("0034")]
    reverted = r.down(name)  # and every later migration
    assert "settled_cents" not in {c.name for c in database.get_columns("invoice")}
    assert r.up() == list(reversed(reverted))

    assert Refund.get().settles is True
    assert sums(sale) == ("paid", 42500, 42500, 42500, 0)
    login(client, world.a.frontdesk)
    page = client.get(f"/provider/billing/invoices/{sale.id}").get_data(as_text=True)
    assert "Unused sessions refunded" in page and 'id="balance-due"><strong>$0.00<' in page
    with app.test_request_context():
        invoicing.refresh(sale)  # the filled sums are what the code computes
    assert sums(sale) == ("paid", 42500, 42500, 42500, 0)
    home, invoices = client_sees(app, world)
    assert "Nothing owed. Thank you!" in home and "Nothing to pay. Thank you!" in invoices


def overpaid_share(app, world):
    """(claim, estimate, payment): c1 paid a $40.00 estimate in cash at check-out; the payer
    then says their share is $10.00, so the claim asks for $30.00 back."""
    from portal.rules.claim_money import Adj
    from portal.services.claims import posting
    from tests.claims import factories as cf
    from tests.claims.test_posting import _answer

    a = world.a
    with app.test_request_context():
        claim = cf.claim(a.practice, a.c1, a.provider, status="submitted",
                         lines=(("97124", 45, 3, 9000),))  # fmt: skip
        estimate = invoicing.create_invoice(
            practice_id=a.practice.id, client_id=a.c1.id, appointment_id=claim.appointment_id,
            reason="insurance_share",
            lines=[{"kind": "patient_responsibility", "description": "Estimated copay",
                    "unit_cents": 4000}],
        )  # fmt: skip
        pay = invoicing.record_payment(estimate, method="cash", amount_cents=4000, receipt=False)
        share = [Adj("CO", "45", 2000), Adj("PR", "3", 1000)]
        posting.post(claim, _answer(claim, "1", 6000, share))
    return claim, estimate, pay


def test_the_claims_overpaid_share_refunded_settles(app, client, world):
    """The client paid a $40.00 estimate at check-out; the payer says their share is
    $10.00: the claim says to refund $30.00 as the client's overpaid insurance share. The
    desk refunds it with that choice (offered on this invoice, which bills a share): it
    settles, the estimate's invoice is paid, nothing due, and the client is not billed for
    the $30.00 again."""
    a = world.a
    claim, estimate, pay = overpaid_share(app, world)
    problem = ClaimProblem.get(ClaimProblem.code == "client_overpaid")
    assert "refund $30.00" in problem.message
    assert (
        'as "the client\'s overpaid insurance share", back to the client or kept' in problem.message
    )
    # The therapist (c1's) is told who refunds it; the desk gets the link to the invoice.
    login(client, a.therapist)
    page = client.get(f"/provider/claims/{claim.id}").get_data(as_text=True)
    assert "The front desk refunds it on the visit&#39;s invoice." in page
    assert "The front desk edits the claim" not in page  # the words before: the wrong page
    client.post("/logout")
    login(client, a.owner)
    page = client.get(f"/provider/claims/{claim.id}").get_data(as_text=True)
    assert "the client&#39;s overpaid insurance share" in page
    link = f'href="/provider/billing/invoices/{estimate.id}">Refund it on the visit&#39;s invoice'
    assert link in page

    form = client.get(f"/provider/billing/invoices/{estimate.id}").get_data(as_text=True)
    assert 'name="settles" value="settles" checked' in form
    assert 'name="settles" value="overpaid_share">' in form and form.count('name="settles"') == 3
    r = client.post(refund_url(pay), data={"amount": "30.00", "settles": "overpaid_share"})
    assert r.status_code == 303
    assert sums(estimate) == ("paid", 4000, 3000, 3000, 0)
    refund = Refund.get()
    assert refund.settles is True and refund.overpaid_share is True
    page = client.get(f"/provider/billing/invoices/{estimate.id}").get_data(as_text=True)
    assert "(succeeded, overpaid insurance share, settled)" in page
    # The claim's note is answered: cleared, and the claim no longer held by it.
    assert not ClaimProblem.select().where(ClaimProblem.code == "client_overpaid").exists()
    claim_page = client.get(f"/provider/claims/{claim.id}").get_data(as_text=True)
    assert "The client&#39;s overpaid share was refunded" in claim_page
    home, invoices = client_sees(app, world)
    assert "Nothing owed. Thank you!" in home and "Nothing to pay. Thank you!" in invoices
    assert Payment.select().where(Payment.invoice == estimate.id).count() == 1


@pytest.mark.parametrize(
    "status, paid, refunded, words",
    [
        ("paid", 10000, 0, "Paid"),
        ("paid", 10000, 3000, "Paid, part refunded"),
        ("paid", 10000, 10000, "Refunded"),
        ("partially_paid", 10000, 3000, "Partially paid"),  # refunded, due again
        ("open", 10000, 10000, "Open"),
        ("void", 0, 0, "Void"),
    ],
)
def test_the_status_words_say_what_went_back(status, paid, refunded, words):
    from portal.models.billing import invoice_status_label

    assert invoice_status_label(status, paid, refunded) == words
