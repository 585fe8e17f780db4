"""Provider billing: invoices, manual payments, card on file, refunds, voids, package
sales and refunds, and the client page's billing section. (The check-out hand-over:
provider/checkout.py; packages for sale and payment settings: provider/billing_settings.py.)"""

from flask import Response, abort, flash, redirect, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import (
    HiddenField,
    RadioField,
    SelectField,
    StringField,
)
from wtforms.validators import DataRequired, Length, Optional

from portal import audit, payments
from portal.access import deny, get_or_404, roles_required, scoped
from portal.formutil import choices
from portal.htmx import render
from portal.inputs import local_path, page_arg
from portal.models.billing import (
    INVOICE_DRAFT,
    INVOICE_OPEN,
    INVOICE_STATUS_LABELS,
    LINE_PACKAGE,
    LINE_PATIENT_RESPONSIBILITY,
    PAY_CASH,
    PAY_CHECK,
    PAY_TERMINAL,
    PAYMENT_FAILED,
    PAYMENT_METHOD_LABELS,
    PAYMENT_SUCCEEDED,
    PURCHASE_REFUNDED,
    Invoice,
    PackageDefinition,
    PackagePurchase,
    Payment,
    StoredDocument,
)
from portal.models.people import DESK_ROLES, OWNER_ROLES, Client
from portal.provider import bp, desk_checkout
from portal.rules.billing import BillingError, NoShareToRefund
from portal.rules.money import format_cents, parse_dollars
from portal.services import (
    account_credit,
    billing_reads,
    client_merge,
    invoicing,
    package_reads,
    package_refunds,
    packages,
    payments_service,
)
from portal.services.invoicing import InvoiceError

MANUAL = [(PAY_CASH, "Cash"), (PAY_CHECK, "Check"), (PAY_TERMINAL, "Card terminal")]


# --- forms ---------------------------------------------------------------------------------


class ManualPaymentForm(FlaskForm):
    method = SelectField("Method", choices=choices(MANUAL))
    amount = StringField("Amount ($)", validators=[DataRequired()])
    reference = StringField(
        "Reference",
        validators=[Optional(), Length(max=80)],
        description="Check number or terminal slip number (optional for cash).",
    )


SETTLES = "settles"
SHARE = "overpaid_share"
DUE_AGAIN = "due_again"
# What a refund means for the invoice (invoicing.refund_payment's `settles` and
# `overpaid_share`), as the staff choose it: (value, label, what it does). SHARE is offered
# on an invoice with client-share lines (an insurance visit's copay, deductible ...).
REFUND_MEANINGS = (
    (
        SETTLES,
        "The refund settles it: the client owes nothing more for it",
        "A goodwill refund: a visit cut short, a complaint.",
    ),
    (
        SHARE,
        "The client's overpaid insurance share: the insurer paid it after all",
        "It settles it, and the visit's claim counts it as given back.",
    ),
    (
        DUE_AGAIN,
        "The client will pay it another way: the amount is due again",
        "The invoice is open again for the amount refunded.",
    ),
)
MEANING_WORDS = {SETTLES: "settled", SHARE: "overpaid share, settled", DUE_AGAIN: "due again"}
BACK = "back"
CREDIT = "credit"
# Where a refund's money goes (invoicing.refund_payment's `to_credit`): (value, label, note).
REFUND_DESTINATIONS = (
    (BACK, "Back to the client", "To the card through Stripe, or by hand for cash and checks."),
    (
        CREDIT,
        "Kept as the client's account credit",
        "Nothing leaves the practice: the credit pays a later invoice of this client.",
    ),
)


class RefundForm(FlaskForm):
    payment_id = HiddenField()
    amount = StringField("Amount to refund ($)", validators=[DataRequired()])
    reason = StringField("Reason", validators=[Optional(), Length(max=120)])
    settles = RadioField(
        "What the refund means for the invoice",
        choices=choices((value, label) for value, label, _ in REFUND_MEANINGS),
        # No default: a post without the choice is refused, never taken as one (the page
        # shows SETTLES checked).
        invalid_choice_message="Choose whether the refund settles it or the amount is due again.",
    )
    # Without the choice (a post made before account credit existed) the money goes back.
    destination = RadioField(
        "Where the money goes",
        choices=choices((value, label) for value, label, _ in REFUND_DESTINATIONS),
        default=BACK,
        invalid_choice_message="Choose whether the money goes back or is kept as credit.",
    )


