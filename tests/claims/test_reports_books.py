"""The owner's reports checked against a practice's books written through the services, the
expected figures worked out by hand (services/claims/reports.py, docs/claims-money.md).

Practice A (America/Los_Angeles), January and February 2026:

  payers      Blue Harbor Health; "=Evergreen Mutual" (a name a spreadsheet would run)
  providers   Thera (provider) and "@Dana Reyes" (provider2, the same)
  C1  Jan 5   Blue Harbor, Thera, 97124 $90: paid $90 in full            (posted Jan 20)
  C2  Jan 6   Evergreen, Dana, 97140 $70: paid $50, $20 coinsurance (PR)  (posted Jan 21)
              the client is invoiced $20 and pays it in cash               (Feb 3)
  C3  Jan 7   Blue Harbor, Dana, 97124 $60: denied (CO 50), written off   (Jan 21)
  C4  Jan 8   Blue Harbor, Thera, 97124 $90: paid $90                    (Jan 22)
              taken back (reversal, -$90)                                 (Feb 10)
              paid again $80, $10 down to the fee schedule (CO 45)        (Feb 12)
  self-pay    Thera, 97124 $100, card at the desk's terminal at 11:30 PM on Jan 31 local
              (Feb 1 07:30 UTC: January); $30 refunded                     (Feb 2)
  package P   5 x 60-minute, $425 cash (Jan 10); two credits redeemed (Jan 15, Jan 22)
  package X   3 sessions, $300 cash, expires after 30 days (Jan 10 -> Feb 9); one used
  package R   3 sessions, $150 cash (Feb 5); one used (Feb 8); unused refunded $100 (Feb 20)
  package U   5 sessions, $500, sold, never paid

Practice B has its own payer, claim, payments and package: none of it may show in A's.

By hand:
  payers   Jan  9000 (C1) + 5000 (C2) + 9000 (C4)                = 23000
           Feb  -9000 + 8000 (C4)                                  = -1000
  clients  Jan  42500 (P) + 30000 (X) + 10000 (self-pay, Jan 31)   = 82500
           Feb  -3000 (refund) + 2000 (C2's share) + 15000 (R) - 10000 (R refunded) = 4000
  total 108500; redemptions ($120 visits paid by credit, 4 of them) add nothing.
  by payer     Clients 86500, Blue Harbor Health 17000, =Evergreen Mutual 5000
  by CPT       Package sales 77500, 97124 24000 (17000 payer + 7000 client), 97140 5000,
               client share of insurance visits 2000
  by provider  No provider (package sales) 77500, Thera 24000, @Dana Reyes 7000
  liability (Mar 15): P has 3 credits left at $85 = 25500; X is past its expiry (its
           unused credits are the practice's: no liability, the sale stays revenue), R is
           refunded (its refund took the money out of revenue), U was never paid.

Added by single tests: payer money of January posted in February (_late_payer_money); X's
expired sessions refunded as goodwill on Mar 10.
"""

import csv
import datetime as dt
import html.parser
import io
import re

import pytest

from portal import clock
from portal.models import AuditLog, Claim, Payer, Provider
from portal.models.billing import PAY_CASH, PAY_TERMINAL
from portal.rules.claim_money import Adj
from portal.services import invoicing, package_refunds, packages
from portal.services.claims import posting, remittances, reports
from tests.claims import factories as cf
from tests.claims.era import interchange, transaction
from tests.conftest import login

JAN, FEB, MAR = (dt.date(2026, m, 1) for m in (1, 2, 3))
START, END = dt.date(2026, 1, 1), dt.date(2026, 2, 28)
TODAY = dt.datetime(2026, 3, 15, 18, 0)  # UTC, when the report is read
BH, EV = "Blue Harbor Health", "=Evergreen Mutual"


def at(month, day, hour=18, minute=0):
    """clock.told at 2026-month-day hour:minute UTC."""
    return clock.told(dt.datetime(2026, month, day, hour, minute))


