"""Client portal billing: invoices (pay through Stripe Checkout), packages for sale,
saved cards, the Checkout success page and documents (receipts and invoice PDFs)."""

from flask import flash, redirect, url_for
from flask_login import current_user

from portal import audit, payments
from portal.access import get_or_404, scoped
from portal.client import bp
from portal.htmx import render
from portal.models.billing import (
    CheckoutAttempt,
    Invoice,
    InvoiceLine,
    PackageDefinition,
    PackagePurchase,
    Payment,
    SavedPaymentMethod,
    StoredDocument,
)
from portal.provider.billing import stored_response
from portal.rules.billing import BillingError
from portal.rules.money import format_cents
from portal.services import account_credit, packages, payments_service
from portal.services.invoicing import InvoiceError


@bp.route("/invoices")
def invoices():
    client = current_user.client
    rows = list(scoped(Invoice).where(Invoice.status != "draft").order_by(Invoice.id.desc()))
    receipts = {}
    for p in scoped(Payment).where(Payment.invoice.in_([i.id for i in rows])):
        if p.receipt_id:
            receipts.setdefault(p.invoice_id, []).append(p)
    # Credits to use: active and not past the expiry (the daily task closes it later).
    purchases = packages.with_balances(
        scoped(PackagePurchase).where(packages.usable()).order_by(PackagePurchase.id.desc())
    )
    for_sale = list(
        scoped(PackageDefinition)
        .where(PackageDefinition.active & PackageDefinition.sold_online)
        .order_by(PackageDefinition.sessions)
    )
    audit.record("invoice.list", client=client, detail="portal")
    return render(
        "client/billing/invoices.html",
        invoices=rows,
        what_for=invoice_summaries(rows),
        why={i.id: INSURANCE_WORDS[i.reason] for i in rows if i.reason in INSURANCE_WORDS},
        receipts=receipts,
        purchases=purchases,
        for_sale=for_sale,
        cards=payments_service.saved_cards(client.id),
        card_payments=payments.is_configured(),
        credit=account_credit.balance(client.id),
        section="invoices",
    )


def invoice_summaries(invoices):
    """{invoice id: what it is for, in words}: its first line (a visit with its date, a
    package, a fee) and how many more; one query for the whole list."""
    lines = {}
    for line in (
        InvoiceLine.select(
            InvoiceLine.invoice, InvoiceLine.description, InvoiceLine.service_date, InvoiceLine.kind
        )
        .where(InvoiceLine.invoice.in_([i.id for i in invoices]))
        .order_by(InvoiceLine.position, InvoiceLine.id)
    ):
        lines.setdefault(line.invoice_id, []).append(line)
    out = {}
    for inv_id, rows in lines.items():
        first = rows[0]
        text = first.description
        if (
            first.service_date
            and first.kind != "package"
            and not names_day(text, first.service_date)
        ):
            text += f" on {first.service_date.strftime('%b %-d, %Y')}"
        if len(rows) > 1:
            text += f" and {len(rows) - 1} more"
        out[inv_id] = text
    return out


def names_day(text, day):
    """Whether `text` already says the date `day` ("Copay: visit of Nov 02, 2026 ...")."""
    return any(day.strftime(f) in text for f in ("%b %d, %Y", "%b %-d, %Y", "%m/%d/%Y"))


# What an invoice of an insurance visit is, in a client's words (its lines say the
# payer's terms: copay, deductible, coinsurance).
INSURANCE_WORDS = {
    "insurance": "This is your share of an insurance visit: your insurance paid its part, "
    "and your plan says you pay the rest (your copay, deductible or coinsurance).",
    "insurance_share": "This is an estimate of your share of an insurance visit, from your "
    "plan's benefits; it is corrected once your insurance answers.",
}


def _to_checkout(start):
    try:
        url = start()
    except payments.PaymentsUnavailable:
        flash("Paying online is not available yet. Please pay at your next visit.", "error")
        return redirect(url_for("client.invoices"), 303)
    except (payments.PaymentsError, InvoiceError) as e:
        flash(f"We could not start the payment: {e}", "error")
        return redirect(url_for("client.invoices"), 303)
    return redirect(url, 303)  # Stripe's hosted Checkout page


