"""A client's account credit (migration 0038, services/account_credit): a refund kept as
credit instead of given back, and the credit paying a later invoice.

The money is counted once: the refund takes it off the invoice it was paid on (never sent
to Stripe: a real localstripe charge shows no refund there), the credit payment puts it on
the invoice it pays, and the revenue report's total is what the client really paid. The
ledger keeps its running balance and never goes below zero, even when two desks spend the
last dollars at once; a refund of a credit payment returns to the credit; a merge moves
it. The usual guards hold: another practice's and another client's invoices answer 404,
a logged-out post goes to the login page, a post without its CSRF token is refused."""

import datetime as dt
import threading

import pytest
import stripe
from peewee import IntegrityError
from playhouse.migrations import MigrationError

from portal import clock
from portal.db import database, runner
from portal.models import AccountCredit, AuditLog, ClaimProblem, Client
from portal.models.billing import Invoice, Payment, Refund
from portal.services import account_credit, client_merge, invoicing, payments_service
from portal.services.claims import reports
from tests.billing.test_refund_settles import overpaid_share, refund_url, sums
from tests.billing.test_services import pdftext
from tests.billing.test_stripe import open_invoice, saved_card
from tests.conftest import IS_POSTGRES, login


@pytest.fixture
def card_paid(app, world):
    """Practice a: c1's $100.00 invoice, paid in full by the saved card (localstripe)."""
    with app.test_request_context():
        inv = open_invoice(world)
        payment = payments_service.charge_card_on_file(inv, saved_card(world))
    return inv, payment


def second_invoice(world, cents=6000, client=None):
    a = world.a
    return invoicing.create_invoice(
        practice_id=a.practice.id,
        client_id=(client or a.c1).id,
        lines=[{"kind": "visit", "description": "30-minute massage", "unit_cents": cents}],
    )


def keep_as_credit(client, payment, dollars, settles="settles"):
    return client.post(
        refund_url(payment), data={"amount": dollars, "settles": settles, "destination": "credit"}
    )


def test_a_card_refund_kept_as_credit_pays_the_next_invoice(
    app, client, world, card_paid, tmp_path, localstripe_url
):
    inv, payment = card_paid
    a = world.a
    login(client, a.frontdesk)
    form = client.get(f"/provider/billing/invoices/{inv.id}").get_data(as_text=True)
    assert 'name="destination" value="back" checked' in form
    assert 'name="destination" value="credit">' in form
    assert "Kept as the client&#39;s account credit" in form

    r = keep_as_credit(client, payment, "30.00")
    assert r.status_code == 303
    refund = Refund.get()
    assert (refund.to_credit, refund.status, refund.stripe_refund_id) == (True, "succeeded", None)
    # Nothing went back through Stripe: the charge shows no refund.
    local = stripe.StripeClient("sk_test_stub", base_addresses={"api": localstripe_url})
    refunds = local.v1.refunds.list(params={"payment_intent": payment.stripe_payment_intent_id})
    assert refunds.data == []
    assert sums(inv) == ("paid", 10000, 3000, 3000, 0)
    assert account_credit.balance(a.c1.id) == 3000
    page = client.get(f"/provider/billing/invoices/{inv.id}").get_data(as_text=True)
    assert "(succeeded, settled, kept as account credit)" in page
    credit_note = pdftext(refund.document.data, tmp_path)
    assert "Your account credit with the practice" in credit_note

    with app.test_request_context():
        nxt = second_invoice(world, 6000)
    page = client.get(f"/provider/billing/invoices/{nxt.id}").get_data(as_text=True)
    assert "Pay $30.00 from account credit" in page
    assert "The client holds $30.00 of account credit." in page
    r = client.post(f"/provider/billing/invoices/{nxt.id}/pay-from-credit")
    assert r.status_code == 303
    assert sums(nxt) == ("partially_paid", 3000, 0, 0, 3000)
    paid = Payment.get(Payment.invoice == nxt.id)
    assert (paid.method, paid.amount_cents, paid.created_by_id) == (
        "account_credit",
        3000,
        a.frontdesk.id,
    )
    receipt = pdftext(paid.receipt.data, tmp_path, "receipt.pdf")
    assert "Payment method Account credit" in " ".join(receipt.split())
    assert account_credit.balance(a.c1.id) == 0
    rows = [
        (r.kind, r.delta, r.balance_after)
        for r in AccountCredit.select().order_by(AccountCredit.id)
    ]
    assert rows == [("refund", 3000, 3000), ("payment", -3000, 0)]
    # Spent: the button is gone, and a second post pays nothing.
    page = client.get(f"/provider/billing/invoices/{nxt.id}").get_data(as_text=True)
    assert "from account credit" not in page
    r = client.post(f"/provider/billing/invoices/{nxt.id}/pay-from-credit")
    assert r.status_code == 409
    assert "Not paid from account credit: The client has no account credit." in r.get_data(
        as_text=True
    )
    assert Payment.select().where(Payment.invoice == nxt.id).count() == 1

    # The client's billing page shows the ledger.
    page = client.get(f"/provider/billing/clients/{a.c1.id}").get_data(as_text=True)
    assert 'id="account-credit">$0.00' in page
    assert f"Kept from {inv.number}" in page and f"Paid {nxt.number}" in page
    actions = {
        r.action for r in AuditLog.select().where(AuditLog.action.startswith("account_credit"))
    }
    assert actions == {"account_credit.refund", "account_credit.payment"}