class GoodwillRefundForm(FlaskForm):
    """The owner's refund of an expired package's unused sessions (package_refunds)."""

    reason = StringField(
        "Why refund them?",
        validators=[
            DataRequired("Say why the expired sessions are refunded."),
            Length(max=package_refunds.REASON_MAX),
        ],
        description="Kept with the refund: say why (a move, a hardship), no health details.",
    )


class VoidForm(FlaskForm):
    reason = StringField("Why void it?", validators=[DataRequired(), Length(max=120)])


def money_from(form_field):
    try:
        return parse_dollars(form_field.data)
    except ValueError as e:
        form_field.errors = list(form_field.errors) + [str(e)]
        return None


# --- invoices -------------------------------------------------------------------------------


def invoice_list(**where):
    """Scoped invoices (not drafts), newest first, each with its client's name."""
    q = (
        scoped(Invoice, query=Invoice.select(*billing_reads.INVOICE_LIST_COLUMNS))
        .join(Client, on=(Invoice.client == Client.id), attr="client")
        .where(Invoice.status != "draft")
    )
    for name, value in where.items():
        q = q.where(getattr(Invoice, name) == value)
    return q.order_by(Invoice.id.desc())


@bp.route("/billing/")
def billing():
    status = request.args.get("status", "")
    page = page_arg()
    user = current_user._get_current_object()  # one proxy look-up
    rows, has_next = billing_reads.invoice_rows(user, user.practice.tz, status=status, page=page)
    # A view of the list: once per user, page and 10 minutes (audit.record_view).
    audit.record_view("invoice.list", detail=f"{status or 'all'} page {page}")
    return render(
        "provider/billing/index.html",
        "invoice_list",
        rows=rows,
        has_next=has_next,
        page=page,
        status=status,
        statuses=INVOICE_STATUS_LABELS,
        due_total=invoicing.due_total(user),
        liability=packages.liability_seen_by(user) if user.is_owner else None,
        stripe=payments.status(),
        section="billing",
    )


def _meanings(lines):
    """The refund meanings offered: an overpaid insurance share only on an invoice that
    bills one (client-share lines)."""
    share = any(line.kind == LINE_PATIENT_RESPONSIBILITY for line in lines)
    return [m for m in REFUND_MEANINGS if m[0] != SHARE or share]


def invoice_page(inv, status=200, **forms):
    user = current_user._get_current_object()  # one proxy look-up
    lines = billing_reads.invoice_lines(inv.id)
    pays = billing_reads.invoice_payments(inv.id, user.practice.tz)
    is_package = any(line.kind == LINE_PACKAGE for line in lines)
    stripe = payments.status()
    # Only what the page shows is read or built: a package sold on this invoice (the one
    # with its package line), the client's saved cards (to charge, when payable online),
    # and the forms of the sections shown.
    payable = inv.is_payable
    desk = user.role in DESK_ROLES
    refundable = [
        p
        for p in pays
        if desk
        and not is_package
        and p.status == PAYMENT_SUCCEEDED
        and p.amount_cents > p.refunded_cents
    ]
    # A void keeps the invoice on record: only before any money was kept.
    unpaid = inv.status in (INVOICE_OPEN, INVOICE_DRAFT) and inv.paid_cents == inv.refunded_cents
    voidable = desk and unpaid
    credit = 0
    if payable:  # what the client's account credit can pay (a merge moves it)
        credit = account_credit.balance(account_credit.holder(inv.client_id))
    if payable:
        amount = f"{inv.balance_cents / 100:.2f}"
        forms.setdefault("pay_form", ManualPaymentForm(formdata=None, amount=amount))
    if refundable:
        forms.setdefault("refund_form", RefundForm(formdata=None))
    if voidable:
        forms.setdefault("void_form", VoidForm(formdata=None))
    purchases = []
    if is_package:
        purchases = package_reads.described(
            PackagePurchase.select().where(PackagePurchase.invoice == inv.id)
        )
        if user.is_owner and any(p.goodwill for p in purchases):
            forms.setdefault("goodwill_form", GoodwillRefundForm(formdata=None))
    return render(
        "provider/billing/invoice.html",
        inv=inv,
        client=inv.client,
        lines=lines,
        payments=pays,
        refundable=refundable,
        refund_meanings=_meanings(lines),
        refund_destinations=REFUND_DESTINATIONS,
        credit=credit,
        credit_payable=account_credit.payable(inv, credit) if payable else 0,
        payable=payable,
        voidable=voidable,
        purchases=purchases,
        ledgers=package_reads.ledgers(p.id for p in purchases),
        cards=payments_service.saved_cards(inv.client_id)
        if payable and stripe["configured"]
        else [],
        stripe=stripe,
        section="billing",
        **forms,
    ), status


