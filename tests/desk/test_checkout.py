"""A check-out that closes the visit (issue 11 item 4): the payment method is chosen even
where a package credit exists; a tip is kept apart from the invoice; a total over the
practice's threshold is confirmed first; the receipt is printed or e-mailed as a portal
link (no PHI in the e-mail); the next visit is booked from the last; a package is sold
from Today in three taps, with a confirmation."""

import datetime as dt
import re

import pytest

from portal.models import (
    Appointment,
    AppointmentType,
    AuditLog,
    BillingSettings,
    Invoice,
    OutboxMessage,
    PackagePurchase,
    Payment,
    ProviderHours,
    Tip,
)
from portal.services import invoicing, packages
from portal.services import scheduling as sched
from tests.billing.conftest import appointment, appt_type, package
from tests.conftest import login
from tests.desk.conftest import book as desk_book
from tests.desk.conftest import local_utc


@pytest.fixture
def visit(app, world):
    """A completed $100 self-pay visit of world a's c1, who holds a paid 5-visit package."""
    with app.test_request_context():
        w = world.a
        t = appt_type(w.practice)
        d = package(w.practice, types=[t])
        purchase, pinv = packages.sell(d, w.c1.id)
        invoicing.record_payment(pinv, method="cash", amount_cents=42500)
        appt = appointment(w.practice, w.c1, w.provider, t)
        sched.check_out(appt, {"97124": 60})
    return appt, purchase, d


def test_card_over_the_available_credit_with_a_tip(app, client, world, visit):
    appt, purchase, _ = visit
    login(client, world.a.frontdesk)
    page = client.get(f"/provider/billing/checkout/{appt.id}").get_data(as_text=True)
    # the credit is offered (first), not taken
    assert f'value="package_credit:{purchase.id}" checked' in page
    assert 'value="external_terminal"' in page and "Tip for" in page
    inv = Invoice.get(Invoice.appointment == appt.id)
    assert inv.status == "open" and packages.balance(purchase.id) == 5
    r = client.post(
        f"/provider/billing/checkout/{appt.id}/take",
        data={"invoice_id": inv.id, "pay": "external_terminal", "tip_choice": "1500"},
    )
    assert r.status_code == 303
    inv = Invoice.get_by_id(inv.id)
    assert inv.status == "paid" and inv.total_cents == 10000  # the tip is not on it
    assert Payment.get(Payment.invoice == inv.id).method == "external_terminal"
    tip = Tip.get()
    assert (tip.amount_cents, tip.method, tip.provider_id) == (
        1500,
        "external_terminal",
        appt.provider_id,
    )
    assert packages.balance(purchase.id) == 5  # the credit is still the client's
    assert AuditLog.select().where(AuditLog.action == "tip.record").count() == 1
    page = client.get(f"/provider/billing/checkout/{appt.id}").get_data(as_text=True)
    assert "Print the receipt (PDF)" in page and "Tip for" in page and "$15.00" in page


def test_a_tip_typed_badly_is_refused_next_to_the_field(app, client, world, visit):
    appt, _, _ = visit
    inv = Invoice.get(Invoice.appointment == appt.id)
    login(client, world.a.frontdesk)
    for typed, message in (
        ("abc", "Enter an amount like"),
        ("-5", "cannot be negative"),
        ("5000", "over $1,000"),
    ):
        r = client.post(
            f"/provider/billing/checkout/{appt.id}/take",
            data={"invoice_id": inv.id, "pay": "cash", "tip": typed},
        )
        assert r.status_code == 400 and message in r.get_data(as_text=True), typed
    r = client.post(f"/provider/billing/checkout/{appt.id}/take", data={"invoice_id": inv.id})
    assert r.status_code == 400 and "Choose how to pay" in r.get_data(as_text=True)
    assert Invoice.get_by_id(inv.id).status == "open" and not Tip.select().exists()


def test_over_the_threshold_the_payment_is_confirmed_first(app, client, world, visit):
    appt, purchase, _ = visit
    BillingSettings.create(practice=world.a.practice, confirm_over_cents=10000)
    inv = Invoice.get(Invoice.appointment == appt.id)
    login(client, world.a.frontdesk)
    data = {"invoice_id": inv.id, "pay": "cash", "tip": "10"}
    r = client.post(f"/provider/billing/checkout/{appt.id}/take", data=data)
    body = r.get_data(as_text=True)
    assert r.status_code == 200 and "Take $110.00 by Cash?" in body
    assert Invoice.get_by_id(inv.id).status == "open"
    r = client.post(f"/provider/billing/checkout/{appt.id}/take", data={**data, "confirm": "yes"})
    assert r.status_code == 303 and Invoice.get_by_id(inv.id).status == "paid"
    # a credit moves no money: no confirmation
    assert Tip.get().amount_cents == 1000


