"""Invoice arithmetic and status rules: pure functions that raise explicit errors."""

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


def balance_due(status: str, total: int, paid: int, refunded: int) -> int:
    """What a client still owes on an invoice: nothing on a void or paid one (a package's
    invoice stays paid when its unused sessions are refunded), never below zero."""
    if status in (VOID, PAID):
        return 0
    return max(0, total - (paid - refunded))


def net_paid(payments, refunds) -> int:
    """Succeeded payments minus succeeded refunds (both lists of cents)."""
    paid, refunded = sum(payments), sum(refunds)
    if any(p <= 0 for p in payments) or any(r <= 0 for r in refunds):
        raise BillingError("Payments and refunds are positive amounts.")
    if refunded > paid:
        raise BillingError("More was refunded than was paid.")
    return paid - refunded


def status_for(current: str, total: int, net: int) -> str:
    """The status an issued invoice has for its total and the net amount paid."""
    if current in (DRAFT, VOID):
        return current
    if net < 0:
        raise BillingError("The net amount paid cannot be negative.")
    if net >= total:
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
