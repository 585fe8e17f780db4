"""Billing pages: access (logged out, other practice, other client, wrong role, CSRF),
audit rows, manual payments, refunds, voids, packages, settings and downloads."""

import datetime as dt
import re

import pytest

from portal import clock
from portal.models import AuditLog
from portal.models.billing import (
    CheckoutAttempt,
    Invoice,
    PackageDefinition,
    PackagePurchase,
    Payment,
    StoredDocument,
)
from portal.services import invoicing, packages
from tests.billing.conftest import appointment, appt_type, package
from tests.conftest import login


@pytest.fixture
def billed(app, world):
    """Practice a: an invoice with a cash payment (receipt) for c1, a package, an
    appointment; practice b: the same for its c1."""
    out = {}
    with app.test_request_context():
        for key in ("a", "b"):
            side = getattr(world, key)
            t = appt_type(side.practice)
            inv = invoicing.create_invoice(
                practice_id=side.practice.id,
                client_id=side.c1.id,
                lines=[{"kind": "visit", "description": "60-minute massage", "unit_cents": 10000}],
            )
            pay = invoicing.record_payment(inv, method="cash", amount_cents=4000)
            d = package(side.practice, types=[t])
            appt = appointment(side.practice, side.c1, side.provider, t, status="completed")
            attempt = CheckoutAttempt.create(
                practice=side.practice, client=side.c1, purpose="invoice", invoice=inv
            )
            out[key] = {
                "inv": inv.id,
                "pay": pay.id,
                "doc": inv.document_id,
                "receipt": Payment.get_by_id(pay.id).receipt_id,
                "def": d.id,
                "appt": appt.id,
                "client": side.c1.id,
                "attempt": attempt.id,
            }
    return out


def staff_gets(ids):
    return [
        "/provider/billing/",
        f"/provider/billing/invoices/{ids['inv']}",
        f"/provider/billing/documents/{ids['doc']}",
        f"/provider/billing/documents/{ids['receipt']}",
        f"/provider/billing/clients/{ids['client']}",
        f"/provider/billing/clients/{ids['client']}/documents",
        f"/provider/billing/checkout/{ids['appt']}",
        f"/provider/billing/checkout/{ids['appt']}/sell/{ids['def']}",
    ]


def staff_posts(ids):
    return [
        (f"/provider/billing/invoices/{ids['inv']}/payments", {"method": "cash", "amount": "1"}),
        (f"/provider/billing/invoices/{ids['inv']}/charge-card", {"card_id": "1"}),
        (f"/provider/billing/payments/{ids['pay']}/refund", {"amount": "1"}),
        (f"/provider/billing/invoices/{ids['inv']}/void", {"reason": "x"}),
        (f"/provider/billing/invoices/{ids['inv']}/send", {}),
        (f"/provider/billing/clients/{ids['client']}/sell", {"definition_id": ids["def"]}),
        (f"/provider/billing/checkout/{ids['appt']}/pay", {"invoice_id": ids["inv"]}),
        (f"/provider/billing/checkout/{ids['appt']}/sell/{ids['def']}", {"method": "cash"}),
        (f"/provider/billing/packages/{ids['def']}/toggle", {}),
    ]


def client_gets(ids):
    return [
        f"/portal/documents/{ids['doc']}",
        f"/portal/documents/{ids['receipt']}",
        f"/portal/checkout/{ids['attempt']}/done",
    ]


def client_posts(ids):
    return [
        (f"/portal/invoices/{ids['inv']}/pay", {}),
        (f"/portal/packages/{ids['def']}/buy", {}),
    ]


def test_logged_out_is_sent_to_login(client, billed):
    ids = billed["a"]
    urls = staff_gets(ids) + client_gets(ids) + ["/portal/invoices", "/portal/documents"]
    for url in urls:
        r = client.get(url)
        assert r.status_code == 302 and "/login" in r.headers["Location"], url
    for url, data in staff_posts(ids) + client_posts(ids) + [("/portal/cards/new", {})]:
        r = client.post(url, data=data)
        assert r.status_code == 302 and "/login" in r.headers["Location"], url


