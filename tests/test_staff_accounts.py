"""The owner's staff pages as they are used: disabling a therapist who still has visits
booked, changing a role, and what the audit log then says; links and sessions of a
disabled user."""

import datetime as dt
import re

import pytest

from portal import clock
from portal.models import Appointment, AppointmentType, AuditLog, User, UserToken
from tests import factories
from tests.conftest import login

# Wednesday 2 December 2026, 10:00 in Los Angeles (the factories' practice time zone)
NOW = dt.datetime(2026, 12, 2, 18, 0)


@pytest.fixture
def now(monkeypatch):
    """A controllable clock: now["t"] is what portal.clock.utcnow() returns."""
    state = {"t": NOW}
    monkeypatch.setattr(clock, "utcnow", lambda: state["t"])
    return state


def _visit(side, starts_at, status="booked", provider=None):
    t = AppointmentType.get_or_create(
        practice=side.practice, name="60-minute massage", duration_minutes=60
    )[0]
    return Appointment.create(
        practice=side.practice,
        client=side.c1,
        provider=provider or side.provider,
        appointment_type=t,
        starts_at=starts_at,
        ends_at=starts_at + dt.timedelta(hours=1),
        blocked_until=starts_at + dt.timedelta(hours=1),
        status=status,
    )


def _staff_page(client):
    return client.get("/provider/settings/staff").get_data(as_text=True)


def test_disabling_a_therapist_with_visits_ahead_says_so_and_keeps_it_flagged(app, world, now):
    a = world.a
    _visit(a, NOW - dt.timedelta(days=1), status="completed")  # past: not theirs to move
    _visit(a, NOW + dt.timedelta(days=2))  # Friday 4 December, 10:00 in Los Angeles
    _visit(a, NOW + dt.timedelta(days=3))
    _visit(a, NOW + dt.timedelta(days=4), status="cancelled")
    _visit(a, NOW + dt.timedelta(days=1), provider=a.provider2)  # another therapist's
    owner = app.test_client()
    login(owner, a.owner)

    # The button asks first, and says what the owner is about to leave behind.
    page = _staff_page(owner)
    confirm = re.search(
        rf'action="/provider/settings/staff/{a.therapist.id}/toggle".*?data-confirm="([^"]*)"',
        page,
        re.S,
    )
    assert confirm, "Disable asks for confirmation"
    assert f"Disable {a.therapist.name}?" in confirm.group(1)
    assert "2 booked visits ahead" in confirm.group(1)

    r = owner.post(f"/provider/settings/staff/{a.therapist.id}/toggle", follow_redirects=True)
    text = r.get_data(as_text=True)
    assert "2 booked visits ahead" in text
    assert "Move them to another therapist or cancel them" in text
    # New bookings, online too, still go to their therapist record: the owner is told.
    assert (
        f"Clients can still book {a.provider.display_name}, online too: turn the record off"
        " under Providers if they no longer see clients." in text.replace("&#39;", "'")
    )
    # The flag stays on the staff page until the visits are handled, with a link to the
    # therapist's week on the schedule at the first of them (in the practice's zone).
    page = _staff_page(owner)
    assert "2 booked visits ahead, from Fri 4 Dec" in page
    assert f"/provider/schedule/?provider={a.provider.id}&amp;date=2026-12-04&amp;view=week" in page
    row = AuditLog.get(AuditLog.action == "user.disable")
    assert row.object_id == a.therapist.id and "2 booked visits ahead" in row.detail

    # Once they are moved or cancelled, the flag is gone.
    Appointment.update(status="cancelled").where(Appointment.provider == a.provider).execute()
    assert "booked visits ahead" not in _staff_page(owner)


def test_disabling_without_visits_ahead_asks_plainly(app, client, world, now):
    login(client, world.a.owner)
    page = _staff_page(client)
    desk = world.a.frontdesk
    confirm = re.search(
        rf'action="/provider/settings/staff/{desk.id}/toggle".*?data-confirm="([^"]*)"',
        page,
        re.S,
    )
    assert confirm
    assert "logged out everywhere" in confirm.group(1)
    assert "visits ahead" not in confirm.group(1)
    r = client.post(f"/provider/settings/staff/{desk.id}/toggle", follow_redirects=True)
    assert f"{desk.name} is disabled and logged out everywhere." in r.get_data(as_text=True)
    assert "Clients can still book" not in r.get_data(as_text=True)  # the desk has no record


