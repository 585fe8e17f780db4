"""Inviting an address that has an account in another practice tells the owner nothing:
the invitation is made, listed, e-mailed and audited as for an address nobody has; the
address's owner, following the link, is told that the address has an account already, and
nothing of either account changes. An address already in the owner's own practice is still
refused with a message."""

import datetime as dt
import re

import pytest

from portal import clock
from portal.models import AuditLog, OutboxMessage, User, UserToken
from tests import factories
from tests.conftest import PASSWORD, login

NOW = dt.datetime(2026, 12, 2, 18, 0)
GOOD = "a long enough sentence 42"
LINK = re.compile(r"http://localhost(/account/set-password/[A-Za-z0-9_\-]+)")


@pytest.fixture
def now(monkeypatch):
    state = {"t": NOW}
    monkeypatch.setattr(clock, "utcnow", lambda: state["t"])
    return state


def _invite(client, email, name, role="frontdesk"):
    return client.post(
        "/provider/settings/staff",
        data={"name": name, "email": email, "role": role, "provider": 0},
    )


def _flashes(page):
    return re.findall(r'<p class="flash flash-\w+">(.*?)</p>', page, re.S)


def _row(page, email):
    m = re.search(rf"<tr>(?:(?!</tr>).)*{re.escape(email)}.*?</tr>", page, re.S)
    assert m, email
    return m.group(0)


def _blank(text, user):
    """`text` with what tells two invited users apart by design (address, name, id) blanked."""
    text = text.replace(user.email, "EMAIL").replace(user.name, "NAME")
    text = re.sub(r'(name="csrf_token" value=)"[^"]+"', r"\1CSRF", text)  # timed, per form
    return re.sub(rf"/staff/{user.id}/", "/staff/ID/", text)


def _mail(user):
    msg = OutboxMessage.get(OutboxMessage.to_addr == user.email)
    body = LINK.sub("LINK", msg.body)
    return (msg.practice_id, msg.kind, msg.subject, body, msg.sent_at, msg.error)


def _audit(practice_id, user):
    rows = AuditLog.select().where(
        (AuditLog.practice_id == practice_id) & (AuditLog.object_id == user.id)
    )
    return [(r.action, r.object_type, r.detail, r.user_id) for r in rows.order_by(AuditLog.id)]


def test_the_owners_view_is_the_same_for_an_address_known_elsewhere_or_new(app, world, now):
    a, b = world.a, world.b
    owner = app.test_client()
    login(owner, a.owner)
    b_log = AuditLog.select().where(AuditLog.practice_id == b.practice.id).count()
    cases = [(b.therapist.email.upper(), "Known Elsewhere"), ("nobody.yet@example.com", "New One")]
    seen = []
    for email, name in cases:
        r = _invite(owner, email, name)
        user = User.get((User.email == email.lower()) & (User.practice == a.practice.id))
        followed = owner.get(r.headers["Location"]).get_data(as_text=True)
        r_again = _invite(owner, email, name)  # the same practice: said, as before
        resend = owner.post(f"/provider/settings/staff/{user.id}/invite", follow_redirects=True)
        page = owner.get("/provider/settings/staff").get_data(as_text=True)
        outbox = owner.get("/provider/settings/outbox").get_data(as_text=True)
        seen.append(
            {
                "status": (r.status_code, r.headers["Location"], r_again.status_code),
                "flash": [_blank(f, user) for f in _flashes(followed)],
                "again": "A user with this e-mail already exists."
                in r_again.get_data(as_text=True),
                "resend": (resend.status_code, [_blank(f, user) for f in _flashes(resend.text)]),
                "row": _blank(_row(page, user.email), user),
                "outbox": [
                    _blank(m, user)
                    for m in re.findall(r"<article.*?</article>", outbox, re.S)
                    if user.email in m
                ],  # fmt: skip
                "mail": _mail(user),
                "user": (user.role, user.active, user.password_hash, user.practice_id),
                "tokens": [
                    (t.purpose, t.used_at, t.expires_at)
                    for t in UserToken.select().where(UserToken.user == user.id)
                ],
                "audit": _audit(a.practice.id, user),
            }
        )
    known, new = seen
    assert new["status"] == (302, "/provider/settings/staff", 400) and new["again"]
    assert new["flash"] and new["row"] and new["mail"][0] == a.practice.id
    assert len(new["tokens"]) == 2 and [x[0] for x in new["audit"]] == ["user.invite"] * 2
    for key in new:
        assert known[key] == new[key], key
    # Nothing of it reached the other practice: its log, its outbox, its user.
    assert AuditLog.select().where(AuditLog.practice_id == b.practice.id).count() == b_log
    assert not OutboxMessage.select().where(OutboxMessage.practice == b.practice.id).exists()
    fresh = User.get_by_id(b.therapist.id)
    assert (fresh.practice_id, fresh.password_hash) == (b.practice.id, b.therapist.password_hash)


