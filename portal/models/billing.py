"""Billing: invoices and their lines, stored documents, payments, refunds, packages and
their credit ledger, Stripe records (events, customers, saved cards, checkout attempts).

Money is INTEGER cents. The database itself guards the rules that must never break:
- an issued document's bytes never change (triggers refuse UPDATE/DELETE);
- an invoice's lines are frozen once it is issued (triggers refuse changes unless draft);
- the credit ledger is append-only and its running balance never goes below zero
  (each row carries balance_after, checked against the sum of the rows before it).
"""

import secrets

from peewee import (
    BlobField,
    BooleanField,
    CharField,
    DateField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    TextField,
)

from portal.models.base import BaseModel, created_field
from portal.models.people import Client, User
from portal.models.practice import Practice, Provider
from portal.models.scheduling import Appointment, AppointmentType
from portal.rules.billing import balance_due
from portal.rules.ledger import per_session_words

# --- invoices -----------------------------------------------------------------------

INVOICE_DRAFT = "draft"
INVOICE_OPEN = "open"
INVOICE_PARTIALLY_PAID = "partially_paid"
INVOICE_PAID = "paid"
INVOICE_VOID = "void"
INVOICE_STATUSES = (INVOICE_DRAFT, INVOICE_OPEN, INVOICE_PARTIALLY_PAID, INVOICE_PAID, INVOICE_VOID)
INVOICE_STATUS_LABELS = {
    INVOICE_DRAFT: "Draft",
    INVOICE_OPEN: "Open",
    INVOICE_PARTIALLY_PAID: "Partially paid",
    INVOICE_PAID: "Paid",
    INVOICE_VOID: "Void",
}


def invoice_status_label(status, paid_cents=0, refunded_cents=0):
    """The words for an invoice's status. A paid invoice some of whose money went back (a
    refund that settles: nothing is owed for it) says so: "Refunded" when all of it went
    back, "Paid, part refunded" otherwise; plain "Paid" read as if the client had kept
    paying it."""
    if status == INVOICE_PAID and refunded_cents > 0:
        return "Refunded" if refunded_cents >= paid_cents else "Paid, part refunded"
    return INVOICE_STATUS_LABELS.get(status, status)


INVOICE_BADGE_CLASSES = {
    INVOICE_PAID: "ok",
    INVOICE_OPEN: "warn",
    INVOICE_PARTIALLY_PAID: "warn",
}

LINE_VISIT = "visit"
LINE_PACKAGE = "package"
LINE_FEE = "fee"
LINE_ADJUSTMENT = "adjustment"
LINE_PATIENT_RESPONSIBILITY = "patient_responsibility"
LINE_KINDS = (LINE_VISIT, LINE_PACKAGE, LINE_FEE, LINE_ADJUSTMENT, LINE_PATIENT_RESPONSIBILITY)

DOC_INVOICE = "invoice"
DOC_RECEIPT = "receipt"
DOC_CREDIT_NOTE = "credit_note"
DOC_KINDS = (DOC_INVOICE, DOC_RECEIPT, DOC_CREDIT_NOTE, "superbill", "claim", "letter", "other")


class BillingSettings(BaseModel):
    """One row per practice (defaults apply when missing)."""

    practice = ForeignKeyField(Practice, unique=True, on_delete="CASCADE")
    redeem_at = CharField(default="completion")  # completion | booking
    invoice_due_days = IntegerField(default=14)
    currency = CharField(default="usd")
    confirm_over_cents = IntegerField(default=20000)  # a desk sale above asks to confirm


class InvoiceCounter(BaseModel):
    """The per-practice invoice number sequence, bumped in the issuing transaction."""

    practice = ForeignKeyField(Practice, unique=True, on_delete="CASCADE")
    last_number = IntegerField(default=0)


class StoredDocument(BaseModel):
    """An issued document: bytes and their SHA-256. Never changes (triggers)."""

    practice = ForeignKeyField(Practice, backref="documents", on_delete="RESTRICT")
    client = ForeignKeyField(Client, null=True, backref="documents", on_delete="RESTRICT")
    kind = CharField()
    title = CharField(default="")
    filename = CharField()
    content_type = CharField(default="application/pdf")
    data = BlobField()
    sha256 = CharField()
    size_bytes = IntegerField()
    created_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
    created_at = created_field()