def test_other_practice_ids_are_404_and_audited(client, world, billed):
    login(client, world.a.owner)
    for url in staff_gets(billed["b"])[1:]:
        assert client.get(url).status_code == 404, url
    for url, data in staff_posts(billed["b"]):
        assert client.post(url, data=data).status_code == 404, url
    assert AuditLog.select().where(AuditLog.action == "access.denied").count() >= 14
    assert Payment.select().count() == 2  # nothing written


def test_other_client_ids_are_404_for_client_users(client, world, billed):
    login(client, world.a.cu2)  # practice a, but the other client
    for url in client_gets(billed["a"]) + client_gets(billed["b"]):
        assert client.get(url).status_code == 404, url
    for url, data in client_posts(billed["b"]) + client_posts(billed["a"])[:1]:
        assert client.post(url, data=data).status_code == 404, url


def test_clients_cannot_use_staff_routes_and_staff_not_client_routes(client, world, billed):
    login(client, world.a.cu1)
    for url in staff_gets(billed["a"]):
        assert client.get(url).status_code == 404, url
    client.post("/logout")
    login(client, world.a.frontdesk)
    for url in client_gets(billed["a"]) + ["/portal/invoices"]:
        assert client.get(url).status_code == 404, url


@pytest.mark.parametrize(
    "url",
    ["/provider/billing/packages", "/provider/billing/settings"],
)
def test_owner_only_pages(client, world, url):
    login(client, world.a.therapist)
    assert client.get(url).status_code == 404
    client.post("/logout")
    login(client, world.a.owner)
    assert client.get(url).status_code == 200


def test_therapist_cannot_refund_or_void(client, world, billed):
    login(client, world.a.therapist)
    ids = billed["a"]
    assert (
        client.post(
            f"/provider/billing/payments/{ids['pay']}/refund", data={"amount": "1"}
        ).status_code
        == 404
    )
    assert (
        client.post(
            f"/provider/billing/invoices/{ids['inv']}/void", data={"reason": "x"}
        ).status_code
        == 404
    )


def test_csrf_missing_is_400(client, world, billed):
    login(client, world.a.owner)
    for url, data in staff_posts(billed["a"]):
        assert client.post(url, data=data, csrf=False).status_code == 400, url
    client.post("/logout")
    login(client, world.a.cu1)
    for url, data in client_posts(billed["a"]) + [("/portal/cards/new", {})]:
        assert client.post(url, data=data, csrf=False).status_code == 400, url


def test_invoice_page_payment_refund_void(client, world, billed):
    ids = billed["a"]
    login(client, world.a.frontdesk)
    r = client.get(f"/provider/billing/invoices/{ids['inv']}")
    assert r.status_code == 200 and "INV-000001" in r.get_data(as_text=True)
    assert AuditLog.select().where(AuditLog.action == "invoice.view").exists()
    bad = client.post(
        f"/provider/billing/invoices/{ids['inv']}/payments", data={"method": "cash", "amount": "70"}
    )
    assert bad.status_code == 400 and "more than the balance" in bad.get_data(as_text=True)
    bad = client.post(
        f"/provider/billing/invoices/{ids['inv']}/payments",
        data={"method": "cash", "amount": "abc"},
    )
    assert bad.status_code == 400 and "Enter an amount like" in bad.get_data(as_text=True)
    ok = client.post(
        f"/provider/billing/invoices/{ids['inv']}/payments",
        data={"method": "check", "amount": "60.00", "reference": "1042"},
    )
    assert ok.status_code == 303
    assert Invoice.get_by_id(ids["inv"]).status == "paid"
    url = f"/provider/billing/payments/{ids['pay']}/refund"
    r = client.post(url, data={"amount": "40.01", "settles": "due_again"})
    assert r.status_code == 400 and "more than what is left" in r.get_data(as_text=True)
    r = client.post(url, data={"amount": "40", "settles": "due_again"})
    assert r.status_code == 303 and Invoice.get_by_id(ids["inv"]).status == "partially_paid"
    r = client.post(f"/provider/billing/invoices/{ids['inv']}/void", data={"reason": "dup"})
    assert r.status_code == 400 and "Refund the payments" in r.get_data(as_text=True)
    assert AuditLog.select().where(AuditLog.action == "refund.create").exists()


