"""Scoped reads for the provider's billing pages: a page of the invoice list, only the
columns it shows, read as values with what every cell shows worked out once per row (the
client's name, the issue date in the practice's time zone, the status badge, the balance).

Every query is scoped by portal.access.scoped (the user's practice, and for a therapist whose
practice limits them, the invoices of their own clients).
"""

import dataclasses

from peewee import JOIN

from portal import clock
from portal.models import Client
from portal.models.billing import (
    INVOICE_BADGE_CLASSES,
    INVOICE_DRAFT,
    INVOICE_OPEN,
    INVOICE_PARTIALLY_PAID,
    INVOICE_STATUS_LABELS,
    PAYMENT_FAILED,
    PAYMENT_METHOD_LABELS,
    Invoice,
    InvoiceLine,
    Payment,
    Refund,
    card_label,
    invoice_status_label,
)
from portal.rules.billing import balance_due
from portal.services.reads import rows, scoped_rows

PAGE = 50
DUE = "due"  # a list filter beside the statuses: invoices clients still owe on
ISSUED_FORMAT = "%b %d, %Y"


@dataclasses.dataclass(frozen=True, slots=True)
class InvoiceRow:
    id: int
    label: str
    client_name: str
    issued: str  # the issue date in the practice's time zone, as the list shows it
    status: str
    status_label: str
    badge_class: str
    total_cents: int
    balance_cents: int


def invoice_rows(user, tz, *, status="", page=1):
    """(rows, has_next): one page of the issued invoices `user` may see, newest first,
    optionally only those of one status (or DUE: open and partially paid)."""
    values = {"offset": (page - 1) * PAGE}
    due = False
    if status in INVOICE_STATUS_LABELS:
        values["status"] = status
    else:
        due = status == DUE
    found = scoped_rows(
        ("invoices.list", due, "status" in values),
        Invoice,
        user,
        lambda q, **v: _list_query(q, due=due, **v),
        values,
    )
    rows = []
    for row in found:
        iid, number, _, issued_at, st, total, paid, refunded, settled, first, preferred, last = row
        issued = "" if issued_at is None else clock.to_local(issued_at, tz).strftime(ISSUED_FORMAT)
        rows.append(
            InvoiceRow(
                iid,
                number or f"Draft #{iid}",
                f"{preferred or first} {last}",
                issued,
                st,
                invoice_status_label(st, paid, refunded),
                INVOICE_BADGE_CLASSES.get(st, ""),
                total,
                balance_due(st, total, paid, refunded, settled),
            )
        )
    return rows[:PAGE], len(rows) > PAGE


# What a list of invoices shows (and Invoice.balance_cents reads), with the client's name:
# the billing list and the client page's invoices.
INVOICE_LIST_COLUMNS = (
    Invoice.id,
    Invoice.number,
    Invoice.client,
    Invoice.issued_at,
    Invoice.status,
    Invoice.total_cents,
    Invoice.paid_cents,
    Invoice.refunded_cents,
    Invoice.settled_cents,
    Client.first_name,
    Client.preferred_name,
    Client.last_name,
)


def _list_query(q, offset, due=False, status=None):
    """The list's query: `status` (a value) or `due` narrow it."""
    q = (
        q.select(*INVOICE_LIST_COLUMNS)
        .join(Client, on=(Invoice.client == Client.id))
        .where(Invoice.status != INVOICE_DRAFT)
    )
    if status is not None:
        q = q.where(Invoice.status == status)
    elif due:
        q = q.where(Invoice.status.in_([INVOICE_OPEN, INVOICE_PARTIALLY_PAID]))
    # One row past the page says whether there is a next one.
    return q.order_by(Invoice.id.desc()).limit(PAGE + 1).offset(offset)


# --- the invoice page ------------------------------------------------------------------------

PAID_FORMAT = "%b %d, %Y %-I:%M %p"


