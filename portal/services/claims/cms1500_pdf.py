"""CMS-1500 PDFs: a claim's form rendered, issued once and re-used while it is unchanged.

Two modes (models.claim_paper): `full` prints the values over the red form drawn by
templates/pdf/cms1500_form.html, for plain paper; `data` prints the values alone for
pre-printed red forms, moved by the practice's calibrated offsets (ClaimSettings).

How a page is made: the values go onto the print grid (cms1500_grid.py) and WeasyPrint
renders that one block of text (templates/pdf/cms1500.html); the drawn form, the same for
every claim, is rendered once per process and put under it with pikepdf (portal/pdf.py).
Drawing the form's ~300 lines and labels for each claim would cost several times the
values' rendering; placing the values as one grid costs a fraction of a box per value.

Issued PDFs are stored documents (kind 'claim') linked to their claim by a ClaimDocument
with the fingerprint of everything printed: printing an unchanged claim again returns the
stored PDF; a change to any printed value, the mode, the offsets or the form's templates
issues a new one.
"""

import hashlib
import os
import threading

import segno
from flask import current_app

from portal import audit, clock, pdf
from portal.db import database
from portal.models import ClaimDocument, ClaimSettings, StoredDocument
from portal.models.claim_paper import MODE_DATA, MODE_FULL, MODES
from portal.services.claims import cms1500, cms1500_grid
from portal.services.claims.data import settings_for

FORM_RED = "#d8262c"  # the form's drop-out red
FORM_SHADE = "#fbe1e2"  # its shaded half lines
TITLE = "CMS-1500 (02/12) claim form"
DATA_TEMPLATE = "pdf/cms1500.html"
FORM_TEMPLATE = "pdf/cms1500_form.html"
STYLESHEET = "css/cms1500.css"
FINGERPRINT_FORMAT = "cms1500/1"  # bump when what a fingerprint covers changes
QR_URL = "https://www.nucc.org"  # the form's code points to the NUCC's instructions
QR_ORIGIN = (18.0, 10.0)  # points, top left of the sheet
QR_MODULE = 1.5  # points per module

_lock = threading.Lock()
_cache = {}  # "sources" and "background", each (key, value), per process


class PaperError(ValueError):
    """The PDF cannot be made; the message says why in words."""


# --- rendering ------------------------------------------------------------------------------


def _source_files():
    return (
        os.path.join(current_app.template_folder, DATA_TEMPLATE),
        os.path.join(current_app.template_folder, FORM_TEMPLATE),
        os.path.join(current_app.static_folder, STYLESHEET),
    )


def _files_key():
    return tuple(os.stat(path).st_mtime_ns for path in _source_files())


def layout_version() -> str:
    """SHA-256 of the templates and stylesheet that draw the form (read once per change)."""
    key = _files_key()
    with _lock:
        hit = _cache.get("sources")
        if hit and hit[0] == key:
            return hit[1]
    digest = hashlib.sha256(f"{FORM_RED}{FORM_SHADE}".encode())
    for path in _source_files():
        with open(path, "rb") as fh:
            digest.update(fh.read())
    version = digest.hexdigest()
    with _lock:
        _cache["sources"] = (key, version)
    return version


def _qr_modules():
    code = segno.make(QR_URL, error="m")
    x0, y0 = QR_ORIGIN
    return [
        (round(x0 + c * QR_MODULE, 2), round(y0 + r * QR_MODULE, 2))
        for r, row in enumerate(code.matrix)
        for c, dark in enumerate(row)
        if dark
    ]


def form_background() -> bytes:
    """The red form alone (no claim data): rendered on first use, then kept per process."""
    key = _files_key()
    with _lock:
        hit = _cache.get("background")
        if hit and hit[0] == key:
            return hit[1]
    data = pdf.render_pdf(
        FORM_TEMPLATE,
        g=cms1500_grid.Geometry(),
        red=FORM_RED,
        shade=FORM_SHADE,
        qr=_qr_modules(),
        qr_module=QR_MODULE,
    )
    with _lock:
        _cache["background"] = (key, data)
    return data


def render_grid(grid_text: str, mode: str, offsets=(0.0, 0.0)) -> bytes:
    """One page: the grid's text, over the drawn form (full) or moved by `offsets`
    (right and down, in millimetres) for pre-printed forms (data)."""
    if mode not in MODES:
        raise PaperError(f"Unknown print mode {mode!r}.")
    data = pdf.render_pdf(DATA_TEMPLATE, grid=grid_text, title=TITLE)
    if mode == MODE_FULL:
        return pdf.underlay(data, form_background())
    return pdf.shift(data, *offsets)