def _claim(side, client, provider, payer, day, code, units, cents, **kw):
    return cf.claim(side.practice, client, provider, payer_obj=payer, status="submitted",
                    submitted_at=dt.datetime.combine(day, dt.time(20)), day=day,
                    lines=((code, 15 * units, units, cents),), **kw)  # fmt: skip


def _pay(claim, paid, adjustments=(), status="1", paid_on=None):
    """Post one payer answer by hand (a negative `paid`: the payer takes it back), dated
    `paid_on` when the EOB's date was typed."""
    line = Claim.get_by_id(claim.id).lines.get()
    pr = sum(a.cents for a in adjustments if a.group == "PR")
    charge = line.charge_cents if paid >= 0 else -line.charge_cents
    allowed = paid + pr if status != "4" else 0
    answer = posting.PayerAnswer(
        status, charge, paid, pr,
        (posting.PaidLine(line, allowed, paid, tuple(adjustments), charge_cents=charge),),
    )  # fmt: skip
    return posting.post(claim, answer, paid_on=paid_on)


def _package(side, client, name, sessions, price, expiry_days=None, paid=True):
    definition = packages.save_definition(
        side.practice.id, name=name, sessions=sessions, price_cents=price,
        expiry_days=expiry_days, sold_online=False, type_ids=[], user=None,
    )  # fmt: skip
    purchase, inv = packages.sell(definition, client.id)
    if paid:
        invoicing.record_payment(inv, method=PAY_CASH, amount_cents=price, receipt=False)
    return purchase


def _redeem(side, client, provider, purchase, day):
    visit = cf.visit(side.practice, client, provider, day=day, hour=19)
    inv = invoicing.create_invoice(
        practice_id=side.practice.id, client_id=client.id, reason="visit",
        appointment_id=visit.id,
        lines=[{"kind": "visit", "description": "Massage", "unit_cents": 12000,
                "cpt_code": "97124", "provider_id": provider.id}],
    )  # fmt: skip
    return packages.pay_invoice_with_credit(inv, purchase, visit)


def _practice_a(a):
    Provider.update(first_name="@Dana", last_name="Reyes").where(
        Provider.id == a.provider2.id
    ).execute()
    dana = Provider.get_by_id(a.provider2.id)
    bh = cf.payer(a.practice, name=BH, payer_code="BHH01")
    ev = cf.payer(a.practice, name=EV, payer_code="EVG01")
    c1 = _claim(a, a.c1, a.provider, bh, dt.date(2026, 1, 5), "97124", 3, 9000)
    c2 = _claim(a, a.c2, dana, ev, dt.date(2026, 1, 6), "97140", 2, 7000)
    c3 = _claim(a, a.c1, dana, bh, dt.date(2026, 1, 7), "97124", 2, 6000)
    c4 = _claim(a, a.c2, a.provider, bh, dt.date(2026, 1, 8), "97124", 3, 9000)
    with at(1, 10):
        pkg = _package(a, a.c1, "5 x 60-minute massage", 5, 42500)
        expiring = _package(a, a.c2, "3 x 60-minute, 30 days", 3, 30000, expiry_days=30)
    with at(1, 15):
        _redeem(a, a.c1, a.provider, pkg, dt.date(2026, 1, 15))
    with at(1, 20):
        _pay(c1, 9000)
        _redeem(a, a.c2, dana, expiring, dt.date(2026, 1, 20))
    with at(1, 21):
        share = _pay(c2, 5000, [Adj("PR", "2", 2000)]).invoice
        _pay(c3, 0, [Adj("CO", "50", 6000)], status="4")
        posting.write_off(Claim.get_by_id(c3.id), 6000, "Not medically necessary, not appealed")
    with at(1, 22):
        _pay(c4, 9000)
        _redeem(a, a.c1, a.provider, pkg, dt.date(2026, 1, 22))
    self_pay = invoicing.create_invoice(
        practice_id=a.practice.id, client_id=a.c2.id, reason="visit",
        lines=[{"kind": "visit", "description": "Massage, 60 minutes", "unit_cents": 10000,
                "cpt_code": "97124", "provider_id": a.provider.id}],
    )  # fmt: skip
    with at(2, 1, 7, 30):  # 11:30 PM on Jan 31 in Portland
        card = invoicing.record_payment(self_pay, method=PAY_TERMINAL, amount_cents=10000,
                                        reference="Visa 4242", receipt=False)  # fmt: skip
    with at(2, 2):
        invoicing.refund_payment(card, 3000, reason="Visit cut short", settles=True)
    with at(2, 3):
        invoicing.record_payment(share, method=PAY_CASH, amount_cents=2000, receipt=False)
    with at(2, 5):
        refunded = _package(a, a.c2, "3 x 30-minute massage", 3, 15000)
    with at(2, 8):
        _redeem(a, a.c2, a.provider, refunded, dt.date(2026, 2, 8))
    with at(2, 10):
        _pay(c4, -9000, status="22")
    with at(2, 12):
        _pay(c4, 8000, [Adj("CO", "45", 1000)])
    with at(2, 20):
        package_refunds.refund_unused(packages.PackagePurchase.get_by_id(refunded.id))
    with at(2, 25):
        _package(a, a.c1, "5 x 60-minute, unpaid", 5, 50000, paid=False)
    return {"c1": c1, "c2": c2, "c3": c3, "c4": c4, "expiring": expiring, "dana": dana}