class Invoice(BaseModel):
    practice = ForeignKeyField(Practice, backref="invoices", on_delete="RESTRICT")
    client = ForeignKeyField(Client, backref="invoices", on_delete="RESTRICT")
    number = CharField(null=True)  # INV-000123, given when issued
    status = CharField(default=INVOICE_DRAFT)
    currency = CharField(default="usd")
    issued_at = DateTimeField(null=True)
    due_date = DateField(null=True)
    voided_at = DateTimeField(null=True)
    void_reason = CharField(default="")
    total_cents = IntegerField(default=0)  # cached from the lines when issued
    paid_cents = IntegerField(default=0)  # cached: succeeded payments
    refunded_cents = IntegerField(default=0)  # cached: succeeded refunds
    settled_cents = IntegerField(default=0)  # cached: succeeded refunds that settle (0034)
    appointment = ForeignKeyField(Appointment, null=True, backref="invoices", on_delete="SET NULL")
    reason = CharField(default="")  # visit | package | late_cancel | no_show | insurance | manual
    note = CharField(default="")
    document = ForeignKeyField(StoredDocument, null=True, on_delete="RESTRICT")
    created_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
    created_at = created_field()

    @property
    def status_label(self):
        return invoice_status_label(self.status, self.paid_cents, self.refunded_cents)

    @property
    def badge_class(self):
        """The status badge's CSS class: paid ok, unpaid warn, void plain."""
        return INVOICE_BADGE_CLASSES.get(self.status, "")

    @property
    def balance_cents(self):
        return balance_due(
            self.status, self.total_cents, self.paid_cents, self.refunded_cents, self.settled_cents
        )

    @property
    def refunded_due_again_cents(self):
        """What its refunds gave back that the client is to pay another way."""
        return self.refunded_cents - self.settled_cents

    @property
    def is_payable(self):
        return self.status in (INVOICE_OPEN, INVOICE_PARTIALLY_PAID) and self.balance_cents > 0

    @property
    def takes_package_credit(self):
        """A package credit pays a whole visit: its self-pay invoice, not a fee or the
        client's share of a visit billed to insurance."""
        return self.reason == "visit"

    @property
    def label(self):
        return self.number or f"Draft #{self.id}"


class InvoiceLine(BaseModel):
    practice = ForeignKeyField(Practice, on_delete="RESTRICT")
    invoice = ForeignKeyField(Invoice, backref="lines", on_delete="CASCADE")
    position = IntegerField(default=0)
    kind = CharField()
    description = CharField()
    service_date = DateField(null=True)
    cpt_code = CharField(default="")
    quantity = IntegerField(default=1)
    unit_cents = IntegerField()
    amount_cents = IntegerField()  # quantity x unit; negative only for adjustments
    provider = ForeignKeyField(Provider, null=True, on_delete="SET NULL")
    appointment = ForeignKeyField(Appointment, null=True, on_delete="SET NULL")


# --- packages --------------------------------------------------------------------------


class PackageDefinition(BaseModel):
    """What a practice sells, e.g. "5 x 60-minute massage" for $425."""

    client_visible = True

    practice = ForeignKeyField(Practice, backref="package_definitions", on_delete="RESTRICT")
    name = CharField()
    sessions = IntegerField()
    price_cents = IntegerField()
    expiry_days = IntegerField(null=True)
    sold_online = BooleanField(default=False)
    active = BooleanField(default=True)
    created_at = created_field()

    @property
    def per_session_words(self):
        """ "$85.00", or "$33.33 to $33.34" for $100 of 3 sessions (rules.ledger)."""
        return per_session_words(self.price_cents, self.sessions) if self.sessions else ""


class PackageEligibleType(BaseModel):
    practice = ForeignKeyField(Practice, on_delete="RESTRICT")
    definition = ForeignKeyField(PackageDefinition, backref="eligible", on_delete="CASCADE")
    appointment_type = ForeignKeyField(AppointmentType, on_delete="CASCADE")


PURCHASE_PENDING = "pending_payment"
PURCHASE_ACTIVE = "active"
PURCHASE_EXPIRED = "expired"
PURCHASE_REFUNDED = "refunded"
PURCHASE_CANCELLED = "cancelled"


class PackagePurchase(BaseModel):
    practice = ForeignKeyField(Practice, on_delete="RESTRICT")
    client = ForeignKeyField(Client, backref="package_purchases", on_delete="RESTRICT")
    definition = ForeignKeyField(PackageDefinition, on_delete="RESTRICT")
    name = CharField()  # frozen from the definition at sale
    sessions_total = IntegerField()
    price_cents = IntegerField()  # what was actually charged
    status = CharField(default=PURCHASE_PENDING)
    invoice = ForeignKeyField(Invoice, null=True, backref="package_purchases", on_delete="RESTRICT")
    activated_at = DateTimeField(null=True)
    expires_at = DateTimeField(null=True)
    closed_at = DateTimeField(null=True)
    created_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
    created_at = created_field()


# --- payments -------------------------------------------------------------------------

