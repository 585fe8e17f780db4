"""Invoices, manual payments, receipts, voids and refunds.

Every write that touches money runs in ONE `database.atomic("IMMEDIATE")` with its audit
rows (nested calls become savepoints). Other areas create invoices through
`create_invoice(...)` (e.g. claims: a `patient_responsibility` line).

An issued invoice never changes: its lines are frozen by triggers and its PDF is stored
with its SHA-256; a correction is a void and a new invoice.
"""

import datetime as dt

from flask import current_app
from peewee import fn

from portal import audit, clock, mail, payments, pdf
from portal.db import database
from portal.models.billing import (
    DOC_CREDIT_NOTE,
    DOC_INVOICE,
    DOC_RECEIPT,
    INVOICE_DRAFT,
    INVOICE_OPEN,
    INVOICE_PAID,
    INVOICE_PARTIALLY_PAID,
    INVOICE_VOID,
    LINE_PACKAGE,
    LINE_PATIENT_RESPONSIBILITY,
    PAY_ACCOUNT_CREDIT,
    PAY_CARD,
    PAY_CARD_ON_FILE,
    PAY_CASH,
    PAY_CHECK,
    PAY_PACKAGE_CREDIT,
    PAY_TERMINAL,
    PAYMENT_FAILED,
    PAYMENT_PENDING,
    PAYMENT_SUCCEEDED,
    BillingSettings,
    Invoice,
    InvoiceCounter,
    InvoiceLine,
    Payment,
    Refund,
)
from portal.models.people import Client
from portal.models.practice import Practice
from portal.rules import billing as rules
from portal.rules.money import format_cents
from portal.services import documents, events, receipts
from portal.services.reads import scoped_rows

MANUAL_METHODS = (PAY_CASH, PAY_CHECK, PAY_TERMINAL)
STRIPE_METHODS = (PAY_CARD, PAY_CARD_ON_FILE)


class InvoiceError(rules.BillingError):
    """A refused change with a message for the user."""


# --- settings and numbering ------------------------------------------------------------


def settings_for(practice_id):
    row = BillingSettings.get_or_none(BillingSettings.practice == practice_id)
    return row or BillingSettings(practice=practice_id)


def _next_number(practice_id):
    """Bump the per-practice counter (inside the caller's IMMEDIATE transaction)."""
    InvoiceCounter.insert(practice=practice_id, last_number=0).on_conflict_ignore().execute()
    InvoiceCounter.update(last_number=InvoiceCounter.last_number + 1).where(
        InvoiceCounter.practice == practice_id
    ).execute()
    n = InvoiceCounter.get(InvoiceCounter.practice == practice_id).last_number
    return rules.invoice_number(n)


# --- documents --------------------------------------------------------------------------


def store_document(practice_id, client_id, kind, title, filename, data, user=None):
    return documents.store(practice_id, client_id, kind, title, filename, data, user=user)


def _pdf_context(invoice):
    practice = Practice.get_by_id(invoice.practice_id)
    client = Client.get_by_id(invoice.client_id)
    lines = list(
        InvoiceLine.select()
        .where(InvoiceLine.invoice == invoice.id)
        .order_by(InvoiceLine.position, InvoiceLine.id)
    )
    return {
        "practice": practice,
        "client": client,
        "invoice": invoice,
        "lines": lines,
        "issued_on": clock.local_date(invoice.issued_at, practice.tz),
    }


def render_invoice_pdf(invoice):
    return pdf.render_pdf("pdf/invoice.html", **_pdf_context(invoice))


def render_receipt_pdf(payment):
    return receipts.render_payment_receipt(payment)


# --- creating and issuing ----------------------------------------------------------------


