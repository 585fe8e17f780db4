"""Uploads (insurance cards now, attachments later): checked by content, images re-encoded,
PDFs parsed and rewritten, stored with random names.

- JPEG, PNG or PDF, up to 10 MB (the card upload views read up to PHOTO_REQUEST_BYTES, a
  phone's full-size photo, so the 10 MB check here can answer next to the field).
- The type comes from the bytes (magic numbers, then a real Pillow decode), never the name:
  SVG, HTML, GIF (and GIF/HTML polyglots) are refused.
- Image dimensions are read from the header and capped at MAX_PIXELS (25 megapixels, more
  than a phone photo of a card needs) BEFORE anything is decoded (`check_pixels`).
- Images are decoded and re-encoded: EXIF (GPS included) and every other chunk are dropped,
  the picture is turned upright and capped at MAX_SIDE pixels.
- PDFs are opened with a real parser (qpdf, through pikepdf) in a process of its own with
  memory and CPU limits (`pdf_check.py`): every object is resolved, object streams
  included, and JavaScript, launch/submit/import actions, /OpenAction or /AA actions,
  embedded files, RichMedia and XFA are refused; what is stored is qpdf's rewrite of the
  file, holding only the objects that were checked. HTML mixed into a PDF is refused too.
- Files live under instance/uploads/ with random names; only an access-checked route serves them.
"""

import hashlib
import io
import os
import re
import secrets
import subprocess
import sys
import warnings
import zlib

from flask import current_app
from PIL import Image, ImageOps, UnidentifiedImageError

MAX_BYTES = 10 * 1024 * 1024
# What a card upload's request may carry: a phone's full-size photo is read, so the check
# below can say its size next to the field (security.body_limit on the views).
PHOTO_REQUEST_BYTES = 40 * 1024 * 1024
MAX_PIXELS = 25_000_000  # 25 megapixels: a phone photo of a card, not a 100 KB pixel bomb
MAX_SIDE = 2400  # stored images are scaled down to this on the long side
JPEG = "image/jpeg"
PNG = "image/png"
PDF = "application/pdf"
EXTENSIONS = {JPEG: "jpg", PNG: "png", PDF: "pdf"}

STREAM = re.compile(rb"stream\r?\n(.*?)endstream", re.S)
MAX_INFLATED = 50 * 1024 * 1024
MARKUP = re.compile(rb"<\s*(html|script|svg|body|iframe|object|embed|!doctype)", re.I)
PDF_CHECKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pdf_check.py")
PDF_CHECK_SECONDS = 30
# Said of an insurance card and of a message's attachment alike: no word of either.
PDF_REFUSALS = {
    "active": "That PDF contains scripts, actions or embedded files and cannot be accepted. "
    "Upload a photo of it instead.",
    "password": "That PDF is protected by a password. Save it without one, or upload a photo "
    "of it instead.",
    "damaged": "That PDF is damaged and could not be read. Save it again and retry, or "
    "upload a photo of it instead.",
    "complex": "That PDF is too complex to check. Upload a photo of it instead.",
}


class UploadError(ValueError):
    """A refused upload; the message is shown next to the field."""


def _mb(n):
    return f"{n / (1024 * 1024):.1f} MB"


def sniff(data):
    """The content type from the first bytes, or None."""
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if data.startswith(b"%PDF-"):
        return PDF
    return None


def read_upload(storage):
    """Read a werkzeug FileStorage up to one byte past the limit."""
    if storage is None:
        raise UploadError("Choose a file to upload.")
    data = storage.read(MAX_BYTES + 1)
    if not data:
        raise UploadError("That file is empty. Choose the photo or PDF again.")
    if len(data) > MAX_BYTES:
        storage.seek(0, os.SEEK_END)
        size = storage.tell()
        raise UploadError(
            f"That file is {_mb(size)}; the limit is 10 MB. "
            "Take the photo at a lower resolution or upload a smaller file."
        )
    return data


def _inflated_streams(data):
    """The decompressed content of each Flate stream, bounded so a compressed bomb is
    refused before the parser would inflate it."""
    budget = MAX_INFLATED
    for m in STREAM.finditer(data):
        d = zlib.decompressobj()
        try:
            out = d.decompress(m.group(1), budget + 1)
        except zlib.error:
            continue
        budget -= len(out)
        if budget < 0:
            raise UploadError(PDF_REFUSALS["complex"])
        yield out