def test_a_disabled_users_open_links_stop_working(app, client, world):
    """An invitation (or reset) link sent before the owner disabled someone must not let
    them choose a password afterwards."""
    from portal import tokens

    with app.test_request_context():
        invited = User.create(
            practice=world.a.practice, email="new@example.com", name="New Person", role="frontdesk"
        )
        token = tokens.send_invite(invited, world.a.practice)
    login(client, world.a.owner)
    client.post(f"/provider/settings/staff/{invited.id}/toggle")
    assert not User.get_by_id(invited.id).active
    assert UserToken.get(UserToken.user == invited.id).used_at is not None
    other = app.test_client()
    assert other.get(f"/account/set-password/{token}").status_code == 404
    r = other.post(
        f"/account/set-password/{token}",
        data={"password": "a long enough sentence 1", "confirm": "a long enough sentence 1"},
    )
    assert r.status_code == 404
    assert User.get_by_id(invited.id).password_hash is None


def test_a_link_of_a_user_disabled_by_hand_does_not_work_either(app, world):
    from portal import tokens

    with app.test_request_context():
        token = tokens.send_reset(world.a.therapist)
    User.update(active=False).where(User.id == world.a.therapist.id).execute()
    assert app.test_client().get(f"/account/set-password/{token}").status_code == 404


# --- changing a role ------------------------------------------------------------------------


def test_the_owner_changes_a_front_desk_user_into_a_therapist(app, client, world):
    a = world.a
    login(client, a.owner)
    assert f"/provider/settings/staff/{a.frontdesk.id}/role" in _staff_page(client)
    page = client.get(f"/provider/settings/staff/{a.frontdesk.id}/role")
    assert page.status_code == 200
    assert "Change the role of" in page.get_data(as_text=True)
    # A therapist needs their record: the message is next to the field, nothing changes.
    r = client.post(
        f"/provider/settings/staff/{a.frontdesk.id}/role", data={"role": "therapist", "provider": 0}
    )
    assert r.status_code == 400
    assert "Choose the therapist record for this user" in r.get_data(as_text=True)
    assert User.get_by_id(a.frontdesk.id).role == "frontdesk"

    r = client.post(
        f"/provider/settings/staff/{a.frontdesk.id}/role",
        data={"role": "therapist", "provider": a.provider2.id},
        follow_redirects=True,
    )
    assert f"{a.frontdesk.name}&#39;s role is now Therapist." in r.get_data(as_text=True)
    fresh = User.get_by_id(a.frontdesk.id)
    assert (fresh.role, fresh.provider_id) == ("therapist", a.provider2.id)
    row = AuditLog.get(AuditLog.action == "user.role")
    assert row.object_id == a.frontdesk.id and row.detail == "frontdesk -> therapist"
    # Saving the same role again changes nothing and logs nothing.
    client.post(
        f"/provider/settings/staff/{a.frontdesk.id}/role",
        data={"role": "therapist", "provider": a.provider2.id},
    )
    assert AuditLog.select().where(AuditLog.action == "user.role").count() == 1


def test_a_role_change_takes_effect_in_the_users_open_session(app, world):
    a = world.a
    therapist = app.test_client()
    login(therapist, a.therapist)
    notes = f"/provider/clients/{a.c1.id}/notes"
    assert therapist.get(notes).status_code == 200
    owner = app.test_client()
    login(owner, a.owner)
    r = owner.post(
        f"/provider/settings/staff/{a.therapist.id}/role", data={"role": "frontdesk", "provider": 0}
    )
    assert r.status_code == 302
    fresh = User.get_by_id(a.therapist.id)
    assert (fresh.role, fresh.provider_id) == ("frontdesk", None)  # the desk has no schedule
    assert therapist.get(notes).status_code == 404  # no chart notes for the front desk


def test_nobody_changes_their_own_role_or_another_practices_users(app, client, world):
    login(client, world.a.owner)
    r = client.post(
        f"/provider/settings/staff/{world.a.owner.id}/role",
        data={"role": "frontdesk", "provider": 0},
        follow_redirects=True,
    )
    assert "Another owner must change your own role." in r.get_data(as_text=True)
    assert User.get_by_id(world.a.owner.id).role == "owner"
    for other in (world.b.frontdesk, world.a.cu1):  # another practice's staff; a client
        r = client.post(
            f"/provider/settings/staff/{other.id}/role", data={"role": "owner", "provider": 0}
        )
        assert r.status_code == 404
        assert User.get_by_id(other.id).role != "owner"


# --- what the owner's audit log shows ---------------------------------------------------------


def _fail_logins(client, email, n):
    for _ in range(n):
        r = client.post("/login", data={"email": email, "password": "not the right password"})
        assert r.status_code == 401


