"""The massage practice portal: create_app() builds it; nothing happens at import."""

import logging
import os

from flask import Flask, current_app, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import HTTPException

from portal import (
    auth,
    booking,
    cli,
    clock,
    config,
    db,
    formutil,
    htmx,
    layout,
    login,
    mail,
    security,
    speedups,
    tasks,
    two_step,
)
from portal.client import bp as client_bp
from portal.models.practice import provider_name
from portal.provider import bp as provider_bp
from portal.rules.money import format_cents
from portal.rules.npi import format_ein, format_zip
from portal.services import billing_events, icd10, visit_flow
from portal.services.claims import desk as claims_desk
from portal.services.claims import receivers
from portal.webhooks import bp as webhooks_bp

csrf = CSRFProtect()

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def create_app(test_config=None):
    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder=os.path.join(ROOT, "templates"),
        static_folder=os.path.join(ROOT, "static"),
        instance_path=(test_config or {}).get("INSTANCE_PATH")
        or os.environ.get("PORTAL_INSTANCE_PATH")
        or os.path.join(ROOT, "instance"),
    )
    config.load(app, test_config)
    os.makedirs(app.instance_path, exist_ok=True)
    speedups.init_app(app)
    db.init_app(app)
    _csrf_on_writes(app)
    htmx.init_app(app)
    login.init_app(app)
    auth.init_app(app)
    two_step.init_app(app)
    security.init_app(app)
    mail.init_app(app)
    icd10.init_app(app)
    _template_helpers(app)
    _error_pages(app)
    app.register_blueprint(provider_bp)
    app.register_blueprint(client_bp)
    app.register_blueprint(webhooks_bp)
    csrf.exempt(webhooks_bp)
    app.add_url_rule("/", "index", index)
    app.add_url_rule("/healthz", "healthz", healthz)
    booking.init_app(app)
    cli.init_app(app)
    tasks.init_app(app)
    billing_events.init_app(app)  # signal receivers, expire-packages
    visit_flow.init_app(app)  # check-out waits for the signed chart note
    claims_desk.init_app(app)  # claims at check-out and signing
    receivers.init_app(app)  # 999, 277CA and 835 from the clearinghouse
    # The development server logs each request line; a URL is not for the log.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    return app


def index():
    if current_user.is_authenticated:
        return redirect(auth.home_url(current_user))
    return redirect(url_for("auth.login"))


def healthz():
    # "warm": this worker has loaded what it keeps for the process's life (gunicorn.conf.py);
    # False outside gunicorn.
    return {"ok": True, "warm": bool(current_app.extensions.get("warm"))}


def _csrf_on_writes(app):
    """Flask-WTF's CSRF check, run only for the methods it checks (POST, PUT, PATCH,
    DELETE). Its own before_request hook works out view exemptions (a string built per
    request) before it looks at the method, on every GET; with WTF_CSRF_CHECK_DEFAULT off
    (its documented switch for calling protect() yourself) that hook returns at once and
    this one calls the same csrf.protect(apply_exemptions=True) for writes."""
    cfg = app.config
    check = cfg.get("WTF_CSRF_CHECK_DEFAULT", True)
    cfg["WTF_CSRF_CHECK_DEFAULT"] = False
    csrf.init_app(app)  # sets the other WTF_CSRF_* defaults
    app.extensions["csrf_on_writes"] = check
    methods = frozenset(cfg["WTF_CSRF_METHODS"])

    @app.before_request
    def _csrf_protect():
        if request.method in methods and check and cfg["WTF_CSRF_ENABLED"]:
            csrf.protect(apply_exemptions=True)


def _template_helpers(app):
    app.jinja_env.filters["money"] = format_cents
    app.jinja_env.filters["ein"] = format_ein
    app.jinja_env.filters["zipcode"] = format_zip
    app.jinja_env.globals["provider_name"] = provider_name
    app.jinja_env.globals["render_field"] = formutil.render_field
    app.jinja_env.globals["render_checkboxes"] = formutil.render_checkboxes

    def local_time(value, fmt="%a %d %b %Y, %-I:%M %p"):
        """A stored naive-UTC datetime shown in the practice's time zone."""
        if value is None:
            return ""
        if not current_user.is_authenticated:
            return value.strftime(fmt) + " UTC"
        return clock.to_local(value, current_user.practice.tz).strftime(fmt)

    app.jinja_env.filters["local"] = local_time

    vendor = os.listdir(os.path.join(ROOT, "static", "vendor"))
    htmx_js = sorted(f for f in vendor if f.startswith("htmx-"))[-1]
    app.jinja_env.globals["HTMX_JS"] = "vendor/" + htmx_js
    app.jinja_env.globals["layout_links"] = lambda: layout.links("vendor/" + htmx_js)


def _error_pages(app):
    @app.errorhandler(CSRFError)
    def csrf_error(e):
        return render_template(
            "errors/error.html",
            code=400,
            title="This form has expired",
            message="Your form's security token is missing or expired. "
            "Go back, reload the page and try again.",
        ), 400

    @app.errorhandler(HTTPException)
    def http_error(e):
        if e.code in (301, 302, 303, 307, 308) or e.code is None:
            return e
        titles = {
            404: "Not found",
            403: "Not allowed",
            405: "Not allowed",
            413: "Too large",
            429: "Too many requests",
        }
        messages = {
            404: "There is nothing here, or you do not have access to it.",
            403: "You do not have access to this page.",
            413: "That upload is too large. Go back and choose a smaller file.",
        }
        return render_template(
            "errors/error.html",
            code=e.code,
            title=titles.get(e.code, e.name),
            message=messages.get(e.code, e.description),
        ), e.code

    @app.errorhandler(500)
    def server_error(e):
        return render_template(
            "errors/error.html",
            code=500,
            title="Something went wrong",
            message="The error is logged. Nothing was half-saved: "
            "try again, and tell your practice if it repeats.",
        ), 500
