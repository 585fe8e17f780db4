"""The owner's pages: practice settings (validation next to the field, logo), providers,
staff invitations, the audit log with its filters (page and HTMX fragment), and the outbox."""

import datetime as dt
import html
import io
import re

import pytest
from PIL import Image

from portal import clock
from portal.models import AuditLog, OutboxMessage, Practice, Provider, User
from tests.conftest import login


@pytest.fixture
def owner(client, world):
    login(client, world.a.owner)
    return client


def _practice_form(practice, **changes):
    form = {
        "name": practice.name,
        "address1": practice.address1,
        "city": practice.city,
        "state": practice.state,
        "postal_code": practice.postal_code,
        "phone": practice.phone,
        "timezone": practice.timezone,
        "ein": practice.ein,
        "npi": practice.npi,
        "taxonomy": practice.taxonomy,
        "therapists_see_all_clients": "y",
    }
    form.update(changes)
    return {k: v for k, v in form.items() if v is not None}


def _error(body, field_id):
    m = re.search(rf'<p class="error" id="{field_id}-error">([^<]*)</p>', body)
    return html.unescape(m.group(1)) if m else None


def test_practice_settings_save_and_audit(owner, world):
    p = world.a.practice
    r = owner.post(
        "/provider/settings/practice",
        data=_practice_form(p, name="Harbor Bodywork", ein="12-3456789", state="wa"),
    )
    assert r.status_code == 302
    fresh = Practice.get_by_id(p.id)
    assert fresh.name == "Harbor Bodywork" and fresh.ein == "123456789" and fresh.state == "WA"
    row = AuditLog.get(AuditLog.action == "practice.update")
    assert set(row.detail.split(",")) == {"name", "ein", "state"}
    page = owner.get("/provider/settings/practice").get_data(as_text=True)
    assert "Practice settings saved." in page and 'value="Harbor Bodywork"' in page
    # Another practice is untouched.
    assert Practice.get_by_id(world.b.practice.id).name == world.b.practice.name


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("npi", "1234567890", "An NPI has 10 digits and a valid check digit."),
        ("npi", "12345", "An NPI has 10 digits"),
        ("ein", "12-345678", "An EIN has 9 digits"),
        ("ein", "1234567890", "An EIN has 9 digits"),
        ("state", "Oregon", "Use the two-letter state code"),
        ("postal_code", "9720", "Use a 5 or 9 digit ZIP code."),
        ("taxonomy", "2257", "A taxonomy code has 10 characters"),
        ("name", "", "Enter the practice's name."),
        ("timezone", "Mars/Olympus", "Not a valid choice"),
        ("email", "not-an-address", "Enter a valid e-mail address."),
    ],
)
def test_practice_settings_refuse_bad_values_next_to_the_field(owner, world, field, value, message):
    p = world.a.practice
    r = owner.post(
        "/provider/settings/practice", data=_practice_form(p, **{field: value, "city": "Salem"})
    )
    assert r.status_code == 400
    body = r.get_data(as_text=True)
    error = _error(body, field)
    assert error and message in error, body
    assert f'aria-describedby="{field}-error"' in body or f"{field}-error" in body
    # Nothing half-written: the valid city change was not saved either.
    assert Practice.get_by_id(p.id).city == p.city


def _png(size=(120, 60), fmt="PNG"):
    buf = io.BytesIO()
    Image.new("RGB", size, (40, 110, 100)).save(buf, format=fmt)
    return buf.getvalue()


def test_logo_upload_png_and_jpeg(owner, world, app):
    p = world.a.practice
    data = _practice_form(p)
    data["logo"] = (io.BytesIO(_png()), "logo.png")
    r = owner.post("/provider/settings/practice", data=data, content_type="multipart/form-data")
    assert r.status_code == 302
    fresh = Practice.get_by_id(p.id)
    assert re.fullmatch(r"[0-9a-f]{32}\.png", fresh.logo_path)
    r = owner.get("/provider/settings/logo")
    assert r.status_code == 200 and r.mimetype == "image/png"
    img = Image.open(io.BytesIO(r.data))
    assert img.size == (120, 60)
    assert "logo" in AuditLog.get(AuditLog.action == "practice.update").detail.split(",")

    data = _practice_form(p)
    data["logo"] = (io.BytesIO(_png((1200, 300), "JPEG")), "logo.jpg")
    r = owner.post("/provider/settings/practice", data=data, content_type="multipart/form-data")
    assert r.status_code == 302
    img = Image.open(io.BytesIO(owner.get("/provider/settings/logo").data))
    assert img.size == (600, 150)  # scaled down to fit 600 x 300