PAY_CARD = "card"
PAY_CARD_ON_FILE = "card_on_file"
PAY_CASH = "cash"
PAY_CHECK = "check"
PAY_TERMINAL = "external_terminal"
PAY_PACKAGE_CREDIT = "package_credit"
PAY_ACCOUNT_CREDIT = "account_credit"  # the client's account credit (AccountCredit)
PAYMENT_METHODS = (
    PAY_CARD,
    PAY_CARD_ON_FILE,
    PAY_CASH,
    PAY_CHECK,
    PAY_TERMINAL,
    PAY_PACKAGE_CREDIT,
    PAY_ACCOUNT_CREDIT,
)
PAYMENT_METHOD_LABELS = {
    PAY_CARD: "Card (online)",
    PAY_CARD_ON_FILE: "Card on file",
    PAY_CASH: "Cash",
    PAY_CHECK: "Check",
    PAY_TERMINAL: "Card terminal",
    PAY_PACKAGE_CREDIT: "Package credit",
    PAY_ACCOUNT_CREDIT: "Account credit",
}
PAYMENT_PENDING = "pending"
PAYMENT_SUCCEEDED = "succeeded"
PAYMENT_FAILED = "failed"


def card_label(brand, last4):
    """How a card is named on pages and receipts: "Visa ending 4242" ("" without one)."""
    return f"{(brand or 'card').title()} ending {last4}" if last4 else ""


class CheckoutAttempt(BaseModel):
    """A local record written BEFORE any Stripe create call; its id and token make the
    idempotency key, and fulfilment checks Stripe's answer against it."""

    practice = ForeignKeyField(Practice, on_delete="RESTRICT")
    client = ForeignKeyField(Client, on_delete="RESTRICT")
    purpose = CharField()  # invoice | setup | off_session
    invoice = ForeignKeyField(Invoice, null=True, backref="checkout_attempts", on_delete="RESTRICT")
    amount_cents = IntegerField(default=0)
    currency = CharField(default="usd")
    status = CharField(default="created")  # created | open | completed | failed | expired
    token = CharField(default=lambda: secrets.token_hex(8))
    stripe_session_id = CharField(null=True, unique=True)
    stripe_payment_intent_id = CharField(null=True)
    checkout_url = TextField(default="")
    error = CharField(default="")
    created_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
    created_at = created_field()
    completed_at = DateTimeField(null=True)

    @property
    def idempotency_key(self):
        return f"portal-{self.purpose}-{self.id}-{self.token}"


class Payment(BaseModel):
    practice = ForeignKeyField(Practice, backref="payments", on_delete="RESTRICT")
    client = ForeignKeyField(Client, backref="payments", on_delete="RESTRICT")
    invoice = ForeignKeyField(Invoice, null=True, backref="payments", on_delete="RESTRICT")
    method = CharField()
    amount_cents = IntegerField()
    currency = CharField(default="usd")
    status = CharField(default=PAYMENT_SUCCEEDED)
    reference = CharField(default="")  # check number, terminal slip ...
    stripe_payment_intent_id = CharField(null=True, unique=True)
    stripe_charge_id = CharField(null=True)
    stripe_checkout_session_id = CharField(null=True)
    card_brand = CharField(default="")
    card_last4 = CharField(default="")
    checkout_attempt = ForeignKeyField(CheckoutAttempt, null=True, on_delete="SET NULL")
    package_purchase = ForeignKeyField(PackagePurchase, null=True, on_delete="RESTRICT")
    receipt = ForeignKeyField(StoredDocument, null=True, on_delete="RESTRICT")
    failure_message = CharField(default="")
    received_at = DateTimeField(null=True)
    created_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
    created_at = created_field()

    @property
    def method_label(self):
        return PAYMENT_METHOD_LABELS.get(self.method, self.method)

    @property
    def card_label(self):
        return card_label(self.card_brand, self.card_last4)


class Refund(BaseModel):
    """Written before the Stripe call (its id makes the idempotency key). `settles`: the
    amount given back is settled (the client owes nothing more for it), not due again.
    `overpaid_share`: it gives back part of the client's insurance share the payer covered
    after all (it settles; the claims flow no longer counts it as billed to the client).
    `to_credit`: the money stays with the practice as the client's account credit (done at
    once, never sent to Stripe; an AccountCredit row holds it)."""

    practice = ForeignKeyField(Practice, on_delete="RESTRICT")
    client = ForeignKeyField(Client, on_delete="RESTRICT")
    payment = ForeignKeyField(Payment, backref="refunds", on_delete="RESTRICT")
    amount_cents = IntegerField()
    status = CharField(default=PAYMENT_PENDING)  # pending | succeeded | failed
    reason = CharField(default="")
    settles = BooleanField(default=False)
    overpaid_share = BooleanField(default=False)
    to_credit = BooleanField(default=False)  # kept as the client's account credit
    stripe_refund_id = CharField(null=True, unique=True)
    token = CharField(default=lambda: secrets.token_hex(8))
    failure_message = CharField(default="")
    document = ForeignKeyField(StoredDocument, null=True, on_delete="RESTRICT")
    created_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
    created_at = created_field()

    @property
    def idempotency_key(self):
        return f"portal-refund-{self.id}-{self.token}"


