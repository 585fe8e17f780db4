"""Two-step recovery codes: ten one-time codes shown once at set-up (and when new ones are
asked for), a login with one instead of the app's code, each working once, audited and
e-mailed, wrong ones counted towards the lockout; the account page counts what is left."""

import re
import time

import pyotp
import pytest

from portal.models import AuditLog, LoginAttempt, OutboxMessage, RecoveryCode, User
from portal.services import recovery_codes
from tests.conftest import PASSWORD, login

CODE = re.compile(r"<code>([0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4})</code>")


def _two_step_on(app, user):
    """Two-step login on for `user`, with ten codes; returns (secret, codes)."""
    secret = pyotp.random_base32()
    User.update(totp_secret=secret, totp_enabled=True).where(User.id == user.id).execute()
    with app.test_request_context():
        codes = recovery_codes.replace(User.get_by_id(user.id), "test")
    return secret, codes


def _at_second_step(app, user):
    c = app.test_client()
    assert login(c, user).headers["Location"] == "/login/totp"
    return c


def _recover(c, code):
    return c.post("/login/recovery", data={"code": code})


def test_codes_are_shown_once_when_two_step_is_set_up(app, client, world):
    user = world.a.therapist
    login(client, user)
    client.get("/account/totp")
    secret = User.get_by_id(user.id).totp_secret
    r = client.post("/account/totp", data={"code": pyotp.TOTP(secret).now()})
    assert r.status_code == 200
    assert r.headers["Cache-Control"] == "no-store"
    page = r.get_data(as_text=True)
    codes = CODE.findall(page)
    assert len(codes) == len(set(codes)) == 10
    assert "Each code works once." in page and "only now" in page
    assert "Two-step login is on." in page  # the flash says what just happened
    # Only salted hashes are kept: no code is anywhere in the database's rows.
    rows = list(RecoveryCode.select().where(RecoveryCode.user == user.id))
    assert len(rows) == 10
    stored = " ".join(f"{r.salt} {r.code_hash}" for r in rows)
    assert not any(c.replace("-", "") in stored or c in stored for c in codes)
    row = AuditLog.get(AuditLog.action == "totp.recovery_codes")
    assert (row.user_id, row.object_id, row.detail) == (user.id, user.id, "two-step login set up")
    # Never shown again: the two-step page and the codes page count them, no more.
    for path in ("/account/totp", "/account/recovery-codes", "/account/password"):
        again = client.get(path).get_data(as_text=True)
        assert not CODE.search(again) and not any(c in again for c in codes), path
    assert "Recovery codes left: <strong>10</strong>" in client.get("/account/totp").text


def test_each_code_works_once_and_its_use_is_told(app, world):
    user = world.a.therapist
    _, codes = _two_step_on(app, user)
    c = _at_second_step(app, user)
    page = c.get("/login/totp").get_data(as_text=True)
    assert re.search(r'<a href="/login/recovery">Use a recovery code</a>', page)
    assert "Use the code from my app instead" in c.get("/login/recovery").text
    r = _recover(c, codes[0])
    assert r.status_code == 302 and r.headers["Location"] == "/provider/"
    assert "9 recovery codes left" in c.get("/provider/").get_data(as_text=True)
    row = AuditLog.get(AuditLog.action == "totp.recovery_used")
    assert (row.user_id, row.detail) == (user.id, "9 left")
    mail = OutboxMessage.get(OutboxMessage.kind == "recovery_used")
    assert mail.to_addr == user.email and mail.practice_id == world.a.practice.id
    assert "A recovery code was just used" in mail.body and "9 recovery codes left" in mail.body
    assert not any(code in mail.body for code in codes)
    assert world.a.c1.last_name not in mail.body  # nothing about clients

    # Used: never again, not even typed another way.
    c2 = _at_second_step(app, user)
    for typed in (codes[0], codes[0].upper().replace("-", " ")):
        r = _recover(c2, typed)
        assert r.status_code == 401
        assert "it was used before" in r.get_data(as_text=True)
    assert AuditLog.select().where(AuditLog.detail == "bad recovery code").count() == 2
    # Another, typed loosely (capitals, no dashes), works; so does the app's code afterwards.
    r = _recover(c2, codes[1].upper().replace("-", ""))
    assert r.status_code == 302
    assert recovery_codes.left(User.get_by_id(user.id)) == 8


