"""A staff member's account from invitation to departure, on a tablet (1024x768): the owner
invites a therapist, who chooses a password from the e-mailed link (once: the link is
spent), logs in, turns on two-step login and logs in with a code, with a recovery code,
and moves two-step login to a new phone; the owner disables them
(asked first, told of their visits ahead, which stay flagged with a link to the schedule);
their open session ends with a message; the audit log tells it in words and names.
Every page keeps to the tablet's width and its controls are 44 px targets. Screenshots:
test-artifacts/staff-*.png."""

import datetime as dt
import re
import time

import pyotp
import pytest
from playwright.sync_api import expect

from portal import clock
from portal.models import Appointment, AppointmentType, OutboxMessage
from tests import factories
from tests.a11y import small_targets
from tests.browser.helpers import login, tablet_page
from tests.browser.test_client_phone_walk import OVERFLOW_JS

pytestmark = pytest.mark.browser
NEW_PASSWORD = "tide pools at low water 7"


def _fits(page, name, screenshot, problems):
    page.wait_for_load_state("load")
    problems += [(name, "overflow", o) for o in page.evaluate(OVERFLOW_JS)]
    problems += [(name, "small target", t) for t in small_targets(page)]
    screenshot(page, f"staff-{name}")


def _world(app):
    with app.test_request_context():
        practice = factories.practice(name="Harbor Massage", timezone="America/New_York")
        robin = factories.provider(practice, first_name="Robin", last_name="Vale")
        owner = factories.user(practice, "owner", email="olive@example.com", name="Olive Owner")
        client = factories.client(practice, therapist=robin)
        kind = AppointmentType.create(practice=practice, name="60 minutes", duration_minutes=60)
        start = clock.utcnow().replace(minute=0, second=0) + dt.timedelta(days=2)
        Appointment.create(
            practice=practice,
            client=client,
            provider=robin,
            appointment_type=kind,
            starts_at=start,
            ends_at=start + dt.timedelta(hours=1),
            blocked_until=start + dt.timedelta(hours=1),
        )
    return owner, robin