LEDGER_PURCHASE = "purchase"
LEDGER_REDEEM = "redeem"
LEDGER_RETURN = "cancel_return"
LEDGER_EXPIRY = "expiry"
LEDGER_REFUND = "refund"
LEDGER_KINDS = (LEDGER_PURCHASE, LEDGER_REDEEM, LEDGER_RETURN, LEDGER_EXPIRY, LEDGER_REFUND)


class CreditLedger(BaseModel):
    """Append-only. balance_after = previous balance of the purchase + delta, >= 0."""

    practice = ForeignKeyField(Practice, on_delete="RESTRICT")
    client = ForeignKeyField(Client, on_delete="RESTRICT")
    purchase = ForeignKeyField(PackagePurchase, backref="ledger", on_delete="RESTRICT")
    kind = CharField()
    delta = IntegerField()
    balance_after = IntegerField()
    unit_price_cents = IntegerField(default=0)  # per-visit price for redeem/return
    amount_cents = IntegerField(default=0)  # money refunded (refund rows)
    appointment = ForeignKeyField(Appointment, null=True, on_delete="RESTRICT")
    note = CharField(default="")
    created_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
    created_at = created_field()


CREDIT_REFUND = "refund"  # + a refund kept as credit
CREDIT_PAYMENT = "payment"  # - the credit paid an invoice
CREDIT_MERGE = "merge"  # +/- a duplicate record's credit moved to the record kept
CREDIT_PAYOUT = "payout"  # - paid out to the client in cash or by check


class AccountCredit(BaseModel):
    """A client's account credit, in cents. Append-only: balance_after = the client's
    previous balance + delta, >= 0 (migration 0038's trigger and CHECK)."""

    practice = ForeignKeyField(Practice, on_delete="RESTRICT")
    client = ForeignKeyField(Client, backref="account_credit", on_delete="RESTRICT")
    kind = CharField()
    delta = IntegerField()
    balance_after = IntegerField()
    refund = ForeignKeyField(Refund, null=True, on_delete="RESTRICT")
    payment = ForeignKeyField(Payment, null=True, on_delete="RESTRICT")
    note = CharField(default="")
    method = CharField(default="")  # a payout's: cash | check (migration 0039)
    reference = CharField(default="")  # a payout's check number, '' when none
    created_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
    created_at = created_field()

    class Meta:
        table_name = "account_credit"


# --- Stripe records ----------------------------------------------------------------------


class StripeEvent(BaseModel):
    """Every verified webhook event, once (event_id UNIQUE): duplicates do nothing."""

    event_id = CharField(unique=True)
    type = CharField()
    object_id = CharField(default="")
    stripe_created = IntegerField(default=0)
    status = CharField(default="received")  # received | processed | ignored | failed
    detail = CharField(default="")
    received_at = created_field()
    processed_at = DateTimeField(null=True)


class StripeCustomer(BaseModel):
    practice = ForeignKeyField(Practice, on_delete="RESTRICT")
    client = ForeignKeyField(Client, backref="stripe_customers", on_delete="RESTRICT")
    stripe_customer_id = CharField(unique=True)
    created_at = created_field()


class SavedPaymentMethod(BaseModel):
    practice = ForeignKeyField(Practice, on_delete="RESTRICT")
    client = ForeignKeyField(Client, backref="saved_cards", on_delete="RESTRICT")
    stripe_payment_method_id = CharField(unique=True)
    brand = CharField(default="")
    last4 = CharField(default="")
    exp_month = IntegerField(default=0)
    exp_year = IntegerField(default=0)
    active = BooleanField(default=True)
    created_at = created_field()

    @property
    def label(self):
        return f"{(self.brand or 'card').title()} ending {self.last4}"


BILLING_MODELS = [
    BillingSettings,
    InvoiceCounter,
    StoredDocument,
    Invoice,
    InvoiceLine,
    CheckoutAttempt,
    Payment,
    Refund,
    PackageDefinition,
    PackageEligibleType,
    PackagePurchase,
    CreditLedger,
    AccountCredit,
    StripeEvent,
    StripeCustomer,
    SavedPaymentMethod,
]