def test_a_check_keeps_its_number_through_the_confirmation_to_the_day_sheet(
    app, client, world, visit
):
    """The check's number is typed at check-out (it was asked for nowhere there, so the
    day sheet's deposit list read "No check number"); a confirmation step keeps it."""
    appt, _, _ = visit
    BillingSettings.create(practice=world.a.practice, confirm_over_cents=5000)
    inv = Invoice.get(Invoice.appointment == appt.id)
    login(client, world.a.frontdesk)
    page = client.get(f"/provider/billing/checkout/{appt.id}").get_data(as_text=True)
    assert f'<label for="reference-{inv.id}">Check number or terminal slip (optional)' in page
    data = {"invoice_id": inv.id, "pay": "check", "reference": " 1042 "}
    r = client.post(f"/provider/billing/checkout/{appt.id}/take", data=data)
    assert r.status_code == 200 and 'name="reference" value=" 1042 "' in r.get_data(as_text=True)
    r = client.post(f"/provider/billing/checkout/{appt.id}/take", data={**data, "confirm": "yes"})
    assert r.status_code == 303
    assert Payment.get(Payment.invoice == inv.id).reference == "1042"
    day = client.get("/provider/billing/day").get_data(as_text=True)
    assert "1042: $100.00 from" in day


def test_paying_with_the_credit_is_one_choice_among_the_others(app, client, world, visit):
    appt, purchase, _ = visit
    inv = Invoice.get(Invoice.appointment == appt.id)
    login(client, world.a.frontdesk)
    r = client.post(
        f"/provider/billing/checkout/{appt.id}/take",
        data={"invoice_id": inv.id, "pay": f"package_credit:{purchase.id}"},
    )
    assert r.status_code == 303
    assert Invoice.get_by_id(inv.id).status == "paid" and packages.balance(purchase.id) == 4
    # another client's package: 404
    with app.test_request_context():
        other = package(world.a.practice, name="other")
        theirs, pinv = packages.sell(other, world.a.c2.id)
        appt2 = appointment(world.a.practice, world.a.c1, world.a.provider, appt.appointment_type)
        sched.check_out(appt2, {"97124": 60})
    inv2 = Invoice.get(Invoice.appointment == appt2.id)
    r = client.post(
        f"/provider/billing/checkout/{appt2.id}/take",
        data={"invoice_id": inv2.id, "pay": f"package_credit:{theirs.id}"},
    )
    assert r.status_code in (400, 404) and Invoice.get_by_id(inv2.id).status == "open"


def test_the_receipt_is_emailed_as_a_portal_link_without_phi(app, client, world, visit):
    appt, _, _ = visit
    inv = Invoice.get(Invoice.appointment == appt.id)
    login(client, world.a.frontdesk)
    client.post(
        f"/provider/billing/checkout/{appt.id}/take", data={"invoice_id": inv.id, "pay": "cash"}
    )
    payment = Payment.get(Payment.invoice == inv.id)
    before = OutboxMessage.select().count()
    r = client.post(f"/provider/billing/checkout/{appt.id}/receipts/{payment.id}/email")
    assert r.status_code == 303
    mail = OutboxMessage.select().where(OutboxMessage.kind == "receipt").get()
    assert mail.to_addr == world.a.c1.email
    assert f"/portal/documents/{payment.receipt_id}" in mail.body
    c1 = world.a.c1
    for phi in (c1.first_name, c1.last_name, "100.00", "massage", "97124"):
        assert phi not in mail.body and phi not in mail.subject
    assert OutboxMessage.select().count() > before
    assert AuditLog.get(AuditLog.action == "receipt.send").object_id == payment.id
    # a payment of another visit, or another practice's: 404
    with app.test_request_context():
        other = appointment(world.a.practice, world.a.c2, world.a.provider, appt.appointment_type)
    r = client.post(f"/provider/billing/checkout/{other.id}/receipts/{payment.id}/email")
    assert r.status_code == 404
    client.post("/logout")
    login(client, world.b.frontdesk)
    r = client.post(f"/provider/billing/checkout/{appt.id}/receipts/{payment.id}/email")
    assert r.status_code == 404


