"""The flask-login manager: who is logged in comes from the server-side sessions
(portal/sessions.py's load_user, registered by auth.init_app); a request that needs a login
and has none is sent to the login page (HTMX requests get HX-Redirect)."""

from flask import flash, g, make_response, redirect, request, url_for
from flask_login import LoginManager

login_manager = LoginManager()


def init_app(app):
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please log in to continue."
    login_manager.login_message_category = "info"
    # No session-protection identifiers (a hash of address and user agent per request):
    # the portal's sessions are server-side rows instead, checked on every request.
    login_manager.session_protection = None


@login_manager.unauthorized_handler
def unauthorized():
    if getattr(g, "session_expired", False):
        flash("Your session ended. Please log in again.", "info")
    target = url_for(
        "auth.login", next=request.full_path.rstrip("?") if request.method == "GET" else None
    )
    if request.headers.get("HX-Request"):
        resp = make_response("", 401)
        resp.headers["HX-Redirect"] = target
        return resp
    return redirect(target)