def test_wrong_codes_count_towards_the_lockout(app, world):
    user = world.a.frontdesk
    _, codes = _two_step_on(app, user)
    c = _at_second_step(app, user)
    for _ in range(app.config["LOGIN_MAX_FAILURES_ACCOUNT"]):
        assert _recover(c, "abcd-efgh-jkmn-pqrs").status_code == 401
    failures = LoginAttempt.select().where(~LoginAttempt.success).count()
    assert failures == app.config["LOGIN_MAX_FAILURES_ACCOUNT"]
    r = _recover(c, codes[0])  # even a right one waits for the lock
    assert r.status_code == 429
    assert "Too many failed attempts" in r.get_data(as_text=True)
    assert recovery_codes.left(User.get_by_id(user.id)) == 10
    row = AuditLog.get(AuditLog.action == "login.throttled")
    assert (row.user_id, row.detail) == (user.id, "recovery code")
    # The app's code page counts the same failures.
    assert c.post("/login/totp", data={"code": "000000"}).status_code == 429


def test_another_users_code_is_refused(app, world):
    _, owner_codes = _two_step_on(app, world.a.owner)
    _, _ = _two_step_on(app, world.a.therapist)
    _, other_practice = _two_step_on(app, world.b.therapist)
    c = _at_second_step(app, world.a.therapist)
    for code in (owner_codes[0], other_practice[0]):
        assert _recover(c, code).status_code == 401
    assert recovery_codes.left(User.get_by_id(world.a.owner.id)) == 10
    assert recovery_codes.left(User.get_by_id(world.b.therapist.id)) == 10
    assert c.get("/provider/").status_code == 302  # not logged in


def test_new_codes_need_the_password_or_an_app_code_and_end_the_old_ones(app, world):
    user = world.a.owner
    secret, old = _two_step_on(app, user)
    c = _at_second_step(app, user)
    assert c.post("/login/totp", data={"code": pyotp.TOTP(secret).now()}).status_code == 302
    page = c.get("/account/recovery-codes").get_data(as_text=True)
    assert "<strong>10</strong> of 10 recovery codes left" in page
    r = c.post("/account/recovery-codes", data={"proof": "not my password"})
    assert r.status_code == 400
    assert "neither your password nor your app" in r.get_data(as_text=True)
    assert LoginAttempt.select().where(~LoginAttempt.success).count() == 1
    assert recovery_codes.left(User.get_by_id(user.id)) == 10  # nothing changed
    r = c.post("/account/recovery-codes", data={"proof": PASSWORD})
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
    new = CODE.findall(r.get_data(as_text=True))
    assert len(new) == 10 and not set(new) & set(old)
    row = (
        AuditLog.select()
        .where(AuditLog.action == "totp.recovery_codes")
        .order_by(AuditLog.id.desc())[0]
    )
    assert (row.user_id, row.detail) == (user.id, "new codes asked for")
    # A current code of the app is proof enough too (the next step: the last one is spent).
    r = c.post("/account/recovery-codes", data={"proof": pyotp.TOTP(secret).at(time.time() + 30)})
    assert r.status_code == 200
    newest = CODE.findall(r.get_data(as_text=True))
    # The old codes no longer work; the newest do.
    login_again = _at_second_step(app, user)
    for code in (old[0], new[0]):
        assert _recover(login_again, code).status_code == 401
    assert _recover(login_again, newest[0]).status_code == 302


LEFT_WORDS = [
    (3, "Recovery codes left: <strong>3</strong>"),
    (2, "Only <strong>2</strong> recovery codes left"),
    (1, "Only <strong>1</strong> recovery code left"),
    (0, "You have <strong>no recovery codes</strong>"),
]


