"""Refunding a package's unused sessions: the credits leave the ledger and the money goes
back on the package invoice's payments in one transaction; card refunds then go to
Stripe, and one Stripe refuses stays owed, to send again (`return_owed`).

Credits live in the append-only CreditLedger (services/packages.py); each write here re-reads
the package inside `database.atomic("IMMEDIATE")`.
"""

from peewee import fn

from portal import audit, clock
from portal.db import database
from portal.models.billing import (
    LEDGER_EXPIRY,
    LEDGER_REFUND,
    LEDGER_RETURN,
    PAYMENT_SUCCEEDED,
    PURCHASE_ACTIVE,
    PURCHASE_EXPIRED,
    PURCHASE_REFUNDED,
    CreditLedger,
    PackagePurchase,
    Payment,
    Refund,
)
from portal.rules.money import format_cents
from portal.services import invoicing
from portal.services.packages import (
    PackageError,
    append_entry,
    balance,
    is_past_expiry,
    unused_value,
)


def refund_unused(purchase, user=None, reason="unused sessions"):
    """Refund the unused sessions at the per-session price actually paid (the unused
    value): -remaining in the ledger and the money back on the package invoice's payments,
    in one transaction (cash, check and terminal given back; a card's refund recorded).
    Cards are then refunded through Stripe: one refused stays owed (`refund_owed`), to
    send again with `return_owed`. Returns (value, refunds)."""
    with database.atomic("IMMEDIATE"):
        purchase = PackagePurchase.get_by_id(purchase.id)
        if purchase.status != PURCHASE_ACTIVE:
            raise PackageError("Only an active package can be refunded.")
        if is_past_expiry(purchase):
            day = clock.local_date(purchase.expires_at, purchase.practice.tz)
            raise PackageError(
                f"This package expired on {day.strftime('%b %-d, %Y')}: its unused "
                "sessions are no longer refunded."
            )
        remaining = balance(purchase.id)
        if remaining <= 0:
            raise PackageError("No unused sessions are left to refund.")
        value = unused_value(purchase)
        append_entry(purchase, LEDGER_REFUND, -remaining, amount=value, note=reason, user=user)
        PackagePurchase.update(status=PURCHASE_REFUNDED, closed_at=clock.utcnow()).where(
            PackagePurchase.id == purchase.id
        ).execute()
        audit.record("package.refund", obj=purchase, detail=f"{remaining} credits", user=user)
        recorded = _record_refunds(purchase, value, reason, user)
    return value, _send(recorded, user)


REASON_MIN, REASON_MAX = 3, 200
# A goodwill refund's ledger notes: the +N that brings an expired package's sessions back,
# and the prefix of the -N that refunds them (package_reads shows the pair as one line).
GOODWILL_RESTORE = "the expired sessions, to refund them (goodwill)"
GOODWILL = "goodwill: "


def refund_expired(purchase, user, reason):
    """The owner's goodwill: refund the sessions a package left unused when it expired, at
    the unused value, as refund_unused does (the money back on the invoice's payments in
    the same transaction, cards then through Stripe, one refused owed for `return_owed`).
    Closed by the daily task, its expired credits come back (+N) to leave as refunded
    (-N); past its expiry but not closed yet, they leave as refunded. `reason` (required)
    goes with the refunds and the ledger, not into the audit log (it may say why a client
    could not come). Returns (value, refunds)."""
    reason = " ".join((reason or "").split())
    if user is None or not user.is_owner:
        raise PackageError("Only the owner refunds an expired package.")
    if len(reason) < REASON_MIN:
        raise PackageError("Say why the expired sessions are refunded.", field="reason")
    if len(reason) > REASON_MAX:
        raise PackageError(f"Keep the reason under {REASON_MAX} characters.", field="reason")
    note = GOODWILL + reason
    with database.atomic("IMMEDIATE"):
        purchase = PackagePurchase.get_by_id(purchase.id)
        if purchase.status == PURCHASE_ACTIVE and is_past_expiry(purchase):
            sessions = balance(purchase.id)
        elif purchase.status == PURCHASE_EXPIRED:
            sessions = _expired_sessions(purchase.id)
            if sessions > 0:
                append_entry(
                    purchase,
                    LEDGER_RETURN,
                    sessions,
                    note=GOODWILL_RESTORE,
                    user=user,
                )
        else:
            raise PackageError("Only an expired package is refunded this way.")
        if sessions <= 0:
            raise PackageError("No sessions were left unused when it expired.")
        value = unused_value(purchase)
        append_entry(purchase, LEDGER_REFUND, -sessions, amount=value, note=note, user=user)
        PackagePurchase.update(status=PURCHASE_REFUNDED, closed_at=clock.utcnow()).where(
            PackagePurchase.id == purchase.id
        ).execute()
        detail = f"{sessions} credits, {format_cents(value)}"
        audit.record("package.refund_expired", obj=purchase, detail=detail, user=user)
        recorded = _record_refunds(purchase, value, note, user)
    return value, _send(recorded, user)


