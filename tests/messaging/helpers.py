"""Builders for messaging tests: real images (with EXIF and GPS), refused files, an
appointment and an invoice, and threads made through the service."""

import datetime as dt
import io
import os

from PIL import Image

from portal import clock
from portal.models import User
from portal.models.scheduling import Appointment, AppointmentType
from portal.services import uploads
from portal.services.messaging import threads as msg
from tests import pdf_samples

SVG = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
)
HTML = b"<!doctype html><html><body><script>alert(document.cookie)</script></body></html>"
GIF_HTML = b"GIF89a/*\x01\x00\x01\x00\x00\x00\x00;*/=1;<html><script>alert(1)</script></html>"
PDF_HTML = b"%PDF-1.4\n<html><script>alert(1)</script></html>\n%%EOF\n"
PDF_OK = pdf_samples.classic()  # a one-page PDF with nothing active in it
MARKUP = b"<script>alert(1)</script>"


def photo(width=640, height=480, gps=True):
    """A JPEG like a phone's: EXIF with a camera model and GPS coordinates."""
    im = Image.new("RGB", (width, height), (200, 120, 90))
    exif = Image.Exif()
    exif[0x0110] = "PhoneCam 12"  # Model
    if gps:
        exif[0x8825] = {1: "N", 2: (45.0, 31.0, 12.0), 3: "W", 4: (122.0, 40.0, 30.0)}
    out = io.BytesIO()
    im.save(out, "JPEG", exif=exif.tobytes(), quality=90)
    return out.getvalue()


def jpeg_with_markup():
    """A real JPEG that carries an HTML script in a comment (a JPEG/HTML polyglot)."""
    data = photo(gps=False)
    comment = b"\xff\xfe" + (len(MARKUP) + 2).to_bytes(2, "big") + MARKUP
    return data[:2] + comment + data[2:]


def stored_files(app):
    path = os.path.join(app.instance_path, "uploads")
    return sorted(os.listdir(path)) if os.path.isdir(path) else []


def user(u):
    """A fresh User row (the factories' objects may be stale)."""
    return User.get_by_id(u.id)


def thread(
    side,
    client=None,
    sender=None,
    subject="Question about my back",
    body="Hello",
    to="therapist",
    **kw,
):
    client = client or side.c1
    sender = sender or (side.cu1 if client.id == side.c1.id else side.cu2)
    return msg.start_thread(client, user(sender), subject, body, to, **kw)


def appointment(side, client=None, days_ahead=2):
    atype = AppointmentType.create(
        practice=side.practice, name="60-minute massage", duration_minutes=60, price_cents=9500
    )
    start = clock.utcnow().replace(microsecond=0, second=0, minute=0) + dt.timedelta(
        days=days_ahead
    )
    return Appointment.create(
        practice=side.practice,
        client=client or side.c1,
        provider=side.provider,
        appointment_type=atype,
        starts_at=start,
        ends_at=start + dt.timedelta(minutes=60),
        blocked_until=start + dt.timedelta(minutes=60),
    )


def invoice(side, client=None, issue=False):
    from portal.services import invoicing

    return invoicing.create_invoice(
        practice_id=side.practice.id,
        client_id=(client or side.c1).id,
        lines=[{"kind": "visit", "description": "60-minute massage", "unit_cents": 9500}],
        issue=issue,
    )


def read_back(stored_name):
    return uploads.load(stored_name)