@bp.route("/billing/invoices/<int:invoice_id>")
def invoice(invoice_id):
    inv = get_or_404(Invoice, invoice_id, audit_action="invoice.view", joined=(Client,))
    return invoice_page(inv)


@bp.route("/billing/invoices/<int:invoice_id>/payments", methods=["POST"])
def invoice_payment(invoice_id):
    inv = get_or_404(Invoice, invoice_id)
    form = ManualPaymentForm()
    if form.validate_on_submit():
        amount = money_from(form.amount)
        if amount is not None:
            try:
                invoicing.record_payment(
                    inv,
                    method=form.method.data,
                    amount_cents=amount,
                    reference=form.reference.data or "",
                    user=current_user,
                )
            except BillingError as e:
                form.amount.errors = [str(e)]
            else:
                flash(f"{format_cents(amount)} recorded.", "success")
                return redirect(url_for("provider.invoice", invoice_id=inv.id), 303)
    return invoice_page(inv, 400, pay_form=form)


@bp.route("/billing/invoices/<int:invoice_id>/charge-card", methods=["POST"])
def invoice_charge_card(invoice_id):
    inv = get_or_404(Invoice, invoice_id)
    card = client_card(inv.client_id, request.form.get("card_id"))
    try:
        payments_service.charge_card_on_file(inv, card, user=current_user)
    except payments.PaymentDeclined as e:
        flash(f"The card was not charged: {e} The invoice is still open.", "error")
        return invoice_page(Invoice.get_by_id(inv.id), 402)
    except (payments.PaymentsError, BillingError) as e:
        flash(str(e), "error")
        return invoice_page(Invoice.get_by_id(inv.id), 400)
    flash(f"{card.label} charged.", "success")
    return redirect(url_for("provider.invoice", invoice_id=inv.id), 303)


def client_card(client_id, card_id):
    try:
        card_id = int(card_id)
    except (TypeError, ValueError):
        abort(404)
    for card in payments_service.saved_cards(client_id):
        if card.id == card_id:
            return card
    audit.record("access.denied", object_type="savedpaymentmethod", object_id=card_id)
    abort(404)


@bp.route("/billing/payments/<int:payment_id>/refund", methods=["POST"])
@roles_required(*DESK_ROLES)
def payment_refund(payment_id):
    payment = get_or_404(Payment, payment_id)
    inv = get_or_404(Invoice, payment.invoice_id)
    form = RefundForm()
    if form.validate_on_submit():
        amount = money_from(form.amount)
        if amount is not None:
            try:
                refund = invoicing.refund_payment(
                    payment,
                    amount,
                    form.reason.data or "",
                    user=current_user,
                    settles=form.settles.data in (SETTLES, SHARE),
                    overpaid_share=form.settles.data == SHARE,
                    to_credit=form.destination.data == CREDIT,
                )
            except NoShareToRefund as e:
                form.settles.errors = [str(e)]
                flash(str(e), "error")
            except (BillingError, payments.PaymentsError) as e:
                form.amount.errors = [str(e)]
                flash(str(e), "error")
            else:
                words = MEANING_WORDS[form.settles.data]
                done = "kept as the client's account credit" if refund.to_credit else "refunded"
                flash(f"{format_cents(amount)} {done} ({words}).", "success")
                return redirect(url_for("provider.invoice", invoice_id=inv.id), 303)
    form.payment_id.data = str(payment.id)
    return invoice_page(inv, 400, refund_form=form)


