"""Invitations and password resets by one-time links through the outbox: a link works once,
expires, refuses weak passwords with the message next to the field; a reset for an unknown
address reads exactly like one for a known address."""

import datetime as dt
import re

import pytest

from portal import clock
from portal.models import AuditLog, OutboxMessage, User, UserToken
from tests.conftest import login


@pytest.fixture
def now(monkeypatch):
    state = {"t": dt.datetime(2026, 3, 2, 15, 0, 0)}
    monkeypatch.setattr(clock, "utcnow", lambda: state["t"])
    return state


def _link(msg):
    m = re.search(r"http://localhost(/account/set-password/[A-Za-z0-9_\-]+)", msg.body)
    assert m, msg.body
    return m.group(1)


def _invite(client, world, email="newdesk@example.com", role="frontdesk", provider=0):
    login(client, world.a.owner)
    r = client.post(
        "/provider/settings/staff",
        data={"name": "New Desk", "email": email, "role": role, "provider": str(provider)},
    )
    assert r.status_code == 302, r.get_data(as_text=True)
    client.post("/logout")
    msg = OutboxMessage.select().order_by(OutboxMessage.id.desc()).get()
    assert msg.to_addr == email and msg.kind == "invite"
    return msg


GOOD = "lavender field at dusk 77"


def test_invitation_link_works_once(app, client, world, now):
    msg = _invite(client, world)
    assert msg.practice_id == world.a.practice.id
    url = _link(msg)
    user = User.get(User.email == "newdesk@example.com")
    assert user.password_hash is None and user.role == "frontdesk"
    # Only the token's hash is stored.
    token = url.rsplit("/", 1)[1]
    assert not UserToken.select().where(UserToken.token_hash == token).exists()

    r = client.get(url)
    assert r.status_code == 200 and "Welcome: choose your password" in r.get_data(as_text=True)
    r = client.post(url, data={"password": GOOD, "confirm": GOOD})
    assert r.status_code == 302 and r.headers["Location"] == "/login"
    assert AuditLog.select().where(AuditLog.action == "password.set").count() == 1

    # The link is spent.
    r = client.get(url)
    assert r.status_code == 404 and "This link no longer works" in r.get_data(as_text=True)
    assert client.post(url, data={"password": GOOD, "confirm": GOOD}).status_code == 404

    r = login(client, "newdesk@example.com", password=GOOD)
    assert r.status_code == 302 and r.headers["Location"] == "/provider/"


def test_invitation_link_expires(client, world, now, app):
    url = _link(_invite(client, world))
    now["t"] += dt.timedelta(hours=app.config["INVITE_VALID_HOURS"], seconds=1)
    assert client.get(url).status_code == 404
    assert client.post(url, data={"password": GOOD, "confirm": GOOD}).status_code == 404
    assert User.get(User.email == "newdesk@example.com").password_hash is None


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short1", "Use at least 12 characters."),
        ("password1234", "This password is too common."),
        ("qwerty123456", "This password is too common."),
        ("newdesk@example.com", "Do not use your e-mail address as your password."),
    ],
)
def test_weak_passwords_are_refused_next_to_the_field(client, world, now, password, message):
    url = _link(_invite(client, world))
    r = client.post(url, data={"password": password, "confirm": password})
    assert r.status_code == 400
    body = r.get_data(as_text=True)
    # The message sits in the password field's error, tied to the input.
    m = re.search(r'<p class="error" id="password-error">([^<]*)</p>', body)
    assert m and message in m.group(1), body
    assert 'aria-describedby="password-error"' in body and 'aria-invalid="true"' in body
    # Nothing was used up: the link still works.
    assert client.get(url).status_code == 200
    assert User.get(User.email == "newdesk@example.com").password_hash is None


def test_different_confirmation_is_refused(client, world, now):
    url = _link(_invite(client, world))
    r = client.post(url, data={"password": GOOD, "confirm": GOOD + "x"})
    assert r.status_code == 400 and "The two passwords differ." in r.get_data(as_text=True)


def test_common_password_list_is_large_enough():
    from portal.rules.passwords import common_passwords

    assert len(common_passwords()) >= 1000


def test_password_reset_by_link(app, client, world, now):
    user = world.a.therapist
    r = client.post("/login/forgot", data={"email": user.email.upper()})
    assert r.status_code == 302
    msg = OutboxMessage.get(OutboxMessage.to_addr == user.email)
    assert msg.kind == "reset" and user.name not in msg.body
    url = _link(msg)
    r = client.get(url)
    assert "Choose a new password" in r.get_data(as_text=True)
    # A session elsewhere ends when the password is set.
    other = app.test_client()
    login(other, user)
    assert client.post(url, data={"password": GOOD, "confirm": GOOD}).status_code == 302
    assert other.get("/provider/").status_code == 302
    assert login(client, user).status_code == 401
    assert login(client, user, password=GOOD).status_code == 302
    assert client.get(url).status_code == 404


def test_reset_link_expires_after_its_hours(client, world, now, app):
    user = world.a.cu1
    client.post("/login/forgot", data={"email": user.email})
    url = _link(OutboxMessage.get(OutboxMessage.to_addr == user.email))
    now["t"] += dt.timedelta(hours=app.config["RESET_VALID_HOURS"], minutes=1)
    assert client.get(url).status_code == 404