def test_book_the_next_visit_like_this_one(app, client, world, visit):
    appt, _, _ = visit
    for weekday in range(7):  # the therapist works around the clock: the same time is free
        ProviderHours.create(
            practice=world.a.practice,
            provider=world.a.provider,
            weekday=weekday,
            start_minute=0,
            end_minute=1440,
        )
    login(client, world.a.frontdesk)
    page = client.get(f"/provider/billing/checkout/{appt.id}").get_data(as_text=True)
    assert "Book the next visit" in page
    first = page
    r = client.post(f"/provider/billing/checkout/{appt.id}/next", data={"at": _shown(first)})
    assert r.status_code == 303
    nxt = (
        Appointment.select().where(Appointment.id != appt.id).order_by(Appointment.id.desc()).get()
    )
    assert (nxt.client_id, nxt.provider_id, nxt.appointment_type_id) == (
        appt.client_id,
        appt.provider_id,
        appt.appointment_type_id,
    )
    assert nxt.starts_at - appt.starts_at == dt.timedelta(weeks=2)  # no rhythm yet: 2 weeks
    page = client.get(f"/provider/billing/checkout/{appt.id}").get_data(as_text=True)
    assert "Already booked:" in page and "Book another visit" in page
    # the time the page showed is taken now: nothing is booked the desk did not see; the
    # page then offers the nearest free time (the hour before, the earlier of two)
    count = Appointment.select().count()
    r = client.post(f"/provider/billing/checkout/{appt.id}/next", data={"at": _shown(first)})
    assert r.status_code == 303 and r.headers["Location"].endswith(f"/checkout/{appt.id}")
    assert Appointment.select().count() == count
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "The time shown was just taken:" in page
    assert "is the nearest free time now. Book it, or choose another." in page
    r = client.post(f"/provider/billing/checkout/{appt.id}/next", data={"at": _shown(page)})
    again = Appointment.select().order_by(Appointment.id.desc()).get()
    assert again.starts_at == nxt.starts_at - dt.timedelta(hours=1)
    # a forged or missing time books nothing
    assert client.post(f"/provider/billing/checkout/{appt.id}/next").status_code == 303
    r = client.post(f"/provider/billing/checkout/{appt.id}/next", data={"at": "x" * 500})
    assert r.status_code == 303 and Appointment.select().count() == count + 1


def _shown(page):
    """The time the page's "Book the next visit" button offers (its hidden field)."""
    return re.search(r'name="at" value="([^"]+)"', page).group(1)


def test_a_package_sold_from_today_in_three_taps_with_a_confirmation(app, client, world, now_today):
    w = world.a
    with app.test_request_context():
        t = appt_type(w.practice)
        d = package(w.practice, types=[t])
        appt = sched.book(
            practice=w.practice,
            client=w.c1,
            appt_type=t,
            provider=w.provider,
            starts_at=now_today,
        )
    login(client, w.frontdesk)
    home = client.get("/provider/").get_data(as_text=True)
    sell = f"/provider/billing/checkout/{appt.id}/packages"
    assert sell in home  # tap 1: "Sell a package" on today's visit
    page = client.get(sell).get_data(as_text=True)
    action = f"/provider/billing/checkout/{appt.id}/sell/{d.id}"
    assert action in page
    r = client.post(action, data={"method": "cash"})  # tap 2: Cash under the package
    assert r.status_code == 200 and "Take $425.00 by Cash?" in r.get_data(as_text=True)
    assert not PackagePurchase.select().exists()
    r = client.post(action, data={"method": "cash", "confirm": "yes"})  # tap 3: Confirm
    assert r.status_code == 303
    purchase = PackagePurchase.get()
    assert purchase.status == "active" and packages.balance(purchase.id) == 5


@pytest.fixture
def now_today(world):
    """Noon today in the practice's time zone (as naive UTC): always "today" on Today."""
    from portal import clock
    from portal.rules import slots

    tz = world.a.practice.tz
    day = slots.to_local(clock.utcnow(), tz).date()
    return slots.to_utc(dt.datetime.combine(day, dt.time(12)), tz)


# --- the next visit falls in the therapist's working hours ------------------------------------


def _closed_visit(app, side, hour, minute=0, client=None):
    """A cash visit of `side` on Wednesday 3 June at hour:minute (staff may book outside
    hours), checked out."""
    with app.test_request_context():
        appt = desk_book(side, hour, minute=minute, client=client)
        return sched.check_out(appt, {"97124": 60})


