"""Two-step login (TOTP) for staff: set-up, login with a code, no reuse, and the owner's
setting that requires it for all staff."""

import time

import pyotp

from portal.models import AuditLog, Practice, User
from tests.conftest import login


def _enable(client, user):
    """Set up TOTP through the page, as a user would; returns the secret."""
    r = client.get("/account/totp")
    assert r.status_code == 200
    secret = User.get_by_id(user.id).totp_secret
    assert not User.get_by_id(user.id).totp_enabled  # pending until a code is entered
    with client.session_transaction() as s:
        assert secret not in str(dict(s))  # the secret never travels in the cookie
    assert secret in r.get_data(as_text=True)
    assert 'src="data:image/svg+xml;base64,' in r.get_data(as_text=True)
    r = client.post("/account/totp", data={"code": "123"})
    assert r.status_code == 400
    r = client.post("/account/totp", data={"code": pyotp.TOTP(secret).now()})
    assert r.status_code == 200  # the recovery codes, shown this once
    assert "Your recovery codes" in r.get_data(as_text=True)
    fresh = User.get_by_id(user.id)
    assert fresh.totp_enabled and fresh.totp_secret == secret
    r = client.get("/account/totp")
    assert "Two-step login is <strong>on</strong>" in r.get_data(as_text=True)
    assert secret not in r.get_data(as_text=True)
    return secret


def _next_code(secret):
    """The neighbour code (next 30 s step): accepted once, and not the one just used."""
    return pyotp.TOTP(secret).at(time.time() + 30)


def test_staff_enable_totp_then_login_needs_the_code(app, client, world):
    user = world.a.therapist
    login(client, user)
    secret = _enable(client, user)
    assert AuditLog.select().where(AuditLog.action == "totp.enabled").count() == 1
    client.post("/logout")

    r = login(client, user)
    assert r.status_code == 302 and r.headers["Location"] == "/login/totp"
    # Password alone does not log in.
    assert client.get("/provider/").status_code == 302
    r = client.get("/login/totp")
    assert r.status_code == 200
    # A wrong code fails.
    r = client.post("/login/totp", data={"code": "000000"})
    assert r.status_code == 401
    assert "That code is not right" in r.get_data(as_text=True)
    assert client.get("/provider/").status_code == 302
    failed = AuditLog.select().where(AuditLog.action == "login.failed").get()
    assert failed.detail == "bad totp code"
    # The right code logs in.
    code = _next_code(secret)
    r = client.post("/login/totp", data={"code": code})
    assert r.status_code == 302 and r.headers["Location"] == "/provider/"
    assert client.get("/provider/").status_code == 200

    # The same code cannot be used again (e.g. read over a shoulder).
    client.post("/logout")
    login(client, user)
    r = client.post("/login/totp", data={"code": code})
    assert r.status_code == 401
    assert client.get("/provider/").status_code == 302


def test_totp_step_expires_after_five_minutes(client, world, monkeypatch):
    user = world.a.owner
    secret = pyotp.random_base32()
    User.update(totp_secret=secret, totp_enabled=True).where(User.id == user.id).execute()
    login(client, user)
    with client.session_transaction() as s:
        s["totp_at"] -= 301
    r = client.post("/login/totp", data={"code": pyotp.TOTP(secret).now()})
    assert r.status_code == 302 and r.headers["Location"] == "/login"
    assert client.get("/provider/").status_code == 302


def test_totp_page_without_password_step_goes_back_to_login(client):
    r = client.get("/login/totp")
    assert r.status_code == 302 and r.headers["Location"] == "/login"


def test_clients_have_no_totp_set_up(client, world):
    login(client, world.a.cu1)
    assert client.get("/account/totp").status_code == 404


def test_owner_can_require_totp_for_all_staff(app, client, world):
    owner_c = app.test_client()
    login(owner_c, world.a.owner)
    practice = world.a.practice
    form = {
        "name": practice.name,
        "timezone": practice.timezone,
        "taxonomy": practice.taxonomy,
        "ein": practice.ein,
        "npi": practice.npi,
        "state": practice.state,
        "city": practice.city,
        "postal_code": practice.postal_code,
        "require_staff_totp": "y",
        "therapists_see_all_clients": "y",
    }
    r = owner_c.post("/provider/settings/practice", data=form)
    assert r.status_code == 302
    assert Practice.get_by_id(practice.id).require_staff_totp

    # A therapist without TOTP must set it up before anything else.
    r = login(client, world.a.therapist)
    assert r.headers["Location"] == "/account/totp"
    for page in ("/provider/", "/provider/settings/practice", "/"):
        r = client.get(page)
        assert r.status_code == 302 and r.headers["Location"] == "/account/totp", page
    # They can still change their password or log out.
    assert client.get("/account/password").status_code == 200
    secret = _enable(client, world.a.therapist)
    assert client.get("/provider/").status_code == 200
    assert secret

    # Clients are not affected.
    c = app.test_client()
    login(c, world.a.cu1)
    assert c.get("/portal/").status_code == 200
    # Another practice is not affected.
    other = app.test_client()
    login(other, world.b.therapist)
    assert other.get("/provider/").status_code == 200


def test_owner_resets_a_lost_totp(app, client, world):
    user = world.a.therapist
    login(client, user)
    _enable(client, user)
    owner = app.test_client()
    login(owner, world.a.owner)
    page = owner.get("/provider/settings/staff").get_data(as_text=True)
    assert "Reset two-step" in page
    r = owner.post(f"/provider/settings/staff/{user.id}/totp-reset")
    assert r.status_code == 302
    fresh = User.get_by_id(user.id)
    assert not fresh.totp_enabled and fresh.totp_secret is None
    assert client.get("/provider/").status_code == 302  # their sessions ended
    assert AuditLog.get(AuditLog.action == "user.totp_reset").object_id == user.id
    # Next login needs only the password (and, if the practice requires it, a new set-up).
    r = login(client, user)
    assert r.headers["Location"] == "/provider/"
    # Another practice's owner cannot.
    other = app.test_client()
    login(other, world.b.owner)
    assert other.post(f"/provider/settings/staff/{user.id}/totp-reset").status_code == 404
