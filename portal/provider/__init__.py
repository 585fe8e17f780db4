"""Blueprint: the provider dashboard (owner, therapists, front desk) under /provider."""

from flask import Blueprint
from flask_login import current_user

from portal.access import deny
from portal.login import login_manager

bp = Blueprint("provider", __name__, url_prefix="/provider")


@bp.before_request
def _staff_only():
    user = current_user._get_current_object()
    if not user.is_authenticated:
        return login_manager.unauthorized()
    if not user.is_staff:
        deny()
    return None


# One module per area; each registers its routes on `bp`. Add new areas below.
from portal.provider import (  # noqa: E402,F401
    account_credit,
    billing,
    billing_settings,
    charting,
    charting_settings,
    checkout,
    claims,
    clearinghouse,
    clients,
    day_sheet,
    desk_checkout,
    exports,
    finder,
    home,
    insurance,
    intake,
    jobs,
    letters,
    messages,
    payers,
    schedule,
    settings,
    superbills,
    visit,
)
