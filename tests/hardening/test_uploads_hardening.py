"""Issue 9, defects 5 and 10: uploaded PDFs are opened with a real parser (pikepdf) and every
object is resolved, compressed object streams included; active content is refused. Images
over 25 megapixels are refused from the header, before any decoding."""

import io
import subprocess
import sys
import zlib

import pikepdf
import pytest
from PIL import Image, ImageFile

from portal.models import CardImage
from portal.services import uploads
from tests.clients import helpers as h
from tests.conftest import login
from tests.pdf_samples import with_objstm

ACTIVE = "scripts, actions or embedded files"


JS_ACTION = b"<< /S /JavaScript /JS (app.alert\\(1\\)) >>"


def test_the_attack_pdf_is_real():
    """The sample is what the attack run used: a parser resolves /OpenAction to JavaScript."""
    data = with_objstm(JS_ACTION)
    assert len(data) < 800
    with pikepdf.open(io.BytesIO(data)) as pdf:
        assert pdf.Root.OpenAction.S == "/JavaScript"


def test_javascript_in_an_ascii_hex_object_stream_is_refused(app):
    with app.test_request_context(), pytest.raises(uploads.UploadError, match=ACTIVE):
        uploads.inspect(with_objstm(JS_ACTION))


@pytest.mark.parametrize(
    "hidden, extra",
    [
        (b"<< /S /Launch /F (cmd.exe) >>", b"/OpenAction 4 0 R"),
        (b"<< /S /SubmitForm /F (https://evil.example) >>", b"/OpenAction 4 0 R"),
        (b"<< /O << /S /JavaScript /JS (x) >> >>", b"/AA 4 0 R"),
        (b"<< /S /GoToR /F (other.pdf) /D [0 /Fit] >>", b"/OpenAction 4 0 R"),
        (b"<< /JavaScript << /Names [(a) << /S /JavaScript /JS (x) >>] >> >>", b"/Names 4 0 R"),
        (
            b"<< /EmbeddedFiles << /Names [(a.exe) << /Type /Filespec /F (a.exe) >>] >> >>",
            b"/Names 4 0 R",
        ),
        (b"<< /Fields [] /XFA [(x) 0 0 R] >>", b"/AcroForm 4 0 R"),
        (b"<< /Type /Filespec /F (x.exe) /EF << /F 0 0 R >> >>", b"/Extra 4 0 R"),
        (b"<< /Type /Annot /Subtype /RichMedia /Rect [0 0 1 1] >>", b"/Extra 4 0 R"),
        (b"<< /S /J#61vaScript /J#53 (x) >>", b"/OpenAction 4 0 R"),
        (b"<< /S /GoTo /D [3 0 R /Fit] >>", b"/OpenAction 4 0 R"),  # an action, all the same
    ],
    ids=[
        "launch",
        "submitform",
        "catalog-aa",
        "gotor",
        "names-javascript",
        "embedded-files",
        "xfa",
        "filespec-ef",
        "richmedia",
        "hex-escaped-names",
        "openaction-action",
    ],
)
@pytest.mark.parametrize("filter_name", ["ASCIIHexDecode", "FlateDecode"])
def test_active_content_in_object_streams_is_refused(app, hidden, extra, filter_name):
    data = with_objstm(hidden, filter_name=filter_name, catalog_extra=extra)
    with app.test_request_context(), pytest.raises(uploads.UploadError, match=ACTIVE):
        uploads.inspect(data)


def test_a_plain_scanned_pdf_is_accepted_and_stored_as_checked(app, tmp_path):
    """An ordinary PDF (opening at page 1, a destination, not an action) is accepted; what is
    stored is the parser's rewrite, which pdftotext reads."""
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(200, 200))
    content = pdf.make_stream(b"BT /F1 12 Tf 20 100 Td (Member ID XYZ123) Tj ET")
    pdf.pages[0].obj.Contents = content
    pdf.pages[0].obj.Resources = pikepdf.Dictionary(
        Font=pikepdf.Dictionary(
            F1=pikepdf.Dictionary(
                Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name.Helvetica
            )
        )
    )
    pdf.Root.OpenAction = pikepdf.Array([pdf.pages[0].obj, pikepdf.Name.Fit])
    buf = io.BytesIO()
    pdf.save(buf, object_stream_mode=pikepdf.ObjectStreamMode.generate)
    with app.test_request_context():
        body, kind, w, h_ = uploads.inspect(buf.getvalue())
    assert kind == uploads.PDF and body.startswith(b"%PDF-")
    path = tmp_path / "card.pdf"
    path.write_bytes(body)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, check=True).stdout
    assert b"Member ID XYZ123" in text