@pytest.mark.parametrize(
    ("payload", "name", "message"),
    [
        (b"%PDF-1.4 this is not an image", "logo.png", "not a readable PNG or JPEG image"),
        (b"GIF89a" + b"\x00" * 100, "logo.jpg", "not a readable PNG or JPEG image"),
        (b"hello", "notes.txt", "The logo must be a PNG or JPEG image."),
    ],
)
def test_logo_upload_refuses_non_images(owner, world, payload, name, message):
    p = world.a.practice
    data = _practice_form(p, city="Salem")
    data["logo"] = (io.BytesIO(payload), name)
    r = owner.post("/provider/settings/practice", data=data, content_type="multipart/form-data")
    assert r.status_code == 400
    error = _error(r.get_data(as_text=True), "logo")
    assert error and message in error
    fresh = Practice.get_by_id(p.id)
    assert fresh.logo_path == "" and fresh.city == p.city


def test_logo_of_a_practice_without_one_is_404(owner):
    assert owner.get("/provider/settings/logo").status_code == 404


# --- providers ------------------------------------------------------------------------


def test_providers_list_add_and_edit(owner, world):
    r = owner.get("/provider/settings/providers")
    body = r.get_data(as_text=True)
    assert world.a.provider.first_name in body and world.b.provider.first_name not in body

    form = {
        "first_name": "Ana",
        "last_name": "Silva",
        "credentials": "LMT",
        "npi": "1467560003",
        "license_number": "MA-1",
        "license_state": "or",
        "taxonomy": "225700000X",
        "active": "y",
    }
    r = owner.post("/provider/settings/providers/new", data=form)
    assert r.status_code == 302
    ana = Provider.get(Provider.last_name == "Silva")
    assert ana.practice_id == world.a.practice.id and ana.license_state == "OR"
    assert AuditLog.get(AuditLog.action == "provider.save").object_id == ana.id

    r = owner.post(f"/provider/settings/providers/{ana.id}", data=dict(form, npi="1234567890"))
    assert r.status_code == 400
    assert "valid check digit" in _error(r.get_data(as_text=True), "npi")

    form.pop("active")  # unchecked box: deactivate
    r = owner.post(f"/provider/settings/providers/{ana.id}", data=dict(form, credentials="LMBT"))
    assert r.status_code == 302
    ana = Provider.get_by_id(ana.id)
    assert ana.credentials == "LMBT" and not ana.active
    body = owner.get("/provider/settings/providers").get_data(as_text=True)
    assert "Inactive" in body


def test_provider_of_another_practice_is_404(owner, world):
    assert owner.get(f"/provider/settings/providers/{world.b.provider.id}").status_code == 404
    r = owner.post(
        f"/provider/settings/providers/{world.b.provider.id}",
        data={"first_name": "X", "last_name": "Y", "taxonomy": "225700000X"},
    )
    assert r.status_code == 404
    assert Provider.get_by_id(world.b.provider.id).first_name != "X"
    assert owner.get("/provider/settings/providers/999999").status_code == 404


# --- staff --------------------------------------------------------------------------------


