"""Invoice arithmetic and status rules: pure functions that raise explicit errors."""

from portal.rules.money import format_cents

DRAFT = "draft"
OPEN = "open"
PARTIALLY_PAID = "partially_paid"
PAID = "paid"
VOID = "void"

LINE_KINDS = ("visit", "package", "fee", "adjustment", "patient_responsibility")

# Which status may follow which (by hand or by a payment/refund).
TRANSITIONS = {
    DRAFT: {OPEN, PAID, VOID},
    OPEN: {PARTIALLY_PAID, PAID, VOID},
    PARTIALLY_PAID: {OPEN, PAID},
    PAID: {OPEN, PARTIALLY_PAID},
    VOID: set(),
}


class BillingError(ValueError):
    """A billing change that breaks a rule; the message is for the user."""


class InvalidTransition(BillingError):
    pass


class NoShareToRefund(BillingError):
    """A refund of the client's overpaid insurance share on an invoice that bills none."""


def invoice_number(n: int) -> str:
    if n <= 0:
        raise BillingError("Invoice numbers start at 1.")
    return f"INV-{n:06d}"


def line_amount(kind: str, quantity: int, unit_cents: int) -> int:
    if kind not in LINE_KINDS:
        raise BillingError(f"Unknown line kind {kind!r}.")
    if quantity <= 0:
        raise BillingError("The quantity must be at least 1.")
    if unit_cents < 0 and kind != "adjustment":
        raise BillingError("Only an adjustment line may be negative.")
    return quantity * unit_cents


def invoice_total(line_amounts) -> int:
    total = sum(line_amounts)
    if total < 0:
        raise BillingError("The invoice total cannot be negative.")
    return total


def owed_total(total: int, settled: int = 0) -> int:
    """What an invoice asks of its client: its total less what refunds that settle gave
    back (a goodwill refund, a package's unused sessions, an overpaid share the insurer
    covered): that money is neither owed nor due again. Never below zero (a settling
    refund of an overpayment can give back more than the total)."""
    if settled < 0:
        raise BillingError("A settled amount cannot be negative.")
    return max(0, total - settled)


def balance_due(status: str, total: int, paid: int, refunded: int, settled: int = 0) -> int:
    """What a client still owes on an invoice: nothing on a void or paid one, otherwise
    what it asks (owed_total) less the net paid (refunds that settle are in `refunded` and
    in `settled`: they change nothing owed), never below zero."""
    if status in (VOID, PAID):
        return 0
    return max(0, owed_total(total, settled) - (paid - refunded))


def invoice_sums(payments, refunds) -> tuple[int, int, int]:
    """(paid, refunded, settled) of an invoice, in cents: its succeeded payments (a list of
    cents) and its succeeded refunds (a list of (cents, settles)). A refund settles when
    the client owes nothing more for what it gave back, and is due again otherwise."""
    paid = sum(payments)
    refunded = sum(cents for cents, _ in refunds)
    settled = sum(cents for cents, settles in refunds if settles)
    if any(p <= 0 for p in payments) or any(cents <= 0 for cents, _ in refunds):
        raise BillingError("Payments and refunds are positive amounts.")
    if refunded > paid:
        raise BillingError("More was refunded than was paid.")
    return paid, refunded, settled


def net_paid(payments, refunds) -> int:
    """Succeeded payments minus succeeded refunds (both lists of cents)."""
    paid, refunded, _ = invoice_sums(payments, [(r, False) for r in refunds])
    return paid - refunded


def status_for(current: str, total: int, net: int, settled: int = 0) -> str:
    """The status an issued invoice has for its total, the net amount paid and what
    settling refunds gave back: paid once the net paid covers what it asks (owed_total)."""
    if current in (DRAFT, VOID):
        return current
    if net < 0:
        raise BillingError("The net amount paid cannot be negative.")
    if net >= owed_total(total, settled):
        return PAID
    if net > 0:
        return PARTIALLY_PAID
    return OPEN


def check_transition(current: str, new: str) -> str:
    if new == current:
        return new
    if new not in TRANSITIONS.get(current, set()):
        raise InvalidTransition(f"An invoice cannot go from {current} to {new}.")
    return new


def check_void(current: str, net: int) -> None:
    if current == VOID:
        raise InvalidTransition("This invoice is already void.")
    if net > 0:
        raise InvalidTransition("Refund the payments before voiding this invoice.")
    check_transition(current, VOID)


def check_payment(current: str, balance: int, amount: int) -> None:
    if current not in (OPEN, PARTIALLY_PAID):
        raise BillingError("Only an open invoice takes payments.")
    if amount <= 0:
        raise BillingError("Enter an amount above zero.")
    if amount > balance:
        raise BillingError("The amount is more than the balance due.")


def check_refund(payment_cents: int, refunded_cents: int, amount: int) -> None:
    if amount <= 0:
        raise BillingError("Enter an amount above zero.")
    if amount > payment_cents - refunded_cents:
        raise BillingError("The refund is more than what is left of this payment.")


def check_share_refund(share_cents: int, share_refunded_cents: int, amount: int) -> None:
    """A refund of the client's overpaid insurance share gives back no more of the
    invoice's client-share lines (`share_cents`) than earlier such refunds left."""
    if share_cents <= 0:
        raise NoShareToRefund(
            "This invoice bills no insurance share: choose whether the refund settles it or "
            "the amount is due again."
        )
    left = share_cents - share_refunded_cents
    if amount > left:
        raise BillingError(
            f"The client's share on this invoice has {format_cents(max(0, left))} left to "
            "give back as an overpaid share: refund the rest as settling it."
        )