def _practice_b(b):
    """Distinctive amounts ($777.77, $333.33, $555.55) that must not reach A's report."""
    payer = cf.payer(b.practice, name="Other Practice Mutual", payer_code="OPM01")
    claim = _claim(b, b.c1, b.provider, payer, dt.date(2026, 1, 9), "97124", 4, 77777)
    with at(1, 20):
        _pay(claim, 77777)
        _package(b, b.c1, "B's package", 3, 33333)
    inv = invoicing.create_invoice(
        practice_id=b.practice.id, client_id=b.c2.id, reason="visit",
        lines=[{"kind": "visit", "description": "Massage", "unit_cents": 55555,
                "cpt_code": "97140", "provider_id": b.provider.id}],
    )  # fmt: skip
    with at(1, 25):
        invoicing.record_payment(inv, method=PAY_CASH, amount_cents=55555, receipt=False)


@pytest.fixture
def books(ctx, world):
    made = _practice_a(world.a)
    _practice_b(world.b)
    return world, made


def _report(practice):
    with clock.told(TODAY):
        return reports.build(practice, START, END)


def _sums(rows):
    return [(t.label, t.cents) for t in rows]


def test_revenue_by_month_payer_cpt_and_provider_from_the_books(books):
    world, made = books
    r = _report(world.a.practice)
    thera = f"{world.a.provider.first_name} Pist"
    assert [(m.month, m.client_cents, m.payer_cents, m.total_cents) for m in r.months] == [
        (JAN, 82500, 23000, 105500),  # the card payment at 11:30 PM on Jan 31 is January's
        (FEB, 4000, -1000, 3000),
    ]
    assert r.total_cents == 108500
    assert _sums(r.by_payer) == [("Clients", 86500), (BH, 17000), (EV, 5000)]
    assert _sums(r.by_cpt) == [
        ("Package sales", 77500),
        ("97124", 24000),
        ("97140", 5000),
        ("Client share of insurance visits", 2000),
    ]
    assert _sums(r.by_provider) == [
        ("No provider (not for a visit)", 77500),
        (thera, 24000),
        ("@Dana Reyes", 7000),
    ]
    for table in (r.by_payer, r.by_cpt, r.by_provider):
        assert sum(t.cents for t in table) == 108500
    assert sum(m.total_cents for m in r.months) == 108500
    # a month of the period without money is a row of $0, not a gap
    with clock.told(TODAY):
        wider = reports.build(world.a.practice, dt.date(2025, 12, 1), END)
    assert [(m.month, m.total_cents) for m in wider.months] == [
        (dt.date(2025, 12, 1), 0), (JAN, 105500), (FEB, 3000),
    ]  # fmt: skip
    # Practice B's money ($777.77, $333.33, $555.55) is nowhere.
    keys = {t.label for t in r.by_payer + r.by_cpt + r.by_provider}
    assert "Other Practice Mutual" not in keys and f"{world.b.provider.first_name} Pist" not in keys


