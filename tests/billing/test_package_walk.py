"""Packages as their users meet them (the walk of a provider on a tablet and a client on a
phone): defining one, selling, refunding the unused sessions, expiry, the ledger shown to
staff, and what a client sees."""

import datetime as dt
import re

import pytest

from portal import clock, payments
from portal.models import AuditLog
from portal.models.billing import (
    CreditLedger,
    PackageDefinition,
    PackagePurchase,
    Payment,
    Refund,
    StoredDocument,
)
from portal.rules.audit_words import action_words
from portal.services import invoicing, package_refunds, packages
from tests.billing.conftest import appointment, appt_type, package
from tests.clientside.helpers import pdf_text
from tests.conftest import login


def _sold(side, method="cash", sessions=5, price_cents=42500, used=1, **paid):
    """A package of `side`'s c1 paid by `method`, `used` of its credits used."""
    t = appt_type(side.practice)
    d = package(side.practice, types=[t], sessions=sessions, price_cents=price_cents,
                expiry_days=30)  # fmt: skip
    purchase, inv = packages.sell(d, side.c1.id)
    invoicing.record_payment(inv, method=method, amount_cents=price_cents, **paid)
    for _ in range(used):
        packages.redeem(appointment(side.practice, side.c1, side.provider, t), purchase=purchase)
    return PackagePurchase.get_by_id(purchase.id), inv


def _error_of(html, field_id):
    """The message shown by the field `field_id` (render_field's <p class="error">)."""
    found = re.search(rf'<p class="error" id="{field_id}-error">([^<]*)</p>', html)
    return found.group(1) if found else None


def test_a_package_definition_refuses_a_free_or_negative_price_by_the_field(client, world):
    login(client, world.a.owner)
    r = client.post(
        "/provider/billing/packages", data={"name": "Free", "sessions": "3", "price": "0"}
    )
    html = r.get_data(as_text=True)
    assert r.status_code == 400 and _error_of(html, "price") == "Enter a price above $0."
    # every field's message at once, not the price's only after the others are mended
    r = client.post(
        "/provider/billing/packages",
        data={"name": "Bad", "sessions": "0", "price": "-5", "expiry_days": "-3"},
    )
    html = r.get_data(as_text=True)
    assert r.status_code == 400
    assert _error_of(html, "price") == "The amount cannot be negative."
    assert _error_of(html, "sessions") == "A package has 1 to 100 sessions."
    assert _error_of(html, "expiry_days") == "Between 1 and 3650 days, or empty for no expiry."
    r = client.post(  # Decimal reads "NaN", and comparing it raised: a 500
        "/provider/billing/packages", data={"name": "NaN", "sessions": "3", "price": "NaN"}
    )
    html = r.get_data(as_text=True)
    assert r.status_code == 400 and _error_of(html, "price") == "Enter an amount like 85 or 85.50."
    assert PackageDefinition.select().count() == 0


def _type_boxes(html):
    """{appointment type id: checked} of the package form's covered-services tick boxes."""
    boxes = re.findall(r'<input[^>]*name="types"[^>]*>', html)
    assert all('type="checkbox"' in b for b in boxes), boxes
    return {
        int(re.search(r'value="(\d+)"', b).group(1)): " checked" in b or "checked " in b
        for b in boxes
    }


def test_the_covered_services_are_tick_boxes_with_their_message_beside_them(client, world):
    t60 = appt_type(world.a.practice, name="60-minute massage")
    t90 = appt_type(world.a.practice, name="90-minute massage")
    foreign = appt_type(world.b.practice, name="Hot stones")
    login(client, world.a.owner)
    html = client.get("/provider/billing/packages").get_data(as_text=True)
    assert "<select" not in html.split("New package")[1]  # no multi-select any more
    assert _type_boxes(html) == {t60.id: False, t90.id: False}
    assert re.search(r"<fieldset[^>]*>\s*<legend>Eligible appointment types</legend>", html)

    # A type the form did not offer: refused by the boxes, the ticked one kept ticked.
    data = {"name": "5 x 60", "sessions": "5", "price": "425"}
    r = client.post("/provider/billing/packages", data={**data, "types": [t60.id, foreign.id]})
    html = r.get_data(as_text=True)
    assert r.status_code == 400
    assert _error_of(html, "types") == "Tick appointment types from the list."
    assert 'aria-describedby="types-help types-error"' in html
    assert _type_boxes(html) == {t60.id: True, t90.id: False}
    assert PackageDefinition.select().count() == 0

    # Ticked boxes post the same field as the select did: the types, by id.
    r = client.post("/provider/billing/packages", data={**data, "types": [t60.id, t90.id]})
    assert r.status_code == 303
    d = PackageDefinition.get()
    assert sorted(e.appointment_type_id for e in d.eligible) == sorted([t60.id, t90.id])


