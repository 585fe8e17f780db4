"""Card payments through Stripe: Checkout (pay an invoice, save a card), off-session
charges of a saved card, and the webhook events.

Rules kept here:
- a CheckoutAttempt row is written (and committed) BEFORE any Stripe create call; its
  id and token make the idempotency key;
- ONE idempotent fulfilment (`fulfil_checkout`) serves the success page and the
  `checkout.session.completed` webhook: it checks amount, currency and invoice against
  the local record before anything is granted, re-reads inside
  `database.atomic("IMMEDIATE")`, and unique indexes on the Stripe ids back it up;
- events may arrive twice, at once, or out of order: each StripeEvent id is applied
  once, and state only moves forward (a succeeded payment never turns failed).
"""

import datetime as dt
import logging

from flask import current_app
from peewee import IntegrityError

from portal import audit, clock, payments
from portal.db import database
from portal.models.billing import (
    PAY_CARD,
    PAY_CARD_ON_FILE,
    CheckoutAttempt,
    Invoice,
    Payment,
    Refund,
    SavedPaymentMethod,
    StripeCustomer,
    StripeEvent,
)
from portal.models.people import Client
from portal.models.practice import Practice
from portal.services import invoicing

log = logging.getLogger(__name__)

REUSE_OPEN_SESSION = dt.timedelta(minutes=30)


class CheckoutRefused(invoicing.InvoiceError):
    pass


def _base_url():
    return current_app.config["BASE_URL"].rstrip("/")


# --- customers ---------------------------------------------------------------------------


def customer_id_for(client_id):
    row = StripeCustomer.get_or_none(StripeCustomer.client == client_id)
    return row.stripe_customer_id if row else None


def ensure_customer(client):
    """The client's Stripe customer (created once; no name or e-mail is sent to Stripe)."""
    existing = customer_id_for(client.id)
    if existing:
        return existing
    key = f"portal-customer-{client.practice_id}-{client.id}-{int(client.created_at.timestamp())}"
    cus = payments.create_customer(
        None,
        None,
        metadata={"client_id": str(client.id), "practice_id": str(client.practice_id)},
        idempotency_key=key,
    )
    with database.atomic("IMMEDIATE"):
        try:
            with database.atomic():
                StripeCustomer.create(
                    practice=client.practice_id, client=client.id, stripe_customer_id=cus["id"]
                )
        except IntegrityError:
            pass  # a concurrent request saved it first (same idempotency key, same id)
    return customer_id_for(client.id)


def saved_cards(client_id):
    return list(
        SavedPaymentMethod.select()
        .where((SavedPaymentMethod.client == client_id) & SavedPaymentMethod.active)
        .order_by(SavedPaymentMethod.id.desc())
    )


def remove_card(card, user=None):
    """Stop using a saved card: removed here at once, and detached at Stripe when it can be
    reached (a failure there is logged; the portal never charges an inactive card)."""
    with database.atomic("IMMEDIATE"):
        SavedPaymentMethod.update(active=False).where(SavedPaymentMethod.id == card.id).execute()
        audit.record("card.remove", obj=card, user=user)
    if payments.is_configured():
        try:
            payments.detach_payment_method(card.stripe_payment_method_id)
        except payments.PaymentsError as e:
            log.warning("could not detach card %s at Stripe: %s", card.id, e)


# --- starting Checkout ---------------------------------------------------------------------


def _new_attempt(purpose, client, user, invoice=None, amount=0, currency="usd"):
    with database.atomic("IMMEDIATE"):
        attempt = CheckoutAttempt.create(
            practice=client.practice_id,
            client=client.id,
            purpose=purpose,
            invoice=invoice.id if invoice is not None else None,
            amount_cents=amount,
            currency=currency,
            created_by=user.id if user is not None else None,
        )
        audit.record("checkout.start", obj=attempt, detail=purpose, user=user)
    return attempt


def _metadata(attempt):
    meta = {"attempt_id": str(attempt.id), "practice_id": str(attempt.practice_id)}
    if attempt.invoice_id:
        meta["invoice_id"] = str(attempt.invoice_id)
    return meta


def _opened(attempt, session):
    with database.atomic("IMMEDIATE"):
        CheckoutAttempt.update(
            stripe_session_id=session["id"], status="open", checkout_url=session.get("url") or ""
        ).where(
            (CheckoutAttempt.id == attempt.id) & (CheckoutAttempt.status == "created")
        ).execute()


