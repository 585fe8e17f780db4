"""Demo: a 5 x 60-minute package for $425, a sold package with one credit used, an open
invoice and a paid one (with its receipt) for the demo client.

Each is told at its own time (clock.told), relative to the demo client's visits: the
package sold at the desk just before last week's visit (its year to expiry runs from then)
and its credit used at that visit's check-out; a late cancellation fee issued a week
before and paid in cash at that check-out; the open invoice issued at the check-out of a
later visit. Never before the visit, never after now. Idempotent.
"""

import datetime as dt

from portal import clock
from portal.demo.foundation import opened
from portal.models.billing import (
    Invoice,
    PackageDefinition,
    PackagePurchase,
)
from portal.models.scheduling import Appointment, AppointmentType
from portal.rules import slots as slot_rules
from portal.services import invoicing, packages
from portal.services.billing_events import visit_invoice


def _definition(practice, name, sessions, price, types, sold_online=True, expiry_days=365):
    d = PackageDefinition.get_or_none(
        (PackageDefinition.practice == practice) & (PackageDefinition.name == name)
    )
    if d is None:
        with clock.told(opened(practice)):
            d = packages.save_definition(
                practice.id,
                name=name,
                sessions=sessions,
                price_cents=price,
                expiry_days=expiry_days,
                sold_online=sold_online,
                type_ids=[t.id for t in types],
                user=None,
            )
    return d


def load(ctx):
    practice = ctx["practice"]
    client = ctx["client"]
    sixty = AppointmentType.get_or_none(
        (AppointmentType.practice == practice)
        & (AppointmentType.duration_minutes == 60)
        & (AppointmentType.bill_insurance == False)  # noqa: E712
    )
    ninety = AppointmentType.get_or_none(
        (AppointmentType.practice == practice) & (AppointmentType.duration_minutes == 90)
    )
    five = _definition(practice, "5 x 60-minute massage", 5, 42500, [sixty] if sixty else [])
    ctx["package_definitions"] = [five]
    if ninety is not None:
        ctx["package_definitions"].append(
            _definition(practice, "3 x 90-minute massage", 3, 37500, [ninety])
        )

    completed = list(
        Appointment.select()
        .where(
            (Appointment.client == client)
            & (Appointment.status == "completed")
            & (Appointment.appointment_type == sixty)
        )
        .order_by(Appointment.starts_at)
    )
    now = clock.utcnow()
    first = completed[0] if completed else None  # last week's visit (scheduling)
    invoices_due = (
        not Invoice.select()
        .where((Invoice.client == client) & (Invoice.reason.in_(["visit", "manual"])))
        .exists()
    )
    fee = _fee(ctx, first, now) if invoices_due else None
    purchase = PackagePurchase.get_or_none(
        (PackagePurchase.client == client) & (PackagePurchase.definition == five)
    )
    if purchase is None:
        purchase = _sell(ctx, five, first, now)
    ctx["package_purchase"] = purchase
    if invoices_due:
        paid, paid_at = fee
        with clock.told(paid_at):
            cash = invoicing.record_payment(
                paid, method="cash", amount_cents=4000, user=ctx.get("owner")
            )
        # The owner then took $15.00 off the fee as goodwill and kept it as the client's
        # account credit: the open invoice below offers "Pay $15.00 from account credit".
        with clock.told(_at(paid_at, now, 5)):
            invoicing.refund_payment(
                cash,
                1500,
                "Fee reduced as goodwill",
                user=ctx.get("owner"),
                settles=True,
                to_credit=True,
            )
        ctx["invoices"] = [_open_invoice(ctx, completed, now), paid]


def _at(when, now, minutes=0):
    """`minutes` after `when`, never after now."""
    return min(when + dt.timedelta(minutes=minutes), now)


def _sell(ctx, five, first, now):
    """Sold at the desk just before last week's visit, paid on the terminal, its first
    credit used at that visit's check-out; the year to its expiry runs from the sale."""
    owner = ctx.get("owner")
    sold = _at(first.starts_at, now, -10) if first else now
    with clock.told(sold):
        purchase, inv = packages.sell(five, ctx["client"].id, user=owner)
    with clock.told(_at(sold, now, 1)):
        invoicing.record_payment(
            inv,
            method="external_terminal",
            amount_cents=inv.balance_cents,
            reference="Terminal slip 4471",
            user=owner,
        )
    if first is not None:
        with clock.told(_at(first.ends_at, now, 1)):
            packages.redeem(first, user=owner, purchase=purchase)
    return PackagePurchase.get_by_id(purchase.id)


def _fee(ctx, first, now):
    """A late cancellation fee, issued the day of the visit cancelled a week before last
    week's visit and paid in cash at that visit's check-out."""
    practice, owner = ctx["practice"], ctx.get("owner")
    issued, paid = now, now
    if first is not None:
        day = clock.local_date(first.starts_at, practice.tz) - dt.timedelta(days=7)
        issued = _at(slot_rules.to_utc(dt.datetime.combine(day, dt.time(10, 0)), practice.tz), now)
        paid = _at(first.ends_at, now, 3)
    with clock.told(issued):
        inv = invoicing.create_invoice(
            practice_id=practice.id,
            client_id=ctx["client"].id,
            lines=[
                {
                    "kind": "fee",
                    "description": "Late cancellation fee",
                    "unit_cents": 4000,
                    "provider_id": ctx["providers"][0].id,
                }
            ],
            reason="manual",
            user=owner,
        )
    return inv, paid


def _open_invoice(ctx, completed, now):
    """An open visit invoice, issued at the check-out of the next completed 60-minute visit
    not paid by a credit (or a manual one now)."""
    practice, client, owner = ctx["practice"], ctx["client"], ctx.get("owner")
    rest = [a for a in completed[1:] if packages.redeemed_entry(a.id) is None]
    if rest:
        with clock.told(_at(rest[0].ends_at, now, 2)):
            return visit_invoice(rest[0], user=owner)
    return invoicing.create_invoice(
        practice_id=practice.id,
        client_id=client.id,
        lines=[
            {
                "kind": "visit",
                "description": "60-minute massage",
                "unit_cents": 10000,
                "cpt_code": "97124",
                "provider_id": ctx["providers"][0].id,
            }
        ],
        reason="manual",
        user=owner,
    )
