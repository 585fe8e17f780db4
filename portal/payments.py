"""Stripe, behind one module: the only importer of `stripe`.

Configuration (portal/config.py): STRIPE_SECRET_KEY, STRIPE_WEBHOOK_SECRET and, for a
test or self-hosted fake server, STRIPE_API_BASE. STRIPE_HTTP_CLIENT may hold a
stripe-python HTTP client instance (a proxy-aware one; the tests use it to stub the
transport where localstripe lacks an API).

Everything here returns plain dicts, never stripe objects. Every create call takes the
idempotency key of a local record written before the call. Errors:
- PaymentsUnavailable: keys missing or rejected -> the owner sees a set-up message;
- PaymentDeclined: the card was declined (message fit for staff and clients);
- PaymentsError: anything else (Stripe unreachable, a bad request).
"""

import json

import stripe
from flask import current_app

WEBHOOK_TOLERANCE_SECONDS = 300


class PaymentsError(Exception):
    """Stripe failed; the message is fit to show."""


class PaymentsUnavailable(PaymentsError):
    """Card payments are not set up (missing or wrong keys)."""


class PaymentDeclined(PaymentsError):
    def __init__(self, message, code="", payment_intent_id=None):
        super().__init__(message)
        self.code = code
        self.payment_intent_id = payment_intent_id


class InvalidSignature(ValueError):
    pass


SETUP_MESSAGE = (
    "Card payments are not set up yet. The owner adds the Stripe secret key "
    "(PORTAL_STRIPE_SECRET_KEY) and webhook secret (PORTAL_STRIPE_WEBHOOK_SECRET) "
    "to the portal's configuration. Cash, check and terminal payments work meanwhile."
)


def status(app=None):
    """A dict for the owner's settings page: configured?, mode and a plain message."""
    cfg = (app or current_app).config
    key = (cfg.get("STRIPE_SECRET_KEY") or "").strip()
    hook = (cfg.get("STRIPE_WEBHOOK_SECRET") or "").strip()
    problems = []
    if not key:
        problems.append("The Stripe secret key is missing.")
    elif not key.startswith(("sk_test_", "sk_live_", "rk_test_", "rk_live_")):
        problems.append("The Stripe secret key should start with sk_live_ or sk_test_.")
    if not hook:
        problems.append(
            "The webhook signing secret is missing: payments still work, but the portal "
            "cannot hear about payments finished after the client closed the page."
        )
    elif not hook.startswith("whsec_"):
        problems.append("The webhook signing secret should start with whsec_.")
    ok = bool(key) and key.startswith(("sk_", "rk_"))
    mode = "test" if "_test_" in key else ("live" if ok else "")
    return {"configured": ok, "mode": mode, "problems": problems}


def is_configured(app=None):
    return status(app)["configured"]


def _client():
    app = current_app
    st = status(app)
    if not st["configured"]:
        raise PaymentsUnavailable(SETUP_MESSAGE)
    cfg = app.config
    cache_key = (cfg["STRIPE_SECRET_KEY"], cfg.get("STRIPE_API_BASE") or "")
    http_client = cfg.get("STRIPE_HTTP_CLIENT")
    cached = app.extensions.get("portal_stripe")
    if cached and cached[0] == cache_key and cached[2] is http_client:
        return cached[1]
    base = {}
    if cfg.get("STRIPE_API_BASE"):
        base["api"] = cfg["STRIPE_API_BASE"].rstrip("/")
    client = stripe.StripeClient(
        cfg["STRIPE_SECRET_KEY"],
        base_addresses=base or None,
        max_network_retries=2,  # safe: every create carries an idempotency key
        http_client=http_client,
    )
    app.extensions["portal_stripe"] = (cache_key, client, http_client)
    return client


def _plain(obj):
    if obj is None:
        return None
    if hasattr(obj, "to_dict"):
        return obj.to_dict()
    return dict(obj)


def _call(fn):
    try:
        return _plain(fn())
    except stripe.CardError as e:
        err = getattr(e, "error", None)
        pi = getattr(err, "payment_intent", None) if err is not None else None
        pi_id = pi.get("id") if isinstance(pi, dict) else getattr(pi, "id", None)
        raise PaymentDeclined(
            e.user_message or "The card was declined.", code=e.code or "", payment_intent_id=pi_id
        ) from e
    except (stripe.AuthenticationError, stripe.PermissionError) as e:
        raise PaymentsUnavailable(
            "Stripe refused the secret key. The owner should check PORTAL_STRIPE_SECRET_KEY."
        ) from e
    except stripe.APIConnectionError as e:
        raise PaymentsError("Stripe could not be reached. Try again in a minute.") from e
    except stripe.StripeError as e:
        msg = e.user_message or "Stripe could not complete the request."
        raise PaymentsError(msg) from e


def _options(idempotency_key):
    if not idempotency_key:
        raise ValueError("every Stripe create call needs an idempotency key")
    return {"idempotency_key": idempotency_key}


# --- customers and payment methods ----------------------------------------------------


def create_customer(email, name, metadata, idempotency_key):
    c = _client()
    params = {"metadata": metadata}
    if email:
        params["email"] = email
    if name:
        params["name"] = name
    return _call(lambda: c.v1.customers.create(params=params, options=_options(idempotency_key)))


def retrieve_payment_method(pm_id):
    c = _client()
    return _call(lambda: c.v1.payment_methods.retrieve(pm_id))


