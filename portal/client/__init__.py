"""Blueprint: the client portal under /portal."""

from flask import Blueprint, redirect, request, url_for
from flask_login import current_user

from portal.access import deny
from portal.login import login_manager

bp = Blueprint("client", __name__, url_prefix="/portal")

# What a client whose e-mail is not proven yet may reach (see portal/signup.py).
UNVERIFIED_ENDPOINTS = frozenset({"client.verify_pending", "client.verify_resend"})


@bp.before_request
def _clients_only():
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not current_user.is_client or current_user.client_id is None:
        deny()
    if current_user.email_unverified and request.endpoint not in UNVERIFIED_ENDPOINTS:
        return redirect(url_for("client.verify_pending"))
    return None


# One module per area; each registers its routes on `bp`. Add new areas below.
from portal.client import (  # noqa: E402,F401
    billing,
    booking,
    documents,
    insurance,
    intake,
    messages,
    verify,
    views,
)