def _expired_sessions(purchase_id):
    """How many credits a package lost when it expired."""
    lost = (
        CreditLedger.select(fn.COALESCE(fn.SUM(CreditLedger.delta), 0))
        .where((CreditLedger.purchase == purchase_id) & (CreditLedger.kind == LEDGER_EXPIRY))
        .scalar()
    )
    return -int(lost or 0)


def refund_owed(purchase):
    """Money a refunded package still owes its client: the refund's value less what its
    invoice's payments gave back (a card refund Stripe refused does not count)."""
    owed = (
        CreditLedger.select(fn.COALESCE(fn.SUM(CreditLedger.amount_cents), 0))
        .where((CreditLedger.purchase == purchase.id) & (CreditLedger.kind == LEDGER_REFUND))
        .scalar()
    )
    if not owed or purchase.invoice_id is None:
        return 0
    paid = Payment.select().where(Payment.invoice == purchase.invoice_id)
    return max(0, int(owed) - sum(invoicing.refunded_of(p) for p in paid))


def return_owed(purchase, user=None, reason="unused sessions"):
    """Send again the money a refunded package still owes (a card refund Stripe refused).
    Returns (amount, refunds)."""
    with database.atomic("IMMEDIATE"):
        purchase = PackagePurchase.get_by_id(purchase.id)
        owed = refund_owed(purchase) if purchase.status == PURCHASE_REFUNDED else 0
        if owed <= 0:
            raise PackageError("Nothing is owed on this package.")
        recorded = _record_refunds(purchase, owed, reason, user)
        audit.record("package.refund_again", obj=purchase, detail=format_cents(owed), user=user)
    return owed, _send(recorded, user)


def _record_refunds(purchase, value, reason, user):
    return [
        invoicing.record_package_refund(payment, amount, reason=reason, user=user)
        for payment, amount in _refund_plan(purchase, value)
    ]


def _send(recorded, user):
    """Card refunds to Stripe, after the write lock: one refused (marked failed, and owed)
    does not keep the others from being sent."""
    sent = []
    for refund in recorded:
        try:
            sent.append(invoicing.send_refund(refund, user=user))
        except invoicing.InvoiceError:
            sent.append(Refund.get_by_id(refund.id))
    return sent


def _refund_plan(purchase, value):
    """Which payments of the package invoice to refund, newest first, to reach `value`."""
    if purchase.invoice_id is None or value <= 0:
        return []
    plan = []
    left = value
    for payment in (
        Payment.select()
        .where((Payment.invoice == purchase.invoice_id) & (Payment.status == PAYMENT_SUCCEEDED))
        .order_by(Payment.id.desc())
    ):
        room = payment.amount_cents - invoicing.refunded_of(payment)
        take = min(room, left)
        if take > 0:
            plan.append((payment, take))
            left -= take
        if left == 0:
            break
    return plan