def test_staff_page_lists_own_staff_and_invites(owner, world):
    body = owner.get("/provider/settings/staff").get_data(as_text=True)
    assert world.a.therapist.email in body and world.b.therapist.email not in body
    assert world.a.cu1.email not in body  # client users are not staff

    r = owner.post(
        "/provider/settings/staff",
        data={
            "name": "Theo",
            "email": "Theo@Example.com",
            "role": "therapist",
            "provider": str(world.a.provider2.id),
        },
    )
    assert r.status_code == 302
    theo = User.get(User.email == "theo@example.com")
    assert theo.role == "therapist" and theo.provider_id == world.a.provider2.id
    assert theo.practice_id == world.a.practice.id and theo.password_hash is None
    msg = OutboxMessage.get(OutboxMessage.to_addr == "theo@example.com")
    assert "/account/set-password/" in msg.body
    body = owner.get("/provider/settings/staff").get_data(as_text=True)
    assert "Invited" in body and "Resend invitation" in body


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"email": "dup"}, "email", "A user with this e-mail already exists."),
        ({"role": "therapist", "provider": "0"}, "provider", "Choose the therapist record"),
        ({"email": "nope"}, "email", "Enter a valid e-mail address."),
        ({"name": ""}, "name", "Enter the person's name."),
        ({"role": "superuser"}, "role", "Not a valid choice"),
    ],
)
def test_staff_invite_refusals(owner, world, data, field, message):
    form = {"name": "Pat", "email": "pat@example.com", "role": "frontdesk", "provider": "0"}
    form.update(data)
    if form["email"] == "dup":
        form["email"] = world.a.frontdesk.email
    r = owner.post("/provider/settings/staff", data=form)
    assert r.status_code == 400
    error = _error(r.get_data(as_text=True), field)
    assert error and message in error
    assert OutboxMessage.select().count() == 0


def test_staff_invite_with_a_foreign_provider_is_404(owner, world):
    r = owner.post(
        "/provider/settings/staff",
        data={
            "name": "Pat",
            "email": "pat@example.com",
            "role": "therapist",
            "provider": str(world.b.provider.id),
        },
    )
    assert r.status_code in (400, 404)
    assert not User.select().where(User.email == "pat@example.com").exists()


def test_staff_disable_and_enable(owner, world):
    r = owner.post(f"/provider/settings/staff/{world.a.frontdesk.id}/toggle")
    assert r.status_code == 302
    assert not User.get_by_id(world.a.frontdesk.id).active
    assert AuditLog.get(AuditLog.action == "user.disable").object_id == world.a.frontdesk.id
    owner.post(f"/provider/settings/staff/{world.a.frontdesk.id}/toggle")
    assert User.get_by_id(world.a.frontdesk.id).active
    assert AuditLog.select().where(AuditLog.action == "user.enable").count() == 1


# --- audit log ---------------------------------------------------------------------------


def test_audit_log_filters_page_and_fragment(app, owner, world, monkeypatch):
    # Some history: logins by two people, a denial, and a row of the other practice.
    other = app.test_client()
    login(other, world.a.cu1)
    other.get("/portal/")
    other.get("/provider/")
    b = app.test_client()
    login(b, world.b.owner)

    r = owner.get("/provider/settings/audit")
    body = r.get_data(as_text=True)
    assert r.status_code == 200 and "<html" in body
    assert "client.view" in body and "access.denied" in body
    assert f"#{world.b.owner.id}" not in body and body.count("<tr>") >= 4

    r = owner.get("/provider/settings/audit?action=client.")
    body = r.get_data(as_text=True)
    assert "client.view" in body and "access.denied" not in body and "<html" in body

    # HTMX: just the results fragment, and the response varies on HX-Request.
    r = owner.get(f"/provider/settings/audit?user={world.a.cu1.id}", headers={"HX-Request": "true"})
    body = r.get_data(as_text=True)
    assert r.status_code == 200 and "<html" not in body
    assert body.strip().startswith('<div id="audit-results">')
    assert "client.view" in body and "access.denied" in body
    assert "HX-Request" in r.headers["Vary"]
    assert f"<td>{world.a.owner.name}</td>" not in body

    r = owner.get(f"/provider/settings/audit?client={world.a.c1.id}")
    body = r.get_data(as_text=True)
    assert "client.view" in body and "<code>login</code>" not in body

    today = clock.utcnow().date()
    r = owner.get(f"/provider/settings/audit?date_from={today + dt.timedelta(days=1)}")
    assert "No audit rows match these filters." in r.get_data(as_text=True)
    r = owner.get(f"/provider/settings/audit?date_from={today}&date_to={today}")
    assert "client.view" in r.get_data(as_text=True)