def check_pdf(data):
    """Refuse a PDF with active content (raises UploadError) or return the bytes to store:
    qpdf's rewrite of the file (see pdf_check.py)."""
    if b"%%EOF" not in data[-2048:]:
        raise UploadError("That PDF is incomplete or damaged. Save it again and retry.")
    for part in (data, *_inflated_streams(data)):
        if MARKUP.search(part):
            raise UploadError("That file mixes a PDF with web-page content and cannot be accepted.")
    try:
        done = subprocess.run(
            [sys.executable, "-I", PDF_CHECKER],
            input=data,
            capture_output=True,
            timeout=PDF_CHECK_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise UploadError(PDF_REFUSALS["complex"]) from exc
    if done.returncode == 0 and done.stdout.startswith(b"%PDF-"):
        return done.stdout
    reason = done.stdout.decode("ascii", "replace") if done.returncode == 3 else "complex"
    raise UploadError(PDF_REFUSALS.get(reason, PDF_REFUSALS["complex"]))


def check_pixels(width, height):
    """Refuse an image of more than MAX_PIXELS, from the size its header states (call it
    before decoding anything)."""
    if width * height > MAX_PIXELS or width > 20000 or height > 20000:
        raise UploadError(
            f"That image is {width:,} x {height:,} pixels "
            f"({width * height / 1_000_000:.1f} megapixels), too large to process: the limit "
            f"is {MAX_PIXELS // 1_000_000} megapixels. Take the photo again at a lower "
            "resolution."
        )


def clean_image(data, kind):
    """Decode and re-encode an image: metadata dropped, upright, size-capped.
    Returns (bytes, width, height)."""
    want = "JPEG" if kind == JPEG else "PNG"
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            im = Image.open(io.BytesIO(data))
            if im.format != want:
                raise UploadError(_not_supported())
            check_pixels(*im.size)  # from the header, nothing decoded yet
            im.load()
            im = ImageOps.exif_transpose(im)
            if im.mode not in ("RGB", "L", "RGBA", "LA") or (kind == JPEG and im.mode != "RGB"):
                im = im.convert("RGBA" if kind == PNG and "A" in im.getbands() else "RGB")
            im.thumbnail((MAX_SIDE, MAX_SIDE))
            clean = Image.new(im.mode, im.size)
            clean.paste(im)
            out = io.BytesIO()
            if kind == JPEG:
                clean.save(out, "JPEG", quality=85, optimize=True)
            else:
                clean.save(out, "PNG", optimize=True)
        except UploadError:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise UploadError(
                f"That image is too large to process. Use a photo of up to "
                f"{MAX_PIXELS // 1_000_000} megapixels."
            ) from exc
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
            raise UploadError(
                "That image could not be read: it may be damaged or not really a "
                "JPEG or PNG. Take the photo again."
            ) from exc
    return out.getvalue(), clean.size[0], clean.size[1]


def _not_supported():
    return (
        "Upload a JPEG or PNG photo, or a PDF. This file is not one of those "
        "(the portal checks the content, not the file name)."
    )


def inspect(data):
    """Check bytes and return (clean bytes, content type, width, height); raises UploadError."""
    if len(data) > MAX_BYTES:
        raise UploadError(f"That file is {_mb(len(data))}; the limit is 10 MB.")
    kind = sniff(data)
    if kind is None:
        raise UploadError(_not_supported())
    if kind == PDF:
        return check_pdf(data), PDF, None, None
    body, w, h = clean_image(data, kind)
    return body, kind, w, h


def upload_dir():
    path = os.path.join(current_app.instance_path, "uploads")
    os.makedirs(path, mode=0o700, exist_ok=True)
    return path


def store(data):
    """Check, clean and write `data`; returns a dict for CardImage's file columns."""
    body, kind, w, h = inspect(data)
    name = f"{secrets.token_hex(16)}.{EXTENSIONS[kind]}"
    path = os.path.join(upload_dir(), name)
    tmp = path + ".part"
    with open(tmp, "wb") as fh:
        fh.write(body)
    os.replace(tmp, path)
    return {
        "stored_name": name,
        "content_type": kind,
        "size_bytes": len(body),
        "sha256": hashlib.sha256(body).hexdigest(),
        "width": w,
        "height": h,
    }


def path_for(stored_name):
    if not re.fullmatch(r"[0-9a-f]{32}\.(jpg|png|pdf)", stored_name or ""):
        raise FileNotFoundError(stored_name)
    return os.path.join(upload_dir(), stored_name)


def load(stored_name):
    with open(path_for(stored_name), "rb") as fh:
        return fh.read()


def remove(stored_name):
    try:
        os.remove(path_for(stored_name))
    except FileNotFoundError:
        pass
