"""Billing: invoice PDF rendering and stored-PDF downloads.

Seed: a 3-line invoice (visit, fee, adjustment) for the first bench client, issued, so its
PDF is stored.
Figures: invoice_pdf_render_median (the portal's render: lines read from the database,
the template, WeasyPrint with the static-only URL fetcher) vs
invoice_pdf_bare_weasyprint_median (WeasyPrint alone on the same HTML, files read by
its default fetcher); target: portal / bare <= 1.3.
wrk target: invoice_pdf_download (the stored PDF, as the owner downloads it);
target: >= 0.5 x bare Flask requests per second.
"""

import os

from flask import render_template

from portal.models.billing import Invoice, StoredDocument

ORDER = 40
SEED_VERSION = 1
MAX_RENDER_RATIO = 1.3
MIN_DOWNLOAD_RATIO = 0.5


def seed(ctx):
    from portal.services import invoicing

    practice = ctx["practice"]
    provider = ctx["providers"][0]
    invoicing.create_invoice(
        practice_id=practice.id,
        client_id=ctx["clients"][0],
        lines=[
            {
                "kind": "visit",
                "description": "60-minute massage",
                "unit_cents": 10000,
                "cpt_code": "97124",
                "provider_id": provider.id,
            },
            {
                "kind": "fee",
                "description": "Late cancellation fee",
                "unit_cents": 4000,
                "provider_id": provider.id,
            },
            {"kind": "adjustment", "description": "Returning client discount", "unit_cents": -1500},
        ],
        reason="manual",
    )


def _invoice(ctx):
    return (
        Invoice.select()
        .where((Invoice.practice == ctx["practice"]) & Invoice.document.is_null(False))
        .order_by(Invoice.id)
        .first()
    )


def figures(ctx):
    from portal import pdf
    from portal.services import invoicing

    app = ctx["app"]
    with app.test_request_context():
        inv = _invoice(ctx)
        if inv is None:
            return []
        html = render_template("pdf/invoice.html", **invoicing._pdf_context(inv))
        weasy = pdf._weasyprint()
        static = os.path.realpath(app.static_folder)
        bare_html = html.replace('href="/static/', f'href="file://{static}/')

        def portal_render():
            return invoicing.render_invoice_pdf(inv)

        def bare_render():
            return weasy.HTML(string=bare_html).write_pdf()

        median = ctx["median_ms"]
        # interleave rounds so drift on a shared machine hits both alike
        portal_ms, bare_ms = [], []
        for _ in range(3):
            portal_ms.append(median(portal_render, n=7, warmup=2))
            bare_ms.append(median(bare_render, n=7, warmup=2))
        p, b = sorted(portal_ms)[1], sorted(bare_ms)[1]
    return [
        ("invoice_pdf_render_median", p, "ms"),
        ("invoice_pdf_bare_weasyprint_median", b, "ms"),
        ("invoice_pdf_render_ratio", p / b if b else None, "x"),
    ]


def checks(ctx, values):
    r = values.get("invoice_pdf_render_ratio")
    if r is None:
        return []
    return [(f"invoice_pdf_render_ratio <= {MAX_RENDER_RATIO}", r <= MAX_RENDER_RATIO)]


def wrk_targets(ctx):
    inv = _invoice(ctx)
    if inv is None:
        return []
    doc = StoredDocument.get_by_id(inv.document_id)
    return [
        (
            "invoice_pdf_download",
            f"/provider/billing/documents/{doc.id}",
            ctx["owner_email"],
            {"min_ratio": MIN_DOWNLOAD_RATIO},
        )
    ]