def test_revenue_counts_the_money_once(app, world, card_paid):
    """$100 by card, $30 kept as credit, the credit pays $30 of a $60 invoice: the client
    paid $100, and the report's client money says $100 (70 on one invoice, 30 on the other)."""
    inv, payment = card_paid
    a = world.a
    with app.test_request_context():
        invoicing.refund_payment(payment, 3000, user=a.frontdesk, settles=True, to_credit=True)
        nxt = second_invoice(world)
        account_credit.pay_invoice(nxt, user=a.frontdesk)
    today = clock.local_date(clock.utcnow(), a.practice.tz)
    lo = dt.datetime.combine(today - dt.timedelta(days=2), dt.time())
    hi = dt.datetime.combine(today + dt.timedelta(days=2), dt.time())
    amounts = list(reports._client_amounts(a.practice, lo, hi))
    by_invoice = {}
    for _day, invoice_id, cents, _ in amounts:
        by_invoice[invoice_id] = by_invoice.get(invoice_id, 0) + cents
    assert by_invoice == {inv.id: 7000, nxt.id: 3000}


def test_a_refund_of_a_credit_payment_goes_back_to_the_credit(app, client, world):
    a = world.a
    with app.test_request_context():
        first = open_invoice(world, 5000)
        cash = invoicing.record_payment(first, method="cash", amount_cents=5000)
        invoicing.refund_payment(cash, 5000, user=a.frontdesk, settles=False, to_credit=True)
        nxt = second_invoice(world, 4000)
        from_credit = account_credit.pay_invoice(nxt)
    assert sums(first) == ("open", 5000, 5000, 0, 5000)  # moved off: due again
    assert account_credit.balance(a.c1.id) == 1000
    login(client, a.frontdesk)
    page = client.get(f"/provider/billing/invoices/{nxt.id}").get_data(as_text=True)
    assert "back to the client's account credit" in page
    assert 'type="radio" name="destination"' not in page  # no choice: it goes back
    # A hand-made post asking for the money back still returns it to the credit.
    r = client.post(
        refund_url(from_credit),
        data={"amount": "40.00", "settles": "due_again", "destination": "back"},
    )
    assert r.status_code == 303
    assert "kept as the client&#39;s account credit (due again)" in client.get(
        f"/provider/billing/invoices/{nxt.id}"
    ).get_data(as_text=True)
    assert account_credit.balance(a.c1.id) == 5000
    assert sums(nxt) == ("open", 4000, 4000, 0, 4000)
    kinds = [(r.kind, r.delta) for r in AccountCredit.select().order_by(AccountCredit.id)]
    assert kinds == [("refund", 5000), ("payment", -4000), ("refund", 4000)]
    note = AccountCredit.select().order_by(AccountCredit.id.desc()).first().note
    assert note == f"Given back from {nxt.number}"