@bp.route("/billing/invoices/<int:invoice_id>/void", methods=["POST"])
@roles_required(*DESK_ROLES)
def invoice_void(invoice_id):
    inv = get_or_404(Invoice, invoice_id)
    form = VoidForm()
    if form.validate_on_submit():
        try:
            invoicing.void_invoice(inv, form.reason.data, user=current_user)
        except BillingError as e:
            form.reason.errors = [str(e)]
            flash(str(e), "error")
        else:
            flash(f"{inv.number} is void.", "success")
            return redirect(url_for("provider.invoice", invoice_id=inv.id), 303)
    return invoice_page(inv, 400, void_form=form)


@bp.route("/billing/invoices/<int:invoice_id>/send", methods=["POST"])
def invoice_send(invoice_id):
    inv = get_or_404(Invoice, invoice_id)
    try:
        invoicing.send_invoice(inv, user=current_user)
    except InvoiceError as e:
        flash(str(e), "error")
        return invoice_page(inv, 400)
    flash("The client was e-mailed a link to the invoice.", "success")
    back = url_for("provider.invoice", invoice_id=inv.id)
    return redirect(local_path(request.form.get("next_url"), back), 303)


@bp.route("/billing/documents/<int:document_id>")
def document_download(document_id):
    doc = get_or_404(StoredDocument, document_id, audit_action="document.download")
    if doc.kind == "letter" and not current_user.is_clinical:
        deny()  # a letter of medical necessity is clinical: not the front desk's
    return stored_response(doc)


def stored_response(doc):
    """The stored bytes exactly as issued, never cached."""
    # Headers given at once (werkzeug sets Content-Length from the bytes).
    return Response(
        doc.data,
        headers=[
            ("Content-Type", doc.content_type),
            ("Content-Disposition", f'attachment; filename="{doc.filename}"'),
            ("Cache-Control", "no-store"),
            ("X-Content-SHA256", doc.sha256),
        ],
    )


@bp.route("/billing/purchases/<int:purchase_id>/refund", methods=["POST"])
@roles_required(*DESK_ROLES)
def purchase_refund(purchase_id):
    purchase = get_or_404(PackagePurchase, purchase_id)
    try:
        if purchase.status == PURCHASE_REFUNDED:  # money a refused card refund still owes
            value, refunds = package_refunds.return_owed(purchase, user=current_user)
        else:
            value, refunds = package_refunds.refund_unused(purchase, user=current_user)
    except (packages.PackageError, BillingError, payments.PaymentsError) as e:
        flash(str(e), "error")
    else:
        _refunded(value, refunds, "Unused sessions refunded")
    return _after_package_refund(purchase)


@bp.route("/billing/purchases/<int:purchase_id>/refund-expired", methods=["POST"])
@roles_required(*OWNER_ROLES)
def purchase_refund_expired(purchase_id):
    """The owner refunds an expired package's unused sessions as goodwill, with a reason."""
    purchase = get_or_404(PackagePurchase, purchase_id)
    form = GoodwillRefundForm()
    if form.validate_on_submit():
        try:
            value, refunds = package_refunds.refund_expired(
                purchase, user=current_user, reason=form.reason.data
            )
        except (packages.PackageError, BillingError, payments.PaymentsError) as e:
            if getattr(e, "field", None) != "reason":
                flash(str(e), "error")
                return _after_package_refund(purchase)
            form.reason.errors = [str(e)]
        else:
            _refunded(value, refunds, "Expired sessions refunded")
            return _after_package_refund(purchase)
    if purchase.invoice_id is None:
        flash(" ".join(form.reason.errors) or "Say why the sessions are refunded.", "error")
        return _after_package_refund(purchase)
    return invoice_page(Invoice.get_by_id(purchase.invoice_id), 400, goodwill_form=form)


def _refunded(value, refunds, done):
    """Say what a package refund returned, and what Stripe refused (still owed)."""
    refused = [r for r in refunds if r.status == PAYMENT_FAILED]
    if refused:
        owed = sum(r.amount_cents for r in refused)
        flash(
            f"The unused sessions are taken off the package, but {format_cents(owed)} "
            f"was not returned. Stripe said: {refused[0].failure_message.rstrip('.')}. "
            "Send it again below.",
            "error",
        )
    else:
        flash(f"{done}: {format_cents(value)} returned.", "success")


