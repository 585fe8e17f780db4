"""The day sheet (services/day_sheet, /provider/billing/day): the money taken and given back
on one of the practice's days, by way of paying, to close the cash drawer and fill in the
deposit slip; also as a CSV. Real SQLite file, real services writing the payments, refunds
and credit payouts; the days are the practice's (America/Los_Angeles), not UTC's."""

import csv
import datetime as dt
import io

import pytest

from portal import clock
from portal.db import database, runner
from portal.models import AccountCredit, AuditLog, Client
from portal.services import account_credit, day_sheet, desk_checkout, invoicing, packages
from tests.billing.conftest import appointment, appt_type, package
from tests.conftest import IS_POSTGRES, login

DAY = dt.date(2026, 11, 20)


def utc(day, hour, minute=0):
    """A local time of practice a's zone (UTC-8 in November) as naive UTC."""
    return dt.datetime(day.year, day.month, day.day, hour, minute) + dt.timedelta(hours=8)


def bill(side, client, cents):
    return invoicing.create_invoice(
        practice_id=side.practice.id,
        client_id=client.id,
        lines=[{"kind": "visit", "description": "60-minute massage", "unit_cents": cents}],
    )


def pay(side, client, cents, method, when, user, reference=""):
    with clock.told(when):
        inv = bill(side, client, cents)
        return invoicing.record_payment(
            inv, method=method, amount_cents=cents, user=user, reference=reference
        )


@pytest.fixture
def busy_day(app, world):
    """Practice a's DAY: cash $100 and a $23 cash tip for its provider, a check $60 (no.
    1042), terminal $40, a card $25 the client paid in the portal; $20 cash given back, $15
    of the check kept as c2's credit, $10 of it paying c2's next invoice, $5 of it paid out
    in cash; a package credit ($85 a visit) used. Around it: the package sold and paid two
    days before, a payment at 11:30 PM the evening before (07:30 UTC on DAY) and practice
    b's cash the same day."""
    a, b = world.a, world.b
    Client.update(first_name="=Sum").where(Client.id == a.c2.id).execute()
    desk = a.frontdesk
    with app.test_request_context():
        t = appt_type(a.practice)
        visit, later = (appointment(a.practice, a.c1, a.provider, t) for _ in range(2))
        with clock.told(utc(DAY - dt.timedelta(days=2), 12)):
            purchase, sale = packages.sell(package(a.practice, types=[t]), a.c1.id, user=desk)
            invoicing.record_payment(sale, method="cash", amount_cents=42500, user=desk)
        cash = pay(a, a.c1, 10000, "cash", utc(DAY, 9), desk)
        with clock.told(utc(DAY, 9, 5)):
            desk_checkout.take_tip(visit, 2300, "cash", user=desk)
        check = pay(a, a.c2, 6000, "check", utc(DAY, 10), desk, reference="1042")
        pay(a, a.c1, 4000, "external_terminal", utc(DAY, 11), desk)
        pay(a, a.c1, 2500, "card", utc(DAY, 12), a.cu1)
        with clock.told(utc(DAY, 13)):
            invoicing.refund_payment(cash, 2000, settles=True, user=desk)
            invoicing.refund_payment(check, 1500, settles=True, to_credit=True, user=desk)
        with clock.told(utc(DAY, 14)):
            account_credit.pay_invoice(bill(a, a.c2, 1000), user=desk)
        with clock.told(utc(DAY, 15)):
            account_credit.pay_out(a.c2, 500, "cash", "slip 7", user=desk)
        with clock.told(utc(DAY, 16)):
            packages.redeem(later, user=desk, purchase=purchase)
        pay(a, a.c1, 7000, "cash", utc(DAY - dt.timedelta(days=1), 23, 30), desk)
        pay(b, b.c1, 9900, "cash", utc(DAY, 9), b.frontdesk)
    return world


