"""Provider billing: invoices, manual payments, card on file, refunds, voids, packages,
the client page's billing section, the tablet check-out hand-over and the owner's
payment settings (Stripe status, HSA/FSA acceptance)."""

from flask import Response, abort, flash, redirect, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from portal import audit, payments
from portal.access import get_or_404, roles_required, scoped
from portal.db import database
from portal.formutil import choices
from portal.htmx import render
from portal.inputs import local_path, page_arg
from portal.models.billing import (
    INVOICE_STATUS_LABELS,
    PAY_CASH,
    PAY_CHECK,
    PAY_TERMINAL,
    PAYMENT_METHOD_LABELS,
    BillingSettings,
    CreditLedger,
    Invoice,
    InvoiceLine,
    PackageDefinition,
    PackageEligibleType,
    PackagePurchase,
    Payment,
    Refund,
    StoredDocument,
)
from portal.models.people import Client
from portal.provider import bp, desk_checkout
from portal.rules.billing import BillingError
from portal.rules.money import format_cents, parse_dollars
from portal.services import client_merge, invoicing, packages, payments_service
from portal.services.claims import desk as claims_desk
from portal.services.invoicing import InvoiceError

OWNER = ("owner",)
DESK = ("owner", "frontdesk")
MANUAL = [(PAY_CASH, "Cash"), (PAY_CHECK, "Check"), (PAY_TERMINAL, "Card terminal")]
PAGE = 50


# --- forms ---------------------------------------------------------------------------------


class ManualPaymentForm(FlaskForm):
    method = SelectField("Method", choices=choices(MANUAL))
    amount = StringField("Amount ($)", validators=[DataRequired()])
    reference = StringField(
        "Reference",
        validators=[Optional(), Length(max=80)],
        description="Check number or terminal slip number (optional for cash).",
    )


class RefundForm(FlaskForm):
    payment_id = HiddenField()
    amount = StringField("Amount to refund ($)", validators=[DataRequired()])
    reason = StringField("Reason", validators=[Optional(), Length(max=120)])


class VoidForm(FlaskForm):
    reason = StringField("Why void it?", validators=[DataRequired(), Length(max=120)])


class PackageForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    sessions = IntegerField("Sessions", validators=[InputRequired(), NumberRange(1, 100)])
    price = StringField("Price ($)", validators=[DataRequired()])
    expiry_days = IntegerField(
        "Expires after (days)",
        validators=[Optional(), NumberRange(1, 3650)],
        description="Leave empty for no expiry.",
    )
    sold_online = BooleanField("Clients can buy it in the portal")
    types = SelectMultipleField(
        "Eligible appointment types",
        coerce=int,
        description="None chosen: every appointment type.",
    )


class SettingsForm(FlaskForm):
    redeem_at = SelectField(
        "Use a package credit",
        choices=choices(
            [("completion", "when the visit is completed"), ("booking", "when it is booked")]
        ),
    )
    invoice_due_days = IntegerField(
        "Invoices due after (days)", validators=[InputRequired(), NumberRange(0, 365)]
    )
    confirm_over = StringField(
        "Ask to confirm a sale or payment at the desk over ($)",
        validators=[Optional()],
        description="A package sold or a visit paid for more than this asks “are you sure?”.",
    )


def _money(form_field):
    try:
        return parse_dollars(form_field.data)
    except ValueError as e:
        form_field.errors = list(form_field.errors) + [str(e)]
        return None


# --- invoices -------------------------------------------------------------------------------


@bp.route("/billing/")
def billing():
    status = request.args.get("status", "")
    q = scoped(Invoice).where(Invoice.status != "draft")
    if status in INVOICE_STATUS_LABELS:
        q = q.where(Invoice.status == status)
    elif status == "due":
        q = q.where(Invoice.status.in_(["open", "partially_paid"]))
    page = page_arg()
    rows = list(q.order_by(Invoice.id.desc()).paginate(page, PAGE + 1))
    clients = {c.id: c for c in scoped(Client).where(Client.id.in_([r.client_id for r in rows]))}
    due = scoped(Invoice).where(Invoice.status.in_(["open", "partially_paid"]))
    due_total = sum(i.balance_cents for i in due)
    audit.record("invoice.list", detail=f"{len(rows[:PAGE])} rows")
    return render(
        "provider/billing/index.html",
        "invoice_list",
        rows=rows[:PAGE],
        has_next=len(rows) > PAGE,
        page=page,
        status=status,
        statuses=INVOICE_STATUS_LABELS,
        clients=clients,
        due_total=due_total,
        liability=packages.liability(current_user.practice_id) if current_user.is_owner else None,
        stripe=payments.status(),
        section="billing",
    )


