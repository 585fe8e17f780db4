"""render_pdf(template, **ctx) -> bytes. The only module importing weasyprint.

WeasyPrint fetches nothing from the network or the file system: the URL fetcher serves
only the portal's own static files (and data: URLs) and refuses everything else.
"""

import hashlib
import os
from urllib.parse import urlsplit

from flask import current_app, render_template

_STATIC_PREFIX = "/static/"
_weasy = None


def _weasyprint():
    global _weasy
    if _weasy is None:
        import weasyprint  # imported once, lazily: it costs ~0.4 s

        _weasy = weasyprint
    return _weasy


class RefusedURL(ValueError):
    pass


def resolve_static(url):
    """Map a /static/... URL (or portal:/static/...) to a file of the portal, else refuse."""
    parts = urlsplit(url)
    path = parts.path
    if parts.scheme in ("", "portal") and not parts.netloc and path.startswith(_STATIC_PREFIX):
        static_root = os.path.realpath(current_app.static_folder)
        full = os.path.realpath(os.path.join(static_root, path[len(_STATIC_PREFIX) :]))
        if full.startswith(static_root + os.sep) and os.path.isfile(full):
            return full
    raise RefusedURL(f"PDF rendering may not fetch {parts.scheme or 'relative'} URLs")


_MIME = {
    ".css": "text/css",
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".ttf": "font/ttf",
    ".woff2": "font/woff2",
}
_fetcher_class = None


def _fetcher():
    """A weasyprint URLFetcher that serves data: URLs and the portal's static files only."""
    global _fetcher_class
    if _fetcher_class is None:
        urls = _weasyprint().urls

        class StaticOnlyFetcher(urls.URLFetcher):
            def fetch(self, url, headers=None):
                if url.startswith("data:"):
                    return super().fetch(url, headers)
                full = resolve_static(url)
                with open(full, "rb") as fh:
                    data = fh.read()
                mime = _MIME.get(os.path.splitext(full)[1].lower(), "application/octet-stream")
                return urls.URLFetcherResponse(url, data, {"Content-Type": mime}, 200)

        _fetcher_class = StaticOnlyFetcher
    # Not fail_on_errors: weasyprint would raise a BaseException; a refused resource is
    # left out of the document and logged instead.
    return _fetcher_class(allowed_protocols=("data", "portal"))


def html_to_pdf(html: str) -> bytes:
    """Render an HTML string; relative URLs resolve against portal:/ (static files only)."""
    wp = _weasyprint()
    doc = wp.HTML(string=html, base_url="portal:/", url_fetcher=_fetcher())
    return doc.write_pdf()


def render_pdf(template, **ctx) -> bytes:
    return html_to_pdf(render_template(template, **ctx))


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