def create_invoice(
    *,
    practice_id,
    client_id,
    lines,
    reason="manual",
    appointment_id=None,
    user=None,
    issue=True,
    note="",
):
    """Create an invoice with `lines` (dicts: kind, description, unit_cents, quantity=1,
    service_date, cpt_code, provider_id, appointment_id) and issue it unless issue=False."""
    if not lines:
        raise InvoiceError("An invoice needs at least one line.")
    with database.atomic("IMMEDIATE"):
        settings = settings_for(practice_id)
        inv = Invoice.create(
            practice=practice_id,
            client=client_id,
            status=INVOICE_DRAFT,
            currency=settings.currency,
            appointment=appointment_id,
            reason=reason,
            note=note[:255],
            created_by=user.id if user is not None else None,
        )
        for pos, line in enumerate(lines):
            qty = int(line.get("quantity", 1))
            unit = int(line["unit_cents"])
            InvoiceLine.create(
                practice=practice_id,
                invoice=inv.id,
                position=pos,
                kind=line["kind"],
                description=line["description"][:255],
                service_date=line.get("service_date"),
                cpt_code=line.get("cpt_code", ""),
                quantity=qty,
                unit_cents=unit,
                amount_cents=rules.line_amount(line["kind"], qty, unit),
                provider=line.get("provider_id"),
                appointment=line.get("appointment_id"),
            )
        audit.record("invoice.create", obj=inv, detail=reason, user=user)
        if issue:
            issue_invoice(inv, user=user)
    return Invoice.get_by_id(inv.id)


def issue_invoice(inv, user=None):
    """Number it, total it, render and store its PDF; from here on it never changes."""
    with database.atomic("IMMEDIATE"):
        inv = Invoice.get_by_id(inv.id)
        rules.check_transition(inv.status, INVOICE_OPEN)
        amounts = [
            line.amount_cents
            for line in InvoiceLine.select(InvoiceLine.amount_cents).where(
                InvoiceLine.invoice == inv.id
            )
        ]
        total = rules.invoice_total(amounts)
        now = clock.utcnow()
        settings = settings_for(inv.practice_id)
        inv.number = _next_number(inv.practice_id)
        inv.total_cents = total
        inv.issued_at = now
        practice = Practice.get_by_id(inv.practice_id)
        inv.due_date = clock.local_date(now, practice.tz) + dt.timedelta(
            days=settings.invoice_due_days
        )
        inv.status = INVOICE_OPEN  # for the PDF; the final status is set below
        data = render_invoice_pdf(inv)
        doc = store_document(
            inv.practice_id,
            inv.client_id,
            DOC_INVOICE,
            f"Invoice {inv.number}",
            f"{inv.number}.pdf",
            data,
            user=user,
        )
        inv.document = doc.id
        inv.status = rules.status_for(INVOICE_OPEN, total, 0)
        inv.save()
        audit.record("invoice.issue", obj=inv, detail=inv.number, user=user)
    return inv


# --- payments --------------------------------------------------------------------------


def refresh(inv):
    """Recompute the cached paid, refunded and settled sums and the status (inside the
    caller's transaction, so a refund's row and the invoice's sums change together)."""
    inv = Invoice.get_by_id(inv.id)
    paid = [
        p.amount_cents
        for p in Payment.select(Payment.amount_cents).where(
            (Payment.invoice == inv.id) & (Payment.status == PAYMENT_SUCCEEDED)
        )
    ]
    refunds = [
        (r.amount_cents, bool(r.settles))
        for r in Refund.select(Refund.amount_cents, Refund.settles)
        .join(Payment)
        .where((Payment.invoice == inv.id) & (Refund.status == PAYMENT_SUCCEEDED))
    ]
    paid_cents, refunded_cents, settled_cents = rules.invoice_sums(paid, refunds)
    new_status = rules.status_for(
        inv.status, inv.total_cents, paid_cents - refunded_cents, settled_cents
    )
    rules.check_transition(inv.status, new_status)
    Invoice.update(
        paid_cents=paid_cents,
        refunded_cents=refunded_cents,
        settled_cents=settled_cents,
        status=new_status,
    ).where(Invoice.id == inv.id).execute()
    return Invoice.get_by_id(inv.id)


def record_payment(
    inv,
    *,
    method,
    amount_cents,
    user=None,
    reference="",
    receipt=True,
    allow_closed=False,
    **fields,
):
    """Record a succeeded payment on an invoice, update its status and issue a receipt."""
    with database.atomic("IMMEDIATE"):
        inv = Invoice.get_by_id(inv.id)  # re-read inside the lock
        if not allow_closed:
            rules.check_payment(inv.status, inv.balance_cents, amount_cents)
        now = clock.utcnow()
        payment = Payment.create(
            practice=inv.practice_id,
            client=inv.client_id,
            invoice=inv.id,
            method=method,
            amount_cents=amount_cents,
            currency=inv.currency,
            status=PAYMENT_SUCCEEDED,
            reference=(reference or "")[:255],
            received_at=now,
            created_by=user.id if user is not None else None,
            **fields,
        )
        inv = refresh(inv)
        if receipt:
            issue_receipt(payment, user=user)
        audit.record("payment.record", obj=payment, detail=method, user=user)
        if inv.status == INVOICE_PAID:
            events.invoice_paid.send(inv, user=user)  # packages: credits for a sold package
    return payment