def test_a_refund_whose_money_cannot_be_recorded_leaves_the_credits_as_they_were(
    ctx, world, monkeypatch
):
    """The credits leave with the money in one transaction: a failure while recording the
    cash given back (its credit note, say) leaves no refund row, no credits removed, and
    the package active, to refund again."""
    purchase, _ = _sold(world.a)

    def broken(refund, user=None):
        raise RuntimeError("the credit note could not be made")

    monkeypatch.setattr(invoicing, "issue_credit_note", broken)
    with pytest.raises(RuntimeError):
        package_refunds.refund_unused(purchase)
    assert packages.balance(purchase.id) == 4
    assert PackagePurchase.get_by_id(purchase.id).status == "active"
    assert Refund.select().count() == 0
    assert not CreditLedger.select().where(CreditLedger.kind == "refund").exists()
    monkeypatch.undo()
    value, refunds = package_refunds.refund_unused(purchase)
    assert value == 34000 and [r.amount_cents for r in refunds] == [34000]


def test_a_card_refund_stripe_refuses_can_be_sent_again_from_the_invoice(
    app, client, world, monkeypatch
):
    """The credits are gone once the refund is asked for; when Stripe refuses to send the
    money back, the invoice page says what is still owed and offers to send it again
    (before, the package was closed and no button could return the money)."""
    with app.test_request_context():
        purchase, inv = _sold(world.a, method="card", stripe_payment_intent_id="pi_walk_1")
    calls = []

    def refused(**kw):
        calls.append(kw)
        raise payments.PaymentsError("Your card issuer declined the refund.")

    monkeypatch.setattr(payments, "create_refund", refused)
    login(client, world.a.frontdesk)
    page = f"/provider/billing/invoices/{inv.id}"
    assert "Refund 4 unused sessions: $340.00" in client.get(page).get_data(as_text=True)
    r = client.post(f"/provider/billing/purchases/{purchase.id}/refund", follow_redirects=True)
    html = r.get_data(as_text=True)
    assert "$340.00 was not returned" in html and "declined the refund" in html
    assert "Return the $340.00 still owed" in html
    assert packages.balance(purchase.id) == 0 and package_refunds.refund_owed(purchase) == 34000
    monkeypatch.setattr(
        payments,
        "create_refund",
        lambda **kw: calls.append(kw) or {"id": "re_1", "status": "succeeded"},
    )
    r = client.post(f"/provider/billing/purchases/{purchase.id}/refund", follow_redirects=True)
    html = r.get_data(as_text=True)
    assert "$340.00 returned" in html and "still owed" not in html
    assert [c["amount_cents"] for c in calls] == [34000, 34000]
    assert package_refunds.refund_owed(purchase) == 0
    assert [r.status for r in Refund.select().order_by(Refund.id)] == ["failed", "succeeded"]
    again = AuditLog.get(AuditLog.action == "package.refund_again")
    assert again.detail == "$340.00" and action_words(again.action).startswith("Sent a package")
    # nothing more to send: asked again (a second tap), nothing is sent
    r = client.post(f"/provider/billing/purchases/{purchase.id}/refund", follow_redirects=True)
    assert len(calls) == 2 and "Nothing is owed" in r.get_data(as_text=True)