def test_documents_download_as_stored(client, world, billed, monkeypatch):
    ids = billed["a"]
    stored = StoredDocument.get_by_id(ids["receipt"]).data
    login(client, world.a.cu1)
    listing = client.get("/portal/documents")
    assert listing.status_code == 200 and "Receipt for INV-000001" in listing.get_data(as_text=True)
    first = client.get(f"/portal/documents/{ids['receipt']}")
    second = client.get(f"/portal/documents/{ids['receipt']}")
    assert first.data == second.data == stored
    assert first.headers["Content-Type"] == "application/pdf"
    assert first.headers["Cache-Control"] == "no-store"
    assert 'attachment; filename="receipt-INV-000001-' in first.headers["Content-Disposition"]
    # A view repeated inside 10 minutes by the same user shares its first row; later, a new one.
    downloads = AuditLog.select().where(AuditLog.action == "document.download")
    assert downloads.count() == 1
    assert downloads.get().user_id == world.a.cu1.id and downloads.get().object_id == ids["receipt"]
    later = clock.utcnow() + dt.timedelta(minutes=11)
    monkeypatch.setattr(clock, "utcnow", lambda: later)
    assert client.get(f"/portal/documents/{ids['receipt']}").data == stored
    assert downloads.count() == 2


def test_client_invoices_page(client, world, billed):
    login(client, world.a.cu1)
    r = client.get("/portal/invoices")
    text = r.get_data(as_text=True)
    assert r.status_code == 200 and "$60.00" in text and "5 x 60-minute massage" in text
    assert "Pay $60.00 by card" in text


def test_packages_page_creates_a_definition(client, world):
    login(client, world.a.owner)
    r = client.post(
        "/provider/billing/packages", data={"name": "10 x 90", "sessions": "10", "price": "abc"}
    )
    assert r.status_code == 400 and "Enter an amount like" in r.get_data(as_text=True)
    r = client.post(
        "/provider/billing/packages",
        data={"name": "10 x 90", "sessions": "10", "price": "1100", "sold_online": "y"},
    )
    assert r.status_code == 303
    d = PackageDefinition.get(PackageDefinition.name == "10 x 90")
    assert d.price_cents == 110000 and d.sold_online


def test_settings_page_explains_hsa_fsa_and_stripe(client, world, app):
    login(client, world.a.owner)
    text = client.get("/provider/billing/settings").get_data(as_text=True)
    assert "8099" in text and "HSA" in text and "Set up" in text
    app.config["STRIPE_SECRET_KEY"] = ""
    text = client.get("/provider/billing/settings").get_data(as_text=True)
    assert "Not set up" in text and "PORTAL_STRIPE_SECRET_KEY" in text
    text = client.get("/provider/billing/").get_data(as_text=True)
    assert "Card payments are not set up" in text
    r = client.post(
        "/provider/billing/settings", data={"redeem_at": "booking", "invoice_due_days": "30"}
    )
    assert r.status_code == 303
    assert invoicing.settings_for(world.a.practice.id).redeem_at == "booking"


def test_client_billing_section_is_a_fragment_for_htmx(client, world, billed):
    login(client, world.a.therapist)
    url = f"/provider/billing/clients/{billed['a']['client']}"
    full = client.get(url)
    frag = client.get(url, headers={"HX-Request": "true"})
    assert full.status_code == frag.status_code == 200
    assert "<html" in full.get_data(as_text=True) and "<html" not in frag.get_data(as_text=True)
    assert "Balance due" in frag.get_data(as_text=True)