def issue_receipt(payment, user=None):
    with database.atomic("IMMEDIATE"):
        payment = Payment.get_by_id(payment.id)
        if payment.receipt_id:
            return payment.receipt
        inv = Invoice.get_by_id(payment.invoice_id)
        data = render_receipt_pdf(payment)
        doc = store_document(
            payment.practice_id,
            payment.client_id,
            DOC_RECEIPT,
            # two payments on one invoice are two receipts: their titles tell them apart
            f"Receipt for {inv.number} ({format_cents(payment.amount_cents)}, "
            f"{payment.method_label.lower()})",
            f"receipt-{inv.number}-{payment.id}.pdf",
            data,
            user=user,
        )
        Payment.update(receipt=doc.id).where(Payment.id == payment.id).execute()
        return doc


def void_invoice(inv, reason, user=None):
    with database.atomic("IMMEDIATE"):
        inv = refresh(inv)
        rules.check_void(inv.status, inv.paid_cents - inv.refunded_cents)
        Invoice.update(
            status=INVOICE_VOID, voided_at=clock.utcnow(), void_reason=(reason or "")[:255]
        ).where(Invoice.id == inv.id).execute()
        events.invoice_voided.send(inv, user=user)  # packages: its pending sale is cancelled
        audit.record("invoice.void", obj=inv, detail="reason", user=user)
    return Invoice.get_by_id(inv.id)


# --- refunds ----------------------------------------------------------------------------


def refunded_of(payment):
    return sum(
        r.amount_cents
        for r in Refund.select(Refund.amount_cents).where(
            (Refund.payment == payment.id) & (Refund.status != PAYMENT_FAILED)
        )
    )


def due_total(user):
    """What clients still owe on the invoices `user` may see, in cents."""
    ((total,),) = scoped_rows("invoices.due", Invoice, user, _due_sum)
    return int(total or 0)


def _due_sum(invoices):
    # rules.balance_due in SQL: what is settled is not owed.
    balance = (
        Invoice.total_cents - Invoice.settled_cents - Invoice.paid_cents + Invoice.refunded_cents
    )
    due = invoices.where(Invoice.status.in_([INVOICE_OPEN, INVOICE_PARTIALLY_PAID]) & (balance > 0))
    return due.select(fn.COALESCE(fn.SUM(balance), 0))


def is_package_invoice(inv):
    return (
        InvoiceLine.select()
        .where((InvoiceLine.invoice == inv.id) & (InvoiceLine.kind == LINE_PACKAGE))
        .exists()
    )


def refund_payment(
    payment, amount_cents, reason="", user=None, *, settles, overpaid_share=False, to_credit=False
):
    """Refund part or all of a payment. Card payments go back through Stripe (the local
    Refund row is written first and its id makes the idempotency key); cash, check and
    terminal refunds are recorded as given back by hand. Returns the Refund.

    `settles` (the staff say which): True when the refund settles what it gives back (a
    goodwill refund, the client's overpaid share after the insurer paid): the client owes
    nothing more for it. False when the client will pay it another way: it is due again.
    A package credit given back never settles (the visit is due again, to pay otherwise).
    `overpaid_share`: it gives back part of the invoice's client-share lines the payer
    covered after all (it settles; the claims flow counts it as no longer billed).
    `to_credit`: the money stays with the practice as the client's account credit (done at
    once, never sent to Stripe; services/account_credit adds it to the client's credit). A
    payment made from the credit always goes back to it.

    A package's payments are refunded by its unused sessions only (the credits and the
    money leave together): package_refunds.refund_unused calls record_package_refund."""
    if is_package_invoice(Invoice.get_by_id(Payment.get_by_id(payment.id).invoice_id)):
        raise InvoiceError(
            "A package is refunded by its unused sessions: use 'Refund unused sessions'."
        )
    if overpaid_share and not settles:
        raise InvoiceError("A refund of the client's overpaid share settles it.")
    refund = _record_refund(
        payment, amount_cents, reason, user, settles, overpaid_share, to_credit=to_credit
    )
    return send_refund(refund, user=user)