def test_a_package_past_its_expiry_is_not_refunded_before_the_daily_task_closes_it(
    app, client, world, monkeypatch
):
    """Past its expiry a package's unused credits are the practice's (the liability leaves
    them out): a refund is refused then as after the task, and the pages say expired."""
    with app.test_request_context():
        purchase, inv = _sold(world.a)
    later = clock.utcnow() + dt.timedelta(days=31)
    monkeypatch.setattr(clock, "utcnow", lambda: later)
    with app.test_request_context(), pytest.raises(packages.PackageError, match="expired on"):
        package_refunds.refund_unused(purchase)
    login(client, world.a.frontdesk)
    html = client.get(f"/provider/billing/invoices/{inv.id}").get_data(as_text=True)
    assert "Refund 4 unused" not in html and "expired" in html
    html = client.get(f"/provider/billing/clients/{world.a.c1.id}").get_data(as_text=True)
    assert re.search(r"4 of 5 left \(expired \w{3} \d\d, \d{4}\)", html)
    r = client.post(f"/provider/billing/purchases/{purchase.id}/refund", follow_redirects=True)
    assert "expired on" in r.get_data(as_text=True)
    assert packages.balance(purchase.id) == 4 and Refund.select().count() == 0


# --- an expired package's unused sessions refunded as goodwill (owner only) ----------------


def _expired(side, monkeypatch, method="cash", run_task=True, **paid):
    """`side`'s c1 package (5 for $425, 1 used) 31 days on: closed by the daily task, or
    (run_task=False) past its expiry with the task not run yet."""
    purchase, inv = _sold(side, method=method, **paid)
    later = clock.utcnow() + dt.timedelta(days=31)
    monkeypatch.setattr(clock, "utcnow", lambda: later)
    if run_task:
        assert packages.expire_due() == 1
    return PackagePurchase.get_by_id(purchase.id), inv


def _ledger(purchase):
    rows = CreditLedger.select().where(CreditLedger.purchase == purchase.id)
    return [(r.kind, r.delta, r.amount_cents) for r in rows.order_by(CreditLedger.id)]


def test_the_owner_refunds_an_expired_packages_unused_sessions_as_goodwill(ctx, world, monkeypatch):
    owner, desk = world.a.owner, world.a.frontdesk
    purchase, inv = _expired(world.a, monkeypatch)
    assert purchase.status == "expired" and packages.balance(purchase.id) == 0
    with pytest.raises(packages.PackageError, match="Only an active package"):
        package_refunds.refund_unused(purchase)  # the ordinary refund still refuses it
    with pytest.raises(packages.PackageError, match="Only the owner"):
        package_refunds.refund_expired(purchase, user=desk, reason="Moved away")
    with pytest.raises(packages.PackageError, match="Say why") as refused:
        package_refunds.refund_expired(purchase, user=owner, reason="  ")
    assert refused.value.field == "reason"
    assert _ledger(purchase)[-1] == ("expiry", -4, 34000)

    value, refunds = package_refunds.refund_expired(
        purchase, user=owner, reason="Hospital stay, could not come"
    )
    assert value == 34000 and [(r.amount_cents, r.status) for r in refunds] == [
        (34000, "succeeded")
    ]
    assert "Hospital stay" in refunds[0].reason
    purchase = PackagePurchase.get_by_id(purchase.id)
    assert purchase.status == "refunded" and packages.balance(purchase.id) == 0
    # The ledger tells it: the 4 expired sessions come back to be refunded, then leave.
    assert _ledger(purchase) == [
        ("purchase", 5, 0),
        ("redeem", -1, 0),
        ("expiry", -4, 34000),
        ("cancel_return", 4, 0),
        ("refund", -4, 34000),
    ]
    assert package_refunds.refund_owed(purchase) == 0
    row = AuditLog.get(AuditLog.action == "package.refund_expired")
    assert row.user_id == owner.id and row.object_id == purchase.id
    assert row.detail == "4 credits, $340.00" and "Hospital" not in row.detail  # no PHI
    assert action_words(row.action) == "Refunded an expired package's unused sessions (goodwill)"
    with pytest.raises(packages.PackageError):  # once
        package_refunds.refund_expired(purchase, user=owner, reason="Again")
    assert Refund.select().count() == 1


