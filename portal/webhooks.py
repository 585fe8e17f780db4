"""Blueprint: Stripe webhooks, the one CSRF-exempt route.

The raw body is verified with the endpoint secret (300 s tolerance) before anything is
read from it; a bad signature answers 400 and nothing is applied. Event ids are unique
in the database, so a duplicate does nothing.
"""

import logging

from flask import Blueprint, jsonify, request

from portal import payments
from portal.services import payments_service

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")
log = logging.getLogger(__name__)


@bp.route("/stripe", methods=["POST"])
def stripe_webhook():
    payload = request.get_data(cache=False, as_text=False)
    try:
        event = payments.verify_webhook(payload, request.headers.get("Stripe-Signature", ""))
    except payments.InvalidSignature as e:
        log.warning("stripe webhook refused: %s", e)
        return jsonify({"error": "invalid signature"}), 400
    try:
        result = payments_service.handle_event(event)
    except payments.PaymentsError as e:
        # Stripe could not be asked about the object: answer 503 so Stripe retries later.
        log.warning("stripe webhook %s postponed: %s", event.get("id"), e)
        return jsonify({"error": "try again"}), 503
    return jsonify({"received": True, "result": result})
