"""The owner's reports from real postings and payments (services/claims/reports.py): payer
payments and client money count as revenue, package-credit redemptions do not; client
money is spread over its invoice's lines for CPT codes and providers; package liability
is the unused credits at the price paid."""

import datetime as dt

import pytest

from portal import clock
from portal.models import Claim
from portal.services import invoicing, packages
from portal.services.claims import life, queries, remittances, reports, worklist
from tests.claims import factories as cf
from tests.claims.test_remittances import fixture

# The 835 of the books pays by a check dated Dec 12, 2026 (BPR16): payer money counts on
# that day (services/claims/reports.payer_day), so the books are read on Dec 14.
NOW = dt.datetime(2026, 12, 14, 18, 0)
DECEMBER = dt.date(2026, 12, 1), dt.date(2026, 12, 31)


@pytest.fixture
def books(ctx, world):
    with clock.told(NOW):
        return _books(world)


def _books(world):
    a = world.a
    definition = packages.save_definition(
        a.practice.id, name="5 x 60-minute massage", sessions=5, price_cents=42500,
        expiry_days=None, sold_online=False, type_ids=[], user=None,
    )  # fmt: skip
    purchase, package_invoice = packages.sell(definition, a.c1.id)
    invoicing.record_payment(package_invoice, method="cash", amount_cents=42500, receipt=False)
    visit_invoice = invoicing.create_invoice(
        practice_id=a.practice.id, client_id=a.c2.id, reason="visit",
        lines=[{"kind": "visit", "description": "Massage", "unit_cents": 9000,
                "cpt_code": "97124", "provider_id": a.provider.id},
               {"kind": "visit", "description": "Manual therapy", "unit_cents": 3000,
                "cpt_code": "97140", "provider_id": a.provider2.id}],
    )  # fmt: skip
    paid = invoicing.record_payment(visit_invoice, method="check", amount_cents=12000,
                                    receipt=False)  # fmt: skip
    invoicing.refund_payment(paid, 2000, reason="overcharged", settles=True)
    appointment = cf.visit(a.practice, a.c1, a.provider, day=dt.date(2026, 11, 9))
    credit_invoice = invoicing.create_invoice(
        practice_id=a.practice.id, client_id=a.c1.id, reason="visit",
        appointment_id=appointment.id,
        lines=[{"kind": "visit", "description": "Massage", "unit_cents": 12000,
                "cpt_code": "97124", "provider_id": a.provider.id}],
    )  # fmt: skip
    packages.pay_invoice_with_credit(credit_invoice, purchase, appointment)
    payer = cf.payer(a.practice, name="Blue Harbor Health", payer_code="BHH01")
    for pcn, lines, day in (
        ("CLM0000101", (("97124", 60, 4, 12000),), dt.date(2026, 11, 2)),
        ("CLM0000102", (("97124", 45, 3, 9000), ("97140", 30, 2, 7000)), dt.date(2026, 11, 2)),
        ("CLM0000103", (("97124", 45, 3, 10000),), dt.date(2026, 11, 4)),
    ):
        cf.claim(a.practice, a.c1, a.provider, payer_obj=payer, status="submitted",
                 patient_control_number=pcn, lines=lines, day=day)  # fmt: skip
    remittances.import_835(a.practice.id, fixture("835_paid_partial_denied.txt"))
    return a


def test_revenue_counts_cash_and_payers_not_package_credits(books):
    a = books
    with clock.told(NOW):
        report = reports.build(a.practice, *DECEMBER)
    # $425 package + $120 visit - $20 refund + $159 from the payer; the $120 visit paid
    # with a credit is not new money.
    assert report.total_cents == 42500 + 12000 - 2000 + 15900
    (month,) = report.months
    assert (month.client_cents, month.payer_cents) == (52500, 15900)
    assert [(t.label, t.cents) for t in report.by_payer] == [
        ("Clients", 52500),
        ("Blue Harbor Health", 15900),
    ]
    # The $100 net visit payment split over its lines as 90:30; the payer's per line.
    assert {t.label: t.cents for t in report.by_cpt} == {
        "Package sales": 42500,
        "97124": 7500 + 9600 + 700,
        "97140": 2500 + 5600,
    }
    names = {t.label: t.cents for t in report.by_provider}
    assert names == {
        a.provider.first_name + " Pist": 7500 + 15900,
        a.provider2.first_name + " Pist": 2500,
        "No provider (not for a visit)": 42500,
    }
    (liability,) = report.liability
    assert (liability.name, liability.purchases, liability.credits_left) == (
        "5 x 60-minute massage", 1, 4,
    )  # fmt: skip
    assert liability.cents == 4 * 8500 == report.liability_cents
    assert report.liability_cents == packages.liability(a.practice.id)