@pytest.mark.parametrize("bad", ["2026-13-45", "yesterday", "2026-02-30"])
def test_audit_log_bad_date_shows_a_message_not_an_error(owner, bad):
    r = owner.get(f"/provider/settings/audit?date_from={bad}")
    assert r.status_code == 200
    assert _error(r.get_data(as_text=True), "date_from")


def test_audit_log_pages(owner, world, app):
    with app.test_request_context():
        from portal import audit

        for i in range(60):
            audit.record("test.row", practice_id=world.a.practice.id, detail=str(i))
    r = owner.get("/provider/settings/audit?action=test.")
    body = r.get_data(as_text=True)
    assert body.count("<code>test.row</code>") == 50 and "Older" in body
    r = owner.get("/provider/settings/audit?action=test.&page=2")
    body = r.get_data(as_text=True)
    assert body.count("<code>test.row</code>") == 10 and "Newer" in body


# --- outbox --------------------------------------------------------------------------------


def test_outbox_shows_this_practice_mail_only(owner, world, app):
    from portal import mail

    with app.test_request_context():
        mail.queue("a@example.com", "Hello A", "Body A", practice=world.a.practice, kind="t")
        mail.queue("b@example.com", "Hello B", "Body B", practice=world.b.practice, kind="t")
        again = mail.queue("a@example.com", "Dup", "x", practice=world.a.practice, dedupe_key="k1")
        assert again is not None
        assert (
            mail.queue("a@example.com", "Dup", "x", practice=world.a.practice, dedupe_key="k1")
            is None
        )
    body = owner.get("/provider/settings/outbox").get_data(as_text=True)
    assert "Hello A" in body and "Body A" in body and "Hello B" not in body
    assert body.count("Dup") == 1
    assert "PORTAL_MAIL_SERVER" in body


def test_outbox_never_shows_one_time_links(owner, world, app):
    """Sent or waiting, an invitation or reset link is the recipient's alone (issue 9)."""
    from portal import auth

    with app.test_request_context():
        auth.send_reset(world.a.therapist)
    msg = OutboxMessage.get(OutboxMessage.kind == "reset")
    body = owner.get("/provider/settings/outbox").get_data(as_text=True)
    assert "/account/set-password/" not in body and "mail-retry" in body
    assert "Reset your" in body and world.a.therapist.email in body
    OutboxMessage.update(sent_at=clock.utcnow()).where(OutboxMessage.id == msg.id).execute()
    body = owner.get("/provider/settings/outbox").get_data(as_text=True)
    assert "/account/set-password/" not in body and "Delivered by e-mail" in body


def test_logo_too_big_in_bytes_or_pixels(owner, world):
    p = world.a.practice
    data = _practice_form(p)
    data["logo"] = (io.BytesIO(b"\x89PNG" + b"\x00" * (1024 * 1024 + 10)), "big.png")
    r = owner.post("/provider/settings/practice", data=data, content_type="multipart/form-data")
    assert r.status_code == 400
    assert "at most 1 MB" in _error(r.get_data(as_text=True), "logo")

    buf = io.BytesIO()
    Image.new("1", (5000, 5000)).save(buf, format="PNG")  # small file, 25 million pixels
    assert buf.tell() < 1024 * 1024
    data = _practice_form(p)
    data["logo"] = (io.BytesIO(buf.getvalue()), "huge.png")
    r = owner.post("/provider/settings/practice", data=data, content_type="multipart/form-data")
    assert r.status_code == 400
    assert "too large" in _error(r.get_data(as_text=True), "logo")
    assert Practice.get_by_id(p.id).logo_path == ""


def test_request_body_over_the_limit_is_413(tmp_path):
    from portal.db import database
    from tests.conftest import make_app

    app = make_app(tmp_path, MAX_CONTENT_LENGTH=2000)
    try:
        c = app.test_client()
        r = c.post("/login", data={"email": "a@example.com", "password": "x" * 5000})
        assert r.status_code == 413
        assert "That upload is too large." in r.get_data(as_text=True)
    finally:
        database.close()
