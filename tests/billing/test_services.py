"""Invoices, payments, receipts and packages through the services, on a real database,
with real PDFs read back by pdftotext."""

import datetime as dt
import itertools
import subprocess
import threading

import pytest
from peewee import IntegrityError

from portal import clock
from portal.db import database
from portal.models.billing import (
    LEDGER_REDEEM,
    LEDGER_RETURN,
    CreditLedger,
    Invoice,
    InvoiceLine,
    PackagePurchase,
    Payment,
    Refund,
    StoredDocument,
)
from portal.models.scheduling import Appointment
from portal.rules import ledger as L
from portal.services import billing_events, invoicing, package_refunds, packages
from tests.billing.conftest import appointment, appt_type, package


def pdftext(data, tmp_path, name="doc.pdf"):
    path = tmp_path / name
    path.write_bytes(data)
    out = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True, text=True
    )
    return out.stdout


def visit_lines(w, atype, appt=None):
    return [
        {
            "kind": "visit",
            "description": "60-minute massage",
            "unit_cents": 10000,
            "cpt_code": "97124",
            "provider_id": w.a.provider.id,
            "service_date": clock.utcnow().date(),
            "appointment_id": appt.id if appt else None,
        },
        {"kind": "adjustment", "description": "Returning client discount", "unit_cents": -1500},
    ]


def test_invoice_numbered_per_practice_and_frozen(ctx, world, tmp_path):
    w = world
    t = appt_type(w.a.practice)
    inv1 = invoicing.create_invoice(
        practice_id=w.a.practice.id, client_id=w.a.c1.id, lines=visit_lines(w, t)
    )
    inv2 = invoicing.create_invoice(
        practice_id=w.a.practice.id, client_id=w.a.c2.id, lines=visit_lines(w, t)
    )
    inv_b = invoicing.create_invoice(
        practice_id=w.b.practice.id, client_id=w.b.c1.id, lines=visit_lines(w, t)
    )
    assert (inv1.number, inv2.number, inv_b.number) == ("INV-000001", "INV-000002", "INV-000001")
    assert inv1.total_cents == 8500 and inv1.status == "open"
    text = pdftext(inv1.document.data, tmp_path)
    assert "INV-000001" in text and "60-minute massage" in text and "97124" in text
    assert "$100.00" in text and "-$15.00" in text and "$85.00" in text
    # an issued invoice never changes: lines and total are refused by the database
    with pytest.raises(Exception, match="never changes"):
        InvoiceLine.update(unit_cents=1, amount_cents=1).where(
            InvoiceLine.invoice == inv1.id
        ).execute()
    with pytest.raises(Exception, match="never changes"):
        Invoice.update(total_cents=1).where(Invoice.id == inv1.id).execute()
    with pytest.raises(Exception, match="never changes"):
        StoredDocument.update(data=b"x").where(StoredDocument.id == inv1.document_id).execute()
    with pytest.raises(Exception, match="never deleted"):
        StoredDocument.delete().where(StoredDocument.id == inv1.document_id).execute()


def test_manual_payments_partial_then_paid_with_receipts(ctx, world, tmp_path):
    w = world
    inv = invoicing.create_invoice(
        practice_id=w.a.practice.id, client_id=w.a.c1.id, lines=visit_lines(w, None)
    )
    p1 = invoicing.record_payment(inv, method="cash", amount_cents=5000)
    assert Invoice.get_by_id(inv.id).status == "partially_paid"
    with pytest.raises(invoicing.rules.BillingError, match="more than the balance"):
        invoicing.record_payment(inv, method="cash", amount_cents=5000)
    p2 = invoicing.record_payment(inv, method="check", amount_cents=3500, reference="1042")
    inv = Invoice.get_by_id(inv.id)
    assert inv.status == "paid" and inv.balance_cents == 0
    text = pdftext(Payment.get_by_id(p2.id).receipt.data, tmp_path)
    for needed in ("Receipt", "97124", "NPI 1234567893", "$35.00", "Check", "1042", "60-minute"):
        assert needed in text, needed
    assert Payment.get_by_id(p1.id).receipt_id != Payment.get_by_id(p2.id).receipt_id
    # refunds: a goodwill refund settles (the invoice stays paid, nothing due again), then
    # one refused beyond the payment
    refund = invoicing.refund_payment(p2, 1000, reason="goodwill", settles=True)
    inv = Invoice.get_by_id(inv.id)
    assert (inv.status, inv.settled_cents, inv.balance_cents) == ("paid", 1000, 0)
    note = pdftext(Refund.get_by_id(refund.id).document.data, tmp_path, "note.pdf")
    for needed in ("Credit note", "$10.00", "goodwill", inv.number, "Check", "Settles"):
        assert needed in note, needed
    with pytest.raises(invoicing.rules.BillingError, match="more than what is left"):
        invoicing.refund_payment(p2, 2501, settles=True)
    with pytest.raises(invoicing.rules.BillingError, match="Refund the payments"):
        invoicing.void_invoice(inv, "mistake")


