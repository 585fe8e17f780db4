"""Insurance card uploads: checked by content, images re-encoded, stored with random names.

- JPEG, PNG or PDF, up to 10 MB (the app's MAX_CONTENT_LENGTH is a little higher so the
  10 MB check here can answer with a clear message next to the field).
- The type comes from the bytes (magic numbers, then a real Pillow decode), never the name:
  SVG, HTML, GIF (and GIF/HTML polyglots) are refused.
- Image dimensions are checked from the header BEFORE decoding (decompression bombs).
- Images are decoded and re-encoded: EXIF (GPS included) and every other chunk are dropped,
  the picture is turned upright and capped at MAX_SIDE pixels.
- PDFs must start with %PDF- and hold no JavaScript, launch actions, embedded files or HTML;
  they are stored as they are.
- Files live under instance/uploads/ with random names; only an access-checked route serves them.
"""

import hashlib
import io
import os
import re
import secrets
import warnings
import zlib

from flask import current_app
from PIL import Image, ImageOps, UnidentifiedImageError

MAX_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000  # 40 megapixels: any phone camera, not a 20,000 x 20,000 bomb
MAX_SIDE = 2400  # stored images are scaled down to this on the long side
JPEG = "image/jpeg"
PNG = "image/png"
PDF = "application/pdf"
EXTENSIONS = {JPEG: "jpg", PNG: "png", PDF: "pdf"}

PDF_ACTIVE = re.compile(
    rb"/(JS|JavaScript|Launch|EmbeddedFile|EmbeddedFiles|RichMedia|XFA|SubmitForm|ImportData)\b"
)
NAME_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
STREAM = re.compile(rb"stream\r?\n(.*?)endstream", re.S)
MAX_INFLATED = 50 * 1024 * 1024
MARKUP = re.compile(rb"<\s*(html|script|svg|body|iframe|object|embed|!doctype)", re.I)


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


def _unescape_names(data):
    """PDF names may spell letters as #xx (/J#61vaScript): undo that before looking."""
    return NAME_ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), data)


def _inflated_streams(data):
    """The decompressed content of each Flate stream (object streams can hide names),
    bounded so a compressed bomb cannot eat the memory."""
    budget = MAX_INFLATED
    for m in STREAM.finditer(data):
        d = zlib.decompressobj()
        try:
            out = d.decompress(m.group(1), budget + 1)
        except zlib.error:
            continue
        budget -= len(out)
        if budget < 0:
            raise UploadError("That PDF is too complex to check. Upload a photo of the card.")
        yield out


def check_pdf(data):
    if b"%%EOF" not in data[-2048:]:
        raise UploadError("That PDF is incomplete or damaged. Save it again and retry.")
    parts = [data, *_inflated_streams(data)]
    for part in parts:
        if PDF_ACTIVE.search(_unescape_names(part)):
            raise UploadError(
                "That PDF contains scripts, actions or embedded files and cannot be accepted. "
                "Upload a photo of the card instead."
            )
        if MARKUP.search(part):
            raise UploadError("That file mixes a PDF with web-page content and cannot be accepted.")


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
            w, h = im.size  # from the header, nothing decoded yet
            if w * h > MAX_PIXELS or w > 20000 or h > 20000:
                raise UploadError(
                    f"That image is {w:,} x {h:,} pixels, too large to process. "
                    "Use a photo of up to 40 megapixels."
                )
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
                "That image is too large to process. Use a photo of up to 40 megapixels."
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
        check_pdf(data)
        return data, PDF, None, None
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