def test_checkout_sell_in_three_taps_and_pay_with_credit(client, world, billed, app):
    ids = billed["a"]
    with app.test_request_context():
        from portal.models.scheduling import Appointment
        from portal.services import billing_events

        appt = Appointment.get_by_id(ids["appt"])
        visit = billing_events.visit_invoice(appt)
    login(client, world.a.frontdesk)
    page = client.get(f"/provider/billing/checkout/{appt.id}")  # tap 0
    assert "Sell a package" in page.get_data(as_text=True)
    assert (
        client.get(f"/provider/billing/checkout/{appt.id}/sell/{ids['def']}").status_code == 200
    )  # tap 1
    r = client.post(
        f"/provider/billing/checkout/{appt.id}/sell/{ids['def']}", data={"method": "cash"}
    )  # tap 2: $425 is over the practice's $200 threshold: confirm first (issue 11)
    assert r.status_code == 200 and "Take $425.00 by Cash?" in r.get_data(as_text=True)
    r = client.post(
        f"/provider/billing/checkout/{appt.id}/sell/{ids['def']}",
        data={"method": "cash", "confirm": "yes"},
    )  # tap 3
    assert r.status_code == 303
    purchase = PackagePurchase.get(PackagePurchase.client == world.a.c1.id)
    assert purchase.status == "active" and packages.balance(purchase.id) == 5
    r = client.post(
        f"/provider/billing/checkout/{appt.id}/pay",
        data={"invoice_id": visit.id, "method": "package_credit", "purchase_id": purchase.id},
    )
    assert r.status_code == 303
    assert packages.balance(purchase.id) == 4
    assert Invoice.get_by_id(visit.id).status == "paid"
    assert packages.per_visit_price(appt.id) == 8500


def test_eight_desks_use_the_last_credit_at_once_no_500(app, world):
    """Eight check-outs pay eight visit invoices with the same package's last credit."""
    import threading

    from portal.db import database
    from portal.models.scheduling import Appointment
    from portal.services import billing_events

    with app.test_request_context():
        t = appt_type(world.a.practice)
        d = package(world.a.practice, sessions=1, price_cents=8500, types=[t])
        purchase, inv = packages.sell(d, world.a.c1.id)
        invoicing.record_payment(inv, method="cash", amount_cents=8500)
        work = []
        for _ in range(8):
            appt = appointment(
                world.a.practice, world.a.c1, world.a.provider, t, status="completed"
            )
            work.append((appt.id, billing_events.visit_invoice(Appointment.get_by_id(appt.id)).id))
    clients = []
    for _ in range(8):
        c = app.test_client()
        login(c, world.a.frontdesk)
        clients.append(c)
    database.close()
    codes = []
    barrier = threading.Barrier(8)

    def pay(c, appt_id, inv_id):
        barrier.wait()
        r = c.post(
            f"/provider/billing/checkout/{appt_id}/pay",
            data={"invoice_id": inv_id, "method": "package_credit", "purchase_id": purchase.id},
        )
        codes.append(r.status_code)

    threads = [
        threading.Thread(target=pay, args=(c, *w)) for c, w in zip(clients, work, strict=True)
    ]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    database.connect(reuse_if_open=True)
    assert sorted(codes) == [303] + [400] * 7, codes
    assert packages.balance(purchase.id) == 0
    assert Payment.select().where(Payment.method == "package_credit").count() == 1