def test_the_next_visit_is_offered_in_working_hours_and_free(app, client, desk):
    """The demo offered 10:45 PM: a visit checked out at 10:45 PM (booked by staff after
    hours) is offered the free time of the therapist's hours (9-5) nearest to 10:45 PM two
    weeks on: 4:00 PM that Wednesday; a visit at 10:00 AM gets 10:00 AM when free, else the
    nearest free time that day; no hours at all: said so, and the form opens prefilled."""
    a = desk.a
    late = _closed_visit(app, a, 22, 45)
    login(client, a.frontdesk)
    page = client.get(f"/provider/billing/checkout/{late.id}").get_data(as_text=True)
    assert "Wednesday 17 June, 4:00 PM ·" in page and "17 June, 10:45 PM ·" not in page
    assert "Wednesday 17 June, 10:45 PM is outside" in page
    r = client.post(f"/provider/billing/checkout/{late.id}/next", data={"at": _shown(page)})
    assert r.status_code == 303 and r.headers["Location"].endswith(f"/checkout/{late.id}")
    booked = Appointment.select().order_by(Appointment.id.desc()).get()
    assert booked.starts_at == local_utc(dt.date(2026, 6, 17), 16)
    # the same time, free: offered as is
    morning = _closed_visit(app, a, 10, client=a.c2)
    page = client.get(f"/provider/billing/checkout/{morning.id}").get_data(as_text=True)
    assert "Wednesday 17 June, 10:00 AM ·" in page and "is outside" not in page
    # taken by another client: the nearest free time (after that visit and its buffer)
    with app.test_request_context():
        other = desk_book(a, 10, client=a.c1, day=dt.date(2026, 6, 17))
    page = client.get(f"/provider/billing/checkout/{morning.id}").get_data(as_text=True)
    assert "Wednesday 17 June, 11:15 AM ·" in page
    client.post(f"/provider/billing/checkout/{morning.id}/next", data={"at": _shown(page)})
    booked = Appointment.select().order_by(Appointment.id.desc()).get()
    assert booked.id != other.id and booked.starts_at == local_utc(dt.date(2026, 6, 17), 11, 15)
    # no working hours: said so, and the booking form opens prefilled
    ProviderHours.delete().where(ProviderHours.provider == a.provider).execute()
    count = Appointment.select().count()
    page = client.get(f"/provider/billing/checkout/{late.id}").get_data(as_text=True)
    assert "has no free time in working hours within 3 days of Wednesday 17 June" in page
    r = client.post(f"/provider/billing/checkout/{late.id}/next")
    assert r.status_code == 303
    assert "/provider/schedule/new?" in r.headers["Location"]
    assert "date=2026-06-17" in r.headers["Location"] and "time=22:45" in r.headers["Location"]
    assert Appointment.select().count() == count
    # another practice's visit: 404
    foreign = _closed_visit(app, desk.b, 10)
    assert client.post(f"/provider/billing/checkout/{foreign.id}/next").status_code == 404


def test_the_tip_suggestions_say_what_they_are_a_share_of(app, client, world, visit):
    """Tips are reckoned on the session's full price; where the client pays less today (a
    copay, a discount), the form says the suggestions are not a share of that."""
    appt, _, _ = visit
    login(client, world.a.frontdesk)
    body = client.get(f"/provider/billing/checkout/{appt.id}").get_data(as_text=True)
    assert "of the session's full price, $100.00." in body and "$15.00" in body
    assert "not of what is paid today" not in body
    AppointmentType.update(price_cents=12000).where(  # the invoice stays at $100
        AppointmentType.id == appt.appointment_type_id
    ).execute()
    body = client.get(f"/provider/billing/checkout/{appt.id}").get_data(as_text=True)
    assert "of the session's full price, $120.00, not of what is paid today." in body
    assert "$18.00" in body  # 15% of $120, not of the $100 invoice


def test_a_visit_paid_by_a_credit_shows_its_receipt_at_the_per_visit_value(
    app, client, world, visit
):
    """The $100 visit paid by a credit of a 5-for-$425 package: the receipt to print says
    $85.00 (as the receipt PDF and the card above it do), not the invoice's $100.00."""
    appt, purchase, _ = visit
    inv = Invoice.get(Invoice.appointment == appt.id)
    login(client, world.a.frontdesk)
    client.post(
        f"/provider/billing/checkout/{appt.id}/take",
        data={"invoice_id": inv.id, "pay": f"package_credit:{purchase.id}"},
    )
    page = client.get(f"/provider/billing/checkout/{appt.id}").get_data(as_text=True)
    receipts = page[page.index('id="receipts"') :]
    assert "$85.00 · Package credit" in receipts and "$100.00" not in receipts
