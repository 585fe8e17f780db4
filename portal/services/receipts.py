"""Receipts: what HSA/FSA plans and the client's own records need, and nothing untrue.

- A payment on an invoice gets a receipt (`render_payment_receipt`, issued by invoicing).
  Lines for a medical service carry the date of service, CPT codes with units, the ICD-10
  codes of the visit's signed note, the provider and NPI; a package says what was bought
  and for whom (no "date of service": a prepayment is not a service); a fee (late
  cancellation, missed visit) carries no HSA/FSA statement. A package credit used on an
  invoice is stated at its per-visit value.
- A visit paid from a package credit has no invoice and no payment: it gets a visit
  receipt of its own (`issue_package_visit_receipt`), at the per-visit value.
- `for_visit(appointment)` lists a visit's receipts: the desk's check-out prints or
  e-mails these same documents.

Receipts are stored documents: issued once, never changed.
"""

from portal import audit, clock, pdf
from portal.db import database
from portal.models import (
    Appointment,
    Client,
    Invoice,
    InvoiceLine,
    PackageDefinition,
    PackageEligibleType,
    PackagePurchase,
    Payment,
    Practice,
    StoredDocument,
    VisitReceipt,
)
from portal.models.billing import (
    DOC_RECEIPT,
    LINE_FEE,
    LINE_PACKAGE,
    PAY_PACKAGE_CREDIT,
)
from portal.rules.ledger import per_session_words
from portal.services import documents, visit_facts


def _lines(invoice):
    return list(
        InvoiceLine.select()
        .where(InvoiceLine.invoice == invoice.id)
        .order_by(InvoiceLine.position, InvoiceLine.id)
    )


def _package_info(invoice, practice):
    """What a package invoice sold: [{name, sessions, types, per_session, valid_days}]."""
    out = []
    for purchase in PackagePurchase.select().where(PackagePurchase.invoice == invoice.id):
        definition = PackageDefinition.get_by_id(purchase.definition_id)
        types = [
            e.appointment_type.name
            for e in PackageEligibleType.select().where(
                PackageEligibleType.definition == definition.id
            )
        ]
        out.append(
            {
                "purchase": purchase,
                "types": types,
                "per_session": per_session_words(purchase.price_cents, purchase.sessions_total),
                "valid_days": definition.expiry_days,
                "expires_on": clock.local_date(purchase.expires_at, practice.tz)
                if purchase.expires_at
                else None,
            }
        )
    return out


def receipt_context(payment):
    invoice = Invoice.get_by_id(payment.invoice_id)
    practice = Practice.get_by_id(invoice.practice_id)
    client = Client.get_by_id(invoice.client_id)
    lines = _lines(invoice)
    appointment_ids = {line.appointment_id for line in lines if line.appointment_id}
    if invoice.appointment_id:
        appointment_ids.add(invoice.appointment_id)
    appts = list(Appointment.select().where(Appointment.id.in_(appointment_ids)))
    facts = {f.appointment_id: f for f in visit_facts.facts_for(appts, client.id)}
    medical = [line for line in lines if line.kind in visit_facts.MEDICAL_LINES]
    packages = [line for line in lines if line.kind == LINE_PACKAGE]
    others = [line for line in lines if line not in medical and line not in packages]
    credit_value = None
    if payment.method == PAY_PACKAGE_CREDIT and invoice.appointment_id in facts:
        credit_value = facts[invoice.appointment_id].paid_cents
    fees_only = (
        not medical
        and not packages
        and all(line.kind in (LINE_FEE, "adjustment") for line in lines)
    )
    return {
        "practice": practice,
        "client": client,
        "invoice": invoice,
        "payment": payment,
        "lines": lines,
        "medical": medical,
        "packages": packages,
        "others": others,
        "facts": facts,
        "package_info": _package_info(invoice, practice) if packages else [],
        "credit_value": credit_value,
        "fees_only": fees_only,
        "paid_on": clock.local_date(payment.received_at or payment.created_at, practice.tz),
    }


def render_payment_receipt(payment):
    return pdf.render_pdf("pdf/receipt.html", **receipt_context(payment))


# --- visits paid from a package ------------------------------------------------------------


def issue_package_visit_receipt(appointment, user=None):
    """The receipt of a completed visit paid from a package credit (once). Returns the
    StoredDocument, or None when the visit was not paid from a package."""
    with database.atomic("IMMEDIATE"):
        existing = VisitReceipt.get_or_none(VisitReceipt.appointment == appointment.id)
        if existing is not None:
            return StoredDocument.get_by_id(existing.document_id)
        appointment = Appointment.get_by_id(appointment.id)
        facts = visit_facts.facts_for([appointment], appointment.client_id)[0]
        if facts.paid_by != "package":
            return None
        practice = Practice.get_by_id(appointment.practice_id)
        client = Client.get_by_id(appointment.client_id)
        data = pdf.render_pdf(
            "pdf/visit_receipt.html",
            practice=practice,
            client=client,
            facts=facts,
            number=f"V-{appointment.id:06d}",
            issued_on=clock.local_date(clock.utcnow(), practice.tz),
        )
        day = facts.service_date.strftime("%Y-%m-%d")
        doc = documents.store(
            practice.id,
            client.id,
            DOC_RECEIPT,
            f"Receipt for the visit of {facts.service_date.strftime('%b %-d, %Y')}",
            f"receipt-visit-{day}-{appointment.id}.pdf",
            data,
            user=user,
        )
        VisitReceipt.create(
            practice=practice.id,
            client=client.id,
            appointment=appointment.id,
            document=doc.id,
            per_visit_cents=facts.paid_cents,
        )
        audit.record("receipt.visit", obj=appointment, detail="package credit", user=user)
        return doc


def for_visit(appointment):
    """Every receipt of one visit, oldest first: its package visit receipt, and the
    receipts of payments on its invoices (what check-out prints or e-mails)."""
    ids = [
        r.document_id
        for r in VisitReceipt.select(VisitReceipt.document).where(
            VisitReceipt.appointment == appointment.id
        )
    ]
    ids += [
        p.receipt_id
        for p in Payment.select(Payment.receipt)
        .join(Invoice)
        .where((Invoice.appointment == appointment.id) & Payment.receipt.is_null(False))
    ]
    if not ids:
        return []
    return list(
        StoredDocument.select().where(StoredDocument.id.in_(ids)).order_by(StoredDocument.id)
    )