@bp.route("/invoices/<int:invoice_id>/pay", methods=["POST"])
def invoice_pay(invoice_id):
    inv = get_or_404(Invoice, invoice_id)
    return _to_checkout(lambda: payments_service.start_invoice_checkout(inv, user=current_user))


# account_credit.CreditError's refusals, as the client reads them.
CLIENT_CREDIT_WORDS = {
    "no_credit": "you have no account credit left.",
    "nothing_due": "nothing is due on this invoice.",
}


@bp.route("/invoices/<int:invoice_id>/pay-from-credit", methods=["POST"])
def invoice_pay_from_credit(invoice_id):
    inv = get_or_404(Invoice, invoice_id)
    try:
        payment = account_credit.pay_invoice(inv, user=current_user)
    except BillingError as e:  # account_credit.CreditError among them
        words = CLIENT_CREDIT_WORDS.get(getattr(e, "code", ""), str(e))
        flash(f"Your account credit was not used: {words}", "error")
        return redirect(url_for("client.invoices"), 303)
    flash(f"{format_cents(payment.amount_cents)} paid from your account credit.", "success")
    return redirect(url_for("client.invoices"), 303)


@bp.route("/packages/<int:definition_id>/buy", methods=["POST"])
def package_buy(definition_id):
    definition = get_or_404(PackageDefinition, definition_id)
    if not (definition.active and definition.sold_online):
        flash("This package is not sold online.", "error")
        return redirect(url_for("client.invoices"), 303)
    if not payments.is_configured():
        flash("Buying online is not available yet. Ask at your next visit.", "error")
        return redirect(url_for("client.invoices"), 303)
    # An unpaid purchase of the same package is reused (no pile of open invoices).
    pending = (
        scoped(PackagePurchase)
        .join(Invoice, on=(PackagePurchase.invoice == Invoice.id))
        .where(
            (PackagePurchase.definition == definition.id)
            & (PackagePurchase.status == "pending_payment")
            & (Invoice.status == "open")
        )
        .first()
    )
    if pending is not None:
        inv = Invoice.get_by_id(pending.invoice_id)
    else:
        _, inv = packages.sell(definition, current_user.client_id, user=current_user)
    return _to_checkout(lambda: payments_service.start_invoice_checkout(inv, user=current_user))


@bp.route("/cards/new", methods=["POST"])
def card_new():
    client = current_user.client
    return _to_checkout(lambda: payments_service.start_setup_checkout(client, user=current_user))


@bp.route("/cards/<int:card_id>/remove", methods=["POST"])
def card_remove(card_id):
    card = get_or_404(SavedPaymentMethod, card_id)
    if card.active:
        payments_service.remove_card(card, user=current_user)
        flash(f"{card.label} removed.", "success")
    return redirect(url_for("client.invoices"), 303)


@bp.route("/checkout/<int:attempt_id>/done")
def checkout_done(attempt_id):
    """Stripe sends the client back here. The session id in the query is not trusted:
    the attempt's own session is fetched from Stripe and fulfilled (idempotently)."""
    attempt = get_or_404(CheckoutAttempt, attempt_id, audit_action="checkout.view")
    error = None
    if attempt.status != "completed" and attempt.stripe_session_id:
        try:
            attempt = (
                payments_service.fulfil_checkout(
                    session_id=attempt.stripe_session_id, user=current_user
                )
                or attempt
            )
        except payments.PaymentsError as e:
            error = str(e)
    inv = Invoice.get_by_id(attempt.invoice_id) if attempt.invoice_id else None
    payment = (
        Payment.get_or_none(Payment.checkout_attempt == attempt.id) if attempt.invoice_id else None
    )
    return render(
        "client/billing/done.html",
        attempt=attempt,
        invoice=inv,
        payment=payment,
        error=error,
        section="invoices",
    )


@bp.route("/documents/<int:document_id>")
def document_download(document_id):
    doc = get_or_404(StoredDocument, document_id, audit_action="document.download")
    return stored_response(doc)