@pytest.mark.parametrize(("left", "words"), LEFT_WORDS)
def test_the_account_page_counts_the_codes_left_and_warns_at_two(app, world, left, words):
    user = world.a.therapist
    secret, _ = _two_step_on(app, user)
    spent = [r.id for r in RecoveryCode.select().where(RecoveryCode.user == user.id)][left:]
    RecoveryCode.update(used_at=RecoveryCode.created_at).where(RecoveryCode.id.in_(spent)).execute()
    c = _at_second_step(app, user)
    c.post("/login/totp", data={"code": pyotp.TOTP(secret).now()})
    page = c.get("/account/password").get_data(as_text=True)
    assert words in page
    assert ("flash-warning recovery-left" in page) == (left <= 2)
    assert 'href="/account/recovery-codes"' in page
    # Without two-step login there is nothing to count.
    other = app.test_client()
    login(other, world.a.frontdesk)
    assert "recovery code" not in other.get("/account/password").get_data(as_text=True).lower()


def test_who_reaches_the_recovery_pages(app, world):
    anon = app.test_client()
    r = anon.get("/account/recovery-codes")
    assert r.status_code == 302 and r.headers["Location"].startswith("/login")
    r = anon.get("/login/recovery")  # no password given first
    assert r.status_code == 302 and r.headers["Location"] == "/login"
    assert anon.post("/login/recovery", data={"code": "abcd"}).headers["Location"] == "/login"
    client_user = app.test_client()
    login(client_user, world.a.cu1)
    assert client_user.get("/account/recovery-codes").status_code == 404
    assert AuditLog.select().where(AuditLog.action == "access.denied").exists()
    desk = app.test_client()  # staff without two-step login: sent to set it up
    login(desk, world.a.frontdesk)
    r = desk.get("/account/recovery-codes")
    assert r.status_code == 302 and r.headers["Location"] == "/account/totp"
    assert desk.post("/account/recovery-codes", data={"proof": PASSWORD}).status_code == 302
    assert not RecoveryCode.select().where(RecoveryCode.user == world.a.frontdesk.id).exists()


def test_the_recovery_forms_need_their_csrf_token(app, world):
    user = world.a.owner
    secret, codes = _two_step_on(app, user)
    c = _at_second_step(app, user)
    assert c.post("/login/recovery", data={"code": codes[0]}, csrf=False).status_code == 400
    assert c.get("/provider/").status_code == 302
    assert c.post("/login/totp", data={"code": pyotp.TOTP(secret).now()}).status_code == 302
    r = c.post("/account/recovery-codes", data={"proof": PASSWORD}, csrf=False)
    assert r.status_code == 400 and not CODE.search(r.get_data(as_text=True))
    assert recovery_codes.left(User.get_by_id(user.id)) == 10
    assert not RecoveryCode.select().where(RecoveryCode.used_at.is_null(False)).exists()


def test_resetting_two_step_login_clears_the_codes(app, world):
    """By an owner on the staff page, or from the server: the codes go with the secret
    (the user sets two-step login up again and gets new ones)."""
    therapist, owner = world.a.therapist, world.a.owner
    _two_step_on(app, therapist)
    _two_step_on(app, owner)
    foreign = app.test_client()
    login(foreign, world.b.owner)  # another practice's owner reaches nobody here
    foreign.post(f"/provider/settings/staff/{therapist.id}/totp-reset")
    assert recovery_codes.left(User.get_by_id(therapist.id)) == 10
    page = _at_second_step(app, owner)
    code = pyotp.TOTP(User.get_by_id(owner.id).totp_secret).now()
    assert page.post("/login/totp", data={"code": code}).status_code == 302
    r = page.post(f"/provider/settings/staff/{therapist.id}/totp-reset")
    assert r.status_code == 302
    assert not RecoveryCode.select().where(RecoveryCode.user == therapist.id).exists()
    result = app.test_cli_runner().invoke(args=["reset-two-step", "--email", owner.email])
    assert result.exit_code == 0, result.output
    assert not RecoveryCode.select().where(RecoveryCode.user == owner.id).exists()
