"""The owner's reports group payers, providers and packages by what they are, never by
their names (services/claims/reports.py): two payers called "Blue Cross" (BCBS of two
states, each with its own payer ID) or two therapists called "Ana Lee" are two rows, each
with its own money, told apart on the page by their payer ID / NPI and in the CSV by a
column of their own.

Practice A, January 2026 (read Mar 15):

  payers     "Blue Cross" MI (00710): C1 $90 paid $90, C2 $60 paid $55
             "Blue Cross" TX (84980): C3 $70 paid $40
             "Clients" (a payer of that name, CLI01): C4 $50 paid $30
  providers  "Ana Lee" 1111111112 (provider) and "Ana Lee" 2222222224 (provider2)
             C1, C3 are provider's; C2, C4 provider2's
  clients    a $100 invoice: $60 of 97124 by provider, $40 of 97140 by provider2, paid
             $100 in cash (Jan 25)
  packages   two sold as "5 x 60-minute massage": one at $425 (5 sessions), one at $300
             (4 sessions), both paid, none used

By hand:
  by payer     Blue Cross MI 14500 (2 payments), Blue Cross TX 4000, Clients (the
               practice's clients) 10000, Clients (the payer) 3000; total 31500
  by provider  provider 9000 + 4000 + 6000 = 19000; provider2 5500 + 3000 + 4000 = 12500
  liability    42500 and 30000, two rows
"""

import csv
import datetime as dt
import io

import pytest

from portal import clock
from portal.models import Provider
from portal.models.billing import PAY_CASH
from portal.services import invoicing
from portal.services.claims import queries, reports
from tests.claims import factories as cf
from tests.claims.test_reports_books import _package, _page_tables, _pay, at
from tests.conftest import login

START, END = dt.date(2026, 1, 1), dt.date(2026, 1, 31)
TODAY = dt.datetime(2026, 3, 15, 18, 0)
MI, TX = "Blue Cross (payer ID 00710)", "Blue Cross (payer ID 84980)"
ANA1, ANA2 = "Ana Lee (NPI 1111111112)", "Ana Lee (NPI 2222222224)"


def _claim(a, provider, payer, day, code, cents):
    return cf.claim(a.practice, a.c1, provider, payer_obj=payer, status="submitted",
                    submitted_at=dt.datetime.combine(day, dt.time(20)), day=day,
                    lines=((code, 30, 2, cents),))  # fmt: skip


@pytest.fixture
def books(ctx, world):
    a = world.a
    Provider.update(first_name="Ana", last_name="Lee", npi="1111111112").where(
        Provider.id == a.provider.id
    ).execute()
    Provider.update(first_name="Ana", last_name="Lee", npi="2222222224").where(
        Provider.id == a.provider2.id
    ).execute()
    mi = cf.payer(a.practice, name="Blue Cross", payer_code="00710", city="Detroit", state="MI")
    tx = cf.payer(a.practice, name="Blue Cross", payer_code="84980", city="Dallas", state="TX")
    named_clients = cf.payer(a.practice, name="Clients", payer_code="CLI01")
    c1 = _claim(a, a.provider, mi, dt.date(2026, 1, 5), "97124", 9000)
    c2 = _claim(a, a.provider2, mi, dt.date(2026, 1, 6), "97124", 6000)
    c3 = _claim(a, a.provider, tx, dt.date(2026, 1, 7), "97140", 7000)
    c4 = _claim(a, a.provider2, named_clients, dt.date(2026, 1, 8), "97140", 5000)
    with at(1, 20):
        _pay(c1, 9000)
        _pay(c2, 5500)
        _pay(c3, 4000)
        _pay(c4, 3000)
    inv = invoicing.create_invoice(
        practice_id=a.practice.id, client_id=a.c2.id, reason="visit",
        lines=[{"kind": "visit", "description": "Massage", "unit_cents": 6000,
                "cpt_code": "97124", "provider_id": a.provider.id},
               {"kind": "visit", "description": "Manual therapy", "unit_cents": 4000,
                "cpt_code": "97140", "provider_id": a.provider2.id}],
    )  # fmt: skip
    with at(1, 25):
        invoicing.record_payment(inv, method=PAY_CASH, amount_cents=10000, receipt=False)
    with at(2, 1):
        _package(a, a.c1, "5 x 60-minute massage", 5, 42500)
        _package(a, a.c2, "5 x 60-minute massage", 4, 30000)
    return a


def _report(practice):
    with clock.told(TODAY):
        return reports.build(practice, START, END)