def test_reset_for_unknown_address_reads_the_same(app, world, now):
    known, unknown = app.test_client(), app.test_client()
    r1 = known.post("/login/forgot", data={"email": world.a.owner.email}, follow_redirects=True)
    r2 = unknown.post("/login/forgot", data={"email": "nobody@example.com"}, follow_redirects=True)
    assert r1.status_code == r2.status_code == 200

    def text(r):
        body = r.get_data(as_text=True)
        return re.sub(
            r'name="csrf-token" content="[^"]*"|"X-CSRFToken": "[^"]*"|value="[^"]*"', "", body
        )

    assert text(r1) == text(r2)
    assert "If that address has an account" in text(r1)
    assert OutboxMessage.select().where(OutboxMessage.to_addr == "nobody@example.com").count() == 0
    assert OutboxMessage.select().where(OutboxMessage.to_addr == world.a.owner.email).count() == 1


def test_reset_form_checks_the_address(client):
    r = client.post("/login/forgot", data={"email": "not an address"})
    assert r.status_code == 400
    assert "Enter a valid e-mail address." in r.get_data(as_text=True)


def test_a_locked_out_user_can_still_reset_and_then_log_in(client, world, now):
    user = world.a.owner
    for _ in range(10):
        client.post("/login", data={"email": user.email, "password": "wrong guess here"})
    assert login(client, user).status_code == 429
    client.post("/login/forgot", data={"email": user.email})
    url = _link(OutboxMessage.get(OutboxMessage.to_addr == user.email))
    assert client.post(url, data={"password": GOOD, "confirm": GOOD}).status_code == 302
    assert login(client, user, password=GOOD).status_code == 302


def test_reset_mails_are_limited_per_account(client, world, now):
    user = world.a.owner
    for _ in range(8):
        r = client.post("/login/forgot", data={"email": user.email})
        assert r.status_code == 302
    sent = OutboxMessage.select().where(OutboxMessage.to_addr == user.email).count()
    assert 1 <= sent <= 5


def test_resend_invitation_gives_a_new_link(client, world, now):
    msg = _invite(client, world)
    user = User.get(User.email == "newdesk@example.com")
    login(client, world.a.owner)
    r = client.post(f"/provider/settings/staff/{user.id}/invite")
    assert r.status_code == 302
    again = OutboxMessage.select().order_by(OutboxMessage.id.desc()).get()
    assert again.id != msg.id and _link(again) != _link(msg)


def test_setting_a_password_spends_every_open_link(client, world, now):
    user = world.a.frontdesk
    client.post("/login/forgot", data={"email": user.email})
    now["t"] += dt.timedelta(minutes=1)
    client.post("/login/forgot", data={"email": user.email})
    first, second = (
        _link(m)
        for m in OutboxMessage.select()
        .where(OutboxMessage.to_addr == user.email)
        .order_by(OutboxMessage.id)
    )
    assert client.post(second, data={"password": GOOD, "confirm": GOOD}).status_code == 302
    assert client.get(first).status_code == 404


def test_staff_invite_a_client_to_the_portal(app, client, world, now):
    from tests import factories

    with app.test_request_context():
        c = factories.client(world.a.practice, email="Newcomer@Example.com")
    login(client, world.a.frontdesk)
    r = client.post(f"/provider/clients/{c.id}/portal-invite")
    assert r.status_code == 302
    user = User.get(User.email == "newcomer@example.com")
    assert user.role == "client" and user.client_id == c.id and user.password_hash is None
    msg = OutboxMessage.get(OutboxMessage.to_addr == "newcomer@example.com")
    assert c.last_name not in msg.body and c.first_name not in msg.body  # no PHI in mail
    row = AuditLog.get(AuditLog.action == "user.invite")
    assert row.client_id == c.id and row.detail == "client portal"
    # Inviting again resends a fresh link (the user has no password yet).
    client.post(f"/provider/clients/{c.id}/portal-invite")
    assert OutboxMessage.select().where(OutboxMessage.to_addr == user.email).count() == 2
    client.post("/logout")
    url = _link(OutboxMessage.select().order_by(OutboxMessage.id.desc()).get())
    assert client.post(url, data={"password": GOOD, "confirm": GOOD}).status_code == 302
    r = login(client, user.email, password=GOOD)
    assert r.headers["Location"] == "/portal/"
    assert client.get("/portal/").status_code == 200


def test_client_invite_refusals(app, client, world, now):
    from tests import factories

    with app.test_request_context():
        no_mail = factories.client(world.a.practice, email="")
        taken = factories.client(world.a.practice, email=world.a.therapist.email)
    login(client, world.a.owner)
    r = client.post(f"/provider/clients/{no_mail.id}/portal-invite", follow_redirects=True)
    assert "Add the client&#39;s e-mail address first." in r.get_data(as_text=True)
    r = client.post(f"/provider/clients/{taken.id}/portal-invite", follow_redirects=True)
    assert "Another account already uses this e-mail address." in r.get_data(as_text=True)
    r = client.post(f"/provider/clients/{world.a.c1.id}/portal-invite", follow_redirects=True)
    assert "already has portal access" in r.get_data(as_text=True)
    assert OutboxMessage.select().count() == 0
    # Another practice's client: 404.
    assert client.post(f"/provider/clients/{world.b.c1.id}/portal-invite").status_code == 404
    # A client user cannot invite anyone.
    client.post("/logout")
    login(client, world.a.cu1)
    assert client.post(f"/provider/clients/{no_mail.id}/portal-invite").status_code == 404
