"""render_pdf(template, **ctx) -> bytes. The only module importing weasyprint and pikepdf.

WeasyPrint fetches nothing from the network or the file system: the URL fetcher serves
only the portal's own static files (and data: URLs) and refuses everything else.

pikepdf (qpdf) works on finished PDFs: `underlay` puts one page under another (a form
drawn once, under each claim's values), `shift` moves a page's content (calibrated
printing on pre-printed forms) and `merge` joins documents into one (a batch of claims).
"""

import hashlib
import io
import os
from urllib.parse import urlsplit

import pikepdf
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


# --- finished PDFs (pikepdf) ----------------------------------------------------------------

MM_PT = 72 / 25.4


def underlay(data: bytes, under: bytes) -> bytes:
    """`data` with the first page of `under` drawn beneath each of its pages."""
    with pikepdf.open(io.BytesIO(data)) as doc, pikepdf.open(io.BytesIO(under)) as back:
        for page in doc.pages:
            page.add_underlay(back.pages[0])
        return _save(doc)


def shift(data: bytes, right_mm: float, down_mm: float) -> bytes:
    """Every page's content moved right and down by millimetres (negative: left, up)."""
    if not right_mm and not down_mm:
        return data
    with pikepdf.open(io.BytesIO(data)) as doc:
        move = f"q 1 0 0 1 {right_mm * MM_PT:.3f} {-down_mm * MM_PT:.3f} cm\n".encode()
        for page in doc.pages:
            page.contents_add(pikepdf.Stream(doc, move), prepend=True)
            page.contents_add(pikepdf.Stream(doc, b"\nQ\n"))
        return _save(doc)


def merge(documents) -> bytes:
    """One PDF of every page of `documents` (bytes each), in order."""
    sources = []
    try:
        with pikepdf.new() as out:
            for data in documents:
                src = pikepdf.open(io.BytesIO(data))
                sources.append(src)  # pages are copied lazily: keep it open until saved
                out.pages.extend(src.pages)
            return _save(out)
    finally:
        for src in sources:
            src.close()


def page_count(data: bytes) -> int:
    with pikepdf.open(io.BytesIO(data)) as doc:
        return len(doc.pages)


def _save(doc) -> bytes:
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()
