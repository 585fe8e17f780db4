"""Demo: a 5 x 60-minute package for $425, a sold package with one credit used, an open
invoice and a paid one (with its receipt) for the demo client. Idempotent."""

from portal.models.billing import (
    Invoice,
    PackageDefinition,
    PackagePurchase,
)
from portal.models.scheduling import Appointment, AppointmentType
from portal.services import invoicing, packages
from portal.services.billing_events import visit_invoice


def _definition(practice, name, sessions, price, types, sold_online=True, expiry_days=365):
    d = PackageDefinition.get_or_none(
        (PackageDefinition.practice == practice) & (PackageDefinition.name == name)
    )
    if d is None:
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
    owner = ctx.get("owner")
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

    purchase = PackagePurchase.get_or_none(
        (PackagePurchase.client == client) & (PackagePurchase.definition == five)
    )
    if purchase is None:
        purchase, inv = packages.sell(five, client.id, user=owner)
        invoicing.record_payment(
            inv,
            method="external_terminal",
            amount_cents=inv.balance_cents,
            reference="Terminal slip 4471",
            user=owner,
        )
        if completed:
            packages.redeem(completed[0], user=owner, purchase=purchase)
    ctx["package_purchase"] = purchase

    if (
        not Invoice.select()
        .where((Invoice.client == client) & (Invoice.reason.in_(["visit", "manual"])))
        .exists()
    ):
        ctx["invoices"] = _invoices(ctx, completed)


def _invoices(ctx, completed):
    """An open visit invoice (the next completed 60-minute visit not paid by a credit), and
    a paid one with its receipt."""
    practice, client, owner = ctx["practice"], ctx["client"], ctx.get("owner")
    rest = [a for a in completed[1:] if packages.redeemed_entry(a.id) is None]
    if rest:
        open_inv = visit_invoice(rest[0], user=owner)
    else:
        open_inv = invoicing.create_invoice(
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
    paid = invoicing.create_invoice(
        practice_id=practice.id,
        client_id=client.id,
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
    invoicing.record_payment(paid, method="cash", amount_cents=4000, user=owner)
    return [open_inv, paid]
