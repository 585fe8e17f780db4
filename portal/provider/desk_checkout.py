"""Check-out that closes the visit (issue 11 item 4), beside billing's check-out page
(provider.checkout_payment, whose template includes this module's parts):

- POST .../take: pay the visit's invoice the way the client chooses (a package credit,
  card on file, card terminal, cash, check, or the invoice sent), with an optional tip;
  a total over the practice's threshold is confirmed first;
- POST .../receipt/<payment>/email: the receipt as a link to the client portal;
- POST .../next: book the next visit (same type and therapist, a suggested date);
- GET  .../packages: every package with its ways to pay (Today -> Sell -> Cash -> Confirm);
- `sale_confirmation()`: the confirmation step for a package sale, used by billing's views.
"""

from flask import abort, flash, redirect, request, url_for
from flask_login import current_user

from portal import clock, payments
from portal.access import get_or_404, scoped
from portal.htmx import render
from portal.models import Appointment, Invoice, PackageDefinition, PackagePurchase, Payment
from portal.models.billing import (
    PAY_ACCOUNT_CREDIT,
    PAY_CARD_ON_FILE,
    PAY_PACKAGE_CREDIT,
    PAYMENT_METHOD_LABELS,
)
from portal.provider import bp
from portal.rules import desk as rules
from portal.rules.billing import BillingError
from portal.rules.money import format_cents, parse_dollars
from portal.services import account_credit, invoicing, packages, payments_service
from portal.services import desk_checkout as svc
from portal.services import scheduling as sched

METHOD_WORDS = {**PAYMENT_METHOD_LABELS, "send": "Send the invoice by e-mail"}


def _appt(appointment_id):
    return get_or_404(Appointment, appointment_id, audit_action="checkout.view")


def _tz():
    return current_user.practice.tz


def closing_ctx(appt):
    """What the check-out page shows to close the visit: the tip choices, the receipts to
    print or e-mail, tips taken, and the next visit (booked, or a suggestion)."""
    nxt = svc.next_visit(appt, _tz())
    receipts = list(
        Payment.select()
        .join(Invoice)
        .where((Invoice.appointment == appt.id) & Payment.receipt.is_null(False))
        .order_by(Payment.id)
    )
    for p in receipts:
        # A credit settles the invoice, but the visit is worth the package's per-visit
        # price: the receipt (and its PDF) state that.
        p.shown_cents = p.amount_cents
        if p.method == PAY_PACKAGE_CREDIT:
            p.shown_cents = packages.per_visit_price(appt.id) or p.amount_cents
    return {
        # Of the session's full price, as tipping is reckoned, whatever part of it the
        # client pays today (a copay, a package credit, a discount).
        "tip_suggestions": rules.tip_suggestions(appt.appointment_type.price_cents),
        "tip_base_cents": appt.appointment_type.price_cents,
        "tip_methods": _tip_methods(appt),
        "receipts": receipts,
        "tips": svc.tips_of(appt.id),
        "next_booked": svc.booked_next(appt),
        "next_suggested": nxt.suggested,
        "next_wanted": nxt.wanted,
        "next_none": "" if nxt.suggested else _no_free_time(appt, nxt.wanted),
        "method_words": METHOD_WORDS,
        "credit": account_credit.balance(appt.client_id),
    }


def _tip_methods(appt):
    methods = [("external_terminal", "Card terminal"), ("cash", "Cash"), ("check", "Check")]
    if payments.status().get("configured") and payments_service.saved_cards(appt.client_id):
        methods.insert(0, (PAY_CARD_ON_FILE, "Card on file"))
    return methods


def _card(client_id, raw):
    for card in payments_service.saved_cards(client_id):
        if str(card.id) == (raw or ""):
            return card
    return None


def _tip_cents(form):
    """The tip typed (dollars) or tapped (cents of a suggestion); ValueError if unreadable."""
    typed = (form.get("tip") or "").strip()
    if typed:
        return rules.check_tip(parse_dollars(typed), 0)
    tapped = form.get("tip_choice") or "0"
    if not tapped.isdigit() or len(tapped) > 7:
        raise ValueError("Choose a tip, or type the amount.")
    return rules.check_tip(int(tapped), 0)


def _take_page(appt, inv, status, **kw):
    client = appt.client
    return render(
        "provider/desk/take.html",
        appt=appt,
        client=client,
        inv=inv,
        usable=packages.active_purchases(client.id, appt.appointment_type_id),
        cards=payments_service.saved_cards(client.id),
        stripe=payments.status(),
        section="schedule",
        **closing_ctx(appt),
        **kw,
    ), status


