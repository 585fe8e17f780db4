"""Blueprint: Stripe webhooks, the one CSRF-exempt route (filled by the payments work)."""

from flask import Blueprint

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")