def offsets(settings) -> tuple[float, float]:
    return float(settings.print_offset_x_mm or 0), float(settings.print_offset_y_mm or 0)


def render(form: cms1500.Cms1500, mode: str, settings) -> bytes:
    return render_grid(cms1500_grid.grid(form).text(), mode, offsets(settings))


def fingerprint(grid_text: str, mode: str, settings) -> str:
    """Everything that decides what the page shows."""
    parts = [FINGERPRINT_FORMAT, mode, layout_version(), grid_text]
    if mode == MODE_DATA:
        parts.append("offsets {:.2f} {:.2f}".format(*offsets(settings)))
    return hashlib.sha256("\n\x1f".join(parts).encode()).hexdigest()


OFFSET_LIMIT_MM = 20  # the database refuses more (claim_settings CHECK)


def save_offsets(practice_id, right_mm: float, down_mm: float, user=None):
    """The owner's calibration for pre-printed forms: how far to move every value."""
    right_mm, down_mm = round(float(right_mm), 1), round(float(down_mm), 1)
    if max(abs(right_mm), abs(down_mm)) > OFFSET_LIMIT_MM:
        raise PaperError(f"Offsets go up to {OFFSET_LIMIT_MM} mm either way.")
    values = {
        ClaimSettings.print_offset_x_mm: right_mm,
        ClaimSettings.print_offset_y_mm: down_mm,
        ClaimSettings.updated_at: clock.utcnow(),
    }
    with database.atomic("IMMEDIATE"):
        ClaimSettings.insert(
            practice=practice_id,
            print_offset_x_mm=right_mm,
            print_offset_y_mm=down_mm,
            updated_at=clock.utcnow(),
        ).on_conflict(conflict_target=[ClaimSettings.practice], update=values).execute()
        audit.record(
            "claim_settings.print_offsets",
            detail="print_offset_x_mm,print_offset_y_mm",
            practice_id=practice_id,
            user=user,
        )


def calibration_pdf(settings, drawn=False) -> bytes:
    """The owner's test page: marks in known boxes, printed with the saved offsets on a
    pre-printed form (or, `drawn`, over the drawn form without offsets, to compare)."""
    x, y = offsets(settings)
    text = cms1500_grid.calibration(x, y).text()
    return render_grid(text, MODE_FULL if drawn else MODE_DATA, (x, y))


# --- issuing --------------------------------------------------------------------------------


def _filename(claim, mode):
    pcn = "".join(ch for ch in claim.patient_control_number if ch.isalnum()) or str(claim.id)
    return f"CMS1500-{pcn}{'-data-only' if mode == MODE_DATA else ''}.pdf"


def _issued(claim_id, mode, print_hash):
    return (
        ClaimDocument.select(ClaimDocument, StoredDocument)
        .join(StoredDocument)
        .where(
            (ClaimDocument.claim == claim_id)
            & (ClaimDocument.mode == mode)
            & (ClaimDocument.fingerprint == print_hash)
        )
        .first()
    )


def issue(claim, mode: str, user=None, settings=None):
    """The claim's CMS-1500 PDF as a StoredDocument: the one already issued when nothing
    printed has changed, else a new one (rendered outside the write, stored with its link
    and audit row in one transaction). Raises Cms1500Error when the claim does not fit."""
    if mode not in MODES:
        raise PaperError(f"Unknown print mode {mode!r}.")
    settings = settings or settings_for(claim.practice_id)
    grid_text = cms1500_grid.grid(cms1500.build(claim, settings)).text()
    print_hash = fingerprint(grid_text, mode, settings)
    found = _issued(claim.id, mode, print_hash)
    if found is None:
        data = render_grid(grid_text, mode, offsets(settings))
        with database.atomic("IMMEDIATE"):
            found = _issued(claim.id, mode, print_hash)  # another request may have won
            if found is None:
                document = StoredDocument.create(
                    practice=claim.practice_id,
                    client=claim.client_id,
                    kind="claim",
                    title=f"CMS-1500 ({'data only' if mode == MODE_DATA else 'full form'})",
                    filename=_filename(claim, mode),
                    data=data,
                    sha256=pdf.sha256(data),
                    size_bytes=len(data),
                    created_by=user.id if user is not None else None,
                )
                found = ClaimDocument.create(
                    practice=claim.practice_id,
                    claim=claim.id,
                    document=document,
                    mode=mode,
                    fingerprint=print_hash,
                    created_by=user.id if user is not None else None,
                )
                audit.record("claim.pdf_issue", obj=claim, detail=mode, user=user)
                return document
    audit.record("claim.pdf_reuse", obj=claim, detail=mode, user=user)
    return found.document
