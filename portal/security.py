"""Response headers: a strict CSP (no unsafe-inline), framing, sniffing, referrer, HSTS."""

from flask import request


def init_app(app):
    proxies = int(app.config.get("PROXY_COUNT") or 0)
    if proxies:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)

    csp_for = {}  # CSP_EXTRA_FORM_ACTION -> the header, joined once

    @app.after_request
    def _headers(resp):
        extra_form = app.config.get("CSP_EXTRA_FORM_ACTION") or ""
        csp = csp_for.get(extra_form) or csp_for.setdefault(extra_form, _csp(extra_form))
        resp.headers.setdefault("Content-Security-Policy", csp)
        resp.headers["X-Content-Type-Options"] = "nosniff"
        resp.headers["X-Frame-Options"] = "DENY"
        resp.headers["Referrer-Policy"] = "same-origin"
        resp.headers["Permissions-Policy"] = "geolocation=(), microphone=(), camera=(self)"
        resp.headers["Cross-Origin-Opener-Policy"] = "same-origin"
        if request.is_secure:
            resp.headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
        if request.endpoint != "static" and "Cache-Control" not in resp.headers:
            # Pages may hold PHI: never kept by shared caches or the browser's back store.
            resp.headers["Cache-Control"] = "no-store"
        resp.headers.pop("Server", None)
        return resp


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