def test_the_payments_column_counts_payments_not_invoice_lines_or_refunds(books):
    """A count of the payments received: a payment spread over two invoice lines is one,
    a refund or a payer's take-back is none (their money is in the amount)."""
    world, _ = books
    a = world.a
    inv = invoicing.create_invoice(
        practice_id=a.practice.id, client_id=a.c1.id, reason="visit",
        lines=[{"kind": "visit", "description": "Massage", "unit_cents": 9000,
                "cpt_code": "97124", "provider_id": a.provider.id},
               {"kind": "visit", "description": "Manual therapy", "unit_cents": 3000,
                "cpt_code": "97140", "provider_id": a.provider.id}],
    )  # fmt: skip
    with at(2, 14):
        invoicing.record_payment(inv, method=PAY_CASH, amount_cents=12000, receipt=False)
    r = _report(a.practice)
    thera = f"{a.provider.first_name} Pist"
    # clients: P, X, self-pay, C2's share, R, and this one; payers: C1, C4, C4 again
    assert [(t.label, t.cents, t.count) for t in r.by_payer] == [
        ("Clients", 98500, 6), (BH, 17000, 3), (EV, 5000, 1),
    ]  # fmt: skip
    assert [(t.label, t.count) for t in r.by_cpt] == [
        ("Package sales", 3), ("97124", 5), ("97140", 2), ("Client share of insurance visits", 1),
    ]  # fmt: skip
    assert [(t.label, t.count) for t in r.by_provider] == [
        ("No provider (not for a visit)", 3), (thera, 5), ("@Dana Reyes", 2),
    ]  # fmt: skip


def test_redeeming_a_credit_adds_no_revenue(books):
    world, _ = books
    a = world.a
    before = _report(a.practice)
    with at(2, 16):
        pkg = packages.PackagePurchase.get(packages.PackagePurchase.name == "5 x 60-minute massage")
        payment = _redeem(a, a.c1, a.provider, pkg, dt.date(2026, 2, 16))
    assert payment.amount_cents == 12000  # the visit's invoice is paid, by a credit
    after = _report(a.practice)
    assert after.months == before.months and after.by_cpt == before.by_cpt
    assert after.liability_cents == before.liability_cents - 8500


def test_package_liability_is_the_credits_paid_for_and_still_usable(books):
    world, made = books
    a = world.a
    r = _report(a.practice)
    assert [(x.name, x.purchases, x.credits_left, x.cents) for x in r.liability] == [
        ("5 x 60-minute massage", 1, 3, 25500),
    ]
    assert r.liability_cents == 25500
    with clock.told(TODAY):
        assert packages.liability(a.practice.id) == 25500  # the billing overview agrees
    # Before its expiry (Feb 9) package X's two unused credits were owed: $300 - $100 used.
    # (Liability reads the ledger as it is: R, refunded, is out whenever it is read.)
    with clock.told(dt.datetime(2026, 2, 9, 17, 0)):
        early = reports.build(a.practice, START, END)
    assert {x.name: (x.credits_left, x.cents) for x in early.liability} == {
        "5 x 60-minute massage": (3, 25500),
        "3 x 60-minute, 30 days": (2, 20000),
    }
    # The expiry task changes nothing in the figures: the sale stays revenue.
    with clock.told(TODAY):
        assert packages.expire_due() == 1
    again = _report(a.practice)
    assert again.liability_cents == 25500 and again.months == r.months