def _invoice_page(inv, status=200, **forms):
    lines = list(
        InvoiceLine.select().where(InvoiceLine.invoice == inv.id).order_by(InvoiceLine.position)
    )
    pays = list(Payment.select().where(Payment.invoice == inv.id).order_by(Payment.id))
    refunds = {}
    for r in Refund.select().where(Refund.payment.in_([p.id for p in pays])).order_by(Refund.id):
        refunds.setdefault(r.payment_id, []).append(r)
    purchases = list(PackagePurchase.select().where(PackagePurchase.invoice == inv.id))
    for p in purchases:
        p.balance = packages.balance(p.id)
    forms.setdefault(
        "pay_form", ManualPaymentForm(formdata=None, amount=f"{inv.balance_cents / 100:.2f}")
    )
    forms.setdefault("refund_form", RefundForm(formdata=None))
    forms.setdefault("void_form", VoidForm(formdata=None))
    return render(
        "provider/billing/invoice.html",
        inv=inv,
        client=Client.get_by_id(inv.client_id),
        lines=lines,
        payments=pays,
        refunds=refunds,
        refunded={p.id: invoicing.refunded_of(p) for p in pays},
        purchases=purchases,
        cards=payments_service.saved_cards(inv.client_id),
        stripe=payments.status(),
        is_package=invoicing.is_package_invoice(inv),
        section="billing",
        **forms,
    ), status


@bp.route("/billing/invoices/<int:invoice_id>")
def invoice(invoice_id):
    inv = get_or_404(Invoice, invoice_id, audit_action="invoice.view")
    return _invoice_page(inv)


@bp.route("/billing/invoices/<int:invoice_id>/payments", methods=["POST"])
def invoice_payment(invoice_id):
    inv = get_or_404(Invoice, invoice_id)
    form = ManualPaymentForm()
    if form.validate_on_submit():
        amount = _money(form.amount)
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
    return _invoice_page(inv, 400, pay_form=form)


@bp.route("/billing/invoices/<int:invoice_id>/charge-card", methods=["POST"])
def invoice_charge_card(invoice_id):
    inv = get_or_404(Invoice, invoice_id)
    card = _client_card(inv.client_id, request.form.get("card_id"))
    try:
        payments_service.charge_card_on_file(inv, card, user=current_user)
    except payments.PaymentDeclined as e:
        flash(f"The card was not charged: {e} The invoice is still open.", "error")
        return _invoice_page(Invoice.get_by_id(inv.id), 402)
    except (payments.PaymentsError, BillingError) as e:
        flash(str(e), "error")
        return _invoice_page(Invoice.get_by_id(inv.id), 400)
    flash(f"{card.label} charged.", "success")
    return redirect(url_for("provider.invoice", invoice_id=inv.id), 303)


def _client_card(client_id, card_id):
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
@roles_required(*DESK)
def payment_refund(payment_id):
    payment = get_or_404(Payment, payment_id)
    inv = get_or_404(Invoice, payment.invoice_id)
    form = RefundForm()
    if form.validate_on_submit():
        amount = _money(form.amount)
        if amount is not None:
            try:
                invoicing.refund_payment(payment, amount, form.reason.data or "", user=current_user)
            except (BillingError, payments.PaymentsError) as e:
                form.amount.errors = [str(e)]
                flash(str(e), "error")
            else:
                flash(f"{format_cents(amount)} refunded.", "success")
                return redirect(url_for("provider.invoice", invoice_id=inv.id), 303)
    form.payment_id.data = str(payment.id)
    return _invoice_page(inv, 400, refund_form=form)


@bp.route("/billing/invoices/<int:invoice_id>/void", methods=["POST"])
@roles_required(*DESK)
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
    return _invoice_page(inv, 400, void_form=form)


@bp.route("/billing/invoices/<int:invoice_id>/send", methods=["POST"])
def invoice_send(invoice_id):
    inv = get_or_404(Invoice, invoice_id)
    try:
        invoicing.send_invoice(inv, user=current_user)
    except InvoiceError as e:
        flash(str(e), "error")
        return _invoice_page(inv, 400)
    flash("The client was e-mailed a link to the invoice.", "success")
    back = url_for("provider.invoice", invoice_id=inv.id)
    return redirect(local_path(request.form.get("next_url"), back), 303)


@bp.route("/billing/documents/<int:document_id>")
def document_download(document_id):
    doc = get_or_404(StoredDocument, document_id, audit_action="document.download")
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
@roles_required(*DESK)
def purchase_refund(purchase_id):
    purchase = get_or_404(PackagePurchase, purchase_id)
    try:
        value, _ = packages.refund_unused(purchase, user=current_user)
    except (packages.PackageError, BillingError, payments.PaymentsError) as e:
        flash(str(e), "error")
    else:
        flash(f"Unused sessions refunded: {format_cents(value)}.", "success")
    if purchase.invoice_id:
        return redirect(url_for("provider.invoice", invoice_id=purchase.invoice_id), 303)
    return redirect(url_for("provider.client_billing", client_id=purchase.client_id), 303)


# --- packages (owner) -----------------------------------------------------------------------


def _type_choices():
    from portal.models.scheduling import AppointmentType

    rows = scoped(AppointmentType).where(AppointmentType.active).order_by(AppointmentType.name)
    return choices([(t.id, t.name) for t in rows])