def test_a_refund_changes_no_other_invoices_balance(ctx, world):
    """A refund of a payment on one invoice never changes another invoice's balance due,
    status or sums, whatever the others are (paid, partly paid, a package's, another
    visit's paid by a package credit): one the client will pay another way (not settling,
    docs/billing.md) reopens its own invoice only, and the due total moves by that
    invoice's own balance."""
    w = world
    c1, c2 = w.a.c1.id, w.a.c2.id

    def invoice(client_id, paid, method="cash"):
        inv = invoicing.create_invoice(practice_id=w.a.practice.id, client_id=client_id,
                                       lines=visit_lines(w, None))  # fmt: skip
        pay = invoicing.record_payment(inv, method=method, amount_cents=paid, receipt=False)
        return inv, pay

    refunded, refunded_pay = invoice(c1, 8500)
    paid, _ = invoice(c1, 8500, "check")
    part, _ = invoice(c1, 4000)
    other_client, _ = invoice(c2, 8500)
    t = appt_type(w.a.practice)
    purchase, sale = packages.sell(package(w.a.practice, types=[t]), c1)
    invoicing.record_payment(sale, method="cash", amount_cents=42500, receipt=False)
    visit = appointment(w.a.practice, w.a.c1, w.a.provider, t)
    by_credit = invoicing.create_invoice(
        practice_id=w.a.practice.id,
        client_id=c1,
        lines=visit_lines(w, t, visit),
        appointment_id=visit.id,
        reason="visit",
    )
    credit_pay = packages.pay_invoice_with_credit(by_credit, purchase, visit)
    others = [paid, part, other_client, sale]

    def state(inv):
        inv = Invoice.get_by_id(inv.id)
        return (inv.status, inv.paid_cents, inv.refunded_cents, inv.balance_cents)

    before = [state(inv) for inv in others]
    # visits of $85 ($100 less a $15 discount); the package $425
    assert before == [("paid", 8500, 0, 0), ("partially_paid", 4000, 0, 4500),
                      ("paid", 8500, 0, 0), ("paid", 42500, 0, 0)]  # fmt: skip
    due = invoicing.due_total(w.a.owner)
    assert due == 4500
    invoicing.refund_payment(refunded_pay, 3000, reason="Visit cut short", settles=False)
    assert [state(inv) for inv in others] == before
    assert state(refunded) == ("partially_paid", 8500, 3000, 3000)  # its own, due again
    assert invoicing.due_total(w.a.owner) == due + 3000
    # A visit's package credit given back: its own invoice is unpaid again, nothing else.
    invoicing.refund_payment(
        credit_pay, credit_pay.amount_cents, reason="credit returned", settles=False
    )
    assert [state(inv) for inv in others] == before
    assert state(by_credit) == ("open", 8500, 8500, 8500)
    assert packages.balance(purchase.id) == 5
    assert invoicing.due_total(w.a.owner) == due + 3000 + 8500