def test_the_sheet_counts_the_drawer_the_deposit_and_what_moved_no_money(app, busy_day):
    a = busy_day.a
    sheet = day_sheet.build(a.practice, DAY)
    by_method = {t.method: (t.taken_cents, t.taken_count, t.out_cents, t.out_count)
                 for t in sheet.totals}  # fmt: skip
    assert by_method == {
        "cash": (12300, 2, 2500, 2),  # the tip; $20 given back, $5 of credit paid out
        "check": (6000, 1, 0, 0),  # the $15 kept as credit left no check
        "external_terminal": (4000, 1, 0, 0),
        "card": (2500, 1, 0, 0),
    }
    assert sheet.cash_net_cents == 9800
    assert sheet.net_cents == 22300 and sheet.tips_cents == 2300
    assert [(e.reference, e.cents) for e in sheet.checks_in] == [("1042", 6000)]
    assert sheet.not_money == [
        ("Package credits used", 1, 8500),
        ("Paid from account credit", 1, 1000),
        ("Refunds kept as account credit", 1, 1500),
    ]
    kinds = [(e.time, e.kind, e.method, e.cents) for e in sheet.entries]
    assert kinds == [
        ("9:00 AM", "payment", "cash", 10000),
        ("9:05 AM", "tip", "cash", 2300),
        ("10:00 AM", "payment", "check", 6000),
        ("11:00 AM", "payment", "external_terminal", 4000),
        ("12:00 PM", "payment", "card", 2500),
        ("1:00 PM", "refund", "cash", -2000),
        ("1:00 PM", "kept", "check", -1500),
        ("2:00 PM", "payment", "account_credit", 1000),
        ("3:00 PM", "payout", "cash", -500),
        ("4:00 PM", "package", "package_credit", 8500),
    ]
    tip = next(e for e in sheet.entries if e.kind == "tip")
    assert tip.kind_label == f"Tip for {a.provider.first_name} {a.provider.last_name}"
    assert {e.by for e in sheet.entries} == {a.frontdesk.name, day_sheet.ONLINE}
    # The payment at 11:30 PM the evening before is that day's, in the practice's zone.
    before = day_sheet.build(a.practice, DAY - dt.timedelta(days=1))
    assert [(e.time, e.cents) for e in before.entries] == [("11:30 PM", 7000)]
    assert day_sheet.build(a.practice, DAY + dt.timedelta(days=1)).entries == []


def test_the_desk_reads_the_page_and_its_csv(app, client, busy_day):
    a, b = busy_day.a, busy_day.b
    login(client, a.frontdesk)
    r = client.get(f"/provider/billing/day?day={DAY.isoformat()}")
    assert r.status_code == 200
    page = r.get_data(as_text=True)
    assert "Friday, November 20, 2026" in page
    assert 'id="cash-net">$98.00<' in page
    assert 'id="checks-in">$60.00<' in page
    assert 'id="net-taken">$223.00<' in page
    assert 'id="tips">$23.00<' in page
    assert "Package credits used: 1, $85.00" in page
    assert "1042: $60.00 from =Sum Person" in page
    assert "Paid from account credit: 1, $10.00" in page
    assert "Refunds kept as account credit: 1, $15.00" in page
    assert "Account credit paid out" in page and "slip 7" in page
    assert b.c1.first_name not in page  # another practice's money is not on it
    assert "/provider/billing/invoices/" in page and f"/provider/billing/clients/{a.c2.id}" in page
    assert "Next day" in page and "Previous day" in page
    views = AuditLog.select().where(AuditLog.action == "day_sheet.view")
    assert [v.detail for v in views] == [DAY.isoformat()]

    r = client.get(f"/provider/billing/day.csv?day={DAY.isoformat()}")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    assert f"day-sheet-{DAY.isoformat()}.csv" in r.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(r.get_data(as_text=True))))
    assert len(rows) == 10
    money = [round(float(row["amount"]) * 100) for row in rows if row["moves_money"] == "yes"]
    assert len(money) == 7 and sum(money) == 22300  # what the page's net says
    assert {row["what"] for row in rows if row["moves_money"] == "no"} == {
        "Refund kept as account credit",
        "Payment",  # from account credit
        "Package credit used (5 x 60-minute massage)",
    }
    check = next(row for row in rows if row["reference"] == "1042")
    assert check["client"] == "'=Sum Person"  # a spreadsheet shows it, never runs it
    assert check["time"] == "2026-11-20 10:00" and check["amount"] == "60.00"
    assert AuditLog.select().where(AuditLog.action == "day_sheet.download").count() == 1