def test_give_a_package_credit_back_from_the_invoice(client, world, billed, app):
    ids = billed["a"]
    with app.test_request_context():
        from portal.models.scheduling import Appointment
        from portal.services import billing_events

        appt = Appointment.get_by_id(ids["appt"])
        visit = billing_events.visit_invoice(appt)
        d = PackageDefinition.get_by_id(ids["def"])
        purchase, pinv = packages.sell(d, world.a.c1.id)
        invoicing.record_payment(pinv, method="cash", amount_cents=42500)
        pay = packages.pay_invoice_with_credit(visit, purchase, appt)
    assert packages.balance(purchase.id) == 4
    login(client, world.a.frontdesk)
    page = client.get(f"/provider/billing/invoices/{visit.id}").get_data(as_text=True)
    assert "Give the credit back" in page and "per-visit value $85.00" in page
    url = f"/provider/billing/payments/{pay.id}/refund"
    r = client.post(url, data={"amount": "50", "settles": "due_again"})
    assert r.status_code == 400 and "given back whole" in r.get_data(as_text=True)
    r = client.post(url, data={"amount": "100.00", "settles": "settles"})
    assert r.status_code == 400 and "makes the visit due again" in r.get_data(as_text=True)
    r = client.post(url, data={"amount": "100.00", "settles": "due_again"})
    assert r.status_code == 303
    assert packages.balance(purchase.id) == 5
    assert Invoice.get_by_id(visit.id).status == "open"


def test_client_documents_section(client, world, billed):
    login(client, world.a.frontdesk)
    url = f"/provider/billing/clients/{billed['a']['client']}/documents"
    frag = client.get(url, headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in frag and "Invoice INV-000001" in frag and "Receipt for INV-000001" in frag
    assert AuditLog.select().where(AuditLog.action == "client.documents.view").exists()


def test_the_invoice_list_pages_on_without_skipping_one(client, world, app):
    """Page 2 starts right after page 1's last invoice: 101 invoices are all listed once
    over three pages (50, 50, 1), newest first."""
    from portal.models.billing import Invoice
    from portal.services.billing_reads import PAGE

    with app.test_request_context():
        for n in range(1, 2 * PAGE + 2):
            Invoice.create(
                practice=world.a.practice,
                client=world.a.c1,
                number=f"INV-{n:06d}",
                status="open",
                issued_at=clock.utcnow(),
                total_cents=1000,
            )
    login(client, world.a.owner)
    seen = []
    for page in (1, 2, 3):
        body = client.get(f"/provider/billing/?page={page}").get_data(as_text=True)
        seen.append(re.findall(r"INV-\d{6}", body))
    numbers = [n for page in seen for n in dict.fromkeys(page)]
    assert [len(dict.fromkeys(page)) for page in seen] == [PAGE, PAGE, 1]
    assert numbers == [f"INV-{n:06d}" for n in range(2 * PAGE + 1, 0, -1)]


def test_two_payments_on_one_invoice_are_two_receipts_told_apart(app, client, world):
    """Paid in two parts (a check, then account credit or cash), the client's Invoices page
    and documents showed "Receipt · Receipt" and two "Receipt for INV-..." alike."""
    a = world.a
    with app.test_request_context():
        inv = invoicing.create_invoice(
            practice_id=a.practice.id,
            client_id=a.c1.id,
            lines=[{"kind": "visit", "description": "60-minute massage", "unit_cents": 4000}],
        )
        invoicing.record_payment(inv, method="check", amount_cents=2500, reference="1042")
        invoicing.record_payment(inv, method="cash", amount_cents=1500)
    titles = [d.title for d in StoredDocument.select().where(StoredDocument.kind == "receipt")]
    assert titles == [
        f"Receipt for {inv.number} ($25.00, check)",
        f"Receipt for {inv.number} ($15.00, cash)",
    ]
    login(client, a.cu1)
    page = client.get("/portal/invoices").get_data(as_text=True)
    assert "Receipt <small>$25.00, check</small>" in page
    assert "Receipt <small>$15.00, cash</small>" in page
    docs = client.get("/portal/documents").get_data(as_text=True)
    assert all(t in docs for t in titles)
