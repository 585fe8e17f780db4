"""Two first uses in a real browser. A new client books on a phone (375x812): the public
page without JavaScript, a therapist with an empty week, sign-up errors, a time taken
meanwhile, booking and cancelling in the portal. Every page keeps to the screen's width,
its controls are 44 px targets, and an error sits under its own field. Screenshots:
test-artifacts/first-use-*.png."""

import re

import pytest
from playwright.sync_api import expect

from portal.booking import start_param
from portal.models import Practice, ProviderHours
from portal.services import scheduling as svc
from tests import factories
from tests.a11y import small_targets
from tests.browser.helpers import login, tablet_page, watch
from tests.browser.test_client_phone_walk import OVERFLOW_JS
from tests.scheduling.conftest import local_utc, now, sched  # noqa: F401 (fixtures)
from tests.scheduling.test_booking_walk import DAY

pytestmark = pytest.mark.browser
PHONE = {"width": 375, "height": 812}


def _fits(page, name, screenshot, problems):
    page.wait_for_load_state("load")  # after a click, the page and its stylesheets
    problems += [(name, "overflow", o) for o in page.evaluate(OVERFLOW_JS)]
    problems += [(name, "small target", t) for t in small_targets(page)]
    screenshot(page, f"first-use-{name}")


def test_a_new_client_books_on_a_phone(app, live_server, browser, sched, screenshot):  # noqa: F811
    a = sched.a
    ProviderHours.delete().where(ProviderHours.provider == a.provider2.id).execute()
    Practice.update(phone="(503) 555-0100").where(Practice.id == a.practice.id).execute()
    problems = []
    # The public page works without JavaScript: plain links, a <details> per day.
    bare = browser.new_context(viewport=PHONE, java_script_enabled=False)
    page = bare.new_page()
    page.goto(f"{live_server}/book/{a.practice.id}")
    page.get_by_role("link", name=re.compile("60-minute massage")).click()
    page.get_by_role("link", name=f"{a.provider2.first_name} {a.provider2.last_name}").click()
    main = page.locator("main")
    expect(main).to_contain_text(
        f"No free times with {a.provider2.first_name}", use_inner_text=True
    )
    expect(main).to_contain_text("Times are Los Angeles time (PDT).", use_inner_text=True)
    _fits(page, "empty-week", screenshot, problems)
    page.get_by_role("link", name="Try anyone available").click()
    page.locator("a.slot").first.click()
    page.wait_for_url(re.compile(r"/account\?"))
    # Sent empty: each error under its field; the consent's under the tick box and its
    # label, which keeps its width (it was squeezed into a column of one word a line).
    page.get_by_role("button", name="Create account and continue").click()
    label = page.locator("label[for=consent]").bounding_box()
    error = page.locator("#consent-error").bounding_box()
    assert error["y"] >= label["y"] + label["height"] - 1, (label, error)
    assert label["width"] > 250 and label["height"] < 80, label  # two lines at most
    _fits(page, "sign-up-errors", screenshot, problems)
    bare.close()

    # A signed-up client: the time they chose is taken meanwhile; they take the next one.
    start = local_utc(DAY, 10)
    with app.test_request_context():
        svc.book(
            practice=a.practice, client=a.c2, appt_type=a.t60, provider=a.provider, starts_at=start
        )
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    errors = watch(page)
    page.goto(live_server + "/login")
    page.get_by_label("E-mail").fill(a.cu1.email)
    page.get_by_label("Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/portal/"))
    page.goto(
        f"{live_server}/portal/book/confirm?type={a.t60.id}&provider={a.provider.id}"
        f"&start={start_param(start)}"
    )
    page.get_by_role("button", name="Confirm booking").click()
    page.get_by_role("heading", name="That time was just taken").wait_for()
    slots = page.locator("a.slot")
    assert slots.count() >= 2
    for i in range(slots.count()):
        assert slots.nth(i).bounding_box()["height"] < 52, slots.nth(i).inner_text()  # one line
    _fits(page, "taken", screenshot, problems)
    slots.first.click()
    page.get_by_role("button", name="Confirm booking").click()
    page.wait_for_url(re.compile(r"/portal/appointments"))
    expect(page.locator("main")).to_contain_text(
        "Booked: 60-minute massage with", use_inner_text=True
    )
    _fits(page, "booked", screenshot, problems)
    page.get_by_role("link", name="Cancel").first.click()
    page.get_by_role("button", name="Yes, cancel it").click()
    page.wait_for_url(re.compile(r"/portal/appointments"))
    expect(page.locator("main")).to_contain_text(
        "Cancelled: 60-minute massage with", use_inner_text=True
    )
    _fits(page, "cancelled", screenshot, problems)
    context.close()
    assert not problems, problems
    assert not errors, errors