def test_void_an_unpaid_invoice(ctx, world):
    w = world
    inv = invoicing.create_invoice(
        practice_id=w.a.practice.id, client_id=w.a.c1.id, lines=visit_lines(w, None)
    )
    inv = invoicing.void_invoice(inv, "entered twice")
    assert inv.status == "void" and inv.balance_cents == 0
    with pytest.raises(invoicing.rules.BillingError):
        invoicing.record_payment(inv, method="cash", amount_cents=100)


def test_package_sell_redeem_return_refund(ctx, world, tmp_path):
    w = world
    t = appt_type(w.a.practice)
    d = package(w.a.practice, types=[t], sessions=3, price_cents=10000)
    purchase, inv = packages.sell(d, w.a.c1.id)
    assert purchase.status == "pending_payment" and packages.balance(purchase.id) == 0
    invoicing.record_payment(inv, method="cash", amount_cents=10000)
    purchase = PackagePurchase.get_by_id(purchase.id)
    assert purchase.status == "active" and packages.balance(purchase.id) == 3
    a1 = appointment(w.a.practice, w.a.c1, w.a.provider, t)
    a2 = appointment(w.a.practice, w.a.c1, w.a.provider, t)
    r1 = packages.redeem(a1)
    assert r1.unit_price_cents == 3334 and packages.redeem(a1).id == r1.id  # once per visit
    packages.redeem(a2)
    assert packages.balance(purchase.id) == 1
    assert packages.per_visit_price(a2.id) == 3333
    packages.return_credit(a2)
    assert packages.balance(purchase.id) == 2 and packages.per_visit_price(a2.id) is None
    assert packages.liability(w.a.practice.id) == 6666
    value, refunds = package_refunds.refund_unused(purchase)
    assert value == 6666 and refunds[0].amount_cents == 6666
    assert packages.balance(purchase.id) == 0
    assert PackagePurchase.get_by_id(purchase.id).status == "refunded"
    # visit prices used + refund = what was paid
    assert 3334 + value == 10000
    inv = Invoice.get_by_id(inv.id)
    assert inv.paid_cents - inv.refunded_cents == 3334
    # the ledger is append-only
    with pytest.raises(Exception, match="append-only"):
        CreditLedger.update(delta=5).execute()
    with pytest.raises(Exception, match="append-only"):
        CreditLedger.delete().execute()


def _histories(steps, held=0, left=3):
    """Every history of up to `steps` operations on a 3-session package: a visit redeems a
    credit ("use"), or any visit still holding one gives it back (("back", i): the i-th
    visit holding one, in whatever order, not only the last)."""
    yield ()
    if steps == 0:
        return
    moves = [("use", held + 1, left - 1)] if left > 0 else []
    moves += [(("back", i), held - 1, left + 1) for i in range(held)]
    for move, h, n in moves:
        for rest in _histories(steps - 1, h, n):
            yield (move, *rest)


def test_visits_used_plus_the_refund_is_what_was_paid_in_every_order(ctx, world):
    """The ledger's rule, $100 for 3 sessions: in every order of redeem and give back (of
    any visit, not only the last), then a refund or an expiry of what is left, the visits
    used plus what is refunded (or expires) is the $100 paid, to the cent; the liability
    is the same amount; no credit is priced more than a cent away from $33.33."""
    w = world
    t = appt_type(w.a.practice)
    d = package(w.a.practice, types=[t], sessions=3, price_cents=10000, expiry_days=30)
    starts = (dt.datetime(2026, 1, 5, 8) + dt.timedelta(hours=2 * n) for n in itertools.count())

    def visit():  # its own hours (the shared appointment() helper's would drift for others)
        start = next(starts)
        end = start + dt.timedelta(hours=1)
        return Appointment.create(practice=w.a.practice, client=w.a.c1, provider=w.a.provider,
                                  appointment_type=t, starts_at=start, ends_at=end,
                                  blocked_until=end, status="booked")  # fmt: skip

    checked = 0
    for history in _histories(4):  # (the rules' test goes further, without a database)
        for end in ("refund", "expire"):
            purchase, inv = packages.sell(d, w.a.c1.id)
            invoicing.record_payment(inv, method="cash", amount_cents=10000)
            holding = []  # visits holding a credit, in the order they used it
            for move in history:
                if move == "use":
                    holding.append(visit())
                    packages.redeem(holding[-1], purchase=purchase)
                else:
                    packages.return_credit(holding.pop(move[1]))
            rows = list(CreditLedger.select().where(CreditLedger.purchase == purchase.id))
            used = sum(-r.delta * r.unit_price_cents for r in rows
                       if r.kind in (LEDGER_REDEEM, LEDGER_RETURN))  # fmt: skip
            assert packages.liability(w.a.practice.id) == 10000 - used, history
            assert {r.unit_price_cents for r in rows if r.kind == LEDGER_REDEEM} <= {3333, 3334}
            if end == "refund" and len(holding) < 3:  # credits left to refund
                value, _ = package_refunds.refund_unused(purchase)
                inv = Invoice.get_by_id(inv.id)
                assert inv.paid_cents - inv.refunded_cents == used  # the money kept
            else:
                packages.expire_due(now=clock.utcnow() + dt.timedelta(days=31))
                expired = CreditLedger.select().where(
                    (CreditLedger.purchase == purchase.id) & (CreditLedger.kind == "expiry")
                )
                value = sum(r.amount_cents for r in expired)
            assert used + value == 10000, (history, end, used, value)
            checked += 1
    assert checked == 34


