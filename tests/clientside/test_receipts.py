"""Receipts that are complete and true for HSA/FSA plans (issue 12, item 2), read back
from the stored PDFs with pdftotext."""

import re

from portal.models import Invoice, Payment, StoredDocument, VisitReceipt
from portal.services import billing_events, invoicing, receipts
from tests.billing.conftest import appointment
from tests.clientside.helpers import pdf_text, scene


def test_a_visit_paid_from_a_package_gets_its_own_receipt_at_the_per_visit_value(ctx, tmp_path):
    s = scene(other=False)
    row = VisitReceipt.get(VisitReceipt.appointment == s.pkg_visit.id)
    assert row.per_visit_cents == 8500
    text = pdf_text(StoredDocument.get_by_id(row.document_id).data, tmp_path)
    assert "Visit receipt" in text
    assert "$85.00" in text and "$100.00" not in text  # the list price was never charged
    assert "97124 (3)" in text and "97140 (1)" in text  # 60 timed minutes, 8-minute rule
    assert "M54.50, M62.830" in text  # from the signed note
    assert "NPI 1234567893" in text and "93-1234567" in text
    assert "5 x 60-minute massage" in text and "$425.00" in text
    # once: the desk's check-out asks for the same document
    assert [d.id for d in receipts.for_visit(s.pkg_visit)] == [row.document_id]
    assert receipts.issue_package_visit_receipt(s.pkg_visit).id == row.document_id


def test_a_card_paid_visit_receipt_carries_cpt_units_and_icd10(ctx, tmp_path):
    s = scene(other=False)
    pay = Payment.get(Payment.invoice == s.visit_invoice.id)
    text = pdf_text(StoredDocument.get_by_id(pay.receipt_id).data, tmp_path)
    assert "97124 (2)" in text and "M54.2" in text
    assert "Visa ending 4242" in text and "$55.00" in text
    assert "HSA/FSA" in text
    assert [d.id for d in receipts.for_visit(s.cash_visit)] == [pay.receipt_id]


def test_a_package_receipt_says_what_was_bought_for_whom_without_a_date_of_service(ctx, tmp_path):
    s = scene(other=False)
    pay = Payment.get(Payment.invoice == s.package_invoice.id)
    text = pdf_text(StoredDocument.get_by_id(pay.receipt_id).data, tmp_path)
    assert "Package bought" in text
    assert "5 sessions of 60-minute massage" in text
    assert "Jordan Avery" in text and "$85.00 a session" in text
    assert "Date of service" not in text
    assert "prepayment" in text


def test_a_late_cancellation_fee_receipt_has_no_hsa_footer(ctx, tmp_path):
    s = scene(other=False)
    appt = appointment(
        s.practice, s.client, s.provider, s.sixty, status="late_cancelled", fee_due_cents=4000
    )
    inv = billing_events.fee_invoice(appt, "late_cancel")
    pay = Payment.get_by_id(invoicing.record_payment(inv, method="cash", amount_cents=4000).id)
    text = pdf_text(StoredDocument.get_by_id(pay.receipt_id).data, tmp_path)
    assert "Late cancellation fee" in text and "the appointment of" in text
    assert "HSA" not in text and "Date of service" not in text
    assert "not for a medical service" in text


def test_a_credit_used_on_a_visit_invoice_is_stated_at_its_per_visit_value(ctx, tmp_path):
    s = scene(other=False)
    appt = appointment(s.practice, s.client, s.provider, s.sixty, status="completed")
    inv = billing_events.visit_invoice(appt)  # $100 on the invoice
    from portal.services import packages

    pay = Payment.get_by_id(packages.pay_invoice_with_credit(inv, s.purchase, appt).id)
    text = pdf_text(StoredDocument.get_by_id(pay.receipt_id).data, tmp_path)
    assert re.search(r"Amount paid for this\s+\$85\.00", text)  # the package's share
    assert "no new payment was taken" in text
    assert Invoice.get_by_id(inv.id).status == "paid"
