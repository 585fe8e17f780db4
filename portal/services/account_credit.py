"""A client's account credit: money the practice keeps for the client (a refund kept as
credit, say the client's overpaid insurance share) to pay a later invoice.

The credit lives in the append-only AccountCredit ledger (migration 0038: each row's
balance_after is the client's previous balance plus its delta, never below zero). It comes
in only by a refund kept as credit (`refund.to_credit`: invoicing records it as done at
once, never sent to Stripe) and goes out only as a payment of method 'account_credit' on
an invoice of the same client, so the money is counted once: the refund takes it off the
invoice it was paid on, the payment puts it on the one it pays (or as money paid out to
the client by hand, which revenue does not count again). A refund of such a payment
goes back to the credit. Every write runs in one transaction with the refund or payment it
belongs to.

Invoicing announces refunds (events.payment_refunded) and this module listens, so
invoicing never imports it.
"""

from peewee import fn

from portal import audit
from portal.db import database
from portal.models import AccountCredit, Client, ClientMerge, Invoice
from portal.models.billing import (
    CREDIT_MERGE,
    CREDIT_PAYMENT,
    CREDIT_PAYOUT,
    CREDIT_REFUND,
    INVOICE_DRAFT,
    PAY_ACCOUNT_CREDIT,
    PAY_CASH,
    PAY_CHECK,
)
from portal.rules.billing import BillingError
from portal.rules.money import format_cents
from portal.services import invoicing


class CreditError(BillingError):
    """An account credit write refused, with a message for the desk; `code` says which
    refusal it is, for pages that word it for the client ("no_credit", "nothing_due")."""

    def __init__(self, message, code=""):
        super().__init__(message)
        self.code = code


def holder(client_id):
    """The client record that holds `client_id`'s credit: itself, or the record it was
    merged into (a merge moves the credit; an invoice of the duplicate, shown on the kept
    record, is paid from and refunded to the kept record's credit)."""
    for _ in range(20):  # a merge chain: A into B, later B into C
        into = (
            ClientMerge.select(ClientMerge.into_client)
            .where(ClientMerge.from_client == client_id)
            .first()
        )
        if into is None:
            return client_id
        client_id = into.into_client_id
    return client_id


def balance(client_id):
    """The client's account credit now, in cents (0 without any)."""
    last = (
        AccountCredit.select(AccountCredit.balance_after)
        .where(AccountCredit.client == client_id)
        .order_by(AccountCredit.id.desc())
        .first()
    )
    return last.balance_after if last else 0


def held_total(practice_id):
    """What the practice holds for its clients as account credit now, in cents: the sum of
    each client's newest balance (a liability, as unused package credits are)."""
    newest = (
        AccountCredit.select(fn.MAX(AccountCredit.id))
        .where(AccountCredit.practice == practice_id)
        .group_by(AccountCredit.client)
    )
    total = (
        AccountCredit.select(fn.COALESCE(fn.SUM(AccountCredit.balance_after), 0))
        .where(AccountCredit.id.in_(newest))
        .scalar()
    )
    return int(total or 0)


def history(client_id, limit=20):
    """The client's newest credit rows, newest first (the first one's balance_after is the
    balance now)."""
    return list(
        AccountCredit.select()
        .where(AccountCredit.client == client_id)
        .order_by(AccountCredit.id.desc())
        .limit(limit)
    )


def _append(client, kind, delta, *, refund=None, payment=None, note="", user=None, **payout):
    """One ledger row, inside the caller's transaction (`payout`: a payout's method and
    reference)."""
    after = balance(client.id) + delta
    if after < 0:
        raise CreditError(
            f"The client's account credit is {format_cents(after - delta)}: "
            f"not enough for {format_cents(-delta)}."
        )
    row = AccountCredit.create(
        practice=client.practice_id,
        client=client.id,
        kind=kind,
        delta=delta,
        balance_after=after,
        refund=refund.id if refund is not None else None,
        payment=payment.id if payment is not None else None,
        note=note[:255],
        created_by=user.id if user is not None else None,
        **payout,
    )
    audit.record("account_credit." + kind, obj=row, detail=format_cents(delta), user=user)
    return row


def on_payment_refunded(payment, refund=None, user=None, **kw):
    """payment_refunded (inside the refund's transaction): a refund kept as credit adds its
    amount to the client's account credit."""
    if refund is None or not refund.to_credit:
        return None
    inv = Invoice.get_by_id(payment.invoice_id)
    if payment.method == PAY_ACCOUNT_CREDIT:
        note = f"Given back from {inv.number}"
    else:
        note = f"Kept from {inv.number}"
    return _append(
        Client.get_by_id(holder(refund.client_id)),
        CREDIT_REFUND,
        refund.amount_cents,
        refund=refund,
        note=note,
        user=user,
    )


def payable(inv, held=None):
    """What the client's credit can pay on the invoice now, in cents (0: nothing). `held`:
    the balance of the invoice's client's holder when the caller has read it already."""
    if inv.status == INVOICE_DRAFT or inv.balance_cents <= 0:
        return 0
    if held is None:
        held = balance(holder(inv.client_id))
    return min(held, inv.balance_cents)


def pay_invoice(inv, user=None):
    """Pay the invoice from the client's account credit: as much as the credit holds, up
    to what is due. Returns the Payment; CreditError when there is nothing to pay with."""
    with database.atomic("IMMEDIATE"):
        inv = Invoice.get_by_id(inv.id)  # re-read inside the lock
        owner = Client.get_by_id(holder(inv.client_id))
        held = balance(owner.id)
        amount = payable(inv, held)
        if amount <= 0:
            if held <= 0:
                raise CreditError("The client has no account credit.", "no_credit")
            raise CreditError(f"Nothing is due on {inv.number}.", "nothing_due")
        payment = invoicing.record_payment(
            inv,
            method=PAY_ACCOUNT_CREDIT,
            amount_cents=amount,
            user=user,
        )
        _append(
            owner,
            CREDIT_PAYMENT,
            -amount,
            payment=payment,
            note=f"Paid {inv.number}",
            user=user,
        )
    return payment


PAYOUT_METHODS = {PAY_CASH: "cash", PAY_CHECK: "check"}


def pay_out(client, amount_cents, method, reference="", user=None):
    """Give the client part or all of their credit back in money, by hand (cash or a
    check): a client who is not coming back. One ledger row; revenue is not touched (the
    refund that kept the credit took it off already). Returns the row."""
    if method not in PAYOUT_METHODS:
        raise CreditError("Choose cash or check.")
    if amount_cents <= 0:
        raise CreditError("Enter an amount above $0.00.")
    with database.atomic("IMMEDIATE"):
        owner = Client.get_by_id(holder(client.id))
        held = balance(owner.id)
        if amount_cents > held:
            raise CreditError(
                f"The client holds {format_cents(held)} of account credit: pay out at most that."
            )
        reference = reference.strip()[:255]
        note = f"Paid out by {PAYOUT_METHODS[method]}"
        if reference:
            note += f" ({reference})"
        return _append(
            owner,
            CREDIT_PAYOUT,
            -amount_cents,
            note=note,
            user=user,
            method=method,
            reference=reference,
        )


def move_on_merge(duplicate, kept, user=None):
    """A merge (inside its transaction): the duplicate's credit moves to the record kept.
    Returns the cents moved."""
    cents = balance(duplicate.id)
    if cents <= 0:
        return 0
    _append(duplicate, CREDIT_MERGE, -cents, note=f"Moved to client #{kept.id}", user=user)
    _append(kept, CREDIT_MERGE, cents, note=f"Moved from client #{duplicate.id}", user=user)
    return cents