def _failed(attempt, error):
    with database.atomic("IMMEDIATE"):
        CheckoutAttempt.update(status="failed", error=str(error)[:255]).where(
            (CheckoutAttempt.id == attempt.id) & (CheckoutAttempt.status.in_(["created", "open"]))
        ).execute()
        audit.record("checkout.failed", obj=attempt, detail=type(error).__name__)


def start_invoice_checkout(inv, user=None):
    """Create a Checkout Session for the invoice's balance; returns its hosted URL."""
    inv = Invoice.get_by_id(inv.id)
    if not inv.is_payable:
        raise CheckoutRefused("This invoice has nothing left to pay.")
    if not payments.is_configured():
        raise payments.PaymentsUnavailable(payments.SETUP_MESSAGE)
    # A second click (or a second tab) reuses the session still open for this balance,
    # so one invoice is not paid twice by accident.
    recent = clock.utcnow() - REUSE_OPEN_SESSION
    reuse = (
        CheckoutAttempt.select()
        .where(
            (CheckoutAttempt.invoice == inv.id)
            & (CheckoutAttempt.purpose == "invoice")
            & (CheckoutAttempt.status == "open")
            & (CheckoutAttempt.amount_cents == inv.balance_cents)
            & (CheckoutAttempt.created_at >= recent)
            & (CheckoutAttempt.checkout_url != "")
        )
        .order_by(CheckoutAttempt.id.desc())
        .first()
    )
    if reuse is not None:
        return reuse.checkout_url
    client = Client.get_by_id(inv.client_id)
    practice = Practice.get_by_id(inv.practice_id)
    attempt = _new_attempt("invoice", client, user, inv, inv.balance_cents, inv.currency)
    base = _base_url()
    try:
        customer = ensure_customer(client)
        session = payments.create_checkout_payment(
            amount_cents=attempt.amount_cents,
            currency=attempt.currency,
            description=f"{practice.name}, invoice {inv.number}",
            success_url=f"{base}/portal/checkout/{attempt.id}/done?session_id={{CHECKOUT_SESSION_ID}}",
            cancel_url=f"{base}/portal/invoices",
            metadata=_metadata(attempt),
            client_reference_id=str(attempt.id),
            idempotency_key=attempt.idempotency_key,
            customer=customer,
        )
    except payments.PaymentsError as e:
        _failed(attempt, e)
        raise
    _opened(attempt, session)
    return session["url"]


def start_setup_checkout(client, user=None):
    """Create a Checkout Session in setup mode (save a card); returns its hosted URL."""
    if not payments.is_configured():
        raise payments.PaymentsUnavailable(payments.SETUP_MESSAGE)
    settings = invoicing.settings_for(client.practice_id)
    attempt = _new_attempt("setup", client, user, currency=settings.currency)
    base = _base_url()
    try:
        customer = ensure_customer(client)
        session = payments.create_checkout_setup(
            customer=customer,
            currency=attempt.currency,
            success_url=f"{base}/portal/checkout/{attempt.id}/done?session_id={{CHECKOUT_SESSION_ID}}",
            cancel_url=f"{base}/portal/invoices",
            metadata=_metadata(attempt),
            client_reference_id=str(attempt.id),
            idempotency_key=attempt.idempotency_key,
        )
    except payments.PaymentsError as e:
        _failed(attempt, e)
        raise
    _opened(attempt, session)
    return session["url"]


# --- fulfilment ---------------------------------------------------------------------------


def _attempt_for_session(session):
    attempt = CheckoutAttempt.get_or_none(CheckoutAttempt.stripe_session_id == session.get("id"))
    if attempt is not None:
        return attempt
    # The session id may not have been saved (a crash right after Stripe answered):
    # fall back to the reference we sent, if it points at an attempt without a session.
    ref = session.get("client_reference_id") or (session.get("metadata") or {}).get("attempt_id")
    try:
        attempt = CheckoutAttempt.get_or_none(CheckoutAttempt.id == int(ref))
    except (TypeError, ValueError):
        return None
    if attempt is not None and attempt.stripe_session_id in (None, session.get("id")):
        return attempt
    return None


def _mismatch(attempt, why):
    log.warning("checkout %s does not match the local record: %s", attempt.id, why)
    with database.atomic("IMMEDIATE"):
        CheckoutAttempt.update(error=f"mismatch: {why}"[:255]).where(
            CheckoutAttempt.id == attempt.id
        ).execute()
        audit.record("checkout.mismatch", obj=attempt, detail=why)
    return attempt