def detach_payment_method(pm_id):
    """Remove a saved card from its Stripe customer (it can no longer be charged)."""
    c = _client()
    return _call(lambda: c.v1.payment_methods.detach(pm_id))


def card_of(payment_method):
    """(brand, last4, exp_month, exp_year) from a payment method dict (or ('', '', 0, 0))."""
    card = (payment_method or {}).get("card") or {}
    return (
        card.get("brand") or "",
        card.get("last4") or "",
        int(card.get("exp_month") or 0),
        int(card.get("exp_year") or 0),
    )


# --- Checkout ------------------------------------------------------------------------


def create_checkout_payment(
    *,
    amount_cents,
    currency,
    description,
    success_url,
    cancel_url,
    metadata,
    client_reference_id,
    idempotency_key,
    customer=None,
    customer_email=None,
):
    """A hosted Checkout page for one amount (cards incl. HSA/FSA, wallets)."""
    c = _client()
    params = {
        "mode": "payment",
        "line_items": [
            {
                "quantity": 1,
                "price_data": {
                    "currency": currency,
                    "unit_amount": amount_cents,
                    "product_data": {"name": description},
                },
            }
        ],
        "success_url": success_url,
        "cancel_url": cancel_url,
        "client_reference_id": client_reference_id,
        "metadata": metadata,
        "payment_intent_data": {"metadata": metadata},
    }
    if customer:
        params["customer"] = customer
    elif customer_email:
        params["customer_email"] = customer_email
    return _call(
        lambda: c.v1.checkout.sessions.create(params=params, options=_options(idempotency_key))
    )


def create_checkout_setup(
    *, customer, currency, success_url, cancel_url, metadata, client_reference_id, idempotency_key
):
    """A hosted Checkout page in setup mode: saves a card for later off-session charges."""
    c = _client()
    params = {
        "mode": "setup",
        "customer": customer,
        "currency": currency,
        "success_url": success_url,
        "cancel_url": cancel_url,
        "client_reference_id": client_reference_id,
        "metadata": metadata,
        "setup_intent_data": {"metadata": metadata},
    }
    return _call(
        lambda: c.v1.checkout.sessions.create(params=params, options=_options(idempotency_key))
    )


def retrieve_checkout_session(session_id):
    c = _client()
    return _call(
        lambda: c.v1.checkout.sessions.retrieve(
            session_id,
            params={"expand": ["payment_intent.latest_charge", "setup_intent.payment_method"]},
        )
    )


# --- PaymentIntents and refunds --------------------------------------------------------


def charge_off_session(
    *, customer, payment_method, amount_cents, currency, description, metadata, idempotency_key
):
    """Charge a saved card now, without the client present. Raises PaymentDeclined."""
    c = _client()
    params = {
        "amount": amount_cents,
        "currency": currency,
        "customer": customer,
        "payment_method": payment_method,
        "off_session": True,
        "confirm": True,
        "metadata": metadata,
    }
    pi = _call(
        lambda: c.v1.payment_intents.create(params=params, options=_options(idempotency_key))
    )
    if pi.get("status") != "succeeded":
        err = pi.get("last_payment_error") or {}
        raise PaymentDeclined(
            err.get("message") or f"The payment did not go through ({pi.get('status')}).",
            code=err.get("code") or "",
            payment_intent_id=pi.get("id"),
        )
    return pi


def retrieve_payment_intent(pi_id):
    c = _client()
    return _call(lambda: c.v1.payment_intents.retrieve(pi_id))


def charge_card_details(payment_intent):
    """(charge_id, brand, last4) of a PaymentIntent dict, fetching the method if needed."""
    charge = payment_intent.get("latest_charge")
    charge_id = charge.get("id") if isinstance(charge, dict) else (charge or "")
    brand = last4 = ""
    if isinstance(charge, dict):
        card = ((charge.get("payment_method_details") or {}).get("card")) or {}
        brand, last4 = card.get("brand") or "", card.get("last4") or ""
    pm = payment_intent.get("payment_method")
    if not last4 and pm:
        if isinstance(pm, dict):
            brand, last4, _, _ = card_of(pm)
        else:
            try:
                brand, last4, _, _ = card_of(retrieve_payment_method(pm))
            except PaymentsError:
                pass
    return charge_id, brand, last4


def create_refund(*, payment_intent, amount_cents, metadata, idempotency_key):
    c = _client()
    params = {"payment_intent": payment_intent, "amount": amount_cents, "metadata": metadata}
    return _call(lambda: c.v1.refunds.create(params=params, options=_options(idempotency_key)))


# --- webhooks --------------------------------------------------------------------------


def verify_webhook(payload: bytes, signature_header: str, secret=None) -> dict:
    """Verify the raw body against the endpoint secret (300 s tolerance); return the event."""
    secret = secret if secret is not None else current_app.config.get("STRIPE_WEBHOOK_SECRET")
    if not secret:
        raise InvalidSignature("no webhook secret is configured")
    try:
        stripe.WebhookSignature.verify_header(
            payload, signature_header, secret, tolerance=WEBHOOK_TOLERANCE_SECONDS
        )
    except stripe.SignatureVerificationError as e:
        raise InvalidSignature(str(e).split("\n")[0]) from e
    try:
        event = json.loads(payload)
    except (ValueError, UnicodeDecodeError) as e:
        raise InvalidSignature("the body is not JSON") from e
    if not isinstance(event, dict) or not event.get("id") or not event.get("type"):
        raise InvalidSignature("not a Stripe event")
    return event