def test_a_locked_out_staff_account_is_in_its_practices_audit_log(app, world, now):
    therapist = world.a.therapist
    stranger = app.test_client()
    _fail_logins(stranger, therapist.email, app.config["LOGIN_MAX_FAILURES_ACCOUNT"])
    assert login(stranger, therapist).status_code == 429
    row = AuditLog.get(AuditLog.action == "login.throttled")
    assert (row.user_id, row.practice_id) == (therapist.id, world.a.practice.id)

    owner = app.test_client()
    login(owner, world.a.owner)
    page = owner.get("/provider/settings/audit?action=login.throttled").get_data(as_text=True)
    assert "Log-in refused: too many tries" in page
    assert therapist.name in page


def test_a_lock_at_the_two_step_code_is_audited_and_worded_right(app, world, now):
    import pyotp

    owner = world.a.owner
    User.update(totp_secret=pyotp.random_base32(), totp_enabled=True).where(
        User.id == owner.id
    ).execute()
    c = app.test_client()
    assert login(c, owner).headers["Location"] == "/login/totp"
    for _ in range(app.config["LOGIN_MAX_FAILURES_ACCOUNT"]):
        assert c.post("/login/totp", data={"code": "000000"}).status_code == 401
    r = c.post("/login/totp", data={"code": "000000"})
    assert r.status_code == 429
    assert "Too many failed attempts. Try again in 15 minutes." in r.get_data(as_text=True)
    row = AuditLog.get(AuditLog.action == "login.throttled")
    assert (row.user_id, row.detail) == (owner.id, "two-step code")

    # Half a minute before the lock ends: "1 minute", not "1 minutes".
    now["t"] += dt.timedelta(minutes=14, seconds=30)
    r = c.post("/login/totp", data={"code": "000000"})
    assert "Try again in 1 minute." in r.get_data(as_text=True)


def test_staff_events_read_in_words_and_name_the_staff_user(app, client, world, now):
    a = world.a
    login(client, a.owner)
    client.post(f"/provider/settings/staff/{a.frontdesk.id}/toggle")
    client.post(
        f"/provider/settings/staff/{a.therapist.id}/role", data={"role": "owner", "provider": 0}
    )
    page = client.get("/provider/settings/audit").get_data(as_text=True)
    assert "Disabled a staff user" in page
    assert "Changed a staff user&#39;s role" in page
    assert f"User #{a.frontdesk.id}" not in page  # who, by name
    rows = re.findall(r"<tr>.*?</tr>", page, re.S)
    disabled = next(r for r in rows if "user.disable" in r)
    assert a.frontdesk.name in disabled


# --- a lost phone, a session ended elsewhere -------------------------------------------------


def _two_step_on(user):
    import pyotp

    User.update(totp_secret=pyotp.random_base32(), totp_enabled=True).where(
        User.id == user.id
    ).execute()


def test_the_two_step_page_says_what_to_do_about_a_lost_phone_and_leads_back(app, client, world):
    _two_step_on(world.a.therapist)
    login(client, world.a.therapist)
    page = client.get("/login/totp").get_data(as_text=True)
    assert "Lost your phone?" in page
    assert "Ask an owner of the practice to reset your two-step login" in page
    assert re.search(r'<a[^>]+href="/login"[^>]*>Log in as someone else</a>', page)


def test_the_only_owner_with_a_lost_phone_is_told_and_the_server_can_reset_it(app, client, world):
    owner = world.a.owner
    _two_step_on(owner)
    other = app.test_client()
    login(other, world.a.frontdesk)
    assert other.get("/provider/").status_code == 200
    # The owner's own reset, asked of the page, says where the way out is.
    login(client, owner)
    import pyotp

    code = pyotp.TOTP(User.get_by_id(owner.id).totp_secret).now()
    assert client.post("/login/totp", data={"code": code}).status_code == 302
    r = client.post(f"/provider/settings/staff/{owner.id}/totp-reset", follow_redirects=True)
    assert "flask --app wsgi reset-two-step" in r.get_data(as_text=True)

    result = app.test_cli_runner().invoke(args=["reset-two-step", "--email", owner.email.upper()])
    assert result.exit_code == 0, result.output
    assert "logs in with the password alone" in result.output
    fresh = User.get_by_id(owner.id)
    assert not fresh.totp_enabled and fresh.totp_secret is None
    assert client.get("/provider/").status_code == 302  # their sessions ended
    assert other.get("/provider/").status_code == 200  # nobody else's
    row = AuditLog.get(AuditLog.action == "user.totp_reset")
    assert (row.object_id, row.user_id, row.detail) == (owner.id, None, "from the server")
    assert login(app.test_client(), owner).headers["Location"] == "/provider/"

    # Clients and unknown addresses are not staff to reset.
    for email in (world.a.cu1.email, "nobody@example.com"):
        result = app.test_cli_runner().invoke(args=["reset-two-step", "--email", email])
        assert result.exit_code != 0 and "No staff user" in result.output


