"""Billing's receivers of the appointment signals, packages' receivers of invoicing's, and
the `expire-packages` command.

Connected once by create_app (init_app). Receivers run INSIDE the sender's transaction:
their writes commit or roll back with the appointment change (nested atomic blocks are
savepoints).

- booked: when the practice redeems at booking, use a credit now (not for a visit billed
  to insurance: the payer pays it, so a credit would be taken for a visit billed twice);
- completed: unless a credit was used at booking, a self-pay visit gets its invoice at the
  type's price, which the desk pays with the client's choice (a package credit among
  them); a visit of a type billed to insurance is left to claims (services/claims/desk);
- cancelled in time: +1 credit back if one was used at booking;
- cancelled late / no-show: the credit used at booking stays used (it is the fee);
  otherwise a fee invoice for appointment.fee_due_cents (when above zero).
"""

import click
from flask import has_request_context
from flask_login import current_user

from portal import clock
from portal.db import database
from portal.models.billing import LINE_FEE, LINE_VISIT, Invoice
from portal.models.scheduling import AppointmentMinutes, AppointmentTypeCode
from portal.services import account_credit, events, invoicing, packages, receipts

_connected = False


def _actor():
    if has_request_context() and current_user and current_user.is_authenticated:
        return current_user._get_current_object()
    return None


def _codes(appointment):
    codes = [
        m.cpt_code
        for m in AppointmentMinutes.select()
        .where(AppointmentMinutes.appointment == appointment.id)
        .order_by(AppointmentMinutes.minutes.desc())
    ]
    if not codes:
        codes = [
            c.cpt_code
            for c in AppointmentTypeCode.select().where(
                AppointmentTypeCode.appointment_type == appointment.appointment_type_id
            )
        ]
    return ", ".join(codes)


def _has_invoice(appointment, reason):
    return (
        Invoice.select()
        .where(
            (Invoice.appointment == appointment.id)
            & (Invoice.reason == reason)
            & (Invoice.status != "void")
        )
        .exists()
    )


def visit_invoice(appointment, user=None):
    """The self-pay invoice for a completed visit at the type's price (once)."""
    if _has_invoice(appointment, "visit"):
        return None
    appt_type = appointment.appointment_type
    if appt_type.price_cents <= 0:
        return None
    return invoicing.create_invoice(
        practice_id=appointment.practice_id,
        client_id=appointment.client_id,
        lines=[
            {
                "kind": LINE_VISIT,
                "description": appt_type.name,
                "unit_cents": appt_type.price_cents,
                "service_date": clock.local_date(appointment.starts_at, appointment.practice.tz),
                "cpt_code": _codes(appointment),
                "provider_id": appointment.provider_id,
                "appointment_id": appointment.id,
            }
        ],
        reason="visit",
        appointment_id=appointment.id,
        user=user,
    )


def fee_invoice(appointment, reason, user=None):
    if appointment.fee_due_cents <= 0 or _has_invoice(appointment, reason):
        return None
    label = "Late cancellation fee" if reason == "late_cancel" else "Missed appointment fee"
    return invoicing.create_invoice(
        practice_id=appointment.practice_id,
        client_id=appointment.client_id,
        lines=[
            {
                "kind": LINE_FEE,
                "description": label,
                "unit_cents": appointment.fee_due_cents,
                "service_date": clock.local_date(appointment.starts_at, appointment.practice.tz),
                "provider_id": appointment.provider_id,
                "appointment_id": appointment.id,
            }
        ],
        reason=reason,
        appointment_id=appointment.id,
        user=user,
    )


def on_booked(appointment, **kw):
    if appointment.appointment_type.bill_insurance:
        return
    if invoicing.settings_for(appointment.practice_id).redeem_at == "booking":
        packages.redeem(appointment, user=_actor())


def on_completed(appointment, **kw):
    user = _actor()
    with database.atomic():
        if packages.redeemed_entry(appointment.id) is not None:
            # Paid from a package: no invoice, so the visit gets a receipt of its own.
            receipts.issue_package_visit_receipt(appointment, user=user)
            return
        if appointment.appointment_type.bill_insurance:
            return  # billed to the payer: the claim, and the client's share, are claims'
        # A self-pay visit is invoiced; the desk then offers the client's package credit
        # beside the other ways to pay (issue 11: a credit is used when chosen, not taken).
        visit_invoice(appointment, user=user)


def on_cancelled(appointment, late=False, **kw):
    user = _actor()
    with database.atomic():
        if not late:
            packages.return_credit(appointment, user=user)
            return
        if packages.redeemed_entry(appointment.id) is not None:
            return  # the credit used at booking is forfeited instead of a fee
        fee_invoice(appointment, "late_cancel", user=user)


def on_no_show(appointment, **kw):
    user = _actor()
    with database.atomic():
        if packages.redeemed_entry(appointment.id) is not None:
            return
        fee_invoice(appointment, "no_show", user=user)


def connect():
    global _connected
    if _connected:
        return
    events.appointment_booked.connect(on_booked, weak=False)
    events.appointment_completed.connect(on_completed, weak=False)
    events.appointment_cancelled.connect(on_cancelled, weak=False)
    events.appointment_no_show.connect(on_no_show, weak=False)
    events.invoice_paid.connect(packages.on_invoice_paid, weak=False)
    events.invoice_voided.connect(packages.on_invoice_voided, weak=False)
    events.payment_refunded.connect(packages.on_payment_refunded, weak=False)
    events.payment_refunded.connect(account_credit.on_payment_refunded, weak=False)
    _connected = True


@click.command("expire-packages")
def expire_packages_cmd():
    """Expire packages past their date (run daily): their unused credits are removed."""
    with database.connection_context():
        count = packages.expire_due()
    click.echo(f"Expired packages: {count}")


def init_app(app):
    connect()
    app.cli.add_command(expire_packages_cmd)