def test_the_ledger_keeps_its_running_balance_is_append_only_and_never_negative(app, world):
    a = world.a
    with app.test_request_context():
        inv = open_invoice(world, 5000)
        cash = invoicing.record_payment(inv, method="cash", amount_cents=5000)
        invoicing.refund_payment(cash, 2000, settles=True, to_credit=True)
    row = AccountCredit.get()
    wrong = dict(practice=a.practice.id, client=a.c1.id, kind="merge", created_at=clock.utcnow())
    with pytest.raises(IntegrityError), database.atomic():
        AccountCredit.create(delta=500, balance_after=600, **wrong)  # the sum is 2500
    with pytest.raises(IntegrityError), database.atomic():
        AccountCredit.create(delta=-2500, balance_after=-500, **wrong)  # below zero
    with pytest.raises(IntegrityError), database.atomic():
        AccountCredit.update(note="x").where(AccountCredit.id == row.id).execute()
    with pytest.raises(IntegrityError), database.atomic():
        AccountCredit.delete().where(AccountCredit.id == row.id).execute()
    with pytest.raises(IntegrityError), database.atomic():  # a refund row names its refund
        AccountCredit.create(delta=100, balance_after=2100, **{**wrong, "kind": "refund"})
    assert account_credit.balance(a.c1.id) == 2000
    # Another client's credit is their own.
    assert account_credit.balance(a.c2.id) == 0