def test_encrypted_or_broken_pdfs_get_a_clear_message(app):
    pdf = pikepdf.new()
    pdf.add_blank_page()
    buf = io.BytesIO()
    pdf.save(buf, encryption=pikepdf.Encryption(user="secret", owner="owner"))
    with app.test_request_context():
        with pytest.raises(uploads.UploadError, match="password"):
            uploads.inspect(buf.getvalue())
        with pytest.raises(uploads.UploadError):
            uploads.inspect(b"%PDF-1.7\n" + b"\x00garbage" * 50 + b"\n%%EOF\n")


def test_the_attack_pdf_is_refused_through_the_upload_form(app, client, world):
    pol = h.policy(world.a.practice, world.a.c1)
    login(client, world.a.frontdesk)
    r = client.post(
        f"/provider/policies/{pol.id}/cards",
        data={"side": "front", "file": (io.BytesIO(with_objstm(JS_ACTION)), "card.pdf")},
        content_type="multipart/form-data",
    )
    assert r.status_code == 400
    assert ACTIVE in r.get_data(as_text=True)
    assert CardImage.select().count() == 0


# --- 10: a pixel cap before decoding ---------------------------------------------------------


def _png_bytes_of(width, height):
    buf = io.BytesIO()
    Image.new("1", (width, height)).save(buf, "PNG")  # 1-bit: a tiny file, many pixels
    return buf.getvalue()


def test_a_40_megapixel_png_of_100_kb_is_refused_before_decoding(app, monkeypatch):
    data = _png_bytes_of(7300, 5440)  # 39.7 megapixels
    assert len(data) < 200_000

    def no_decoding(self, *a, **kw):
        raise AssertionError("the image was decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decoding)
    with app.test_request_context(), pytest.raises(uploads.UploadError, match="25 megapixels"):
        uploads.inspect(data)


def test_a_phone_photo_of_24_megapixels_passes(app):
    data = _png_bytes_of(6000, 4000)
    with app.test_request_context():
        body, kind, w, h_ = uploads.inspect(data)
    assert kind == uploads.PNG and max(w, h_) == uploads.MAX_SIDE


def test_the_pixel_cap_is_one_shared_check(app):
    """Attachments added later use the same check: uploads.check_pixels()."""
    with app.test_request_context():
        uploads.check_pixels(6000, 4000)
        with pytest.raises(uploads.UploadError, match="25 megapixels"):
            uploads.check_pixels(7300, 5440)


def test_a_compressed_bomb_is_refused_before_the_parser_and_bounded_inside_it(app):
    """The web process refuses a stream that inflates past 50 MB without parsing; the parser's
    own process is limited in memory and CPU, so even a bomb it is handed directly costs
    only that process, and what comes back holds no active content."""
    # 300 MB of zeros in about 300 KB: after a full flush each 1 MB block deflates to the
    # same bytes, so one is repeated (the checksum at the end is wrong; nobody gets there).
    z = zlib.compressobj(9)
    chunk = b"\0" * (1 << 20)
    first = z.compress(chunk) + z.flush(zlib.Z_FULL_FLUSH)
    block = z.compress(chunk) + z.flush(zlib.Z_FULL_FLUSH)
    compressed = first + block * 299 + z.flush()
    data = with_objstm(b"<< /S /JavaScript /JS (x) >>", filter_name="FlateDecode")
    # Swap the object stream's content for the bomb (its /Length follows).
    head, _, rest = data.partition(b"/Filter /FlateDecode /Length ")
    length, _, rest = rest.partition(b" >>\nstream\n")
    old = rest[: int(length)]
    bomb = data.replace(old, compressed).replace(
        b"/Length " + length + b" >>", b"/Length %d >>" % len(compressed)
    )
    assert len(bomb) < 1_000_000
    with app.test_request_context(), pytest.raises(uploads.UploadError, match="too complex"):
        uploads.inspect(bomb)
    # The checker run as uploads runs it, with a 200 MB limit instead of 768 MB for speed.
    done = subprocess.run(
        [sys.executable, "-I", uploads.PDF_CHECKER, "200"],
        input=bomb,
        capture_output=True,
        timeout=60,
    )
    assert done.returncode in (0, 3), done.stderr[-500:]
    assert b"/JavaScript" not in done.stdout
