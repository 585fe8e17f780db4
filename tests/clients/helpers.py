"""Builders for the clients/insurance tests: payers, policies, images."""

import datetime as dt
import io

from PIL import Image

from portal.models import InsurancePolicy, IntakeField, IntakeForm, Payer


def payer(practice, **kw):
    defaults = dict(practice=practice, name="Blue Shield", payer_code="BS001")
    defaults.update(kw)
    return Payer.create(**defaults)


def policy(practice, client, payer_obj=None, **kw):
    defaults = dict(
        practice=practice,
        client=client,
        payer=payer_obj or payer(practice),
        member_id="XYZ123456",
        effective_date=dt.date(2026, 1, 1),
    )
    defaults.update(kw)
    return InsurancePolicy.create(**defaults)


def intake_form(practice):
    form = IntakeForm.create(practice=practice, title="Health history")
    IntakeField.create(
        practice=practice,
        form=form,
        position=1,
        label="Reason for visit",
        field_type="text",
        required=True,
    )
    IntakeField.create(
        practice=practice,
        form=form,
        position=2,
        label="Blood clots?",
        field_type="yes_no",
        flag=True,
        flag_label="Contraindication: blood clots",
    )
    IntakeField.create(
        practice=practice,
        form=form,
        position=3,
        label="Pressure",
        field_type="choice",
        choices="Light\nFirm",
    )
    IntakeField.create(
        practice=practice,
        form=form,
        position=4,
        label="I consent",
        field_type="checkbox",
        required=True,
    )
    return form


def png_bytes(size=(64, 40), color=(20, 120, 200)):
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, "PNG")
    return buf.getvalue()


def jpeg_bytes(size=(64, 40), color=(200, 120, 20), exif=None):
    buf = io.BytesIO()
    im = Image.new("RGB", size, color)
    if exif is not None:
        im.save(buf, "JPEG", exif=exif)
    else:
        im.save(buf, "JPEG")
    return buf.getvalue()


def gps_exif():
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    gps = {1: "N", 2: (45.0, 31.0, 12.0), 3: "W", 4: (122.0, 40.0, 30.0)}
    exif[0x8825] = gps  # GPSInfo IFD
    return exif