def share_refunded(invoice_id):
    """(client-share lines, of which given back as an overpaid share so far), in cents:
    what rules.check_share_refund weighs a refund of the overpaid share against."""
    share = (
        InvoiceLine.select(fn.COALESCE(fn.SUM(InvoiceLine.amount_cents), 0))
        .where(
            (InvoiceLine.invoice == invoice_id) & (InvoiceLine.kind == LINE_PATIENT_RESPONSIBILITY)
        )
        .scalar()
    )
    given = (
        Refund.select(fn.COALESCE(fn.SUM(Refund.amount_cents), 0))
        .join(Payment, on=(Refund.payment == Payment.id))
        .where(
            (Payment.invoice == invoice_id)
            & Refund.overpaid_share
            & (Refund.status != PAYMENT_FAILED)
        )
        .scalar()
    )
    return int(share or 0), int(given or 0)


def record_package_refund(payment, amount_cents, reason="", user=None):
    """Record the refund of a package invoice's payment inside packages' transaction,
    which removes the unused credits in the same step: cash, check and terminal refunds
    are done here; a card's is left pending for `send_refund` once the lock is let go.
    It settles: the sale is smaller by the unused sessions, nothing is due again."""
    return _record_refund(payment, amount_cents, reason, user, settles=True)


def _record_refund(
    payment, amount_cents, reason, user, settles, overpaid_share=False, to_credit=False
):
    with database.atomic("IMMEDIATE"):
        payment = Payment.get_by_id(payment.id)
        to_credit = bool(to_credit) or payment.method == PAY_ACCOUNT_CREDIT
        inv = Invoice.get_by_id(payment.invoice_id)
        if payment.status != PAYMENT_SUCCEEDED:
            raise InvoiceError("Only a succeeded payment can be refunded.")
        rules.check_refund(payment.amount_cents, refunded_of(payment), amount_cents)
        if payment.method == PAY_PACKAGE_CREDIT and amount_cents != payment.amount_cents:
            raise InvoiceError("A package credit is given back whole, not in part.")
        if payment.method == PAY_PACKAGE_CREDIT and settles:
            raise InvoiceError(
                "A package credit given back makes the visit due again: it cannot settle it."
            )
        if overpaid_share:
            rules.check_share_refund(*share_refunded(inv.id), amount_cents)
        if to_credit and payment.method == PAY_PACKAGE_CREDIT:
            raise InvoiceError("A package credit goes back to its package, not to account credit.")
        stripe_needed = (
            not to_credit and payment.method in STRIPE_METHODS and payment.stripe_payment_intent_id
        )
        refund = Refund.create(
            practice=payment.practice_id,
            client=payment.client_id,
            payment=payment.id,
            amount_cents=amount_cents,
            status=PAYMENT_PENDING if stripe_needed else PAYMENT_SUCCEEDED,
            reason=(reason or "")[:255],
            settles=bool(settles),
            overpaid_share=bool(overpaid_share),
            to_credit=to_credit,
            created_by=user.id if user is not None else None,
        )
        meaning = "overpaid share" if overpaid_share else "settles" if settles else "due again"
        detail = f"{payment.method}, {meaning}" + (", to account credit" if to_credit else "")
        audit.record("refund.create", obj=refund, detail=detail, user=user)
        if not stripe_needed:
            refresh(inv)
            issue_credit_note(refund, user=user)
            # packages: a visit paid by a package credit gets its credit back; account
            # credit: a refund kept as credit adds to the client's credit
            events.payment_refunded.send(payment, refund=refund, user=user)
    return refund


def send_refund(refund, user=None):
    """Send a pending (card) refund to Stripe, outside the write lock; the Refund row,
    written first, gives the idempotency key. Refused, it is marked failed (it no longer
    counts) and InvoiceError says why. A refund done already is returned as it is."""
    if refund.status != PAYMENT_PENDING:
        return refund
    payment = Payment.get_by_id(refund.payment_id)
    try:
        result = payments.create_refund(
            payment_intent=payment.stripe_payment_intent_id,
            amount_cents=refund.amount_cents,
            metadata={"refund_id": str(refund.id), "invoice_id": str(payment.invoice_id)},
            idempotency_key=refund.idempotency_key,
        )
    except payments.PaymentsError as e:
        with database.atomic("IMMEDIATE"):
            Refund.update(status=PAYMENT_FAILED, failure_message=str(e)[:255]).where(
                (Refund.id == refund.id) & (Refund.status == PAYMENT_PENDING)
            ).execute()
            audit.record("refund.failed", obj=refund, detail="stripe", user=user)
        raise InvoiceError(f"The refund did not go through: {e}") from e
    return apply_stripe_refund(refund.id, result, user=user)