def _id_of(value):
    if isinstance(value, dict):
        return value.get("id")
    return value


def fulfil_checkout(session_id=None, session=None, user=None):
    """Apply a finished Checkout Session once. Safe to call any number of times, from
    the success page and the webhook at once. Returns the CheckoutAttempt (or None)."""
    if session is None or not _looks_final(session):
        session = payments.retrieve_checkout_session(session_id or session["id"])
    attempt = _attempt_for_session(session)
    if attempt is None:
        return None
    if attempt.status == "completed":
        return attempt
    meta = session.get("metadata") or {}
    if meta.get("attempt_id") not in (None, str(attempt.id)):
        return _mismatch(attempt, "attempt")
    if session.get("mode") == "setup":
        if attempt.purpose != "setup":
            return _mismatch(attempt, "mode")
        return _fulfil_setup(attempt, session)
    if attempt.purpose != "invoice" or session.get("mode") != "payment":
        return _mismatch(attempt, "mode")
    if session.get("status") != "complete" or session.get("payment_status") != "paid":
        return attempt  # not paid yet: nothing to grant
    if int(session.get("amount_total") or -1) != attempt.amount_cents:
        return _mismatch(attempt, "amount")
    if (session.get("currency") or "").lower() != attempt.currency.lower():
        return _mismatch(attempt, "currency")
    if meta.get("invoice_id") != str(attempt.invoice_id):
        return _mismatch(attempt, "invoice")
    pi = session.get("payment_intent")
    pi_id = _id_of(pi)
    charge_id, brand, last4 = "", "", ""
    if isinstance(pi, dict):
        charge_id, brand, last4 = payments.charge_card_details(pi)
    elif pi_id:
        charge_id, brand, last4 = payments.charge_card_details(
            payments.retrieve_payment_intent(pi_id)
        )
    with database.atomic("IMMEDIATE"):
        attempt = CheckoutAttempt.get_by_id(attempt.id)  # re-read inside the lock
        if attempt.status == "completed":
            return attempt
        already = Payment.get_or_none(Payment.stripe_checkout_session_id == session["id"])
        if already is None and pi_id:
            already = Payment.get_or_none(Payment.stripe_payment_intent_id == pi_id)
        if already is None:
            inv = Invoice.get_by_id(attempt.invoice_id)
            invoicing.record_payment(
                inv,
                method=PAY_CARD,
                amount_cents=attempt.amount_cents,
                user=user,
                allow_closed=True,  # the money arrived: record it even if paid meanwhile
                stripe_checkout_session_id=session["id"],
                stripe_payment_intent_id=pi_id,
                stripe_charge_id=charge_id or None,
                card_brand=brand,
                card_last4=last4,
                checkout_attempt=attempt.id,
            )
        CheckoutAttempt.update(
            status="completed",
            completed_at=clock.utcnow(),
            stripe_session_id=session["id"],
            stripe_payment_intent_id=pi_id,
        ).where(CheckoutAttempt.id == attempt.id).execute()
        audit.record("checkout.complete", obj=attempt, detail="payment", user=user)
    return CheckoutAttempt.get_by_id(attempt.id)


def _looks_final(session):
    if session.get("mode") == "setup":
        return session.get("status") == "complete" and isinstance(session.get("setup_intent"), dict)
    return session.get("status") == "complete" and session.get("payment_status") == "paid"


def _fulfil_setup(attempt, session):
    if session.get("status") != "complete":
        return attempt
    si = session.get("setup_intent")
    if not isinstance(si, dict):
        session = payments.retrieve_checkout_session(session["id"])
        si = session.get("setup_intent") or {}
    pm = si.get("payment_method")
    if not isinstance(pm, dict):
        pm = payments.retrieve_payment_method(pm) if pm else {}
    if not pm.get("id"):
        return _mismatch(attempt, "no payment method")
    brand, last4, exp_m, exp_y = payments.card_of(pm)
    with database.atomic("IMMEDIATE"):
        attempt = CheckoutAttempt.get_by_id(attempt.id)
        if attempt.status == "completed":
            return attempt
        if (
            not SavedPaymentMethod.select()
            .where(SavedPaymentMethod.stripe_payment_method_id == pm["id"])
            .exists()
        ):
            card = SavedPaymentMethod.create(
                practice=attempt.practice_id,
                client=attempt.client_id,
                stripe_payment_method_id=pm["id"],
                brand=brand,
                last4=last4,
                exp_month=exp_m,
                exp_year=exp_y,
            )
            audit.record("card.save", obj=card)
        CheckoutAttempt.update(
            status="completed", completed_at=clock.utcnow(), stripe_session_id=session["id"]
        ).where(CheckoutAttempt.id == attempt.id).execute()
        audit.record("checkout.complete", obj=attempt, detail="setup")
    return CheckoutAttempt.get_by_id(attempt.id)


