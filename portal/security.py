"""Response headers: a strict CSP (no unsafe-inline), framing, sniffing, referrer, HSTS;
ids in URLs bounded (portal/inputs.py); a request body's limit raised for a view that
says so (`body_limit`)."""

from flask import request
from werkzeug.datastructures import Headers
from werkzeug.middleware.proxy_fix import ProxyFix

from portal.inputs import BoundedIntConverter


def init_app(app):
    # Before any route is added: every <int:...> then ends at what the database holds.
    app.url_map.converters["int"] = BoundedIntConverter
    proxies = int(app.config.get("PROXY_COUNT") or 0)
    if proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)

    @app.url_value_preprocessor
    def _body_limit(endpoint, values):
        # First of all (before the CSRF check reads the form): a view's own limit.
        limit = getattr(app.view_functions.get(endpoint), "body_limit", None)
        if limit:
            request.max_content_length = limit

    fixed_for = {}  # CSP_EXTRA_FORM_ACTION -> the headers every response gets, built once

    @app.after_request
    def _headers(resp):
        extra_form = app.config.get("CSP_EXTRA_FORM_ACTION") or ""
        fixed = fixed_for.get(extra_form)
        if fixed is None:
            fixed = fixed_for[extra_form] = _fixed_headers(extra_form)
        headers = resp.headers
        present = {name.lower() for name in headers.keys()}
        for name, value in fixed:
            if name == "Content-Security-Policy" and "content-security-policy" in present:
                continue  # a view's own (stricter) CSP is kept
            headers[name] = value
        if request.is_secure:
            headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
        if request.endpoint != "static" and "cache-control" not in present:
            # Pages may hold PHI: never kept by shared caches or the browser's back store.
            headers["Cache-Control"] = "no-store"
        if "server" in present:
            del headers["Server"]
        return resp


def body_limit(n_bytes):
    """Mark a view that reads a request body of up to `n_bytes` instead of the app's
    MAX_CONTENT_LENGTH: a card photo taken by a phone (20 MB and more) is read, so that the
    upload's own check says its size and the limit next to the field (not a bare 413)."""

    def mark(view):
        view.body_limit = n_bytes
        return view

    return mark


def _fixed_headers(extra_form):
    """The headers every response gets (built once per form-action setting)."""
    fixed = Headers(
        [
            ("Content-Security-Policy", _csp(extra_form)),
            ("X-Content-Type-Options", "nosniff"),
            ("X-Frame-Options", "DENY"),
            ("Referrer-Policy", "same-origin"),
            ("Permissions-Policy", "geolocation=(), microphone=(), camera=(self)"),
            ("Cross-Origin-Opener-Policy", "same-origin"),
        ]
    )
    return list(fixed.items())


def _csp(extra_form):
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data: blob:",
            "font-src 'self'",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            f"form-action 'self' {extra_form}".strip(),
            "frame-ancestors 'none'",
        ]
    )
