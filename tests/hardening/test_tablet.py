"""Issue 9, defects 2 and 3: while a client holds the front-desk tablet, every route but the
tablet form and its return is locked (the staff user's /account pages included), and wrong
staff passwords on the return count toward the login throttling."""

import pyotp
import pytest

from portal.models import AuditLog, LoginAttempt, User
from tests.clients import helpers as h
from tests.conftest import PASSWORD, login


@pytest.fixture
def tablet(app, client, world):
    """The front desk hands the tablet to client c1 of practice a."""
    form = h.intake_form(world.a.practice)
    login(client, world.a.frontdesk)
    r = client.post(f"/provider/clients/{world.a.c1.id}/tablet", data={"form": str(form.id)})
    assert r.status_code == 302 and r.headers["Location"].endswith("/provider/tablet")
    return client


def _to_tablet(r):
    return r.status_code == 302 and r.headers["Location"].endswith("/provider/tablet")


@pytest.mark.parametrize(
    "path",
    ["/account/totp", "/account/password", "/portal/", "/login", "/login/forgot", "/", "/healthz"],
)
def test_tablet_mode_locks_every_page_outside_provider_too(tablet, path):
    r = tablet.get(path)
    assert _to_tablet(r), f"{path}: {r.status_code} {r.headers.get('Location')}"


def test_tablet_mode_hides_the_staff_totp_secret_and_refuses_to_turn_it_on(tablet, world):
    r = tablet.get("/account/totp")
    assert _to_tablet(r)
    secret = User.get_by_id(world.a.frontdesk.id).totp_secret
    assert secret is None  # the page never ran: no secret was even made
    # Even with a secret known from elsewhere, a posted code changes nothing.
    User.update(totp_secret=pyotp.random_base32()).where(User.id == world.a.frontdesk.id).execute()
    code = pyotp.TOTP(User.get_by_id(world.a.frontdesk.id).totp_secret).now()
    r = tablet.post("/account/totp", data={"code": code})
    assert _to_tablet(r)
    assert not User.get_by_id(world.a.frontdesk.id).totp_enabled


def test_tablet_mode_refuses_password_change_and_logout(tablet, world):
    r = tablet.post(
        "/account/password",
        data={"current": PASSWORD, "password": "a brand new passphrase 77", "confirm": "x"},
    )
    assert _to_tablet(r)
    assert _to_tablet(tablet.post("/logout"))
    # Still locked afterwards: the staff session is intact but out of reach.
    assert _to_tablet(tablet.get("/provider/"))
    assert tablet.get("/provider/tablet").status_code == 200


def test_wrong_staff_passwords_on_the_return_are_throttled_like_logins(app, tablet, world):
    limit = app.config["LOGIN_MAX_FAILURES_ACCOUNT"]
    for _ in range(limit):
        r = tablet.post("/provider/tablet/return", data={"password": "not the password"})
        assert r.status_code == 400
    # The right password is refused while locked, with a clear message.
    r = tablet.post("/provider/tablet/return", data={"password": PASSWORD})
    assert r.status_code == 429
    assert "Too many failed attempts" in r.get_data(as_text=True)
    assert _to_tablet(tablet.get("/provider/"))
    failures = LoginAttempt.select().where(~LoginAttempt.success).count()
    assert failures == limit
    assert AuditLog.select().where(AuditLog.action == "intake.tablet_end_failed").count() == limit
    # The same throttling as the login: the account is locked at the login page too.
    other = app.test_client()
    assert login(other, world.a.frontdesk).status_code == 429


def test_current_password_check_on_account_page_is_throttled(app, client, world):
    login(client, world.a.therapist)
    limit = app.config["LOGIN_MAX_FAILURES_ACCOUNT"]
    new = "a brand new passphrase 77"
    for _ in range(limit):
        r = client.post(
            "/account/password", data={"current": "wrong one", "password": new, "confirm": new}
        )
        assert r.status_code == 400
    r = client.post(
        "/account/password", data={"current": PASSWORD, "password": new, "confirm": new}
    )
    assert r.status_code == 429
    assert "Too many failed attempts" in r.get_data(as_text=True)
