"""Card uploads: type by content, re-encoding without metadata, limits, serving headers."""

import io
import struct
import zlib

import pikepdf
import pytest
from PIL import Image

from portal.models import AuditLog, CardImage
from portal.services import uploads
from tests import pdf_samples
from tests.clients import helpers as h
from tests.conftest import login


def _png_header_only(width, height):
    """A PNG whose header claims width x height: nothing beyond the header is real."""

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


SVG = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
)
HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"
GIF_HTML = b"GIF89a/*\x01\x00\x01\x00\x00\x00\x00;*/=1;<html><script>alert(1)</script></html>"
PDF_OK = pdf_samples.classic()
PDF_JS = pdf_samples.classic(catalog_extra=b"/OpenAction << /S /JavaScript /JS (app.alert(1)) >>")
PDF_LAUNCH = pdf_samples.classic({4: b"<< /S /Launch /F (cmd.exe) >>"})  # not even referenced
PDF_EMBED = pdf_samples.classic({4: b"<< /Type /EmbeddedFile >>"})
PDF_HEX_NAME = pdf_samples.classic({4: b"<< /S /J#61vaScript /J#53 (app.alert(1)) >>"})
PDF_COMPRESSED_JS = pdf_samples.with_objstm(
    b"<< /S /JavaScript /JS (app.alert(1)) >>", filter_name="FlateDecode"
)
PDF_HTML = b"%PDF-1.4\n<html><script>alert(1)</script></html>\n%%EOF\n"


@pytest.mark.parametrize(
    "data, message",
    [
        (SVG, "not one of those"),
        (HTML, "not one of those"),
        (GIF_HTML, "not one of those"),
        (PDF_JS, "scripts, actions or embedded files"),
        (PDF_LAUNCH, "scripts, actions or embedded files"),
        (PDF_EMBED, "scripts, actions or embedded files"),
        (PDF_HEX_NAME, "scripts, actions or embedded files"),
        (PDF_COMPRESSED_JS, "scripts, actions or embedded files"),
        (PDF_HTML, "web-page content"),
        (b"%PDF-1.4\nno end", "incomplete"),
        (b"\xff\xd8\xff\xe0" + b"junk" * 20, "could not be read"),
        (_png_header_only(20000, 20000), "too large to process"),
        (_png_header_only(9000, 9000), "too large to process"),
    ],
    ids=[
        "svg",
        "html-renamed",
        "gif-html-polyglot",
        "pdf-javascript",
        "pdf-launch",
        "pdf-embedded-file",
        "pdf-hex-escaped-name",
        "pdf-js-in-compressed-object-stream",
        "pdf-html-polyglot",
        "pdf-truncated",
        "broken-jpeg",
        "20000x20000",
        "81-megapixels",
    ],
)
def test_refused_by_content(ctx, data, message):
    with pytest.raises(uploads.UploadError, match=message):
        uploads.inspect(data)


def test_jpeg_html_polyglot_is_neutralised_by_reencoding(ctx):
    data = h.jpeg_bytes() + b"<html><script>alert(1)</script></html>"
    body, kind, w, h_ = uploads.inspect(data)
    assert kind == "image/jpeg" and (w, h_) == (64, 40)
    assert b"<script" not in body


def test_decompression_bomb_warning_is_handled_not_raised(ctx, monkeypatch):
    # Pillow warns above MAX_IMAGE_PIXELS; pytest turns warnings into errors: the
    # service must turn it into a clear refusal either way.
    monkeypatch.setattr(uploads, "MAX_PIXELS", 10**12)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    with pytest.raises(uploads.UploadError, match="too large to process"):
        uploads.inspect(h.png_bytes(size=(40, 40)))


def test_jpeg_with_gps_is_stored_without_it(ctx):
    data = h.jpeg_bytes(exif=h.gps_exif())
    assert Image.open(io.BytesIO(data)).getexif().get(0x8825)  # the original has GPS
    assert b"PhoneMaker" in data
    info = uploads.store(data)
    stored = uploads.load(info["stored_name"])
    im = Image.open(io.BytesIO(stored))
    assert im.format == "JPEG"
    assert not im.getexif()
    assert "exif" not in im.info
    assert b"PhoneMaker" not in stored and b"Exif" not in stored


def test_big_photo_is_scaled_down_and_png_keeps_format(ctx):
    info = uploads.store(h.png_bytes(size=(3000, 2000)))
    assert info["content_type"] == "image/png"
    assert (info["width"], info["height"]) == (2400, 1600)
    assert info["stored_name"].endswith(".png") and len(info["stored_name"]) == 36


