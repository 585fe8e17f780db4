"""The massage practice portal: create_app() builds it; nothing happens at import."""

import copy
import logging
import os
import time

from flask import Flask, redirect, render_template, url_for
from flask.globals import _cv_request
from flask.sessions import SecureCookieSessionInterface
from flask_login import current_user
from flask_wtf.csrf import CSRFError, CSRFProtect
from itsdangerous import BadSignature, TimestampSigner, URLSafeTimedSerializer
from werkzeug.exceptions import HTTPException

csrf = CSRFProtect()

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class _KeyCachingSigner(TimestampSigner):
    """itsdangerous derives the signing key (an HMAC of the salt) on every sign and unsign;
    the key only changes with the secret, so it is derived once per secret."""

    _derived = {}

    def derive_key(self, secret_key=None):
        k = (secret_key, self.secret_keys[-1], self.salt, self.key_derivation, self.digest_method)
        key = self._derived.get(k)
        if key is None:
            if len(self._derived) > 64:
                self._derived.clear()
            key = self._derived[k] = super().derive_key(secret_key)
        return key


class PortalSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session (its format and keys), with two savings per request:
    the serializer is built once per secret key, and a cookie value already verified by
    this process is not verified and decoded again while its signature is in date (a
    browser sends the same cookie until the session changes). The signature's age is
    checked on every request as itsdangerous would, and each request gets its own copy."""

    _OPENED_MAX = 2048

    def __init__(self):
        self._serializers = {}
        self._opened = {}  # cookie value -> (serializer, data, signed at (unix seconds))

    def open_session(self, app, request):
        s = self.get_signing_serializer(app)
        if s is None:
            return None
        val = request.cookies.get(self.get_cookie_name(app))
        if not val:
            return self.session_class()
        max_age = int(app.permanent_session_lifetime.total_seconds())
        known = self._opened.get(val)
        if known is not None and known[0] is s:
            age = int(time.time()) - known[2]
            if 0 <= age <= max_age:
                return self.session_class(_copy_session(known[1]))
        try:
            data, signed_at = s.loads(val, max_age=max_age, return_timestamp=True)
        except BadSignature:
            return self.session_class()
        if len(self._opened) >= self._OPENED_MAX:
            self._opened.clear()
        self._opened[val] = (s, _copy_session(data), int(signed_at.timestamp()))
        return self.session_class(data)

    def save_session(self, app, session, response):
        # Most responses leave the session as it came: then only "Vary: Cookie" is due
        # (added as its own header line: werkzeug's vary property parses and rewrites the
        # header). Anything else is Flask's own code.
        if not session.modified and not (session and self.should_set_cookie(app, session)):
            if session.accessed:
                response.headers.add("Vary", "Cookie")
            return
        super().save_session(app, session, response)

    def get_signing_serializer(self, app):
        if not app.secret_key:
            return None
        keys = (*(app.config["SECRET_KEY_FALLBACKS"] or ()), app.secret_key)
        s = self._serializers.get(keys)
        if s is None:
            s = self._serializers[keys] = URLSafeTimedSerializer(
                list(keys),
                salt=self.salt,
                serializer=self.serializer,
                signer=_KeyCachingSigner,
                signer_kwargs={
                    "key_derivation": self.key_derivation,
                    "digest_method": self.digest_method,
                },
            )
        return s


def _copy_session(data):
    """A copy no request can change through another's: flat values are shared, anything
    else (flashes are a list) copied deeply."""
    if all(v is None or type(v) in (str, int, bool, float) for v in data.values()):
        return dict(data)
    return copy.deepcopy(data)


class PortalFlask(Flask):
    """Flask, remembering built URLs: every page builds dozens (navigation, links, static
    files), ~8 us each in werkzeug, mostly the same ones again and again.

    Only the plain case is remembered: inside a request, no _anchor/_method/_scheme/
    _external, an absolute endpoint, str/int values (their order kept: it is the query
    string's), and no url_defaults functions; keyed by the request's URL adapter (server
    name, script root, scheme, subdomain), so the URL is exactly what url_for would build.
    """

    _URL_CACHE_MAX = 4096

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.session_interface = PortalSessionInterface()
        self._url_cache = {}
        self._sync_funcs = {}

    def ensure_sync(self, func):
        """Flask asks inspect whether each hook and view is a coroutine function on every
        request (about ten times per page); the answer never changes for a function."""
        try:
            return self._sync_funcs[func]
        except KeyError:
            pass
        except TypeError:  # unhashable callable
            return super().ensure_sync(func)
        wrapped = super().ensure_sync(func)
        if len(self._sync_funcs) < 4096:
            self._sync_funcs[func] = wrapped
        return wrapped

    def url_for(
        self, endpoint, /, *, _anchor=None, _method=None, _scheme=None, _external=None, **values
    ):
        if _anchor is _method is _scheme is _external is None and endpoint[:1] != ".":
            req_ctx = _cv_request.get(None)
            adapter = req_ctx.url_adapter if req_ctx is not None else None
            if adapter is not None and not any(self.url_default_functions.values()):
                items = tuple(values.items())
                if all(type(v) is str or type(v) is int for _, v in items):
                    key = (
                        endpoint,
                        items,
                        adapter.server_name,
                        adapter.script_name,
                        adapter.url_scheme,
                        adapter.subdomain,
                    )
                    cache = self._url_cache
                    url = cache.get(key)
                    if url is None:
                        url = super().url_for(endpoint, **values)
                        if len(cache) >= self._URL_CACHE_MAX:
                            cache.clear()
                        cache[key] = url
                    return url
        return super().url_for(
            endpoint,
            _anchor=_anchor,
            _method=_method,
            _scheme=_scheme,
            _external=_external,
            **values,
        )


def create_app(test_config=None):
    app = PortalFlask(
        __name__,
        instance_relative_config=True,
        template_folder=os.path.join(ROOT, "templates"),
        static_folder=os.path.join(ROOT, "static"),
        instance_path=(test_config or {}).get("INSTANCE_PATH")
        or os.environ.get("PORTAL_INSTANCE_PATH")
        or os.path.join(ROOT, "instance"),
    )
    from portal import config

    config.load(app, test_config)
    os.makedirs(app.instance_path, exist_ok=True)

    from portal import auth, db, htmx, mail, security

    db.init_app(app)
    _csrf_on_writes(app)
    htmx.init_app(app)
    auth.init_app(app)
    security.init_app(app)
    mail.init_app(app)
    _template_helpers(app)
    _error_pages(app)

    from portal.client import bp as client_bp
    from portal.provider import bp as provider_bp
    from portal.webhooks import bp as webhooks_bp

    app.register_blueprint(provider_bp)
    app.register_blueprint(client_bp)
    app.register_blueprint(webhooks_bp)
    csrf.exempt(webhooks_bp)

    @app.route("/")
    def index():
        if current_user.is_authenticated:
            return redirect(auth.home_url(current_user))
        return redirect(url_for("auth.login"))

    @app.route("/healthz")
    def healthz():
        # "warm": this worker has built its ICD-10 search index and frozen its long-lived
        # objects out of the garbage collector (gunicorn.conf.py); False outside gunicorn.
        return {"ok": True, "warm": bool(app.extensions.get("warm"))}

    from portal import booking, cli, tasks

    booking.init_app(app)
    cli.init_app(app)
    tasks.init_app(app)
    from portal.services import billing_events  # signal receivers, expire-packages

    billing_events.init_app(app)
    from portal.services import visit_flow  # check-out waits for the signed chart note

    visit_flow.init_app(app)

    from portal.services.claims import desk as claims_desk  # claims at check-out and signing

    claims_desk.init_app(app)
    from portal.services.claims import receivers  # 999, 277CA and 835 from the clearinghouse

    receivers.init_app(app)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    return app


def _csrf_on_writes(app):
    """Flask-WTF's CSRF check, run only for the methods it checks (POST, PUT, PATCH,
    DELETE). Its own before_request hook works out view exemptions (a string built per
    request) before it looks at the method, on every GET; with WTF_CSRF_CHECK_DEFAULT off
    (its documented switch for calling protect() yourself) that hook returns at once and
    this one calls the same csrf.protect(apply_exemptions=True) for writes."""
    from flask import request

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
    from portal.rules.money import format_cents
    from portal.rules.npi import format_ein

    app.jinja_env.filters["money"] = format_cents
    app.jinja_env.filters["ein"] = format_ein

    def local_time(value, fmt="%a %d %b %Y, %-I:%M %p"):
        """A stored naive-UTC datetime shown in the practice's time zone."""
        import datetime as dt

        if value is None:
            return ""
        tz = None
        user = current_user._get_current_object()  # one proxy look-up, not three
        if user and user.is_authenticated:
            tz = user.practice.tz
        if tz is None:
            return value.strftime(fmt) + " UTC"
        return value.replace(tzinfo=dt.UTC).astimezone(tz).strftime(fmt)

    app.jinja_env.filters["local"] = local_time

    def has_endpoint(endpoint):
        return endpoint in app.view_functions

    app.jinja_env.globals["has_endpoint"] = has_endpoint
    vendor = os.listdir(os.path.join(ROOT, "static", "vendor"))
    htmx_js = sorted(f for f in vendor if f.startswith("htmx-"))[-1]
    app.jinja_env.globals["HTMX_JS"] = "vendor/" + htmx_js


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
            413: "That upload is too large.",
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