def test_following_an_invitation_to_an_address_known_elsewhere_changes_nothing(app, world, now):
    a, b = world.a, world.b
    owner = app.test_client()
    login(owner, a.owner)
    assert _invite(owner, b.therapist.email, "Known Elsewhere").status_code == 302
    invited = User.get((User.email == b.therapist.email) & (User.practice == a.practice.id))
    path = LINK.search(OutboxMessage.get(OutboxMessage.to_addr == invited.email).body).group(1)

    visitor = app.test_client()
    r = visitor.get(path)
    assert r.status_code == 409
    text = r.get_data(as_text=True)
    assert "This e-mail address already has an account" in text
    assert 'name="password"' not in text  # no password to choose
    assert a.practice.name not in text and b.practice.name not in text
    r = visitor.post(path, data={"password": GOOD, "confirm": GOOD})
    assert r.status_code == 409
    assert User.get_by_id(invited.id).password_hash is None
    # The invitation stays as the owner left it: the link unspent, its row still pending.
    assert UserToken.get(UserToken.user == invited.id).used_at is None
    assert not AuditLog.select().where(AuditLog.action == "password.set").exists()
    # The address still logs in to its own account, in its own practice, with its password.
    r = login(visitor, b.therapist.email)
    assert r.headers["Location"] == "/provider/"
    assert User.get_by_id(b.therapist.id).last_login_at is not None
    assert User.get_by_id(invited.id).last_login_at is None
    assert login(app.test_client(), b.therapist.email, password=GOOD).status_code == 401
    # "Forgot your password?" goes to the account that has one.
    app.test_client().post("/login/forgot", data={"email": b.therapist.email})
    reset = OutboxMessage.get(OutboxMessage.kind == "reset")
    assert reset.practice_id == b.practice.id
    assert UserToken.get(UserToken.purpose == "reset").user_id == b.therapist.id


def test_two_practices_invite_one_new_address_and_the_first_link_used_wins(app, world, now):
    a, b = world.a, world.b
    for side in (a, b):
        owner = app.test_client()
        login(owner, side.owner)
        assert _invite(owner, "twice@example.com", "Twice Asked").status_code == 302
    links = {
        m.practice_id: LINK.search(m.body).group(1)
        for m in OutboxMessage.select().where(OutboxMessage.to_addr == "twice@example.com")
    }
    visitor = app.test_client()
    r = visitor.post(links[b.practice.id], data={"password": GOOD, "confirm": GOOD})
    assert r.status_code == 302
    r = visitor.get(links[a.practice.id])
    assert r.status_code == 409
    r = visitor.post(links[a.practice.id], data={"password": GOOD + "!", "confirm": GOOD + "!"})
    assert r.status_code == 409
    rows = {u.practice_id: u for u in User.select().where(User.email == "twice@example.com")}
    assert rows[a.practice.id].password_hash is None and rows[b.practice.id].password_hash
    assert login(app.test_client(), "twice@example.com", password=GOOD).status_code == 302
    member = User.get_by_id(rows[b.practice.id].id)
    assert member.last_login_at is not None


def test_a_client_invitation_to_an_address_known_elsewhere_reads_as_any(app, world):
    a, b = world.a, world.b
    with app.test_request_context():
        known = factories.client(a.practice, email=b.cu1.email)
        new = factories.client(a.practice, email="fresh.client@example.com")
    desk = app.test_client()
    login(desk, a.frontdesk)
    pages = []
    for c in (known, new):
        r = desk.post(f"/provider/clients/{c.id}/portal-invite", follow_redirects=True)
        pages.append((r.status_code, _flashes(r.get_data(as_text=True))))
    assert pages[0] == pages[1]
    assert pages[0][1] == ["Portal invitation sent to the client&#39;s e-mail address."]
    invited = User.get((User.email == b.cu1.email) & (User.practice == a.practice.id))
    assert (invited.client_id, invited.password_hash) == (known.id, None)
    assert User.get_by_id(b.cu1.id).client_id == b.c1.id  # theirs, untouched
    # Its link, followed, refuses as a staff invitation's does.
    path = LINK.search(OutboxMessage.get(OutboxMessage.to_addr == b.cu1.email).body).group(1)
    assert app.test_client().get(path).status_code == 409
    assert login(app.test_client(), b.cu1.email, password=PASSWORD).headers["Location"] == (
        "/portal/"
    )
