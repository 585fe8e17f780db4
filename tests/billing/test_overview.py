"""The billing list (/provider/billing/): each issued invoice of the practice once, newest
first, with its link, the client's name, the issue date in the practice's time zone, the
status and the balance; the filters; what clients owe and the package liability; scoping
(another practice's invoices never, a limited therapist only their clients'). Run with the
speed-ups on and off: both must show the same page."""

import datetime as dt
import html
import re

import pytest
from flask import url_for

from portal.models import Practice
from portal.models.billing import Invoice
from portal.services import invoicing, packages
from tests.billing.conftest import appt_type, package
from tests.conftest import login

ROW = re.compile(
    r'<tr>\s*<td><a href="([^"]+)">([^<]+)</a></td>\s*<td>([^<]*)</td>\s*<td>([^<]*)</td>\s*'
    r'<td><span class="badge ([^"]*)">([^<]+)</span></td>\s*<td class="num">([^<]+)</td>\s*'
    r'<td class="num">([^<]+)</td>\s*</tr>'
)


def rows(client, query=""):
    r = client.get("/provider/billing/" + query)
    assert r.status_code == 200
    body = r.get_data(as_text=True)
    return [tuple(html.unescape(v) for v in m) for m in ROW.findall(body)], body


@pytest.fixture(params=[True, False], ids=["speedups", "plain"])
def invoices(request, app, world):
    app.config["SPEEDUPS"] = request.param
    a = world.a
    a.c1.preferred_name = "Bea"
    a.c1.save()
    # 05:30 UTC on March 2 is still March 1 in Los Angeles.
    issued = dt.datetime(2026, 3, 2, 5, 30)

    def make(client, number, status, total, paid=0, refunded=0, practice=a.practice):
        return Invoice.create(
            practice=practice,
            client=client,
            number=number,
            status=status,
            issued_at=None if status == "draft" else issued,
            total_cents=total,
            paid_cents=paid,
            refunded_cents=refunded,
        ).id

    ids = {
        "open": make(a.c1, "INV-900001", "open", 10000),
        "partly": make(a.c2, "INV-900002", "partially_paid", 12000, paid=5000, refunded=1000),
        "paid": make(a.c1, "INV-900003", "paid", 9000, paid=9000),
        "void": make(a.c2, "INV-900004", "void", 7000),
        "draft": make(a.c1, None, "draft", 500),
        "other": make(world.b.c1, "INV-900001", "open", 99999, practice=world.b.practice),
    }
    with app.test_request_context():
        d = package(a.practice, types=[appt_type(a.practice)], sessions=3, price_cents=30000)
        _, inv = packages.sell(d, a.c1.id)
        invoicing.record_payment(inv, method="cash", amount_cents=30000)
        ids["package"] = inv.id
        ids["package_number"] = Invoice.get_by_id(inv.id).number
    return ids


def test_each_issued_invoice_once_newest_first_as_it_stands(app, client, world, invoices):
    login(client, world.a.owner)
    found, body = rows(client)
    with app.test_request_context():
        link = {
            k: url_for("provider.invoice", invoice_id=v)
            for k, v in invoices.items()
            if k != "package_number"
        }
    assert found[0][:2] == (link["package"], invoices["package_number"])
    c2 = f"{world.a.c2.first_name} Person"
    day = "Mar 01, 2026"
    assert found[1:] == [
        (link["void"], "INV-900004", c2, day, "", "Void", "$70.00", "$0.00"),
        (link["paid"], "INV-900003", "Bea Person", day, "ok", "Paid", "$90.00", "$0.00"),
        (link["partly"], "INV-900002", c2, day, "warn", "Partially paid", "$120.00", "$80.00"),
        (link["open"], "INV-900001", "Bea Person", day, "warn", "Open", "$100.00", "$100.00"),
    ]
    # What clients owe: the open and the partly paid invoices (not the other practice's).
    assert re.search(r"Due from clients</h2><p class=\"figure\">\$180\.00<", body)
    # Three credits of $100 each, none used yet.
    assert packages.liability(world.a.practice.id) == 30000
    assert re.search(r"Package liability</h2><p class=\"figure\">\$300\.00<", body)
    assert "$999.99" not in body


def test_filters(client, world, invoices):
    login(client, world.a.owner)
    numbers = {q: [r[1] for r in rows(client, q)[0]] for q in ("?status=due", "?status=void")}
    assert numbers["?status=due"] == ["INV-900002", "INV-900001"]
    assert numbers["?status=void"] == ["INV-900004"]
    assert rows(client, "?status=draft")[0] == []
    assert len(rows(client, "?status=nonsense")[0]) == 5  # an unknown filter shows every one


def test_scoping(client, world, invoices):
    Practice.update(therapists_see_all_clients=False).where(
        Practice.id == world.a.practice.id
    ).execute()
    login(client, world.a.therapist)  # c1 is their client, c2 is not
    found, body = rows(client)
    assert [r[1] for r in found[1:]] == ["INV-900003", "INV-900001"]
    assert "Package liability" not in body  # the owner's figure
    assert re.search(r"Due from clients</h2><p class=\"figure\">\$100\.00<", body)