def test_pdf_is_stored_as_the_parser_rewrote_it(ctx):
    """What is stored is qpdf's rewrite (only the objects it reached and checked)."""
    padded = PDF_OK[:-6] + b"% junk a lenient reader might look at\n%%EOF\n"
    info = uploads.store(padded)
    stored = uploads.load(info["stored_name"])
    assert stored.startswith(b"%PDF-") and b"junk" not in stored
    with pikepdf.open(io.BytesIO(stored)) as pdf:
        assert len(pdf.pages) == 1


def _upload(client, policy_id, data, name, side="front"):
    return client.post(
        f"/provider/policies/{policy_id}/cards",
        data={"side": side, "file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


@pytest.mark.parametrize(
    "data, name, message",
    [
        (SVG, "card.svg", "not one of those"),
        (HTML, "card.jpg", "not one of those"),
        (GIF_HTML, "card.gif", "not one of those"),
        (_png_header_only(20000, 20000), "huge.png", "too large to process"),
        (
            b"\xff\xd8\xff" + b"\0" * (11 * 1024 * 1024),
            "big.jpg",
            "That file is 11.0 MB; the limit is 10 MB",
        ),
    ],
    ids=["svg", "html-as-jpg", "gif-html-polyglot", "20000x20000", "11MB"],
)
def test_staff_upload_refused_with_message_next_to_the_field(
    app, client, world, data, name, message
):
    pol = h.policy(world.a.practice, world.a.c1)
    login(client, world.a.frontdesk)
    r = _upload(client, pol.id, data, name)
    assert r.status_code == 400
    page = r.get_data(as_text=True)
    assert 'id="card-file-error"' in page and message in page
    assert CardImage.select().count() == 0
    assert AuditLog.select().where(AuditLog.action == "card.refused").count() == 1


def test_staff_upload_and_serve_with_no_store(app, client, world):
    pol = h.policy(world.a.practice, world.a.c1)
    login(client, world.a.frontdesk)
    assert _upload(client, pol.id, h.jpeg_bytes(exif=h.gps_exif()), "front.png").status_code == 302
    assert _upload(client, pol.id, PDF_OK, "back.jpg", side="back").status_code == 302
    front = CardImage.get(CardImage.side == "front")
    back = CardImage.get(CardImage.side == "back")
    assert front.content_type == "image/jpeg" and back.content_type == "application/pdf"
    r = client.get(f"/provider/cards/{front.id}")
    assert r.status_code == 200 and r.mimetype == "image/jpeg"
    assert "no-store" in r.headers["Cache-Control"]
    assert r.headers["Content-Disposition"] == 'inline; filename="card-front.jpg"'
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert b"PhoneMaker" not in r.data
    r = client.get(f"/provider/cards/{back.id}")
    assert r.headers["Content-Disposition"] == 'attachment; filename="card-back.pdf"'
    assert AuditLog.select().where(AuditLog.action == "card.view").count() == 2
    assert AuditLog.select().where(AuditLog.action == "card.upload").count() == 2
    # a new front replaces the old one on the page; the old row stays (history)
    assert _upload(client, pol.id, h.png_bytes(), "again.png").status_code == 302
    assert CardImage.select().where(CardImage.replaced_at.is_null(False)).count() == 1


def test_file_is_outside_static_and_random_named(app, client, world):
    import os

    pol = h.policy(world.a.practice, world.a.c1)
    login(client, world.a.frontdesk)
    _upload(client, pol.id, h.png_bytes(), "my-card.png")
    card = CardImage.get()
    path = os.path.join(app.instance_path, "uploads", card.stored_name)
    assert os.path.isfile(path)
    assert "my-card" not in card.stored_name
    assert client.get("/static/../instance/uploads/" + card.stored_name).status_code == 404


def test_real_pdfs_pass_the_check(ctx):
    from portal.pdf import render_pdf

    buf = io.BytesIO()
    Image.new("RGB", (300, 200), (10, 20, 30)).save(buf, "PDF")
    for pdf in (buf.getvalue(), render_pdf("pdf/_base.html", practice=_Practice())):
        body, kind, _w, _h = uploads.inspect(pdf)
        assert kind == "application/pdf"
        with pikepdf.open(io.BytesIO(pdf)) as before, pikepdf.open(io.BytesIO(body)) as after:
            assert len(after.pages) == len(before.pages) >= 1


class _Practice:
    name = "Harbor Massage"
    address1 = address2 = city = state = postal_code = phone = ""


def test_upload_without_a_file_says_so(app, client, world):
    pol = h.policy(world.a.practice, world.a.c1)
    login(client, world.a.frontdesk)
    r = client.post(f"/provider/policies/{pol.id}/cards", data={"side": "front"})
    assert r.status_code == 400
    assert "Choose a photo or PDF of the card." in r.get_data(as_text=True)
    r = _upload(client, pol.id, b"", "empty.jpg")
    assert r.status_code == 400
    assert CardImage.select().count() == 0