def test_an_owners_first_day_on_a_tablet(app, live_server, browser, screenshot):
    """A practice with only its owner, on a 1024x768 tablet: a provider, their working
    hours, a service with a price (a bad price first), a therapist invited, and the
    payment and booking settings; every page within the screen, 44 px targets."""
    with app.test_request_context():
        practice = factories.practice(name="Fresh Start Massage")
        # a long address: the staff table must still keep to the screen
        owner = factories.user(practice, "owner", email="frances.owner@fresh-start-massage.example")
    context, page, errors = tablet_page(browser, touch=False, accept=False)
    problems = []
    login(page, live_server, owner.email)
    page.goto(live_server + "/provider/schedule/settings")
    expect(page.locator("main")).to_contain_text("No providers yet", use_inner_text=True)
    _fits(page, "owner-scheduling-empty", screenshot, problems)
    page.get_by_role("link", name="Settings → Providers").click()
    page.get_by_label("First name").fill("Tess")
    page.get_by_label("Last name").fill("Lind")
    page.get_by_label("Credentials").fill("LMT")
    page.get_by_role("button", name="Save provider").click()
    page.goto(live_server + "/provider/schedule/settings")
    page.get_by_role("link", name="hours and time off").click()
    _fits(page, "owner-hours", screenshot, problems)  # the day fields were 21 px high
    page.get_by_label("Monday").fill("09:00-12:00, 13:00-17:00")
    page.get_by_role("button", name="Save hours").click()
    expect(page.locator("main")).to_contain_text("Working hours saved.", use_inner_text=True)
    page.goto(live_server + "/provider/schedule/types/new")
    page.get_by_label("Name", exact=True).fill("60-minute massage")
    page.get_by_label("Length (minutes)").fill("60")
    page.get_by_label("Price ($)").fill("95.5.0")
    page.get_by_role("button", name="Save").click()
    price, error = (page.locator(s).bounding_box() for s in ("#price", "#price-error"))
    assert 0 <= error["y"] - (price["y"] + price["height"]) < 20, (price, error)
    page.get_by_label("Price ($)").fill("95")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("main")).to_contain_text("$95.00", use_inner_text=True)
    page.goto(live_server + "/provider/settings/staff")
    page.get_by_label("Name", exact=True).fill("Tess Lind")
    page.get_by_label("E-mail").fill("tess@example.com")
    page.get_by_label("Therapist record").select_option(label="Tess Lind, LMT")
    page.get_by_role("button", name="Send invitation").click()
    row = page.get_by_role("row", name=re.compile("tess@example.com"))
    expect(row).to_contain_text("E-mail waiting in the outbox", use_inner_text=True)
    # The whole table, its Resend button too, is on the screen (it ran 94 px past it).
    _fits(page, "owner-staff", screenshot, problems)
    for path, name in (
        ("/provider/billing/settings", "owner-payments"),
        ("/provider/schedule/policy", "owner-policy"),
        ("/provider/settings/practice", "owner-practice"),
    ):
        page.goto(live_server + path)
        _fits(page, name, screenshot, problems)
    context.close()
    assert not problems, problems
    assert not errors, errors