# --- card on file ---------------------------------------------------------------------------


def charge_card_on_file(inv, card, user=None, amount_cents=None):
    """Charge a saved card off-session for the invoice's balance (or `amount_cents`).

    Returns the Payment. Raises payments.PaymentDeclined (the invoice stays open),
    PaymentsUnavailable or PaymentsError."""
    inv = Invoice.get_by_id(inv.id)
    amount = amount_cents if amount_cents is not None else inv.balance_cents
    invoicing.rules.check_payment(inv.status, inv.balance_cents, amount)
    if card.client_id != inv.client_id or not card.active:
        raise CheckoutRefused("That card does not belong to this client.")
    if not payments.is_configured():
        raise payments.PaymentsUnavailable(payments.SETUP_MESSAGE)
    customer = customer_id_for(inv.client_id)
    if not customer:
        raise CheckoutRefused("This client has no card saved with Stripe.")
    client = Client.get_by_id(inv.client_id)
    attempt = _new_attempt("off_session", client, user, inv, amount, inv.currency)
    practice = Practice.get_by_id(inv.practice_id)
    try:
        pi = payments.charge_off_session(
            customer=customer,
            payment_method=card.stripe_payment_method_id,
            amount_cents=amount,
            currency=inv.currency,
            description=f"{practice.name}, invoice {inv.number}",
            metadata=_metadata(attempt),
            idempotency_key=attempt.idempotency_key,
        )
    except payments.PaymentDeclined as e:
        with database.atomic("IMMEDIATE"):
            CheckoutAttempt.update(
                status="failed", error=str(e)[:255], stripe_payment_intent_id=e.payment_intent_id
            ).where(
                (CheckoutAttempt.id == attempt.id) & (CheckoutAttempt.status != "completed")
            ).execute()
            audit.record("payment.declined", obj=inv, detail=e.code or "declined", user=user)
        raise
    except payments.PaymentsError as e:
        _failed(attempt, e)
        raise
    return apply_payment_intent(pi, attempt=attempt, user=user, card=card)


def apply_payment_intent(pi, attempt=None, user=None, card=None):
    """Record a succeeded off-session PaymentIntent once (the charge call and the
    payment_intent.succeeded webhook may both arrive). Returns the Payment or None."""
    pi_id = pi.get("id")
    if attempt is None:
        attempt = _attempt_for_intent(pi)
        if attempt is None:
            return None
    if attempt.purpose == "invoice":
        if attempt.stripe_session_id:
            fulfil_checkout(session_id=attempt.stripe_session_id)
        return Payment.get_or_none(Payment.stripe_payment_intent_id == pi_id)
    if attempt.purpose != "off_session" or pi.get("status") != "succeeded":
        return None
    meta = pi.get("metadata") or {}
    if int(pi.get("amount") or -1) != attempt.amount_cents:
        _mismatch(attempt, "amount")
        return None
    if (pi.get("currency") or "").lower() != attempt.currency.lower():
        _mismatch(attempt, "currency")
        return None
    if meta.get("invoice_id") not in (None, str(attempt.invoice_id)):
        _mismatch(attempt, "invoice")
        return None
    charge_id, brand, last4 = payments.charge_card_details(pi)
    if card is not None:
        brand, last4 = brand or card.brand, card.last4 or last4
    with database.atomic("IMMEDIATE"):
        existing = Payment.get_or_none(Payment.stripe_payment_intent_id == pi_id)
        if existing is None:
            existing = invoicing.record_payment(
                Invoice.get_by_id(attempt.invoice_id),
                method=PAY_CARD_ON_FILE,
                amount_cents=attempt.amount_cents,
                user=user,
                allow_closed=True,
                stripe_payment_intent_id=pi_id,
                stripe_charge_id=charge_id or None,
                card_brand=brand,
                card_last4=last4,
                checkout_attempt=attempt.id,
            )
        CheckoutAttempt.update(
            status="completed",
            completed_at=clock.utcnow(),
            stripe_payment_intent_id=pi_id,
            error="",
        ).where(CheckoutAttempt.id == attempt.id).execute()
    return existing


