"""The tablet check-out hand-over: after a visit, the desk takes its payment (cash, check,
the terminal, a card on file, a package credit) or sends the invoice, and may sell a
package. The closing steps (tip, receipts, the next visit): provider/desk_checkout.py."""

from flask import abort, flash, redirect, request, url_for
from flask_login import current_user

from portal import payments
from portal.access import get_or_404, scoped
from portal.htmx import render
from portal.models.billing import (
    PAY_CASH,
    PAY_CHECK,
    PAY_TERMINAL,
    PAYMENT_METHOD_LABELS,
    Invoice,
    PackageDefinition,
    PackagePurchase,
)
from portal.models.people import Client
from portal.models.scheduling import Appointment
from portal.provider import bp, desk_checkout
from portal.provider.billing import client_card, sell_and_pay
from portal.rules.billing import BillingError
from portal.rules.money import format_cents
from portal.services import invoicing, packages, payments_service
from portal.services.claims import desk as claims_desk


def _appointment(appointment_id):
    return get_or_404(Appointment, appointment_id, audit_action="checkout.view")


def _checkout_ctx(appt):
    client = Client.get_by_id(appt.client_id)
    invoices = list(
        Invoice.select()
        .where((Invoice.appointment == appt.id) & (Invoice.status != "draft"))
        .order_by(Invoice.id)
    )
    redeemed = packages.redeemed_entry(appt.id)
    purchase = PackagePurchase.get_by_id(redeemed.purchase_id) if redeemed else None
    usable = packages.active_purchases(client.id, appt.appointment_type_id)
    return {
        "appt": appt,
        "client": client,
        "invoices": invoices,
        "redeemed": redeemed,
        "redeemed_purchase": purchase,
        "redeemed_balance": packages.balance(purchase.id) if purchase else None,
        "usable": usable,
        "cards": payments_service.saved_cards(client.id),
        "definitions": list(
            scoped(PackageDefinition)
            .where(PackageDefinition.active)
            .order_by(PackageDefinition.sessions, PackageDefinition.name)
        ),
        "stripe": payments.status(),
        "insurance": claims_desk.checkout_summary(appt),  # claims: the claim, the estimate
        "section": "schedule",
        **desk_checkout.closing_ctx(appt),  # tip, receipts, the next visit (issue 11)
    }


@bp.route("/billing/checkout/<int:appointment_id>")
def checkout_payment(appointment_id):
    appt = _appointment(appointment_id)
    return render("provider/billing/checkout.html", "checkout_panel", **_checkout_ctx(appt))


@bp.route("/billing/checkout/<int:appointment_id>/pay", methods=["POST"])
def checkout_pay(appointment_id):
    appt = _appointment(appointment_id)
    inv = get_or_404(Invoice, request.form.get("invoice_id"))
    if inv.appointment_id != appt.id:
        abort(404)
    method = request.form.get("method", "")
    back = url_for("provider.checkout_payment", appointment_id=appt.id)
    try:
        if method in (PAY_CASH, PAY_CHECK, PAY_TERMINAL):
            invoicing.record_payment(
                inv,
                method=method,
                amount_cents=inv.balance_cents,
                reference=request.form.get("reference", "")[:80],
                user=current_user,
            )
            flash(
                f"{format_cents(inv.balance_cents)} paid ({PAYMENT_METHOD_LABELS[method]}).",
                "success",
            )
        elif method == "card_on_file":
            card = client_card(inv.client_id, request.form.get("card_id"))
            amount = inv.balance_cents
            payments_service.charge_card_on_file(inv, card, user=current_user)
            flash(f"{card.label} charged {format_cents(amount)}.", "success")
        elif method == "package_credit":
            purchase = get_or_404(PackagePurchase, request.form.get("purchase_id"))
            if purchase.client_id != appt.client_id:
                abort(404)
            packages.pay_invoice_with_credit(inv, purchase, appt, user=current_user)
            flash(f"Paid with a {purchase.name} credit.", "success")
        elif method == "send":
            invoicing.send_invoice(inv, user=current_user)
            flash(f"Invoice {inv.number} sent to the client.", "success")
        else:
            abort(400)
    except payments.PaymentDeclined as e:
        flash(f"The card was not charged: {e} The invoice is still open.", "error")
        return render("provider/billing/checkout.html", **_checkout_ctx(appt)), 402
    except (payments.PaymentsError, BillingError, packages.L.LedgerError) as e:
        flash(str(e), "error")
        return render("provider/billing/checkout.html", **_checkout_ctx(appt)), 400
    return redirect(back, 303)


@bp.route("/billing/checkout/<int:appointment_id>/sell/<int:definition_id>")
def checkout_sell(appointment_id, definition_id):
    appt = _appointment(appointment_id)
    definition = get_or_404(PackageDefinition, definition_id)
    ctx = _checkout_ctx(appt)
    ctx["definition"] = definition
    return render("provider/billing/sell.html", **ctx)


@bp.route("/billing/checkout/<int:appointment_id>/sell/<int:definition_id>", methods=["POST"])
def checkout_sell_post(appointment_id, definition_id):
    appt = _appointment(appointment_id)
    definition = get_or_404(PackageDefinition, definition_id)
    client = Client.get_by_id(appt.client_id)
    method = request.form.get("method", "send")
    back = url_for("provider.checkout_payment", appointment_id=appt.id)
    confirm = desk_checkout.sale_confirmation(client, definition, method, request.path, back)
    if confirm is not None:  # over the practice's threshold: "are you sure?" first
        return confirm
    sell_and_pay(client, definition, method)
    return redirect(url_for("provider.checkout_payment", appointment_id=appt.id), 303)