def test_a_goodwill_refund_of_the_expired_package_is_money_out_not_a_credit_used(books):
    """Package X (3 for $300, one used, expired Feb 9) refunded as goodwill on Mar 10: its
    2 unused sessions, $200 back in cash. March's revenue loses $200 (package sales); the
    liability stays P's $255 (X's credits were not owed again by the refund); X's credits
    used stay its one visit ($100); January and February do not change."""
    world, made = books
    a = world.a
    before = _report(a.practice)
    x = made["expiring"].id
    with clock.told(TODAY):
        assert packages.expire_due() == 1
    with at(3, 10):
        value, _ = package_refunds.refund_expired(
            packages.PackagePurchase.get_by_id(x), user=a.owner, reason="Hospital stay"
        )
    assert value == 20000
    after = _report(a.practice)
    assert after.months == before.months and after.liability == before.liability
    assert after.liability_cents == 25500
    with clock.told(TODAY):
        march = reports.build(a.practice, MAR, dt.date(2026, 3, 15))
        assert packages.liability(a.practice.id) == 25500
    assert [(m.month, m.client_cents, m.payer_cents) for m in march.months] == [(MAR, -20000, 0)]
    assert _sums(march.by_cpt) == [("Package sales", -20000)]
    assert march.liability_cents == 25500
    assert packages.used_values([x]) == {x: 10000}


def test_claims_by_status_for_the_visits_of_the_period(books):
    world, _ = books
    r = _report(world.a.practice)
    assert [(s.label, s.count, s.total_cents, s.paid_cents, s.balance_cents)
            for s in r.statuses] == [
        ("Paid", 2, 18000, 17000, 0),  # C1 $90/$90; C4 $90/$80, $10 to the fee schedule
        ("Partially paid", 1, 7000, 5000, 0),  # C2: the $20 left is the client's
        ("Closed", 1, 6000, 0, 0),  # C3: denied, written off
    ]  # fmt: skip
    assert r.receivable_cents == 0


# --- payer money on the payer's date ---------------------------------------------------------


def _late_payer_money(a):
    """January's payer money posted in February, and February's own (Blue Harbor, Thera):

      C5  Jan 26  97124 $90: an 835 imported Feb 3 for a check dated Jan 28 (BPR16)
      C6  Jan 27  97140 $70: an EOB posted by hand on Feb 2, its date typed: Jan 30
      C7  Jan 28  97124 $30: by hand, no date typed, at 11:30 PM on Jan 31 in Portland
                  (Feb 1 07:30 UTC): the day it was posted in the practice's zone, January
      C8  Jan 29  97124 $40: by hand, no date typed, on Feb 4: February

    By hand: payers Jan 23000 + 9000 + 7000 + 3000 = 42000; Feb -1000 + 4000 = 3000."""
    bh = Payer.get((Payer.practice == a.practice.id) & (Payer.name == BH))
    c5 = _claim(a, a.c1, a.provider, bh, dt.date(2026, 1, 26), "97124", 3, 9000,
                patient_control_number="BOOKS0005")  # fmt: skip
    c6 = _claim(a, a.c2, a.provider, bh, dt.date(2026, 1, 27), "97140", 2, 7000)
    c7 = _claim(a, a.c1, a.provider, bh, dt.date(2026, 1, 28), "97124", 1, 3000)
    c8 = _claim(a, a.c2, a.provider, bh, dt.date(2026, 1, 29), "97124", 2, 4000)
    body = ["CLP*BOOKS0005*1*90*90*0*12*BHH0005*11*1", "SVC*HC:97124*90*90**3"]
    era = interchange([transaction(body, payment="90", trace="CHK5005", paid_on="20260128")])
    with at(2, 3):
        (posted,) = remittances.import_835(a.practice.id, era.encode("ascii")).posted
    assert posted.claim.id == c5.id and posted.status == "paid"
    with at(2, 2):
        _pay(c6, 7000, paid_on=dt.date(2026, 1, 30))
    with at(2, 1, 7, 30):
        _pay(c7, 3000)
    with at(2, 4):
        _pay(c8, 4000)