def _attempt_for_intent(pi):
    attempt = CheckoutAttempt.get_or_none(CheckoutAttempt.stripe_payment_intent_id == pi.get("id"))
    if attempt is not None:
        return attempt
    ref = (pi.get("metadata") or {}).get("attempt_id")
    try:
        return CheckoutAttempt.get_or_none(CheckoutAttempt.id == int(ref))
    except (TypeError, ValueError):
        return None


# --- webhook events ----------------------------------------------------------------------


def handle_event(event):
    """Apply one verified Stripe event. Returns a short result word. Duplicates (an event
    id already processed) do nothing. Raises on a processing error (Stripe retries)."""
    obj = ((event.get("data") or {}).get("object")) or {}
    try:
        with database.atomic("IMMEDIATE"):
            row = StripeEvent.get_or_none(StripeEvent.event_id == event["id"])
            if row is not None and row.status in ("processed", "ignored"):
                return "duplicate"
            if row is None:
                StripeEvent.create(
                    event_id=event["id"],
                    type=str(event.get("type"))[:255],
                    object_id=str(obj.get("id") or "")[:255],
                    stripe_created=int(event.get("created") or 0),
                )
    except IntegrityError:
        return "duplicate"
    try:
        result = _dispatch(event.get("type"), obj)
    except Exception as e:
        with database.atomic("IMMEDIATE"):
            StripeEvent.update(status="failed", detail=type(e).__name__).where(
                StripeEvent.event_id == event["id"]
            ).execute()
        raise
    with database.atomic("IMMEDIATE"):
        StripeEvent.update(
            status="ignored" if result == "ignored" else "processed",
            detail=result[:255],
            processed_at=clock.utcnow(),
        ).where(StripeEvent.event_id == event["id"]).execute()
    return result


def _dispatch(kind, obj):
    if not isinstance(obj, dict) or not obj.get("id"):
        return "ignored"
    if kind in ("checkout.session.completed", "checkout.session.async_payment_succeeded"):
        attempt = fulfil_checkout(session=obj)
        return f"checkout {attempt.status}" if attempt else "ignored"
    if kind == "checkout.session.expired":
        attempt = _attempt_for_session(obj)
        if attempt is None:
            return "ignored"
        with database.atomic("IMMEDIATE"):
            CheckoutAttempt.update(status="expired").where(
                (CheckoutAttempt.id == attempt.id)
                & (CheckoutAttempt.status.in_(["created", "open"]))
            ).execute()
        return "checkout expired"
    if kind == "payment_intent.succeeded":
        pi = obj
        if obj.get("status") != "succeeded":
            pi = payments.retrieve_payment_intent(obj["id"])
        payment = apply_payment_intent(pi)
        return "payment recorded" if payment else "ignored"
    if kind == "payment_intent.payment_failed":
        attempt = _attempt_for_intent(obj)
        if attempt is None:
            return "ignored"
        # Unsure which came last: ask Stripe for the intent as it is now.
        pi = payments.retrieve_payment_intent(obj["id"])
        if pi.get("status") == "succeeded":
            payment = apply_payment_intent(pi, attempt=attempt)
            return "payment recorded" if payment else "ignored"
        with database.atomic("IMMEDIATE"):
            err = (obj.get("last_payment_error") or {}).get("message") or "declined"
            CheckoutAttempt.update(status="failed", error=err[:255]).where(
                (CheckoutAttempt.id == attempt.id)
                & (CheckoutAttempt.status.in_(["created", "open"]))
            ).execute()
        return "payment failed"
    if kind in ("refund.created", "refund.updated", "refund.failed", "charge.refund.updated"):
        refund_id = (obj.get("metadata") or {}).get("refund_id")
        refund = None
        if obj.get("id"):
            refund = Refund.get_or_none(Refund.stripe_refund_id == obj["id"])
        if refund is None and refund_id and str(refund_id).isdigit():
            refund = Refund.get_or_none(Refund.id == int(refund_id))
        if refund is None:
            return "ignored"
        invoicing.apply_stripe_refund(refund.id, obj)
        return "refund updated"
    return "ignored"