def apply_stripe_refund(refund_id, result, user=None):
    """Record Stripe's answer for a refund (from the call or a webhook): pending to
    succeeded or failed, and succeeded to failed (Stripe's refund.failed); never back."""
    with database.atomic("IMMEDIATE"):
        refund = Refund.get_by_id(refund_id)
        status = result.get("status")
        if refund.stripe_refund_id is None and result.get("id"):
            Refund.update(stripe_refund_id=result["id"]).where(Refund.id == refund.id).execute()
        if refund.status == PAYMENT_PENDING and status in ("succeeded", "pending"):
            # Stripe accepted it; 'pending' refunds complete on Stripe's side.
            Refund.update(status=PAYMENT_SUCCEEDED).where(Refund.id == refund.id).execute()
            payment = Payment.get_by_id(refund.payment_id)
            refresh(payment.invoice)
            issue_credit_note(refund, user=user)
            audit.record("refund.succeeded", obj=refund, user=user)
            events.payment_refunded.send(payment, refund=refund, user=user)
        elif refund.status == PAYMENT_PENDING and status in ("failed", "canceled"):
            Refund.update(status=PAYMENT_FAILED, failure_message=status).where(
                Refund.id == refund.id
            ).execute()
            audit.record("refund.failed", obj=refund, user=user)
        elif refund.status == PAYMENT_SUCCEEDED and status == "failed":
            # Stripe accepted the refund, then the card network sent it back (a closed
            # card, say): the money stayed with the practice. The refund no longer counts;
            # the invoice's paid status comes back. The credit note already issued stays
            # as it was (issued documents never change); the audit row and the payments
            # page say what happened.
            reason = str(result.get("failure_reason") or "failed")[:255]
            Refund.update(status=PAYMENT_FAILED, failure_message=reason).where(
                Refund.id == refund.id
            ).execute()
            refresh(Payment.get_by_id(refund.payment_id).invoice)
            audit.record("refund.failed", obj=refund, user=user, detail="after it succeeded")
    return Refund.get_by_id(refund_id)


def issue_credit_note(refund, user=None):
    """The stored PDF of a succeeded refund (once)."""
    with database.atomic("IMMEDIATE"):
        refund = Refund.get_by_id(refund.id)
        if refund.document_id or refund.status != PAYMENT_SUCCEEDED:
            return refund.document
        payment = Payment.get_by_id(refund.payment_id)
        invoice = Invoice.get_by_id(payment.invoice_id)
        ctx = _pdf_context(invoice)
        ctx.update(
            refund=refund,
            payment=payment,
            refunded_on=clock.local_date(refund.created_at, ctx["practice"].tz),
        )
        data = pdf.render_pdf("pdf/credit_note.html", **ctx)
        doc = store_document(
            refund.practice_id,
            refund.client_id,
            DOC_CREDIT_NOTE,
            f"Credit note for {invoice.number}",
            f"credit-note-{invoice.number}-{refund.id}.pdf",
            data,
            user=user,
        )
        Refund.update(document=doc.id).where(Refund.id == refund.id).execute()
        return doc


# --- sending ---------------------------------------------------------------------------


def send_invoice(inv, user=None):
    """E-mail the client a link to the portal (no amounts or services in the e-mail)."""
    client = Client.get_by_id(inv.client_id)
    practice = Practice.get_by_id(inv.practice_id)
    if not client.email:
        raise InvoiceError("This client has no e-mail address on file.")
    base = current_app.config["BASE_URL"].rstrip("/")
    mail.queue(
        client.email,
        f"A new invoice from {practice.name}",
        f"Hello,\n\n{practice.name} has sent you an invoice. You can view and pay it "
        f"in your client portal:\n\n{base}/portal/invoices\n\nThank you.",
        practice=practice.id,
        kind="invoice",
    )
    audit.record("invoice.send", obj=inv, user=user)