def _after_package_refund(purchase):
    if purchase.invoice_id:
        return redirect(url_for("provider.invoice", invoice_id=purchase.invoice_id), 303)
    return redirect(url_for("provider.client_billing", client_id=purchase.client_id), 303)


# --- the client page's billing section ---------------------------------------------------------


def client_summary(client):
    family = client_merge.family_ids(client.id)  # with records merged into this one
    invoices = list(invoice_list().where(Invoice.client.in_(family)).limit(20))
    purchases = package_reads.described(
        scoped(PackagePurchase)
        .where(PackagePurchase.client == client.id)
        .order_by(PackagePurchase.id.desc())
    )
    definitions = list(
        scoped(PackageDefinition).where(PackageDefinition.active).order_by(PackageDefinition.name)
    )
    credit_rows = account_credit.history(client.id)
    return {
        "client": client,
        "invoices": invoices,
        "purchases": purchases,
        "ledgers": package_reads.ledgers(p.id for p in purchases),
        "definitions": definitions,
        "cards": payments_service.saved_cards(client.id),
        "credit": credit_rows[0].balance_after if credit_rows else 0,
        "credit_rows": credit_rows,
    }


@bp.route("/billing/clients/<int:client_id>")
def client_billing(client_id):
    client = get_or_404(Client, client_id, audit_action="client.billing.view")
    return render(
        "provider/billing/client.html",
        "client_billing",
        section="clients",
        **client_summary(client),
    )


@bp.route("/billing/clients/<int:client_id>/documents")
def client_documents(client_id):
    """The client page's documents section: every issued document, downloadable as stored."""
    client = get_or_404(Client, client_id, audit_action="client.documents.view")
    docs = list(
        scoped(StoredDocument)
        .select(
            StoredDocument.id,
            StoredDocument.kind,
            StoredDocument.title,
            StoredDocument.filename,
            StoredDocument.size_bytes,
            StoredDocument.created_at,
        )
        .where(StoredDocument.client.in_(client_merge.family_ids(client.id)))
        .order_by(StoredDocument.id.desc())
        .limit(100)
    )
    return render(
        "provider/billing/client_documents.html",
        "client_documents",
        client=client,
        docs=docs,
        section="clients",
    )


@bp.route("/billing/clients/<int:client_id>/sell", methods=["POST"])
def client_sell_package(client_id):
    client = get_or_404(Client, client_id)
    definition = get_or_404(PackageDefinition, request.form.get("definition_id"))
    back = url_for("provider.client_billing", client_id=client.id)
    method = request.form.get("method", "send")
    confirm = desk_checkout.sale_confirmation(client, definition, method, request.path, back)
    if confirm is not None:
        return confirm
    inv = sell_and_pay(client, definition, method)
    return redirect(url_for("provider.invoice", invoice_id=inv.id) if inv else back, 303)


def sell_and_pay(client, definition, method):
    """Sell a package and take its payment by `method` (cash, terminal, card_on_file, send)."""
    if not definition.active:
        flash("This package is no longer sold.", "error")
        return None
    purchase, inv = packages.sell(definition, client.id, user=current_user)
    try:
        if inv.status == "paid":
            pass
        elif method in (PAY_CASH, PAY_TERMINAL, PAY_CHECK):
            invoicing.record_payment(
                inv, method=method, amount_cents=inv.balance_cents, user=current_user
            )
        elif method == "card_on_file":
            cards = payments_service.saved_cards(client.id)
            if not cards:
                raise InvoiceError("No card on file: take another payment or send the invoice.")
            payments_service.charge_card_on_file(inv, cards[0], user=current_user)
        else:
            invoicing.send_invoice(inv, user=current_user)
            flash(f"{definition.name}: invoice {inv.number} sent to the client.", "success")
            return inv
    except (payments.PaymentsError, BillingError) as e:
        flash(f"{definition.name} sold, but not paid yet: {e}", "error")
        return inv
    flash(
        f"{definition.name} sold and paid ({PAYMENT_METHOD_LABELS.get(method, method)}): "
        f"{definition.sessions} credits added.",
        "success",
    )
    return inv