def test_a_goodwill_refund_before_the_daily_task_closes_the_package(ctx, world, monkeypatch):
    purchase, _ = _expired(world.a, monkeypatch, run_task=False)
    assert purchase.status == "active" and packages.balance(purchase.id) == 4
    value, _ = package_refunds.refund_expired(purchase, user=world.a.owner, reason="Goodwill")
    assert value == 34000
    assert _ledger(purchase)[-1] == ("refund", -4, 34000)
    assert PackagePurchase.get_by_id(purchase.id).status == "refunded"
    assert packages.expire_due() == 0  # nothing left to expire


def test_a_goodwill_refund_whose_money_cannot_be_recorded_changes_nothing(ctx, world, monkeypatch):
    purchase, _ = _expired(world.a, monkeypatch)
    before = _ledger(purchase)

    def broken(refund, user=None):
        raise RuntimeError("the credit note could not be made")

    monkeypatch.setattr(invoicing, "issue_credit_note", broken)
    with pytest.raises(RuntimeError):
        package_refunds.refund_expired(purchase, user=world.a.owner, reason="Goodwill")
    assert _ledger(purchase) == before
    assert PackagePurchase.get_by_id(purchase.id).status == "expired"
    assert Refund.select().count() == 0
    assert not AuditLog.select().where(AuditLog.action == "package.refund_expired").exists()


def test_a_goodwill_card_refund_stripe_refuses_stays_owed_and_is_sent_again(
    ctx, world, monkeypatch
):
    purchase, _ = _expired(world.a, monkeypatch, method="card", stripe_payment_intent_id="pi_g")

    def refused(**kw):
        raise payments.PaymentsError("Your card issuer declined the refund.")

    monkeypatch.setattr(payments, "create_refund", refused)
    _, refunds = package_refunds.refund_expired(purchase, user=world.a.owner, reason="Goodwill")
    assert [r.status for r in refunds] == ["failed"]
    purchase = PackagePurchase.get_by_id(purchase.id)
    assert purchase.status == "refunded" and package_refunds.refund_owed(purchase) == 34000
    sent = {"id": "re_g", "status": "succeeded"}
    monkeypatch.setattr(payments, "create_refund", lambda **kw: sent)
    owed, _ = package_refunds.return_owed(purchase, user=world.a.owner)
    assert owed == 34000 and package_refunds.refund_owed(purchase) == 0


def test_the_invoice_offers_the_goodwill_refund_to_the_owner_with_a_reason(
    app, client, world, monkeypatch
):
    with app.test_request_context():
        purchase, inv = _expired(world.a, monkeypatch)
    page = f"/provider/billing/invoices/{inv.id}"
    url = f"/provider/billing/purchases/{purchase.id}/refund-expired"
    login(client, world.a.frontdesk)
    assert url not in client.get(page).get_data(as_text=True)
    assert client.post(url, data={"reason": "Moved away"}).status_code == 404
    client.post("/logout")
    login(client, world.a.owner)
    html = client.get(page).get_data(as_text=True)
    assert url in html and "Refund the 4 expired sessions: $340.00" in html
    r = client.post(url, data={"reason": ""})
    html = r.get_data(as_text=True)
    assert r.status_code == 400
    assert _error_of(html, "reason") == "Say why the expired sessions are refunded."
    assert PackagePurchase.get_by_id(purchase.id).status == "expired"
    r = client.post(url, data={"reason": "Moved away, asked kindly"}, follow_redirects=True)
    html = r.get_data(as_text=True)
    assert "Expired sessions refunded: $340.00 returned." in html
    assert PackagePurchase.get_by_id(purchase.id).status == "refunded"
    assert url not in html