def test_payer_money_counts_on_the_payers_date_not_the_day_it_was_posted(client, books):
    """Revenue by month dates payer money by the payment's own date (an 835's BPR16, the
    date typed on an EOB posted by hand), else by the day it was posted in the practice's
    zone; the page's figures, its CSV and a period ending Jan 31 agree."""
    world, _ = books
    a = world.a
    _late_payer_money(a)
    r = _report(a.practice)
    assert [(m.month, m.client_cents, m.payer_cents) for m in r.months] == [
        (JAN, 82500, 42000),
        (FEB, 4000, 3000),
    ]
    assert r.total_cents == 131500
    for table in (r.by_payer, r.by_cpt, r.by_provider):
        assert sum(t.cents for t in table) == 131500
    with clock.told(TODAY):
        january = reports.build(a.practice, START, dt.date(2026, 1, 31))
        february = reports.build(a.practice, FEB, END)
    assert [(m.month, m.payer_cents) for m in january.months] == [(JAN, 42000)]
    assert [(m.month, m.payer_cents) for m in february.months] == [(FEB, 3000)]
    assert {t.label: t.cents for t in february.by_payer}[BH] == 3000  # C4: -9000 + 8000; C8
    with clock.told(TODAY):
        login(client, a.owner)
        period = f"start={START}&end={END}"
        body = client.get(f"/provider/reports?{period}").get_data(as_text=True)
        rows = client.get(f"/provider/reports/revenue-by-month.csv?{period}").get_data(as_text=True)
    assert "$1,315.00" in body  # received
    assert _page_tables(body)["revenue-by-month"][:2] == [
        ["January 2026", "$825.00", "$420.00", "$1,245.00"],
        ["February 2026", "$40.00", "$30.00", "$70.00"],
    ]
    assert rows.splitlines()[1:] == ["2026-01,825.00,420.00,1245.00", "2026-02,40.00,30.00,70.00"]


# --- the page and its CSV downloads --------------------------------------------------------

CSV_NAMES = ("revenue-by-month", "revenue-by-payer", "revenue-by-cpt", "revenue-by-provider",
             "claims-by-status", "package-liability")  # fmt: skip
FORMULA = ("=", "+", "-", "@", "\t", "\r")
ID_COLUMN = {"revenue-by-payer": "payer_id", "revenue-by-provider": "npi"}


class _Tables(html.parser.HTMLParser):
    """The body rows of each table of the page, as the text of their cells."""

    def __init__(self):
        super().__init__()
        self.tables, self._cell, self._in_body = [], None, False

    def handle_starttag(self, tag, attrs):
        if tag == "tbody":
            self._in_body = True
            self.tables.append([])
        elif tag == "tr" and self._in_body:
            self.tables[-1].append([])
        elif tag == "td" and self._in_body:
            self._cell = ""

    def handle_endtag(self, tag):
        if tag == "tbody":
            self._in_body = False
        elif tag == "td" and self._cell is not None:
            self.tables[-1][-1].append(self._cell.strip())
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data


def _page_tables(body):
    parser = _Tables()
    parser.feed(body)
    return dict(zip(CSV_NAMES, parser.tables, strict=True))


def _as_csv_cell(text):
    """A page cell as the CSV writes it: $1,085.00 -> 1085.00, January 2026 -> 2026-01."""
    if re.fullmatch(r"-?\$[\d,]+\.\d\d", text):
        return text.replace("$", "").replace(",", "")
    try:
        return f"{dt.datetime.strptime(text, '%B %Y'):%Y-%m}"
    except ValueError:
        return text


def _unguard(cell):
    return cell[1:] if cell.startswith("'") and cell[1:2] in FORMULA else cell


@pytest.fixture
def owner(client, books):
    world, _ = books
    with clock.told(TODAY):
        login(client, world.a.owner)
        yield client, world