@bp.route("/billing/packages", methods=["GET", "POST"])
@roles_required(*OWNER)
def package_definitions():
    form = PackageForm()
    form.types.choices = _type_choices()
    status = 200
    if form.validate_on_submit():
        price = _money(form.price)
        allowed = {c.value for c in form.types.choices}
        if price is not None and set(form.types.data or []) <= allowed:
            packages.save_definition(
                current_user.practice_id,
                name=form.name.data.strip(),
                sessions=form.sessions.data,
                price_cents=price,
                expiry_days=form.expiry_days.data,
                sold_online=form.sold_online.data,
                type_ids=form.types.data or [],
                user=current_user,
            )
            flash("Package saved.", "success")
            return redirect(url_for("provider.package_definitions"), 303)
        status = 400
    elif request.method == "POST":
        status = 400
    defs = list(
        scoped(PackageDefinition).order_by(PackageDefinition.active.desc(), PackageDefinition.name)
    )
    types = {}
    for row in PackageEligibleType.select().where(
        PackageEligibleType.definition.in_([d.id for d in defs])
    ):
        types.setdefault(row.definition_id, []).append(row.appointment_type.name)
    return render(
        "provider/billing/packages.html",
        form=form,
        definitions=defs,
        types=types,
        liability=packages.liability(current_user.practice_id),
        section="billing",
    ), status


@bp.route("/billing/packages/<int:definition_id>/toggle", methods=["POST"])
@roles_required(*OWNER)
def package_toggle(definition_id):
    d = get_or_404(PackageDefinition, definition_id)
    with database.atomic("IMMEDIATE"):
        PackageDefinition.update(active=not d.active).where(PackageDefinition.id == d.id).execute()
        audit.record("package.toggle", obj=d, detail="active" if not d.active else "inactive")
    return redirect(url_for("provider.package_definitions"), 303)


# --- settings (owner) ----------------------------------------------------------------------


@bp.route("/billing/settings", methods=["GET", "POST"])
@roles_required(*OWNER)
def billing_settings():
    settings = invoicing.settings_for(current_user.practice_id)
    form = SettingsForm(obj=settings)
    if request.method == "GET":
        form.confirm_over.data = f"{settings.confirm_over_cents / 100:.2f}"
    status = 200
    valid = form.validate_on_submit()
    confirm_over = None
    if valid:  # left empty: unchanged
        raw = (form.confirm_over.data or "").strip()
        confirm_over = _money(form.confirm_over) if raw else settings.confirm_over_cents
    if valid and confirm_over is not None:
        with database.atomic("IMMEDIATE"):
            BillingSettings.insert(
                practice=current_user.practice_id,
                redeem_at=form.redeem_at.data,
                invoice_due_days=form.invoice_due_days.data,
                confirm_over_cents=confirm_over,
            ).on_conflict(
                conflict_target=[BillingSettings.practice],
                update={
                    BillingSettings.redeem_at: form.redeem_at.data,
                    BillingSettings.invoice_due_days: form.invoice_due_days.data,
                    BillingSettings.confirm_over_cents: confirm_over,
                },
            ).execute()
            audit.record("billing.settings", detail="redeem_at,invoice_due_days,confirm_over")
        flash("Billing settings saved.", "success")
        return redirect(url_for("provider.billing_settings"), 303)
    elif request.method == "POST":
        status = 400
    return render(
        "provider/billing/settings.html",
        form=form,
        stripe=payments.status(),
        webhook_url=url_for("webhooks.stripe_webhook", _external=True),
        section="billing",
    ), status


# --- the client page's billing section ---------------------------------------------------------


def _client_summary(client):
    family = client_merge.family_ids(client.id)  # with records merged into this one
    invoices = list(
        scoped(Invoice)
        .where(Invoice.client.in_(family) & (Invoice.status != "draft"))
        .order_by(Invoice.id.desc())
        .limit(20)
    )
    purchases = list(
        scoped(PackagePurchase)
        .where(PackagePurchase.client == client.id)
        .order_by(PackagePurchase.id.desc())
    )
    for p in purchases:
        p.balance = packages.balance(p.id)
    definitions = list(
        scoped(PackageDefinition).where(PackageDefinition.active).order_by(PackageDefinition.name)
    )
    return {
        "client": client,
        "invoices": invoices,
        "purchases": purchases,
        "definitions": definitions,
        "cards": payments_service.saved_cards(client.id),
    }


@bp.route("/billing/clients/<int:client_id>")
def client_billing(client_id):
    client = get_or_404(Client, client_id, audit_action="client.billing.view")
    return render(
        "provider/billing/client.html",
        "client_billing",
        section="clients",
        **_client_summary(client),
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
    inv = _sell_and_pay(client, definition, method)
    return redirect(url_for("provider.invoice", invoice_id=inv.id) if inv else back, 303)


def _sell_and_pay(client, definition, method):
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


# --- the tablet check-out hand-over ----------------------------------------------------------


def _appointment(appointment_id):
    from portal.models.scheduling import Appointment

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
            card = _client_card(inv.client_id, request.form.get("card_id"))
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
    _sell_and_pay(client, definition, method)
    return redirect(url_for("provider.checkout_payment", appointment_id=appt.id), 303)


def ledger_rows(purchase_id):
    return list(
        CreditLedger.select().where(CreditLedger.purchase == purchase_id).order_by(CreditLedger.id)
    )