def test_package_refund_from_invoice_is_by_unused_sessions(ctx, world):
    w = world
    d = package(w.a.practice)
    purchase, inv = packages.sell(d, w.a.c1.id)
    pay = invoicing.record_payment(inv, method="cash", amount_cents=42500)
    with pytest.raises(invoicing.InvoiceError, match="unused sessions"):
        invoicing.refund_payment(pay, 1000, settles=True)


def test_database_refuses_a_negative_balance_row(ctx, world):
    w = world
    d = package(w.a.practice, sessions=1, price_cents=8500)
    purchase, inv = packages.sell(d, w.a.c1.id)
    invoicing.record_payment(inv, method="cash", amount_cents=8500)
    with pytest.raises(IntegrityError):
        CreditLedger.create(
            practice=w.a.practice,
            client=w.a.c1,
            purchase=purchase,
            kind="redeem",
            delta=-2,
            balance_after=-1,
        )
    with pytest.raises(Exception, match="balance mismatch"):
        CreditLedger.create(
            practice=w.a.practice,
            client=w.a.c1,
            purchase=purchase,
            kind="redeem",
            delta=-1,
            balance_after=5,
        )


def test_expiry_removes_the_remaining_credits(ctx, world, monkeypatch):
    import datetime as dt

    w = world
    d = package(w.a.practice, expiry_days=30)
    purchase, inv = packages.sell(d, w.a.c1.id)
    invoicing.record_payment(inv, method="cash", amount_cents=42500)
    assert packages.expire_due() == 0
    later = clock.utcnow() + dt.timedelta(days=31)
    monkeypatch.setattr(clock, "utcnow", lambda: later)
    assert packages.expire_due() == 1
    assert packages.balance(purchase.id) == 0
    row = CreditLedger.select().where(CreditLedger.kind == "expiry").get()
    assert row.delta == -5 and row.amount_cents == 42500
    assert packages.expire_due() == 0  # idempotent


def test_a_package_past_its_expiry_is_not_offered_before_the_daily_task_closes_it(
    ctx, world, monkeypatch
):
    import datetime as dt

    w = world
    d = package(w.a.practice, expiry_days=30)
    purchase, inv = packages.sell(d, w.a.c1.id)
    invoicing.record_payment(inv, method="cash", amount_cents=42500)
    assert [p.id for p in packages.active_purchases(w.a.c1.id)] == [purchase.id]
    later = clock.utcnow() + dt.timedelta(days=31)
    monkeypatch.setattr(clock, "utcnow", lambda: later)
    assert packages.active_purchases(w.a.c1.id) == []  # still active, its credits not usable


def test_expire_packages_command(app, world):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["expire-packages"])
    assert result.exit_code == 0 and "Expired packages: 0" in result.output


