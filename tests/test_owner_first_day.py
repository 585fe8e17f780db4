"""An owner's first day: what the settings pages tell a practice with nothing set up yet
(no providers, no services), an invitation's honest state (its e-mail waiting in the outbox,
sent or failed; its link's expiry), and that each settings page says what it changes."""

import datetime as dt
import re

import pytest

from portal import clock
from portal.models import OutboxMessage, User, UserToken
from tests import factories
from tests.conftest import login


@pytest.fixture
def fresh(app):
    """A practice with only its owner, and a second practice with a pending invitation."""
    with app.test_request_context():
        practice = factories.practice(name="Fresh Start Massage", phone="")
        owner = factories.user(practice, "owner")
        other = factories.practice(name="Elsewhere")
        elsewhere = factories.user(other, "frontdesk", email="else@example.com")
        User.update(password_hash=None).where(User.id == elsewhere.id).execute()
    return practice, owner


def _invite(client, **data):
    form = {"name": "Tess", "email": "tess@example.com", "role": "frontdesk", "provider": "0"}
    return client.post("/provider/settings/staff", data={**form, **data}, follow_redirects=True)


def _status(body, email):
    row = re.search(
        r"<tr>\s*<td>[^<]*</td>\s*<td[^>]*>" + re.escape(email) + r"</td>.*?</tr>", body, re.S
    )
    assert row, email
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", row.group(0))).strip()


def test_an_invitation_says_where_its_email_is_and_until_when_its_link_works(
    app, client, fresh, monkeypatch
):
    practice, owner = fresh
    login(client, owner)
    r = _invite(client)
    body = r.get_data(as_text=True)
    # No mail server: the e-mail waits in the outbox, and the owner is told so.
    assert "Invitation for tess@example.com is waiting in the E-mail outbox" in body
    assert "Invitation sent to" not in body
    tess = User.get(User.email == "tess@example.com")
    expires = UserToken.get(UserToken.user == tess.id).expires_at
    local = clock.to_local(expires, practice.tz)
    status = _status(body, "tess@example.com")
    assert "Invited" in status and "E-mail waiting in the outbox (no mail server)." in status
    assert f"Link works until {local:%a} {local.day} {local:%b}, {local:%-I:%M %p}." in status
    assert "else@example.com" not in body  # another practice's invitation
    # Sent, then failed, then the link past its time.
    OutboxMessage.update(sent_at=clock.utcnow()).execute()
    body = client.get("/provider/settings/staff").get_data(as_text=True)
    assert "E-mail sent." in _status(body, "tess@example.com")
    OutboxMessage.update(sent_at=None, error="550 no such mailbox").execute()
    body = client.get("/provider/settings/staff").get_data(as_text=True)
    assert "E-mail not delivered: see the E-mail outbox." in _status(body, "tess@example.com")
    later = expires + dt.timedelta(minutes=1)
    monkeypatch.setattr(clock, "utcnow", lambda: later)
    login(client, owner)  # the session ended while the clock moved
    body = client.get("/provider/settings/staff").get_data(as_text=True)
    assert f"Link expired {local:%a} {local.day} {local:%b}: resend it." in _status(
        body, "tess@example.com"
    )
    # Resent: a new link, and again the outbox says where it is.
    r = client.post(f"/provider/settings/staff/{tess.id}/invite", follow_redirects=True)
    body = r.get_data(as_text=True)
    assert "A new invitation for tess@example.com is waiting in the E-mail outbox" in body
    assert "Link works until" in _status(body, "tess@example.com")


def test_with_a_mail_server_the_invitation_is_said_sent(app, client, fresh, monkeypatch):
    practice, owner = fresh
    app.config["MAIL_SERVER"] = "mail.invalid"
    monkeypatch.setattr("portal.mail.send", lambda msg: None)
    login(client, owner)
    body = _invite(client).get_data(as_text=True)
    assert "Invitation sent to tess@example.com." in body


def test_scheduling_with_no_provider_says_to_add_one_first(app, client, fresh):
    practice, owner = fresh
    login(client, owner)
    body = client.get("/provider/schedule/settings").get_data(as_text=True)
    assert "No providers yet: add each therapist under" in body
    assert 'href="/provider/settings/providers/new"' in body
    body = client.get("/provider/schedule/types/new").get_data(as_text=True)
    assert "No providers yet, so nobody can offer this service" in body
    assert 'name="provider_ids"' not in body  # not an empty list box


def test_working_hours_fields_are_text_fields_in_the_practices_zone(app, client, fresh):
    practice, owner = fresh
    with app.test_request_context():
        provider = factories.provider(practice)
    login(client, owner)
    body = client.get(f"/provider/schedule/hours/{provider.id}").get_data(as_text=True)
    assert len(re.findall(r'<input type="text" id="day\d"', body)) == 7
    assert 'aria-describedby="hours-help"' in body
    assert "Times are Los Angeles time (P" in body  # PST or PDT, by the day the test runs
    assert 'href="/provider/settings/practice"' in body


@pytest.mark.parametrize(
    "path",
    [
        "/provider/settings/practice",
        "/provider/settings/providers",
        "/provider/settings/staff",
        "/provider/schedule/settings",
        "/provider/schedule/policy",
        "/provider/billing/settings",
    ],
)
def test_each_first_day_settings_page_says_what_it_changes(app, client, fresh, path):
    practice, owner = fresh
    login(client, owner)
    body = client.get(path).get_data(as_text=True)
    main = body[body.index("<h1") :]
    lead = re.search(r'<p class="lead">([^<]+)', main)
    assert lead and len(lead.group(1)) > 60, path


def test_the_export_page_says_it_is_not_the_backup(app, client, fresh):
    practice, owner = fresh
    login(client, owner)
    body = client.get("/provider/settings/export").get_data(as_text=True)
    assert "It is not a backup to restore the portal from" in body
    assert "docs/deploy.md, section 7" in body


@pytest.mark.parametrize(
    "path, current",
    [
        ("/provider/schedule/settings", "Scheduling"),
        ("/provider/schedule/policy", "Booking policy"),
        ("/provider/schedule/types/new", "Scheduling"),
    ],
)
def test_schedule_settings_keep_the_owners_settings_menu(app, client, fresh, path, current):
    """Scheduling and the booking policy are settings: an owner keeps the settings menu
    there (and the main menu's Settings), as on every other settings page."""
    _, owner = fresh
    login(client, owner.email)
    body = client.get(path).get_data(as_text=True)
    assert 'aria-label="Settings"' in body
    assert re.search(rf'aria-current="page">{current}</a>', body), current
    assert re.search(r'class="nav-link active"[^>]*>Settings</a>', body)


def test_a_therapist_sees_scheduling_settings_without_the_owners_menu(app, client, world):
    """A therapist may open scheduling settings (their own hours): the page, without the
    owner's settings menu, under Schedule."""
    login(client, world.a.therapist)
    body = client.get("/provider/schedule/settings").get_data(as_text=True)
    assert "<h1>Scheduling settings</h1>" in body
    assert 'aria-label="Settings"' not in body and "Audit log" not in body
    assert re.search(r'class="nav-link active"[^>]*>Schedule</a>', body)