def test_same_named_payers_and_providers_are_rows_of_their_own(books):
    r = _report(books.practice)
    assert r.total_cents == 31500  # the packages were sold in February, after the period
    assert [(t.label, t.cents, t.count, t.ident) for t in r.by_payer] == [
        (MI, 14500, 2, "00710"),
        ("Clients", 10000, 1, ""),  # the practice's clients, not the payer of that name
        (TX, 4000, 1, "84980"),
        ("Clients (payer ID CLI01)", 3000, 1, "CLI01"),
    ]
    assert [(t.label, t.cents, t.count, t.ident) for t in r.by_provider] == [
        (ANA1, 9000 + 4000 + 6000, 3, "1111111112"),
        (ANA2, 5500 + 3000 + 4000, 3, "2222222224"),
    ]
    for table in (r.by_payer, r.by_cpt, r.by_provider):
        assert sum(t.cents for t in table) == r.total_cents == 31500
    assert sum(m.total_cents for m in r.months) == 31500


def test_same_named_packages_are_rows_of_their_own(books):
    r = _report(books.practice)
    assert [(x.name, x.purchases, x.credits_left, x.cents) for x in r.liability] == [
        ("5 x 60-minute massage (5 sessions for $425.00)", 1, 5, 42500),
        ("5 x 60-minute massage (4 sessions for $300.00)", 1, 4, 30000),
    ]
    assert r.liability_cents == 72500


def test_a_name_no_other_row_has_shows_alone(books):
    """Only a name another row shares gets its payer ID or NPI."""
    Provider.update(first_name="Bo").where(Provider.id == books.provider2.id).execute()
    r = _report(books.practice)
    assert [(t.label, t.cents) for t in r.by_provider] == [("Ana Lee", 19000), ("Bo Lee", 12500)]


@pytest.fixture
def owner(client, books):
    with clock.told(TODAY):
        login(client, books.owner)
        yield client


def _csv(client, name):
    body = client.get(f"/provider/reports/{name}.csv?start={START}&end={END}")
    assert body.status_code == 200
    return list(csv.reader(io.StringIO(body.get_data(as_text=True))))


def test_the_page_and_the_csv_tell_them_apart(owner):
    client = owner
    body = client.get(f"/provider/reports?start={START}&end={END}").get_data(as_text=True)
    page = _page_tables(body)
    assert page["revenue-by-payer"] == [
        [MI, "$145.00", "2"],
        ["Clients", "$100.00", "1"],
        [TX, "$40.00", "1"],
        ["Clients (payer ID CLI01)", "$30.00", "1"],
    ]
    assert page["revenue-by-provider"] == [[ANA1, "$190.00", "3"], [ANA2, "$125.00", "3"]]
    assert "$315.00" in body  # received: the rows' sum
    assert _csv(client, "revenue-by-payer") == [
        ["payer", "payer_id", "amount", "payments"],
        [MI, "00710", "145.00", "2"],
        ["Clients", "", "100.00", "1"],
        [TX, "84980", "40.00", "1"],
        ["Clients (payer ID CLI01)", "CLI01", "30.00", "1"],
    ]
    assert _csv(client, "revenue-by-provider") == [
        ["provider", "npi", "amount", "payments"],
        [ANA1, "1111111112", "190.00", "3"],
        [ANA2, "2222222224", "125.00", "3"],
    ]
    assert page["package-liability"] == [
        ["5 x 60-minute massage (5 sessions for $425.00)", "1", "5", "$425.00"],
        ["5 x 60-minute massage (4 sessions for $300.00)", "1", "4", "$300.00"],
    ]


def test_same_named_payers_have_aging_rows_told_apart(ctx, world, client):
    """The aging table keeps payers by id (its links filter by id); two of one name show
    their payer IDs, on the table and the page."""
    a = world.a
    ut = cf.payer(a.practice, name="Regence", payer_code="00851", state="UT")
    wa = cf.payer(a.practice, name="REGENCE", payer_code="00934", state="WA")
    _claim(a, a.provider, ut, dt.date(2026, 3, 2), "97124", 9000)
    _claim(a, a.provider, wa, dt.date(2026, 1, 5), "97140", 7000)
    rows = {row.payer.name: row for row in queries.aging(a.owner, dt.date(2026, 3, 15)).rows}
    assert set(rows) == {"Regence (payer ID 00851)", "REGENCE (payer ID 00934)"}
    assert rows["Regence (payer ID 00851)"].buckets["0-30"] == 9000
    assert rows["REGENCE (payer ID 00934)"].buckets["61-90"] == 7000
    login(client, a.owner.email)
    with clock.told(TODAY):
        html = client.get("/provider/claims/aging").get_data(as_text=True)
    assert "Regence (payer ID 00851)" in html and "(payer ID 00934)" in html
