"""Packages as staff read them: each purchase's state in words, what a refund would
return and what a refused card refund still owes, and its credit ledger with the visits."""

from peewee import JOIN, Case, fn

from portal.models.billing import (
    LEDGER_EXPIRY,
    PURCHASE_ACTIVE,
    PURCHASE_CANCELLED,
    PURCHASE_EXPIRED,
    PURCHASE_PENDING,
    PURCHASE_REFUNDED,
    CreditLedger,
)
from portal.models.scheduling import Appointment
from portal.services.package_refunds import refund_owed
from portal.services.packages import is_past_expiry, used_sum_sql

STATE_WORDS = {
    PURCHASE_PENDING: "not paid yet",
    PURCHASE_ACTIVE: "active",
    PURCHASE_EXPIRED: "expired",
    PURCHASE_REFUNDED: "refunded",
    PURCHASE_CANCELLED: "cancelled",
}


def described(purchases, now=None):
    """The purchases as staff see them, each with `.balance` (credits left), `.unused_cents`
    (what a refund would return now), `.state` in words (an active package past its expiry
    is "expired" before the daily task closes it) and `.refundable`, `.owed_cents` (money
    a refused card refund still owes), `.expired_credits` (the credits an expired package
    left unused) and `.goodwill` (the owner may refund those: package_refunds.
    refund_expired): one query for the ledgers, more only for a refunded package."""
    purchases = list(purchases)
    sums = {}
    if purchases:
        lost = Case(None, [(CreditLedger.kind == LEDGER_EXPIRY, CreditLedger.delta * -1)], 0)
        rows = (
            CreditLedger.select(
                CreditLedger.purchase, fn.SUM(CreditLedger.delta), used_sum_sql(), fn.SUM(lost)
            )
            .where(CreditLedger.purchase.in_([p.id for p in purchases]))
            .group_by(CreditLedger.purchase)
            .tuples()
        )
        sums = {pid: (int(left or 0), int(used or 0), int(x or 0)) for pid, left, used, x in rows}
    for p in purchases:
        left, used, expired = sums.get(p.id, (0, 0, 0))
        past = p.status == PURCHASE_ACTIVE and is_past_expiry(p, now)
        p.balance = left
        p.unused_cents = max(0, p.price_cents - used)
        p.state = "expired" if past else STATE_WORDS.get(p.status, p.status)
        p.refundable = p.status == PURCHASE_ACTIVE and not past and left > 0
        p.owed_cents = refund_owed(p) if p.status == PURCHASE_REFUNDED else 0
        p.expired_credits = left if past else (expired if p.status == PURCHASE_EXPIRED else 0)
        p.goodwill = p.expired_credits > 0
    return purchases


def ledgers(purchase_ids):
    """{purchase id: its ledger rows, oldest first}, each with `.visit_at` (the starts_at of
    the visit it is for, or None): one query for all the purchases."""
    ids = list(purchase_ids)
    out = {pid: [] for pid in ids}
    if not ids:
        return out
    rows = (
        CreditLedger.select(CreditLedger, Appointment.starts_at.alias("visit_at"))
        .join(Appointment, JOIN.LEFT_OUTER, on=(CreditLedger.appointment == Appointment.id))
        .where(CreditLedger.purchase.in_(ids))
        .order_by(CreditLedger.id)
        .objects()
    )
    for row in rows:
        out[row.purchase_id].append(row)
    return out
