"""Scoped reads for the provider's billing pages: a page of the invoice list, only the
columns it shows, read as values with what every cell shows worked out once per row (the
client's name, the issue date in the practice's time zone, the status badge, the balance).

Every query is scoped by portal.access.scoped (the user's practice, and for a therapist whose
practice limits them, the invoices of their own clients).
"""

import dataclasses

from portal import clock
from portal.models import Client
from portal.models.billing import (
    INVOICE_BADGE_CLASSES,
    INVOICE_DRAFT,
    INVOICE_OPEN,
    INVOICE_PARTIALLY_PAID,
    INVOICE_STATUS_LABELS,
    Invoice,
)
from portal.rules.billing import balance_due
from portal.services.reads import as_datetime, scoped_rows

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
    for iid, number, issued_at, st, total, paid, refunded, first, preferred, last in found:
        issued_at = as_datetime(issued_at)
        issued = "" if issued_at is None else clock.to_local(issued_at, tz).strftime(ISSUED_FORMAT)
        rows.append(
            InvoiceRow(
                iid,
                number or f"Draft #{iid}",
                f"{preferred or first} {last}",
                issued,
                st,
                INVOICE_STATUS_LABELS.get(st, st),
                INVOICE_BADGE_CLASSES.get(st, ""),
                total,
                balance_due(st, total, paid, refunded),
            )
        )
    return rows[:PAGE], len(rows) > PAGE


def _list_query(q, offset, due=False, status=None):
    """The list's query: `status` (a value) or `due` narrow it."""
    q = (
        q.select(
            Invoice.id,
            Invoice.number,
            Invoice.issued_at,
            Invoice.status,
            Invoice.total_cents,
            Invoice.paid_cents,
            Invoice.refunded_cents,
            Client.first_name,
            Client.preferred_name,
            Client.last_name,
        )
        .join(Client, on=(Invoice.client == Client.id))
        .where(Invoice.status != INVOICE_DRAFT)
    )
    if status is not None:
        q = q.where(Invoice.status == status)
    elif due:
        q = q.where(Invoice.status.in_([INVOICE_OPEN, INVOICE_PARTIALLY_PAID]))
    # One row past the page says whether there is a next one.
    return q.order_by(Invoice.id.desc()).limit(PAGE + 1).offset(offset)