def test_each_csv_has_the_page_figures_and_no_formula(owner):
    client, world = owner
    period = f"start={START}&end={END}"
    body = client.get(f"/provider/reports?{period}").get_data(as_text=True)
    assert "$1,085.00" in body and "$255.00" in body  # received; package liability
    page = _page_tables(body)
    assert page["revenue-by-month"] == [
        ["January 2026", "$825.00", "$230.00", "$1,055.00"],
        ["February 2026", "$40.00", "-$10.00", "$30.00"],
    ]
    for name in CSV_NAMES:
        r = client.get(f"/provider/reports/{name}.csv?{period}")
        assert r.status_code == 200 and r.mimetype == "text/csv", name
        assert r.headers["Content-Disposition"] == (
            f'attachment; filename="{name}-{START}-{END}.csv"'
        )
        header, *rows = list(csv.reader(io.StringIO(r.get_data(as_text=True))))
        assert header and all(h and h[0] not in FORMULA for h in header), name
        assert rows, name
        for row in rows:
            # Text a spreadsheet would run as a formula is quoted; amounts are numbers.
            for cell in row:
                assert not cell.startswith(("=", "+", "@", "\t", "\r")), (name, cell)
                if cell.startswith("-"):
                    assert re.fullmatch(r"-\d+\.\d\d", cell), (name, cell)
        if name in ID_COLUMN:  # the payer ID / NPI column is the CSV's own
            assert header[1] == ID_COLUMN[name], name
            rows = [[row[0], *row[2:]] for row in rows]
        assert [[_unguard(c) for c in row] for row in rows] == [
            [_as_csv_cell(c) for c in row] for row in page[name]
        ], name
    by_payer = list(
        csv.reader(
            io.StringIO(
                client.get(f"/provider/reports/revenue-by-payer.csv?{period}").get_data(
                    as_text=True
                )
            )
        )
    )
    assert ["'=Evergreen Mutual", "EVG01", "50.00", "1"] in by_payer  # fmt: skip
    by_provider = client.get(f"/provider/reports/revenue-by-provider.csv?{period}")
    assert "'@Dana Reyes,1234567893,70.00,2" in by_provider.get_data(as_text=True).splitlines()
    downloads = AuditLog.select().where(
        (AuditLog.action == "report.download") & (AuditLog.practice_id == world.a.practice.id)
    )
    assert downloads.count() == len(CSV_NAMES) + 2
    assert {d.user_id for d in downloads} == {world.a.owner.id}


def test_another_practice_sees_its_own_books_only(client, books):
    world, _ = books
    period = f"start={START}&end={END}"
    with clock.told(TODAY):
        login(client, world.b.owner)
        body = client.get(f"/provider/reports?{period}").get_data(as_text=True)
        rows = client.get(f"/provider/reports/revenue-by-payer.csv?{period}").get_data(as_text=True)
    assert "$777.77" in body and "$555.55" in body  # B's own
    for a_only in (BH, "Evergreen Mutual", "@Dana Reyes", "$1,085.00", "5 x 60-minute"):
        assert a_only not in body and a_only not in rows
    assert rows.splitlines()[1:] == ["Clients,,888.88,2", "Other Practice Mutual,OPM01,777.77,1"]


@pytest.mark.parametrize("who", ["frontdesk", "therapist", "cu1"])
def test_only_the_owner_reads_the_reports(client, books, who):
    world, _ = books
    with clock.told(TODAY):
        login(client, getattr(world.a, who))
        for url in ("/provider/reports", "/provider/reports/revenue-by-payer.csv"):
            r = client.get(url)
            assert r.status_code in (403, 404), (who, url)
            assert BH not in r.get_data(as_text=True)


def test_logged_out_goes_to_login(client, books):
    for url in ("/provider/reports", "/provider/reports/package-liability.csv"):
        r = client.get(url)
        assert r.status_code == 302 and "/login" in r.headers["Location"], url