def test_claims_count_by_service_date_and_an_old_period_is_empty(books):
    a = books
    report = reports.build(a.practice, dt.date(2026, 11, 1), dt.date(2026, 11, 30))
    assert [(s.label, s.count, s.total_cents, s.paid_cents, s.balance_cents)
            for s in report.statuses] == [
        ("Paid", 1, 12000, 9600, 0),
        ("Partially paid", 1, 16000, 6300, 0),
        ("Denied", 1, 10000, 0, 10000),
    ]  # fmt: skip
    old = reports.build(a.practice, dt.date(2020, 1, 1), dt.date(2020, 12, 31))
    assert old.months == [] and old.by_payer == [] and old.statuses == []
    assert old.liability_cents == 34000  # liability is today's, whatever the period


def test_csv_tables(books):
    a = books
    with clock.told(NOW):
        report = reports.build(a.practice, dt.date(2026, 12, 12), dt.date(2026, 12, 14))
    title, headers, rows = reports.table(report, "revenue-by-month")
    assert title == "Revenue by month" and headers == ("month", "clients", "payers", "total")
    assert rows == [("2026-12", "525.00", "159.00", "684.00")]
    _, headers, rows = reports.table(report, "package-liability")
    assert rows == [("5 x 60-minute massage", 1, 4, "340.00")]
    with pytest.raises(KeyError):
        reports.table(report, "nope")


# --- a claim the payer has, edited back to draft for a correction ---------------------------


def test_a_billed_claim_being_corrected_stays_a_receivable_everywhere(ctx, world):
    """Sent on Sep 10 (the payer numbered it), edited back to draft for a corrected claim:
    the payer still owes on the bill. The aging table counts it by its date of service
    (the correction does not make the debt younger), on its line of claims being
    corrected, the claims-by-status report shows it
    as a correction to send with its open balance, and the work list asks to send it
    again. A claim never sent and a void one are no receivable."""
    a = world.a
    today = dt.date(2026, 12, 1)
    payer = cf.payer(a.practice, name="Regence")
    pol = cf.policy(a.practice, a.c1, payer)
    sent = dt.datetime(2026, 9, 10, 18, 0)
    fixing = cf.claim(a.practice, a.c1, a.provider, policy_obj=pol, status="accepted",
                      day=dt.date(2026, 9, 1), submitted_at=sent, payer_claim_number="RG77",
                      lines=(("97124", 45, 3, 9000),))  # fmt: skip
    line = fixing.lines.get()
    life.edit_line(fixing, line.id, units=3, modifiers="", pointers="A", charge_cents=9500)
    fixing = Claim.get_by_id(fixing.id)
    assert fixing.status in ("draft", "ready") and fixing.submitted_at == sent
    cf.claim(a.practice, a.c1, a.provider, policy_obj=pol, status="draft",
             day=dt.date(2026, 9, 2), lines=(("97124", 45, 3, 7000),))  # fmt: skip
    cf.claim(a.practice, a.c1, a.provider, policy_obj=pol, status="void",
             day=dt.date(2026, 9, 3), submitted_at=sent, payer_claim_number="RG78")  # fmt: skip

    table = queries.aging(a.owner, today)
    assert table.rows == []  # on the line of claims being corrected, not the payer's row
    assert table.correcting.buckets == {"0-30": 0, "31-60": 0, "61-90": 0, "90+": 9500}
    assert table.totals.count == 1  # Sep 1: 91 days

    report = reports.build(a.practice, dt.date(2026, 9, 1), dt.date(2026, 9, 30))
    by_label = {s.label: (s.count, s.balance_cents) for s in report.statuses}
    assert by_label[reports.CORRECTING_LABEL] == (1, 9500)
    assert by_label["Draft"] == (1, 7000)  # never billed: not the payer's debt
    assert by_label["Void"] == (1, 0)
    assert report.receivable_cents == table.totals.total_cents == 9500

    groups = {g.kind: g for g in worklist.work_list(a.practice.id, dt.datetime(2026, 12, 1))}
    (item,) = groups["correcting"].items
    assert item.claim.id == fixing.id and item.since == sent
    assert "Sep 10, 2026" in item.reason and "corrected claim" in item.next
    held = groups["held"].items if "held" in groups else []
    assert all(i.claim.id != fixing.id for i in held)  # listed once, under corrections