def test_a_session_ended_elsewhere_says_so_at_the_login_page(app, world):
    therapist = app.test_client()
    login(therapist, world.a.therapist)
    owner = app.test_client()
    login(owner, world.a.owner)
    owner.post(f"/provider/settings/staff/{world.a.therapist.id}/toggle")
    r = therapist.get("/provider/schedule/", follow_redirects=True)
    assert "Your session ended. Please log in again." in r.get_data(as_text=True)


def test_an_invitation_spent_by_disabling_is_not_said_to_work_after_enabling(app, client, world):
    a = world.a
    login(client, a.owner)
    client.post(
        "/provider/settings/staff",
        data={"name": "Tess New", "email": "tess@example.com", "role": "frontdesk", "provider": 0},
    )
    tess = User.get(User.email == "tess@example.com")
    client.post(f"/provider/settings/staff/{tess.id}/toggle")  # disabled: the link is spent
    client.post(f"/provider/settings/staff/{tess.id}/toggle")  # enabled again
    row = re.search(r"<tr>(?:(?!</tr>).)*tess@example\.com.*?</tr>", _staff_page(client), re.S)
    status = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", row.group(0)))
    assert "Link works until" not in status
    assert "Link no longer works: resend it." in status
    assert "Resend invitation" in row.group(0)


# --- the private calendar link of a disabled user -------------------------------------------


def _feed_path(app, provider):
    from portal.services import calendar as cal_service

    with app.test_request_context():
        return f"/calendar/{cal_service.new_feed_token(provider)}.ics"


def test_disabling_a_therapist_ends_their_calendar_link_for_good(app, world):
    a = world.a
    path = _feed_path(app, a.provider)
    anon = app.test_client()
    assert anon.get(path).status_code == 200
    owner = app.test_client()
    login(owner, a.owner)
    owner.post(f"/provider/settings/staff/{a.therapist.id}/toggle")
    assert not User.get_by_id(a.therapist.id).active
    assert anon.get(path).status_code == 404
    row = AuditLog.get(AuditLog.action == "calendar_feed.revoke")
    assert (row.object_type, row.object_id, row.practice_id) == (
        "provider",
        a.provider.id,
        a.practice.id,
    )
    assert row.user_id == a.owner.id and row.detail == "user disabled"
    page = owner.get(f"/provider/schedule/feed/{a.provider.id}").get_data(as_text=True)
    assert "no calendar link of theirs works while they are disabled" in page
    assert "No link is active." in page
    # Enabled again, the old link stays dead; a new one works.
    owner.post(f"/provider/settings/staff/{a.therapist.id}/toggle")
    assert User.get_by_id(a.therapist.id).active
    assert anon.get(path).status_code == 404
    assert anon.get(_feed_path(app, a.provider)).status_code == 200
    # Another practice's therapist's link was never touched.
    assert anon.get(_feed_path(app, world.b.provider)).status_code == 200


def test_a_calendar_link_of_a_user_disabled_before_the_fix_does_not_work(app, world):
    """A user disabled by hand, or before disabling ended the link, leaves an active feed
    row: the feed refuses it while the user is disabled, like an unknown token."""
    a = world.a
    path = _feed_path(app, a.provider)
    other = _feed_path(app, a.provider2)  # a record without a login of its own
    User.update(active=False).where(User.id == a.therapist.id).execute()
    anon = app.test_client()
    r = anon.get(path)
    assert r.status_code == 404
    assert r.get_data() == anon.get("/calendar/not-a-token.ics").get_data()
    assert anon.get(other).status_code == 200


def test_a_record_with_two_logins_keeps_a_new_link_when_one_is_disabled(app, world):
    """Two logins of one therapist record (an old account and a new one): disabling the
    old one ends the link there was; a link made afterwards works for the login still
    there, and the page does not say the record's logins are disabled."""
    a = world.a
    with app.test_request_context():
        second = factories.user(a.practice, "therapist", provider=a.provider)
    path = _feed_path(app, a.provider)
    owner = app.test_client()
    login(owner, a.owner)
    owner.post(f"/provider/settings/staff/{a.therapist.id}/toggle")
    anon = app.test_client()
    assert anon.get(path).status_code == 404  # ended with the disabling
    fresh = _feed_path(app, a.provider)
    assert anon.get(fresh).status_code == 200
    page = owner.get(f"/provider/schedule/feed/{a.provider.id}").get_data(as_text=True)
    assert "no calendar link of theirs works" not in page
    # The second login disabled too (by hand): no login of the record is left, and the
    # link answers nothing, as for an unknown token.
    User.update(active=False).where(User.id == second.id).execute()
    assert anon.get(fresh).status_code == 404
    page = owner.get(f"/provider/schedule/feed/{a.provider.id}").get_data(as_text=True)
    assert "no calendar link of theirs works while they are disabled" in page