def test_an_empty_day_says_so_and_a_bad_date_is_refused_next_to_the_field(client, world):
    login(client, world.a.owner)
    page = client.get("/provider/billing/day?day=2026-01-02").get_data(as_text=True)
    assert "Nothing was taken, given back or paid out on Friday, January 2, 2026." in page
    r = client.get("/provider/billing/day")
    assert r.status_code == 200 and "Day sheet" in r.get_data(as_text=True)
    for bad, words in (
        ("2026-13-01", "Enter a date like 2026-01-31."),
        ("yesterday", "Enter a date like 2026-01-31."),
        ("2026-02-30", "Enter a date like 2026-01-31."),
        ("9999-12-31", "Enter a date between 1900 and 9998."),  # no next day to link to
        ("0001-01-01", "Enter a date between 1900 and 9998."),
    ):
        r = client.get(f"/provider/billing/day?day={bad}")
        assert r.status_code == 400
        html = r.get_data(as_text=True)
        assert 'aria-invalid="true" aria-describedby="day-error"' in html
        assert f'<p class="error" id="day-error">{words}</p>' in html
        assert client.get(f"/provider/billing/day.csv?day={bad}").status_code == 400


def test_only_the_desk_and_the_owner_see_it(client, world):
    a = world.a
    for url in ("/provider/billing/day", "/provider/billing/day.csv"):
        r = client.get(url)
        assert r.status_code == 302 and "/login" in r.headers["Location"]
    for user in (a.therapist, a.cu1):
        login(client, user)
        assert client.get("/provider/billing/day").status_code == 404
        assert client.get("/provider/billing/day.csv").status_code == 404
        client.post("/logout")
    login(client, a.frontdesk)
    nav = client.get("/provider/billing/").get_data(as_text=True)
    assert 'href="/provider/billing/day"' in nav
    client.post("/logout")
    login(client, a.therapist)
    assert 'href="/provider/billing/day"' not in client.get("/provider/billing/").get_data(
        as_text=True
    )


def test_migration_0039_fills_in_the_payouts_made_before_it(app, world):
    """Payouts written before 0039 kept their method and check number only in the note: up
    reads them from it, and the ledger refuses updates again afterwards."""
    a = world.a
    with app.test_request_context():
        inv = bill(a, a.c1, 5000)
        cash = invoicing.record_payment(inv, method="cash", amount_cents=5000)
        invoicing.refund_payment(cash, 5000, settles=True, to_credit=True)
        account_credit.pay_out(a.c1, 1000, "check", "Check 1182")
        account_credit.pay_out(a.c1, 700, "cash")
        account_credit.pay_out(a.c1, 300, "cash", "slip (2)")
    r = runner()
    (name,) = [m.name for m in r.status() if m.name.startswith("0039")]
    assert r.down(name) == [name]
    assert r.up() == [name]
    rows = (
        AccountCredit.select(AccountCredit.method, AccountCredit.reference)
        .where(AccountCredit.kind == "payout")
        .order_by(AccountCredit.id)
        .tuples()
    )
    assert list(rows) == [("check", "Check 1182"), ("cash", ""), ("cash", "slip (2)")]
    with pytest.raises(Exception, match="append-only"), database.atomic():
        AccountCredit.update(note="x").execute()
    if not IS_POSTGRES:
        names = {r[0] for r in database.execute_sql(
            "SELECT name FROM sqlite_master WHERE type = 'index'"
        )}  # fmt: skip
        for table in ("account_credit", "credit_ledger"):
            assert f"{table}_practice_day" in names and f"{table}_practice" not in names