@dataclasses.dataclass(frozen=True, slots=True)
class LineRow:
    kind: str
    service_date: str  # as the page shows it, "" when none
    description: str
    cpt_code: str
    quantity: int
    unit_cents: int
    amount_cents: int


@dataclasses.dataclass(frozen=True, slots=True)
class RefundRow:
    created: str  # the day, in the practice's time zone
    reason: str
    status: str
    failure_message: str
    amount_cents: int
    document_id: int | None
    settles: bool  # the client owes nothing more for it (not due again)
    overpaid_share: bool = False  # it gives back the client's insurance share overpaid
    to_credit: bool = False  # kept as the client's account credit


@dataclasses.dataclass(slots=True)
class PaymentRow:
    id: int
    when: str  # received (or recorded), in the practice's time zone
    method: str
    method_label: str
    card_label: str
    reference: str
    status: str
    amount_cents: int
    receipt_id: int | None
    refunds: list  # [RefundRow], oldest first
    refunded_cents: int = 0  # what its refunds gave back (failed ones do not count)


def invoice_lines(invoice_id):
    """The lines of an invoice (already fetched through the scoping helper), in order."""
    lines = []
    for kind, day, desc, cpt, qty, unit, amount in rows(
        ("invoice.lines",), _lines_query, {"invoice_id": invoice_id}
    ):
        shown = day.strftime("%m/%d/%Y") if day else ""
        lines.append(LineRow(kind, shown, desc, cpt, qty, unit, amount))
    return lines


def _lines_query(invoice_id):
    return (
        InvoiceLine.select(
            InvoiceLine.kind,
            InvoiceLine.service_date,
            InvoiceLine.description,
            InvoiceLine.cpt_code,
            InvoiceLine.quantity,
            InvoiceLine.unit_cents,
            InvoiceLine.amount_cents,
        )
        .where(InvoiceLine.invoice == invoice_id)
        .order_by(InvoiceLine.position)
    )


def invoice_payments(invoice_id, tz):
    """The payments of an invoice, oldest first, each with its refunds (one query)."""
    payments = {}
    for row in rows(("invoice.payments",), _payments_query, {"invoice_id": invoice_id}):
        pid, received, created, method, brand, last4, ref, st, amount, receipt = row[:10]
        p = payments.get(pid)
        if p is None:
            when = clock.to_local(received or created, tz).strftime(PAID_FORMAT)
            label = PAYMENT_METHOD_LABELS.get(method, method)
            card = card_label(brand, last4)
            p = payments[pid] = PaymentRow(
                pid, when, method, label, card, ref, st, amount, receipt, []
            )
        rid, r_created, reason, r_status, failure, r_amount, document_id = row[10:17]
        settles, share, to_credit = row[17:]
        if rid is not None:
            day = clock.to_local(r_created, tz).strftime(ISSUED_FORMAT)
            p.refunds.append(
                RefundRow(
                    day, reason, r_status, failure, r_amount, document_id, bool(settles),
                    bool(share), bool(to_credit),
                )
            )  # fmt: skip
            if r_status != PAYMENT_FAILED:  # as invoicing.refunded_of counts
                p.refunded_cents += r_amount
    return list(payments.values())


def _payments_query(invoice_id):
    return (
        Payment.select(
            Payment.id,
            Payment.received_at,
            Payment.created_at,
            Payment.method,
            Payment.card_brand,
            Payment.card_last4,
            Payment.reference,
            Payment.status,
            Payment.amount_cents,
            Payment.receipt,
            Refund.id,
            Refund.created_at,
            Refund.reason,
            Refund.status,
            Refund.failure_message,
            Refund.amount_cents,
            Refund.document,
            Refund.settles,
            Refund.overpaid_share,
            Refund.to_credit,
        )
        .join(Refund, JOIN.LEFT_OUTER, on=(Refund.payment == Payment.id))
        .where(Payment.invoice == invoice_id)
        .order_by(Payment.id, Refund.id)
    )