def _ledger_lines(html):
    """The rows of the page's first "Where the credits went" table: (what, credits, left)."""
    table = html[html.index('class="ledger"') :]
    body = table[table.index("<tbody>") : table.index("</tbody>")]
    rows = re.findall(r"<tr>(.*?)</tr>", body, re.S)
    cells = [[re.sub(r"\s+", " ", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", r, re.S)]
             for r in rows]  # fmt: skip
    return [(what, credits, left) for _, what, credits, left, _ in cells]


@pytest.mark.parametrize("run_task", [True, False], ids=["closed", "not-closed-yet"])
def test_a_goodwill_refund_reads_as_one_line_and_counts_as_no_visit(
    app, client, world, monkeypatch, run_task
):
    """An expired package (5 for $425, one visit used) refunded as goodwill: staff read one
    line, "4 sessions refunded as goodwill: $340.00 returned", not the ledger's +4 (the
    expired sessions brought back, as the ledger never goes below zero) and -4; the
    refund is no credit used (one visit, $85) and no liability."""
    with app.test_request_context():
        purchase, _ = _expired(world.a, monkeypatch, run_task=run_task)
        package_refunds.refund_expired(purchase, user=world.a.owner, reason="Hospital stay")
    assert packages.used_values([purchase.id]) == {purchase.id: 8500}
    assert packages.liability(world.a.practice.id) == 0
    login(client, world.a.owner)
    html = client.get(f"/provider/billing/clients/{world.a.c1.id}").get_data(as_text=True)
    lines = _ledger_lines(html)
    expired = [("Expired: $340.00 unused", "−4", "0")] if run_task else []
    refunded = ("4 sessions refunded as goodwill: $340.00 returned", "0" if run_task else "−4", "0")
    assert lines[0] == ("Bought", "+5", "5")
    assert lines[1][0].startswith("Visit of") and lines[1][1:] == ("−1", "4")
    assert lines[2:] == [*expired, refunded]
    assert "Given back" not in html and "Refunded: $340.00" not in html
    assert "Hospital" not in html  # the reason stays with the refund and the ledger
    assert "0 of 5 left (refunded)" in html


def test_a_package_lasts_to_the_end_of_its_last_day_in_the_practice_zone(
    app, client, world, monkeypatch
):
    """30 days from a sale at 9:30 in the morning (Los Angeles): the client reads "use them
    by" the 30th day after, and a visit that afternoon still takes a credit (it expired at
    9:30 that morning before)."""
    tz = world.a.practice.tz

    def at(*when):
        moment = dt.datetime(*when, tzinfo=tz).astimezone(dt.UTC).replace(tzinfo=None)
        monkeypatch.setattr(clock, "utcnow", lambda: moment)
        return moment

    at(2026, 3, 2, 9, 30)
    with app.test_request_context():
        purchase, _ = _sold(world.a, used=0)
    assert purchase.expires_at == at(2026, 4, 1, 23, 59, 59)
    at(2026, 4, 1, 16, 0)
    login(client, world.a.cu1)
    html = client.get("/portal/invoices").get_data(as_text=True)
    assert "5 of 5 sessions left, use them by Apr 1, 2026." in html
    with app.test_request_context():
        (eligible,) = packages.eligible_type_ids(purchase.definition_id)
        visit = appointment(world.a.practice, world.a.c1, world.a.provider, eligible, days_ago=0)
        assert packages.redeem(visit, purchase=purchase).unit_price_cents == 8500


def test_the_client_sees_a_package_past_its_expiry_as_expired_not_usable(
    app, client, world, monkeypatch
):
    """Before the daily task closes it, a package past its expiry is not listed as credits
    to use (the home page already left it out); other clients' packages never show."""
    with app.test_request_context():
        _sold(world.a)
        _sold(world.b)
    login(client, world.a.cu1)
    html = client.get("/portal/invoices").get_data(as_text=True)
    assert html.count("4 of 5 sessions left") == 1
    later = clock.utcnow() + dt.timedelta(days=32)
    monkeypatch.setattr(clock, "utcnow", lambda: later)
    login(client, world.a.cu1)  # the session timed out meanwhile
    r = client.get("/portal/invoices")
    assert r.status_code == 200 and "sessions left" not in r.get_data(as_text=True)


def test_staff_read_a_package_ledger_on_the_client_billing_section(app, client, world):
    """Where the credits went: bought, each visit with its date (the practice's zone) and
    per-visit value, a credit given back, the refund; another practice's staff get 404."""
    with app.test_request_context():
        purchase, inv = _sold(world.a, used=2)
        visits = [
            r.appointment
            for r in CreditLedger.select()
            .where(CreditLedger.kind == "redeem")
            .order_by(CreditLedger.id)
        ]
        packages.return_credit(visits[1])
        package_refunds.refund_unused(purchase)
    tz = world.a.practice.tz
    day = clock.to_local(visits[0].starts_at, tz).strftime("%b %-d, %Y")
    login(client, world.a.therapist)
    url = f"/provider/billing/clients/{world.a.c1.id}"
    html = client.get(url).get_data(as_text=True)
    ledger = html[html.index('class="ledger"') :]
    for words in (
        "Bought",
        "+5",
        f"Visit of {day}",
        "$85.00",
        "Given back: cancelled inside the policy",
        "Refunded: $340.00 returned",
        "−4",
    ):
        assert words in ledger, words
    assert "0 of 5 left (refunded)" in html
    outsider = app.test_client()
    login(outsider, world.b.owner)
    assert outsider.get(url).status_code == 404
    assert app.test_client().get(url).status_code == 302  # logged out: to the login page


def test_an_uneven_per_session_price_is_shown_as_its_two_shares(app, client, world, tmp_path):
    """$100 for 3 sessions: "$33.33 to $33.34" a session on the pages and the package's
    receipt (three visits of "$33.33" would not add up to the $100 paid)."""
    with app.test_request_context():
        purchase, inv = _sold(world.a, sessions=3, price_cents=10000, used=0)
    login(client, world.a.owner)
    html = client.get("/provider/billing/packages").get_data(as_text=True)
    assert "$33.33 to $33.34" in html
    receipt = Payment.get(Payment.invoice == inv.id).receipt
    text = pdf_text(StoredDocument.get_by_id(receipt).data, tmp_path)
    assert "($33.33 to $33.34 a session)" in text
    phone = app.test_client()
    login(phone, world.a.cu1)
    html = phone.get("/portal/invoices").get_data(as_text=True)
    assert "3 sessions for $100.00 ($33.33 to $33.34 each)" in html


def test_a_refunded_package_leaves_nothing_to_pay(app, client, world):
    """$340 of a $425 package refunded for its 4 unused sessions: the sale is smaller, not
    unpaid. Its invoice stays paid with nothing due; the client is not asked to pay $340
    for sessions they gave back, nor does the desk's "due" count it."""
    with app.test_request_context():
        purchase, inv = _sold(world.a)
        package_refunds.refund_unused(purchase)
    inv = invoicing.Invoice.get_by_id(inv.id)
    assert (inv.status, inv.balance_cents, inv.paid_cents, inv.refunded_cents) == (
        "paid",
        0,
        42500,
        34000,
    )
    assert invoicing.due_total(world.a.owner) == 0
    login(client, world.a.cu1)
    html = client.get("/portal/invoices").get_data(as_text=True)
    assert "Pay $340.00" not in html and "Nothing to pay" in html
    desk = app.test_client()
    login(desk, world.a.owner)
    html = desk.get(f"/provider/billing/invoices/{inv.id}").get_data(as_text=True)
    assert "Take a payment" not in html
    assert "Unused sessions refunded" in html


def test_the_client_packages_card_is_never_an_empty_heading(app, client, world):
    """On the phone, without online card payments (nothing to buy there) and no package
    with credits to use, no "Packages" card with nothing under it; with packages for sale,
    the client is told they have none yet."""
    app.config["STRIPE_SECRET_KEY"] = ""
    with app.test_request_context():
        package(world.a.practice)  # sold online, but cards are off
    login(client, world.a.cu1)
    html = client.get("/portal/invoices").get_data(as_text=True)
    assert 'id="packages"' not in html
    app.config["STRIPE_SECRET_KEY"] = "sk_test_123"
    html = client.get("/portal/invoices").get_data(as_text=True)
    packages_card = html[html.index('id="packages"') :]
    assert "No package credits to use." in packages_card and "Buy a package" in packages_card