def test_eight_threads_redeem_the_last_credit(app, world):
    w = world
    with app.test_request_context():
        t = appt_type(w.a.practice)
        d = package(w.a.practice, sessions=1, price_cents=8500)
        purchase, inv = packages.sell(d, w.a.c1.id)
        invoicing.record_payment(inv, method="cash", amount_cents=8500)
        appts = [appointment(w.a.practice, w.a.c1, w.a.provider, t) for _ in range(8)]
    database.close()
    results, errors = [], []
    barrier = threading.Barrier(8)

    def worker(appt):
        try:
            with app.test_request_context():
                database.connect(reuse_if_open=True)
                try:
                    barrier.wait()
                    row = packages.redeem(appt, purchase=purchase)
                    results.append(row.id)
                except L.NoCreditLeft:
                    results.append(None)
                finally:
                    database.close()
        except Exception as e:  # anything else would be a 500
            errors.append(repr(e))

    threads = [threading.Thread(target=worker, args=(a,)) for a in appts]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    database.connect(reuse_if_open=True)
    assert errors == []
    assert len([r for r in results if r]) == 1 and results.count(None) == 7
    assert packages.balance(purchase.id) == 0


# --- signals from scheduling -----------------------------------------------------------------


def test_completed_visit_redeems_a_credit_or_invoices(ctx, world):
    from portal.services import scheduling

    w = world
    t = appt_type(w.a.practice)
    a1 = appointment(w.a.practice, w.a.c1, w.a.provider, t)
    scheduling.check_out(a1, {"97124": 60})
    inv = Invoice.get(Invoice.appointment == a1.id)
    assert inv.reason == "visit" and inv.total_cents == 10000 and inv.status == "open"
    line = InvoiceLine.get(InvoiceLine.invoice == inv.id)
    assert line.cpt_code == "97124" and line.provider_id == w.a.provider.id
    d = package(w.a.practice, types=[t])
    purchase, pinv = packages.sell(d, w.a.c1.id)
    invoicing.record_payment(pinv, method="cash", amount_cents=42500)
    a2 = appointment(w.a.practice, w.a.c1, w.a.provider, t)
    scheduling.check_out(a2, {"97124": 60})
    # a credit is offered at the desk, not taken: the visit is invoiced, the credit kept
    inv2 = Invoice.get(Invoice.appointment == a2.id)
    assert inv2.status == "open" and packages.balance(purchase.id) == 5
    packages.pay_invoice_with_credit(inv2, purchase, a2)  # the client chose the credit
    assert Invoice.get_by_id(inv2.id).status == "paid"
    assert packages.per_visit_price(a2.id) == 8500 and packages.balance(purchase.id) == 4


def test_cancellations_and_no_show(ctx, world):
    from portal.services import scheduling

    w = world
    t = appt_type(w.a.practice)
    inv_settings = invoicing.settings_for(w.a.practice.id)
    inv_settings.redeem_at = "booking"
    inv_settings.save()
    d = package(w.a.practice, types=[t])
    purchase, pinv = packages.sell(d, w.a.c1.id)
    invoicing.record_payment(pinv, method="cash", amount_cents=42500)
    a = appointment(w.a.practice, w.a.c1, w.a.provider, t, days_ago=-5)
    billing_events.on_booked(a)
    assert packages.balance(purchase.id) == 4
    scheduling.cancel(a)  # well ahead: inside the policy, the credit comes back
    assert packages.balance(purchase.id) == 5
    # a late cancellation without a package: fee invoice from fee_due_cents
    b = appointment(w.a.practice, w.a.c2, w.a.provider, t, fee_due_cents=4000)
    billing_events.on_cancelled(b, late=True)
    fee = Invoice.get(Invoice.appointment == b.id)
    assert fee.reason == "late_cancel" and fee.total_cents == 4000
    billing_events.on_cancelled(b, late=True)  # once only
    assert Invoice.select().where(Invoice.appointment == b.id).count() == 1
    c = appointment(w.a.practice, w.a.c2, w.a.provider, t, fee_due_cents=5000)
    billing_events.on_no_show(c)
    assert Invoice.get(Invoice.appointment == c.id).reason == "no_show"
