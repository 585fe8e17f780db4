"""Blueprint: the client portal under /portal."""

from flask import Blueprint
from flask_login import current_user

bp = Blueprint("client", __name__, url_prefix="/portal")


@bp.before_request
def _clients_only():
    from portal.access import deny
    from portal.auth import login_manager

    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not current_user.is_client or current_user.client_id is None:
        deny()
    return None


# One module per area; each registers its routes on `bp`. Add new areas below.
from portal.client import billing, booking, insurance, intake, messages, views  # noqa: E402,F401