def test_two_desks_spending_the_last_credit_at_once_spend_it_once(app, world):
    """Two invoices of c1, each $20, and $20 of credit: two threads pay from it at the same
    moment; one succeeds, the other is told there is no credit, and the balance is 0."""
    a = world.a
    with app.test_request_context():
        inv = open_invoice(world, 2000)
        cash = invoicing.record_payment(inv, method="cash", amount_cents=2000)
        invoicing.refund_payment(cash, 2000, settles=True, to_credit=True)
        targets = [second_invoice(world, 2000), second_invoice(world, 2000)]
    barrier = threading.Barrier(2)
    outcomes = []

    def pay(target):
        with app.test_request_context(), database.connection_context():
            barrier.wait()
            try:
                account_credit.pay_invoice(target)
                outcomes.append("paid")
            except account_credit.CreditError as e:
                outcomes.append(str(e))

    threads = [threading.Thread(target=pay, args=(t,)) for t in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(outcomes) == ["The client has no account credit.", "paid"]
    assert account_credit.balance(a.c1.id) == 0
    assert Payment.select().where(Payment.method == "account_credit").count() == 1


def test_the_claims_overpaid_share_kept_as_credit_answers_the_claim(app, client, world):
    """The payer says the client owes $10.00 of the $40.00 paid: the desk keeps the $30.00
    as credit with the overpaid-share choice; the claim's note is answered as by a refund."""
    a = world.a
    _, estimate, pay = overpaid_share(app, world)
    assert "kept as their account credit" in ClaimProblem.get().message
    login(client, a.frontdesk)
    assert keep_as_credit(client, pay, "30.00", settles="overpaid_share").status_code == 303
    assert sums(estimate) == ("paid", 4000, 3000, 3000, 0)
    assert not ClaimProblem.select().where(ClaimProblem.code == "client_overpaid").exists()
    assert account_credit.balance(a.c1.id) == 3000


def test_the_client_sees_their_credit_and_uses_it(app, client, world):
    a = world.a
    with app.test_request_context():
        inv = open_invoice(world, 2500)
        cash = invoicing.record_payment(inv, method="cash", amount_cents=2500)
        invoicing.refund_payment(cash, 2500, settles=True, to_credit=True)
        nxt = second_invoice(world, 4000)
        other = second_invoice(world, 3000, client=a.c2)
    login(client, a.cu1)
    home = client.get("/portal/").get_data(as_text=True)
    assert 'id="home-account-credit">Account credit: <strong>$25.00</strong>' in home
    assert "Use it on your" in home
    page = client.get("/portal/invoices").get_data(as_text=True)
    assert "You have <strong>$25.00</strong> of account credit: use it on an invoice below." in page
    assert "Use $25.00 of my credit" in page
    # Another client's invoice answers 404 and spends nothing.
    assert client.post(f"/portal/invoices/{other.id}/pay-from-credit").status_code == 404
    assert account_credit.balance(a.c1.id) == 2500
    r = client.post(f"/portal/invoices/{nxt.id}/pay-from-credit")
    assert r.status_code == 303
    assert sums(nxt) == ("partially_paid", 2500, 0, 0, 1500)
    page = client.get("/portal/invoices").get_data(as_text=True)
    assert "of account credit" not in page and "$15.00" in page
    assert "home-account-credit" not in client.get("/portal/").get_data(as_text=True)
    # Spent: asking again says so in the client's words, and pays nothing.
    r = client.post(f"/portal/invoices/{nxt.id}/pay-from-credit", follow_redirects=True)
    words = "Your account credit was not used: you have no account credit left."
    assert words in r.get_data(as_text=True)
    assert Payment.select().where(Payment.invoice == nxt.id).count() == 1
    assert Payment.get(Payment.invoice == nxt.id).created_by_id == a.cu1.id


def test_guards(app, client, world):
    a, b = world.a, world.b
    with app.test_request_context():
        inv = open_invoice(world, 2500)
        cash = invoicing.record_payment(inv, method="cash", amount_cents=2500)
        invoicing.refund_payment(cash, 2500, settles=True, to_credit=True)
        nxt = second_invoice(world, 4000)
        foreign = invoicing.create_invoice(
            practice_id=b.practice.id, client_id=b.c1.id,
            lines=[{"kind": "visit", "description": "Massage", "unit_cents": 1000}],
        )  # fmt: skip
    url = f"/provider/billing/invoices/{nxt.id}/pay-from-credit"
    r = client.post(url)
    assert r.status_code == 302 and "/login" in r.headers["Location"]
    login(client, a.cu1)  # the client's own login: staff pages answer 404
    assert client.post(url).status_code == 404
    client.post("/logout")
    login(client, a.frontdesk)
    assert (
        client.post(f"/provider/billing/invoices/{foreign.id}/pay-from-credit").status_code == 404
    )
    client.post("/logout")
    login(client, b.frontdesk)
    assert client.post(url).status_code == 404
    assert Payment.select().where(Payment.method == "account_credit").count() == 0
    assert account_credit.balance(a.c1.id) == 2500
    # A package credit goes back to its package, never to account credit.
    with pytest.raises(invoicing.InvoiceError):
        invoicing._record_refund(
            Payment.create(practice=a.practice.id, client=a.c1.id, invoice=nxt.id,
                           method="package_credit", amount_cents=4000),
            4000, "", None, False, to_credit=True,
        )  # fmt: skip


def test_a_merge_moves_the_credit(app, client, world):
    """c2 (a duplicate) holds $18.00 of credit and an open $25.00 invoice, and paid $10.00
    cash on another; merged into c1, the credit is c1's, the duplicate's open invoice (shown
    on c1's record) is paid from it, and a refund kept as credit of the duplicate's cash
    payment goes to c1 too."""
    a = world.a

    def c2_invoice(cents):
        return invoicing.create_invoice(
            practice_id=a.practice.id, client_id=a.c2.id,
            lines=[{"kind": "visit", "description": "Massage", "unit_cents": cents}],
        )  # fmt: skip

    with app.test_request_context():
        inv = c2_invoice(1800)
        cash = invoicing.record_payment(inv, method="cash", amount_cents=1800)
        invoicing.refund_payment(cash, 1800, settles=True, to_credit=True)
        open_one = c2_invoice(2500)
        other = c2_invoice(1000)
        other_cash = invoicing.record_payment(other, method="cash", amount_cents=1000)
        client_merge.merge(Client.get_by_id(a.c1.id), Client.get_by_id(a.c2.id), user=a.owner)
    assert account_credit.balance(a.c2.id) == 0
    assert account_credit.balance(a.c1.id) == 1800
    merged = AuditLog.get(AuditLog.action == "client.merge")
    assert "account credit: $18.00" in merged.detail
    login(client, a.frontdesk)
    page = client.get(f"/provider/billing/invoices/{open_one.id}").get_data(as_text=True)
    assert "Pay $18.00 from account credit" in page
    assert (
        client.post(f"/provider/billing/invoices/{open_one.id}/pay-from-credit").status_code == 303
    )
    assert sums(open_one) == ("partially_paid", 1800, 0, 0, 700)
    assert account_credit.balance(a.c1.id) == 0
    with app.test_request_context():
        invoicing.refund_payment(other_cash, 1000, settles=True, to_credit=True)
    assert (account_credit.balance(a.c1.id), account_credit.balance(a.c2.id)) == (1000, 0)


def test_migration_0038_keeps_every_payment_and_refuses_down_while_credit_is_held(app, world):
    """0038 rebuilds payment on SQLite (PostgreSQL swaps its CHECK): a payment and its refund
    written before a down are there after it and after up again, the refund still pointing
    at the payment. Down refuses while credit was kept or spent, and takes the method
    back: an 'account_credit' payment is refused after it."""
    r = runner()
    (name,) = [m.name for m in r.status() if m.name.startswith("0038")]
    a = world.a
    with app.test_request_context():
        inv = open_invoice(world, 5000)
        cash = invoicing.record_payment(inv, method="cash", amount_cents=5000)
        refund = invoicing.refund_payment(cash, 1000, settles=True, to_credit=True)
    applied = [m.name for m in r.status() if m.applied]
    with pytest.raises(MigrationError, match="account credit was kept or spent"):
        r.down(name)
    assert [m.name for m in r.status() if m.applied] == applied

    # A server without credit can go back: clear it as a server that never used it would.
    database.execute_sql(
        "DROP TRIGGER IF EXISTS account_credit_no_delete"
    ) if not IS_POSTGRES else None
    if IS_POSTGRES:
        database.execute_sql("ALTER TABLE account_credit DISABLE TRIGGER USER")
    database.execute_sql("DELETE FROM account_credit")
    reverted = r.down(name)
    assert reverted[-1] == name
    assert "to_credit" not in {c.name for c in database.get_columns("refund")}
    (count,) = database.execute_sql(
        "SELECT COUNT(*) FROM refund JOIN payment ON payment.id = refund.payment_id "
        f"WHERE refund.id = {refund.id}"
    ).fetchone()
    assert count == 1
    with pytest.raises(IntegrityError), database.atomic():
        database.execute_sql(f"UPDATE payment SET method = 'account_credit' WHERE id = {cash.id}")
    if not IS_POSTGRES:
        assert database.execute_sql("PRAGMA foreign_key_check").fetchall() == []
        sql = database.execute_sql(
            "SELECT sql FROM sqlite_master WHERE name = 'refund'"
        ).fetchone()[0]
        assert "REFERENCES payment (id)" in sql
    assert r.up() == list(reversed(reverted))
    assert Payment.get_by_id(cash.id).amount_cents == 5000
    assert Refund.get_by_id(refund.id).payment_id == cash.id
    assert sums(inv) == ("paid", 5000, 1000, 1000, 0)
    with app.test_request_context():
        nxt = second_invoice(world, 1000)
        invoicing.refund_payment(cash, 1000, settles=True, to_credit=True)
        assert account_credit.pay_invoice(nxt).method == "account_credit"
    assert account_credit.balance(a.c1.id) == 0


def _self_pay_visit(app, world, credit_cents):
    """A completed $100 self-pay visit of c1, who holds `credit_cents` of account credit
    (an earlier invoice's cash payment kept as credit)."""
    from portal.services import scheduling as sched
    from tests.billing.conftest import appointment, appt_type

    a = world.a
    with app.test_request_context():
        earlier = open_invoice(world, credit_cents)
        cash = invoicing.record_payment(earlier, method="cash", amount_cents=credit_cents)
        invoicing.refund_payment(cash, credit_cents, settles=True, to_credit=True)
        appt = appointment(a.practice, a.c1, a.provider, appt_type(a.practice))
        sched.check_out(appt, {"97124": 60})
    return appt, Invoice.get(Invoice.appointment == appt.id)


def test_at_check_out_credit_that_covers_the_visit_is_the_first_choice(app, client, world):
    appt, inv = _self_pay_visit(app, world, 12000)
    login(client, world.a.frontdesk)
    page = client.get(f"/provider/billing/checkout/{appt.id}").get_data(as_text=True)
    assert 'name="pay" value="account_credit" checked' in page
    assert "Account credit<small>$120.00 held</small>" in page
    assert "of account credit first" not in page
    r = client.post(
        f"/provider/billing/checkout/{appt.id}/take",
        data={"invoice_id": inv.id, "pay": "account_credit"},
    )
    assert r.status_code == 303
    assert sums(inv) == ("paid", 10000, 0, 0, 0)
    assert Payment.get(Payment.invoice == inv.id).method == "account_credit"
    assert account_credit.balance(world.a.c1.id) == 2000


def test_at_check_out_credit_short_of_the_visit_is_used_first(app, client, world):
    appt, inv = _self_pay_visit(app, world, 3000)
    login(client, world.a.frontdesk)
    checkout = f"/provider/billing/checkout/{appt.id}"
    page = client.get(checkout).get_data(as_text=True)
    assert 'value="account_credit"' not in page  # not a choice: it does not pay it all
    assert "Use $30.00 of account credit first" in page
    r = client.post(f"/provider/billing/invoices/{inv.id}/pay-from-credit", data={"back": checkout})
    assert r.status_code == 303 and r.headers["Location"].endswith(checkout)
    assert sums(inv) == ("partially_paid", 3000, 0, 0, 7000)
    page = client.get(checkout).get_data(as_text=True)
    assert "How does the client pay $70.00?" in page and "account credit first" not in page
    # Another site is never where the desk goes on to.
    r = client.post(
        f"/provider/billing/invoices/{inv.id}/pay-from-credit",
        data={"back": "//evil.example/x"},
    )
    assert r.status_code == 409 and "evil" not in r.headers.get("Location", "")


def test_the_owner_reports_show_the_credit_held(app, client, world):
    """Two clients' credit ($12.00 and $5.00 left of $8.00 after $3.00 paid an invoice)
    and another practice's ($9.00): the owner's reports say $17.00 is held."""
    a, b = world.a, world.b
    with app.test_request_context():
        for side, who, cents in ((a, a.c1, 1200), (a, a.c2, 800), (b, b.c1, 900)):
            inv = invoicing.create_invoice(
                practice_id=side.practice.id, client_id=who.id,
                lines=[{"kind": "visit", "description": "Massage", "unit_cents": cents}],
            )  # fmt: skip
            cash = invoicing.record_payment(inv, method="cash", amount_cents=cents)
            invoicing.refund_payment(cash, cents, settles=True, to_credit=True)
        account_credit.pay_invoice(second_invoice(world, 300, client=a.c2))
    assert account_credit.held_total(a.practice.id) == 1700
    login(client, a.owner)
    page = client.get("/provider/reports").get_data(as_text=True)
    assert '<p class="figure" id="credit-held">$17.00</p>' in page


def test_credit_is_paid_out_by_hand_without_touching_revenue(app, client, world):
    a, b = world.a, world.b
    with app.test_request_context():
        inv = open_invoice(world, 2500)
        cash = invoicing.record_payment(inv, method="cash", amount_cents=2500)
        invoicing.refund_payment(cash, 2500, settles=True, to_credit=True)
    today = clock.local_date(clock.utcnow(), a.practice.tz)
    lo = dt.datetime.combine(today - dt.timedelta(days=2), dt.time())
    hi = dt.datetime.combine(today + dt.timedelta(days=2), dt.time())
    revenue = sorted(c for _, _, c, _ in reports._client_amounts(a.practice, lo, hi))
    url = f"/provider/billing/clients/{a.c1.id}/credit/payout"
    r = client.post(url, data={"amount": "10.00", "method": "cash"})
    assert r.status_code == 302 and "/login" in r.headers["Location"]
    login(client, a.therapist)
    assert client.post(url, data={"amount": "10.00", "method": "cash"}).status_code == 404
    client.post("/logout")
    login(client, b.frontdesk)
    assert client.post(url, data={"amount": "10.00", "method": "cash"}).status_code == 404
    client.post("/logout")
    login(client, a.frontdesk)
    page = client.get(f"/provider/billing/clients/{a.c1.id}").get_data(as_text=True)
    assert "Pay the credit out to the client" in page and 'value="25.00"' in page
    for data, field, words in (
        ({"amount": "30.00", "method": "cash"}, "payout-amount-error", "pay out at most that"),
        ({"amount": "", "method": "cash"}, "payout-amount-error", "Enter the amount to pay out."),
        ({"amount": "abc", "method": "cash"}, "payout-amount-error", "Enter an amount like"),
        ({"amount": "0", "method": "cash"}, "payout-amount-error", "above $0.00"),
        ({"amount": "5.00", "method": "card"}, "payout-method-error", "Choose cash or check."),
    ):
        r = client.post(url, data=data)
        assert r.status_code == 400, data
        html = r.get_data(as_text=True)
        assert f'id="{field}">' in html and words in html, (data, words)
    assert account_credit.balance(a.c1.id) == 2500
    r = client.post(url, data={"amount": "10.00", "method": "check", "reference": "Check 1182"})
    assert r.status_code == 303
    row = AccountCredit.select().order_by(AccountCredit.id.desc()).first()
    assert (row.kind, row.delta, row.balance_after) == ("payout", -1000, 1500)
    assert row.note == "Paid out by check (Check 1182)" and row.created_by_id == a.frontdesk.id
    assert (row.method, row.reference) == ("check", "Check 1182")
    assert AuditLog.select().where(AuditLog.action == "account_credit.payout").count() == 1
    page = client.get(f"/provider/billing/clients/{a.c1.id}").get_data(as_text=True)
    assert 'id="account-credit">$15.00' in page and "Paid out by check (Check 1182)" in page
    # Revenue already left the credit out when it was kept: the payout changes nothing.
    assert sorted(c for _, _, c, _ in reports._client_amounts(a.practice, lo, hi)) == revenue
    assert account_credit.held_total(a.practice.id) == 1500


def test_the_therapist_at_check_out_may_use_the_credit_as_any_payment(app, client, world):
    """Taking a payment is any staff member's (recording one, check-out): the visit's
    therapist sees the credit offered and uses it; paying it out stays the desk's."""
    appt, inv = _self_pay_visit(app, world, 3000)
    login(client, world.a.therapist)
    checkout = f"/provider/billing/checkout/{appt.id}"
    assert "Use $30.00 of account credit first" in client.get(checkout).get_data(as_text=True)
    r = client.post(f"/provider/billing/invoices/{inv.id}/pay-from-credit", data={"back": checkout})
    assert r.status_code == 303
    assert sums(inv) == ("partially_paid", 3000, 0, 0, 7000)
    payout = f"/provider/billing/clients/{world.a.c1.id}/credit/payout"
    assert client.post(payout, data={"amount": "1.00", "method": "cash"}).status_code == 404
