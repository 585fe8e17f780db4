"""Moving two-step login to a new phone by its user: the password (or the old app's code)
first, then a code from the new app makes it the one that counts; until then the old app
keeps working. Audited; recovery codes stay; an owner's reset forgets a move under way."""

import time

import pyotp

from portal.models import AuditLog, RecoveryCode, User
from portal.services import staff as staff_service
from tests.conftest import PASSWORD, login
from tests.test_recovery_codes import _two_step_on

MOVE = "/account/totp/move"
CONFIRM = "/account/totp/move/confirm"


def _signed_in_with_two_step(app, client, user):
    login(client, user)  # two-step off at login, on from here
    return _two_step_on(app, user)


def _code(secret, ahead=0):
    return pyotp.TOTP(secret).at(time.time() + 30 * ahead)


def test_a_user_moves_two_step_login_to_a_new_phone(app, client, world):
    user = world.a.therapist
    old, _codes = _signed_in_with_two_step(app, client, user)
    page = client.get("/account/totp").get_data(as_text=True)
    assert f'href="{MOVE}"' in page and "Move to a new phone" in page

    r = client.post(MOVE, data={"proof": PASSWORD})
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
    new = User.get_by_id(user.id).totp_new_secret
    assert new and new != old and new in r.get_data(as_text=True)
    assert 'src="data:image/svg+xml;base64,' in r.get_data(as_text=True)
    assert User.get_by_id(user.id).totp_secret == old  # the old app counts until the end

    # The old app's code is not the new app's.
    r = client.post(CONFIRM, data={"code": _code(old)})
    assert r.status_code == 400 and "That code is not right" in r.get_data(as_text=True)
    assert User.get_by_id(user.id).totp_secret == old

    r = client.post(CONFIRM, data={"code": _code(new)})
    assert r.status_code == 302 and r.headers["Location"] == "/account/totp"
    moved = User.get_by_id(user.id)
    assert (moved.totp_secret, moved.totp_new_secret, moved.totp_enabled) == (new, None, True)
    assert "now uses your new app" in client.get("/account/totp").get_data(as_text=True)
    assert AuditLog.get(AuditLog.action == "totp.moved").user_id == user.id
    assert RecoveryCode.select().where(RecoveryCode.user == user.id).count() == 10

    # At the next login the old app's code is refused, the new app's works.
    other = app.test_client()
    assert login(other, user).headers["Location"] == "/login/totp"
    assert other.post("/login/totp", data={"code": _code(old, 1)}).status_code == 401
    r = other.post("/login/totp", data={"code": _code(new, 1)})
    assert r.status_code == 302 and r.headers["Location"] == "/provider/"


def test_a_wrong_password_starts_no_move(app, client, world):
    user = world.a.frontdesk
    old, _ = _signed_in_with_two_step(app, client, user)
    r = client.post(MOVE, data={"proof": "not the password"})
    assert r.status_code == 400
    assert "neither your password nor your app" in r.get_data(as_text=True)
    assert User.get_by_id(user.id).totp_new_secret is None
    assert AuditLog.get(AuditLog.action == "login.failed").detail == "two-step move: bad proof"
    assert client.post(MOVE, data={}).status_code == 400  # nothing typed
    # The old app's code proves it as well as the password.
    assert client.post(MOVE, data={"proof": _code(old)}).status_code == 200


def test_a_code_without_the_first_step_or_too_late_changes_nothing(app, client, world, monkeypatch):
    user = world.a.owner
    old, _ = _signed_in_with_two_step(app, client, user)
    r = client.post(CONFIRM, data={"code": "123456"})
    assert r.status_code == 302 and r.headers["Location"] == MOVE
    # Started in another session (another browser): this one gave no password.
    other = app.test_client()
    login(other, user)
    assert other.post("/login/totp", data={"code": _code(old)}).status_code == 302
    assert other.post(MOVE, data={"proof": PASSWORD}).status_code == 200
    new = User.get_by_id(user.id).totp_new_secret
    r = client.post(CONFIRM, data={"code": _code(new)})
    assert r.status_code == 302 and r.headers["Location"] == MOVE
    # Too late: the session's first step is older than the minutes allowed.
    later = time.time() + 16 * 60
    monkeypatch.setattr(time, "time", lambda: later)
    r = other.post(CONFIRM, data={"code": pyotp.TOTP(new).at(later)})
    assert r.status_code == 302 and r.headers["Location"] == MOVE
    assert User.get_by_id(user.id).totp_secret == old


def test_an_owners_reset_forgets_a_move_under_way(app, client, world):
    user = world.a.therapist
    _signed_in_with_two_step(app, client, user)
    assert client.post(MOVE, data={"proof": PASSWORD}).status_code == 200
    with app.test_request_context():
        staff_service.reset_two_step(User.get_by_id(user.id))
    after = User.get_by_id(user.id)
    assert (after.totp_enabled, after.totp_secret, after.totp_new_secret) == (False, None, None)


def test_clients_logged_out_and_no_two_step_are_turned_away(app, client, world):
    assert client.get(MOVE).status_code == 302
    assert client.get(MOVE).headers["Location"].startswith("/login")
    assert client.post(CONFIRM, data={"code": "123456"}).headers["Location"].startswith("/login")
    login(client, world.a.cu1)
    assert client.get(MOVE).status_code in (403, 404)
    assert client.post(CONFIRM, data={"code": "123456"}).status_code in (403, 404)
    staff = app.test_client()
    login(staff, world.a.frontdesk)  # two-step not on: set it up first
    assert staff.get(MOVE).headers["Location"] == "/account/totp"
    assert staff.post(CONFIRM, data={"code": "1"}).headers["Location"] == "/account/totp"
    # A POST without its CSRF token is refused, nothing started.
    _signed_in_with_two_step(app, staff, world.a.frontdesk)
    r = staff.post(MOVE, data={"proof": PASSWORD}, csrf=False)
    assert r.status_code == 400
    assert User.get_by_id(world.a.frontdesk.id).totp_new_secret is None