@bp.route("/billing/checkout/<int:appointment_id>/take", methods=["POST"])
def checkout_take(appointment_id):
    appt = _appt(appointment_id)
    inv = get_or_404(Invoice, request.form.get("invoice_id"))
    if inv.appointment_id != appt.id:
        abort(404)
    form = request.form
    # one choice: "cash", "external_terminal", "check", "send", "card_on_file:<card id>",
    # "package_credit:<purchase id>"
    method, _, chosen_id = form.get("pay", "").partition(":")
    tip_method = form.get("tip_method") or method
    values = {k: form.get(k, "") for k in ("pay", "tip", "tip_method", "reference")}
    values["tip_choice"] = form.get("tip_choice", "0")
    try:
        tip = _tip_cents(form)
    except ValueError as exc:
        return _take_page(appt, inv, 400, values=values, tip_error=str(exc))
    if method not in METHOD_WORDS:
        return _take_page(appt, inv, 400, values=values, method_error="Choose how to pay.")
    purchase = None
    if method == PAY_PACKAGE_CREDIT:
        purchase = get_or_404(PackagePurchase, chosen_id)
    card = _card(appt.client_id, chosen_id if method == PAY_CARD_ON_FILE else "")
    if card is None and tip_method == PAY_CARD_ON_FILE:
        saved = payments_service.saved_cards(appt.client_id)
        card = saved[0] if saved else None
    no_money = ("send", PAY_PACKAGE_CREDIT, PAY_ACCOUNT_CREDIT)
    money_now = inv.balance_cents if method not in no_money else 0
    threshold = invoicing.settings_for(appt.practice_id).confirm_over_cents
    if rules.needs_confirmation(money_now + tip, threshold) and form.get("confirm") != "yes":
        return _take_page(
            appt, inv, 200, values=values, confirm=money_now + tip, tip_cents=tip, method=method
        )
    try:
        payment = svc.pay_invoice(
            inv,
            appt,
            method,
            card=card,
            purchase=purchase,
            reference=form.get("reference", "").strip()[:100],
            user=current_user,
        )
        if tip:
            svc.take_tip(appt, tip, tip_method, card=card, user=current_user)
    except payments.PaymentDeclined as exc:
        flash(f"The card was not charged: {exc} Nothing was taken.", "error")
        return _take_page(appt, Invoice.get_by_id(inv.id), 402, values=values)
    except (payments.PaymentsError, BillingError, packages.L.LedgerError) as exc:
        flash(str(exc), "error")
        return _take_page(appt, Invoice.get_by_id(inv.id), 400, values=values)
    paid = f"{format_cents(payment.amount_cents)} paid ({METHOD_WORDS[method]})" if payment else ""
    if purchase is not None:
        paid = f"Paid with a {purchase.name} credit"
    done = paid or f"Invoice {inv.number} sent to the client"
    flash(done + (f", and a {format_cents(tip)} tip." if tip else "."), "success")
    return redirect(url_for("provider.checkout_payment", appointment_id=appt.id), 303)


@bp.route(
    "/billing/checkout/<int:appointment_id>/receipts/<int:payment_id>/email", methods=["POST"]
)
def checkout_receipt_email(appointment_id, payment_id):
    appt = _appt(appointment_id)
    payment = get_or_404(Payment, payment_id)
    if payment.invoice_id is None or payment.invoice.appointment_id != appt.id:
        abort(404)
    try:
        svc.email_receipt(payment, user=current_user)
    except svc.CheckoutError as exc:
        flash(str(exc), "error")
    else:
        flash("The client was e-mailed a link to the receipt in their portal.", "success")
    return redirect(url_for("provider.checkout_payment", appointment_id=appt.id), 303)


def _no_free_time(appt, wanted):
    return (
        f"{appt.provider.first_name} has no free time in working hours within "
        f"{svc.NEAR_DAYS} days of {wanted:%A %-d %B}: choose the day and time."
    )


@bp.route("/billing/checkout/<int:appointment_id>/next", methods=["POST"])
def checkout_book_next(appointment_id):
    appt = _appt(appointment_id)
    nxt = svc.next_visit(appt, _tz())
    at = nxt.suggested or nxt.wanted
    prefill = url_for(
        "provider.appointment_new",
        client_id=appt.client_id,
        provider=appt.provider_id,
        type=appt.appointment_type_id,
        date=at.date().isoformat(),
        time=at.strftime("%H:%M"),
    )
    if nxt.suggested is None:
        flash(_no_free_time(appt, nxt.wanted), "warning")
        return redirect(prefill, 303)
    shown = request.form.get("at", "")
    if shown != nxt.suggested.strftime("%Y-%m-%dT%H:%M"):
        # Taken (or changed) since the page was shown: book nothing the desk did not see.
        flash(
            f"The time shown was just taken: {nxt.suggested:%A %-d %B, %-I:%M %p} is the "
            "nearest free time now. Book it, or choose another.",
            "warning",
        )
        return redirect(url_for("provider.checkout_payment", appointment_id=appt.id), 303)
    try:
        booked = svc.book_next(appt, nxt.suggested, _tz(), user=current_user)
    except sched.ClientConflict:
        flash("The client sees another provider around then: choose the time.", "warning")
        return redirect(prefill, 303)
    except sched.BookingError:
        flash(f"{nxt.suggested:%A %-d %B, %-I:%M %p} is taken: choose another time.", "warning")
        return redirect(prefill, 303)
    when = clock.to_local(booked.starts_at, _tz())
    flash(f"Next visit booked: {when:%A %-d %B, %-I:%M %p}.", "success")
    return redirect(url_for("provider.checkout_payment", appointment_id=appt.id), 303)


@bp.route("/billing/checkout/<int:appointment_id>/packages")
def checkout_packages(appointment_id):
    appt = _appt(appointment_id)
    definitions = list(
        scoped(PackageDefinition)
        .where(PackageDefinition.active)
        .order_by(PackageDefinition.sessions, PackageDefinition.name)
    )
    return render(
        "provider/desk/packages.html",
        appt=appt,
        client=appt.client,
        definitions=definitions,
        cards=payments_service.saved_cards(appt.client_id),
        stripe=payments.status(),
        section="schedule",
    )


def sale_confirmation(client, definition, method, action, back):
    """The confirmation page for a package sale at the desk over the practice's threshold
    (paid now), or None when none is needed or it was given (confirm=yes)."""
    if method == "send" or request.form.get("confirm") == "yes":
        return None
    threshold = invoicing.settings_for(client.practice_id).confirm_over_cents
    if not rules.needs_confirmation(definition.price_cents, threshold):
        return None
    return render(
        "provider/desk/confirm_sale.html",
        client=client,
        definition=definition,
        method=method,
        method_words=METHOD_WORDS,
        action=action,
        back=back,
        section="schedule",
    )
