"""Billing: invoice PDF rendering and stored-PDF downloads, the invoice page and the list.

Seed: a 3-line invoice (visit, fee, adjustment) for the first bench client, issued, so its
PDF is stored; then 5,000 issued invoices over the bench's clients (two lines each, paid,
open, partly paid or void, with their payments), inserted in bulk.
Figures: invoice_pdf_render_median (the portal's render: lines read from the database,
the template, WeasyPrint with the static-only URL fetcher) vs
invoice_pdf_bare_weasyprint_median (WeasyPrint alone on the same HTML, files read by
its default fetcher); target: portal / bare <= 1.3.
wrk targets: invoice_pdf_download (the stored PDF, as the owner downloads it), >= 0.5 x
bare Flask requests per second; invoice_page and billing_overview (as the owner), >= 0.35.
"""

import datetime as dt
import os

from flask import render_template
from peewee import chunked

from portal import clock
from portal.models.billing import Invoice, InvoiceCounter, InvoiceLine, Payment, StoredDocument

ORDER = 40
SEED_VERSION = 2
N_INVOICES = 5000
MAX_RENDER_RATIO = 1.3
MIN_DOWNLOAD_RATIO = 0.5
MIN_PAGE_RATIO = 0.35


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
    _bulk_invoices(ctx)


def _bulk_invoices(ctx):
    """N_INVOICES issued invoices: inserted as drafts with their lines (the line triggers
    allow lines only on drafts), then issued by status in one UPDATE each."""
    rng, practice = ctx["rng"], ctx["practice"]
    providers = ctx["providers"]
    now = clock.utcnow()
    first = Invoice.select().where(Invoice.practice == practice).count()
    plan = []
    for n in range(N_INVOICES):
        client_id = ctx["clients"][0] if n % 500 == 0 else rng.choice(ctx["clients"])
        r = rng.random()
        status = (
            "paid" if r < 0.6 else "open" if r < 0.85 else "partially_paid" if r < 0.95 else "void"
        )
        plan.append((client_id, status, now - dt.timedelta(days=N_INVOICES - n)))
    rows = [
        {
            "practice": practice.id,
            "client": client_id,
            "number": f"INV-{first + n + 1:06d}",
            "status": "draft",
            "issued_at": at,
            "due_date": (at + dt.timedelta(days=14)).date(),
            "total_cents": 13000,
            "reason": "visit",
            "created_at": at,
        }
        for n, (client_id, _, at) in enumerate(plan)
    ]
    for batch in chunked(rows, 500):
        Invoice.insert_many(batch).execute()
    # The numbers used here are taken: the practice's sequence goes on after them (an
    # invoice issued later by a service, as the client side's seed does, gets the next).
    InvoiceCounter.insert(practice=practice.id, last_number=0).on_conflict_ignore().execute()
    InvoiceCounter.update(last_number=first + N_INVOICES).where(
        InvoiceCounter.practice == practice.id
    ).execute()
    ids = [
        i.id
        for i in Invoice.select(Invoice.id)
        .where((Invoice.practice == practice) & (Invoice.status == "draft"))
        .order_by(Invoice.id)
    ]
    lines, pays, by_status = [], [], {}
    for inv_id, (client_id, status, at) in zip(ids, plan, strict=True):
        provider = rng.choice(providers).id
        base = {"practice": practice.id, "invoice": inv_id, "provider": provider}
        lines.append(
            {
                **base,
                "position": 1,
                "kind": "visit",
                "description": "60-minute massage",
                "service_date": at.date(),
                "cpt_code": "97124",
                "unit_cents": 9500,
                "amount_cents": 9500,
            }
        )
        lines.append(
            {
                **base,
                "position": 2,
                "kind": "visit",
                "description": "Hot stones add-on",
                "service_date": at.date(),
                "unit_cents": 3500,
                "amount_cents": 3500,
            }
        )
        paid = {"paid": 13000, "partially_paid": 5000}.get(status, 0)
        if paid:
            pays.append(
                {
                    "practice": practice.id,
                    "client": client_id,
                    "invoice": inv_id,
                    "method": "cash",
                    "amount_cents": paid,
                    "received_at": at,
                    "created_at": at,
                }
            )
        by_status.setdefault(status, []).append(inv_id)
    for model, data in ((InvoiceLine, lines), (Payment, pays)):
        for batch in chunked(data, 500):
            model.insert_many(batch).execute()
    paid_cents = {"paid": 13000, "partially_paid": 5000, "open": 0, "void": 0}
    for status, group in by_status.items():
        for batch in chunked(group, 500):
            Invoice.update(
                status=status,
                paid_cents=paid_cents[status],
                voided_at=now if status == "void" else None,
            ).where(Invoice.id.in_(list(batch))).execute()


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
    owner = ctx["owner_email"]
    page = {"min_ratio": MIN_PAGE_RATIO}
    return [
        (
            "invoice_pdf_download",
            f"/provider/billing/documents/{doc.id}",
            owner,
            {"min_ratio": MIN_DOWNLOAD_RATIO},
        ),
        ("invoice_page", f"/provider/billing/invoices/{inv.id}", owner, page),
        ("billing_overview", "/provider/billing/", owner, page),
    ]
