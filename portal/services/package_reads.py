"""Packages as staff read them: each purchase's state in words, what a refund would
return and what a refused card refund still owes, and its credit ledger with the visits."""

from peewee import JOIN, Case, fn

from portal.models.billing import (
    LEDGER_EXPIRY,
    LEDGER_REFUND,
    LEDGER_RETURN,
    PURCHASE_ACTIVE,
    PURCHASE_CANCELLED,
    PURCHASE_EXPIRED,
    PURCHASE_PENDING,
    PURCHASE_REFUNDED,
    CreditLedger,
)
from portal.models.scheduling import Appointment
from portal.services.package_refunds import GOODWILL, GOODWILL_RESTORE, refund_owed
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
    """{purchase id: its ledger rows as staff read them (in_words), oldest first}, each
    with `.visit_at` (the starts_at of the visit it is for, or None): one query for all
    the purchases."""
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
    return {pid: in_words(rows) for pid, rows in out.items()}


def in_words(rows):
    """A package's ledger rows (oldest first) as lines for people: each with `.goodwill`
    (a refund of an expired package's sessions as goodwill) and `.shown_delta` (the
    credits the line moves). The ledger refunds an expired package's sessions in two rows,
    +N back (it never goes below zero) then -N refunded: they read as one line, "N
    sessions refunded as goodwill", moving no credit (the expiry took them already), not
    as credits given back and refunded again."""
    out = []
    for row in rows:
        row.goodwill = row.kind == LEDGER_REFUND and row.note.startswith(GOODWILL)
        row.shown_delta = row.delta
        before = out[-1] if out else None
        if row.goodwill and before is not None and _restores(before, row):
            out.pop()
            row.shown_delta = 0
        out.append(row)
    return out


def _restores(row, refund):
    """Whether `row` brought back the expired sessions `refund` refunds as goodwill."""
    return (
        row.kind == LEDGER_RETURN
        and row.appointment_id is None
        and row.note == GOODWILL_RESTORE
        and row.delta == -refund.delta
    )