def test_a_therapist_from_invitation_to_departure(app, live_server, browser, screenshot):
    owner, robin = _world(app)
    problems = []
    desk, page, seen_desk = tablet_page(browser, touch=False, accept=False)
    login(page, live_server, owner.email)

    # The owner invites the therapist.
    page.goto(live_server + "/provider/settings/staff")
    page.get_by_label("Name").fill("Robin Vale")
    page.get_by_label("E-mail").fill("robin@example.com")
    page.get_by_label("Role").select_option(label="Therapist")
    page.get_by_label("Therapist record").select_option(label="Robin Vale, LMT")
    page.get_by_role("button", name="Send invitation", exact=True).click()
    expect(page.get_by_text("Invitation for robin@example.com is waiting")).to_be_visible()
    _fits(page, "invited", screenshot, problems)
    link = re.search(r"http\S+", OutboxMessage.get(OutboxMessage.kind == "invite").body)[0]

    # The therapist, on a tablet of their own, chooses a password: once.
    mine, tab, seen_tab = tablet_page(browser, touch=False, accept=False)
    tab.goto(link)
    tab.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    tab.get_by_label("Repeat the new password").fill(NEW_PASSWORD)
    tab.get_by_role("button", name="Save password").click()
    expect(tab.get_by_text("Your password is set. Log in with it now.")).to_be_visible()
    tab.goto(link)
    expect(tab.get_by_role("heading", name="This link no longer works")).to_be_visible()
    login(tab, live_server, "robin@example.com", NEW_PASSWORD)

    # Two-step login, from the account page their name leads to.
    tab.get_by_role("link", name="Robin Vale").click()
    tab.get_by_role("link", name="Turn it on").click()
    expect(tab.locator("code.secret")).to_be_visible()
    secret = tab.locator("code.secret").inner_text()
    _fits(tab, "totp-setup", screenshot, problems)
    tab.get_by_label("6-digit code").fill(pyotp.TOTP(secret).now())
    tab.get_by_role("button", name="Turn on two-step login").click()
    expect(tab.get_by_text("Two-step login is on.")).to_be_visible()
    # Its recovery codes, shown this once, one per line, with a way to print them.
    codes = tab.locator(".recovery-codes code").all_inner_texts()
    assert len(codes) == 10 and all(re.fullmatch(r"(\w{4}-){3}\w{4}", c) for c in codes)
    expect(tab.get_by_role("button", name="Print the codes")).to_be_visible()
    _fits(tab, "recovery-codes", screenshot, problems)
    tab.get_by_role("button", name="Log out").click()
    expect(tab.get_by_text("You are logged out.")).to_be_visible()
    # A lost phone: a recovery code instead of the app's, once.
    tab.get_by_label("E-mail").fill("robin@example.com")
    tab.get_by_label("Password").fill(NEW_PASSWORD)
    tab.get_by_role("button", name="Log in").click()
    tab.get_by_role("link", name="Use a recovery code").click()
    tab.get_by_label("Recovery code").fill(codes[0])
    _fits(tab, "recovery-login", screenshot, problems)
    tab.get_by_role("button", name="Continue").click()
    tab.wait_for_url(re.compile(r"/provider/$"))
    expect(tab.get_by_text("9 recovery codes left")).to_be_visible()
    # ... and moves two-step login to the new phone themselves: the password, then a code
    # from the new app; the old app's codes stop there.
    tab.get_by_role("link", name="Robin Vale").click()
    tab.get_by_role("link", name="Move two-step login to a new phone").click()
    tab.get_by_label("Your password, or the 6-digit code from your app").fill(NEW_PASSWORD)
    tab.get_by_role("button", name="Continue").click()
    expect(tab.locator("code.secret")).to_be_visible()
    old, secret = secret, tab.locator("code.secret").inner_text()
    assert secret != old
    _fits(tab, "totp-move", screenshot, problems)
    tab.get_by_label("6-digit code").fill(pyotp.TOTP(secret).now())
    tab.get_by_role("button", name="Use the new app from now on").click()
    expect(tab.get_by_text("Two-step login now uses your new app")).to_be_visible()
    tab.get_by_role("button", name="Log out").click()
    tab.get_by_label("E-mail").fill("robin@example.com")
    tab.get_by_label("Password").fill(NEW_PASSWORD)
    tab.get_by_role("button", name="Log in").click()
    tab.wait_for_url(re.compile(r"/login/totp$"))
    expect(tab.get_by_text("Lost your phone?")).to_be_visible()
    _fits(tab, "totp-login", screenshot, problems)
    tab.get_by_label("6-digit code").fill(pyotp.TOTP(secret).at(time.time() + 30))
    tab.get_by_role("button", name="Continue").click()
    tab.wait_for_url(re.compile(r"/provider/$"))

    # The owner disables them: asked first, and told what they leave on the schedule.
    asked = []
    page.on("dialog", lambda d: (asked.append(d.message), d.accept()))
    page.goto(live_server + "/provider/settings/staff")
    row = page.get_by_role("row").filter(has_text="robin@example.com")
    row.get_by_role("button", name="Disable").click()
    expect(page.get_by_text("Robin Vale is disabled and logged out everywhere.")).to_be_visible()
    assert asked and "1 booked visit ahead" in asked[0], asked
    flag = page.locator(".visits-ahead")
    expect(flag).to_contain_text("1 booked visit ahead")
    _fits(page, "disabled", screenshot, problems)
    flag.get_by_role("link", name="move or cancel it").click()
    page.wait_for_url(re.compile(rf"/provider/schedule/\?provider={robin.id}&date=.*&view=week"))

    # Their session on the other tablet ends at their next click, and says so.
    tab.get_by_role("link", name="Schedule", exact=True).click()
    tab.wait_for_url(re.compile(r"/login"))
    expect(tab.get_by_text("Your session ended. Please log in again.")).to_be_visible()

    # The audit log tells it in words, naming the therapist.
    page.goto(live_server + "/provider/settings/audit")
    disabled = page.get_by_role("row").filter(has_text="Disabled a staff user")
    expect(disabled).to_contain_text("Robin Vale")
    expect(disabled).to_contain_text("ended 1 session; 1 booked visit ahead")
    expect(page.get_by_role("row").filter(has_text="Turned on two-step login")).to_have_count(1)
    expect(page.get_by_role("row").filter(has_text="Moved two-step login")).to_have_count(1)
    _fits(page, "audit", screenshot, problems)
    problems += seen_desk + seen_tab
    assert not problems, problems
