"""Insurance on file, walked in a real browser (Debian's Chromium) as its users meet it:

- the front desk on a tablet (1024x768): a child's policy on a parent's plan, the card's
  front and back (and a phone's 20 MB photo, answered next to the field), a benefits
  verification (a typo refused, the typed values kept), a referral and a prior
  authorization, the visits left going down as a visit is billed, a new primary added
  before the old one ends (named, then mended with an end date), a secondary;
- the client on a phone (390x844): their insurance page, a 20 MB photo, a card photo
  from the phone, a photo of new insurance, an ended policy shown as ended.

Each page: no script error, no 5xx, no control under 44 px, nothing wider than the
screen. Screenshots: test-artifacts/ins-walk-*.png."""

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from portal import clock
from portal.models import AuditLog, CardImage, InsurancePolicy
from tests import factories
from tests.a11y import axe_violations, small_targets
from tests.browser.helpers import loaded_width, login, watch
from tests.claims import factories as cf
from tests.clients import helpers as h

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}
BIG_PHOTO = b"\xff\xd8\xff" + b"\0" * (20 * 1024 * 1024)
# what the message next to the file field begins with, for BIG_PHOTO
TOO_LARGE = re.compile("^" + re.escape("That file is 20.0 MB; the limit is 10 MB."))


def _fits(page, width, where, problems):
    """No control under 44 px and nothing wider than the screen."""
    small = small_targets(page)
    if small:
        problems.append((where, "small", small))
    wide = page.evaluate("document.documentElement.scrollWidth")
    if wide > width:
        problems.append((where, "wide", wide))


def _day(d):
    return f"{d:%b} {d.day}, {d.year}"


def _billed_visit(practice, client, provider, local_day):
    """A completed visit of an insurance-billed type at noon, the practice's time."""
    start = dt.datetime.combine(local_day, dt.time(12)).replace(tzinfo=practice.tz)
    start = start.astimezone(dt.UTC).replace(tzinfo=None)
    appt = cf.visit(practice, client, provider, day=start.date(), hour=start.hour)
    appt.starts_at, appt.ends_at = start, start + dt.timedelta(hours=1)
    appt.blocked_until = appt.completed_at = appt.ends_at
    appt.save()


def _desk_world(app):
    with app.test_request_context():
        practice = cf.billable_practice(factories.practice(name="Harbor Massage"))
        provider = factories.provider(practice, first_name="Maya", last_name="Lindqvist")
        desk = factories.user(practice, "frontdesk", name="Noor New")
        child = cf.billable_client(
            factories.client(practice, first_name="Lia", last_name="Avery", therapist=provider)
        )
        regence = cf.payer(
            practice, name="Regence BlueCross BlueShield of Oregon", phone="800-555-0101"
        )
        regence.referral_required = regence.authorization_required = True
        regence.save()
        cf.payer(practice, name="Aetna")
        cf.payer(practice, name="Moda Health")
        return practice, provider, desk, child


def _add_policy(page, payer, member_id, rank="Primary", effective=None):
    page.get_by_role("link", name="Add a policy").click()
    page.get_by_label("Payer").select_option(label=payer)
    page.get_by_label("Order").select_option(label=rank)
    page.get_by_label("Member ID").fill(member_id)
    if effective:
        page.get_by_label("Effective date").fill(effective.isoformat())


def test_front_desk_keeps_a_childs_insurance_on_file(app, live_server, page, screenshot):
    practice, provider, desk, child = _desk_world(app)
    today = clock.today(practice.tz)
    problems = watch(page)
    fit = []
    login(page, live_server, desk.email)
    page.goto(f"{live_server}/provider/clients/{child.id}")
    expect(page.locator("#insurance")).to_contain_text(
        "No insurance on file: the client pays", use_inner_text=True
    )

    # The child is on a parent's plan: the subscriber's name is asked for, input kept.
    _add_policy(page, "Regence BlueCross BlueShield of Oregon", "RGA918273645-02")
    page.get_by_label("Group number").fill("10045")
    page.get_by_label("Effective date").fill((today - dt.timedelta(days=300)).isoformat())
    page.get_by_label("Client is the subscriber's").select_option(label="Child")
    page.get_by_label("Subscriber date of birth").fill("1979-06-02")
    page.get_by_role("button", name="Add policy").click()
    # (the message first: the fields held these values before the answer came, too)
    expect(page.locator("#subscriber_first_name-error")).to_contain_text(
        "Enter the subscriber's name"
    )
    expect(page.get_by_label("Member ID")).to_have_value("RGA918273645-02")
    expect(page.get_by_label("Subscriber date of birth")).to_have_value("1979-06-02")
    screenshot(page, "ins-walk-01-policy-error")
    _fits(page, 1024, "policy form", fit)
    page.get_by_label("Subscriber first name").fill("Jordan")
    page.get_by_label("Subscriber last name").fill("Avery")
    page.get_by_label("Subscriber sex").select_option(label="Female")
    page.get_by_role("button", name="Add policy").click()
    page.wait_for_url(re.compile(r"/provider/policies/\d+$"))
    regence = InsurancePolicy.get(InsurancePolicy.member_id == "RGA918273645-02")
    main = page.locator("main")
    expect(main).to_contain_text("Jordan Avery (child)", use_inner_text=True)
    expect(main).to_contain_text(
        "call Regence BlueCross BlueShield of Oregon at 800-555-0101", use_inner_text=True
    )

    # The card: a phone's 20 MB photo is answered next to the field; then front and back.
    page.get_by_label("Side").select_option("front")
    page.get_by_label("Card photo or PDF").set_input_files(
        files=[{"name": "IMG_2041.JPG", "mimeType": "image/jpeg", "buffer": BIG_PHOTO}]
    )
    page.get_by_role("button", name="Upload card image").click()
    expect(page.locator("#card-file-error")).to_have_text(TOO_LARGE, use_inner_text=True)
    screenshot(page, "ins-walk-02-card-too-large")
    for side, data, mime in (
        ("front", h.jpeg_bytes(size=(856, 540), color=(30, 90, 160)), "image/jpeg"),
        ("back", h.png_bytes(size=(856, 540), color=(230, 230, 220)), "image/png"),
    ):
        page.get_by_label("Side").select_option(side)
        page.get_by_label("Card photo or PDF").set_input_files(
            files=[{"name": f"{side}.img", "mimeType": mime, "buffer": data}]
        )
        page.get_by_role("button", name="Upload card image").click()
        page.wait_for_selector(f"text=Card {side} saved.")
    for side in ("front", "back"):
        assert loaded_width(page.locator(f'img[alt="Card {side}"]')) == 856
    screenshot(page, "ins-walk-03-cards")
    _fits(page, 1024, "policy page", fit)
    views = AuditLog.select().where(
        (AuditLog.action == "card.view") & (AuditLog.user_id == desk.id)
    )
    assert views.count() >= 2  # each image shown is a view of PHI, in the log

    # The call: a typo (more met than the deductible) is refused, the rest kept.
    page.get_by_role("link", name="Record a verification").first.click()
    expect(page.get_by_label("Verified on")).to_have_value(today.isoformat())
    expect(page.get_by_label("Referral required")).to_be_checked()  # the payer's settings
    page.get_by_label("Payer representative").fill("Dana M.")
    page.get_by_label("Call reference number").fill("RG-4471")
    page.get_by_label("Copay per visit").fill("40")
    page.get_by_label("Deductible", exact=True).fill("500")
    page.get_by_label("Deductible met so far").fill("5000")
    page.get_by_label("Visits per year").fill("20")
    page.get_by_label("Visits already used this year").fill("8")
    page.get_by_role("button", name="Save verification").click()
    expect(page.locator("#deductible_met-error")).to_contain_text(
        "More than the deductible ($500.00)"
    )
    expect(page.get_by_label("Call reference number")).to_have_value("RG-4471")
    screenshot(page, "ins-walk-04-verification-error")
    _fits(page, 1024, "verification form", fit)
    page.get_by_label("Deductible met so far").fill("500")
    page.get_by_role("button", name="Save verification").click()
    page.wait_for_url(re.compile(rf"/provider/clients/{child.id}"))
    expect(page.locator("#insurance .verified").first).to_contain_text(
        "$40 copay, deductible $500 of $500 met, 12 of 20 visits left", use_inner_text=True
    )

    # The referral the payer requires, and its prior authorization.
    page.get_by_role("link", name="Add a referral").click()
    page.get_by_label("For policy").select_option(str(regence.id))
    page.get_by_label("Referring provider", exact=True).fill("Dr Ada Lane")
    page.get_by_label("Referring provider's NPI").fill("1234567893")
    page.get_by_label("Diagnosis codes (ICD-10-CM)").fill("M54.50, M62.830")
    page.get_by_label("Referral date").fill((today - dt.timedelta(days=3)).isoformat())
    page.get_by_label("End date").fill((today + dt.timedelta(days=90)).isoformat())
    page.get_by_label("Visits allowed").fill("6")
    _fits(page, 1024, "referral form", fit)
    page.get_by_role("button", name=re.compile("Save|Add")).first.click()
    page.wait_for_url(re.compile(rf"/provider/clients/{child.id}"))
    page.get_by_role("link", name="Add an authorization").click()
    page.get_by_label("For policy").select_option(str(regence.id))
    page.get_by_label("Authorization number").fill("PA-2026-0042")
    page.get_by_label("Visits authorized").fill("12")
    page.get_by_label("Visits already used before today").fill("2")
    page.get_by_label("Start date").fill((today - dt.timedelta(days=3)).isoformat())
    page.get_by_label("End date").fill((today + dt.timedelta(days=60)).isoformat())
    page.get_by_label("Body regions").fill("Lumbar")
    _fits(page, 1024, "authorization form", fit)
    page.get_by_role("button", name=re.compile("Save|Add")).first.click()
    page.wait_for_url(re.compile(rf"/provider/clients/{child.id}"))
    section = page.locator("#insurance")
    expect(section).to_contain_text("6 of 6 visits left", use_inner_text=True)
    expect(section).to_contain_text("10 of 12 visits left", use_inner_text=True)
    expect(page.locator(".alerts")).to_have_count(0)  # verified, referral, authorization: on file
    screenshot(page, "ins-walk-05-on-file")
    _fits(page, 1024, "client page", fit)

    # A visit is billed today: each count goes down by one.
    with app.test_request_context():
        _billed_visit(practice, child, provider, today)
    page.reload()
    for left in ("11 of 20 visits left", "5 of 6 visits left", "9 of 12 visits left"):
        expect(section).to_contain_text(left, use_inner_text=True)

    # The parent changes jobs: the new insurer is added before the old policy is ended.
    _add_policy(page, "Aetna", "W1234-02", effective=today)
    page.get_by_label("Client is the subscriber's").select_option(label="Child")
    page.get_by_label("Subscriber first name").fill("Jordan")
    page.get_by_label("Subscriber last name").fill("Avery")
    page.get_by_role("button", name="Add policy").click()
    page.wait_for_url(re.compile(r"/provider/policies/\d+$"))
    page.get_by_role("link", name="Lia Avery").first.click()
    alerts = page.locator(".alerts")
    expect(alerts).to_contain_text(
        "Two primary policies are in effect on " + _day(today), use_inner_text=True
    )
    expect(alerts).to_contain_text("Claims go to Aetna, the newest", use_inner_text=True)
    screenshot(page, "ins-walk-06-two-primaries")
    page.goto(f"{live_server}/provider/policies/{regence.id}/edit")
    page.get_by_label("End date").fill((today - dt.timedelta(days=1)).isoformat())
    page.get_by_role("button", name="Save policy").click()
    expect(page.get_by_text("Policy saved.")).to_be_visible()
    page.goto(f"{live_server}/provider/clients/{child.id}")
    policies = page.locator("#insurance article.policy")
    expect(policies.nth(0).locator("h3")).to_have_text(re.compile(r"^Aetna"), use_inner_text=True)
    ended = "Ended " + _day(today - dt.timedelta(days=1))
    expect(policies.nth(1)).to_contain_text(ended, use_inner_text=True)
    # (after the page with the ended policy is there, so the absence is not the old page's)
    expect(page.locator("main")).not_to_contain_text("Two primary", use_inner_text=True)

    # And a secondary behind it.
    _add_policy(page, "Moda Health", "MODA-77", rank="Secondary", effective=today)
    page.get_by_role("button", name="Add policy").click()
    page.wait_for_url(re.compile(r"/provider/policies/\d+$"))
    page.goto(f"{live_server}/provider/clients/{child.id}")
    heads = page.locator("#insurance article.policy h3")
    expect(heads.nth(0)).to_have_text("Aetna Primary", use_inner_text=True)
    expect(heads.nth(1)).to_have_text("Moda Health Secondary", use_inner_text=True)
    screenshot(page, "ins-walk-07-replaced")
    _fits(page, 1024, "client page, replaced", fit)
    assert fit == []
    assert problems == []  # no script error, no 5xx


def _phone_world(app):
    with app.test_request_context():
        practice = factories.practice(name="Harbor Massage")
        client = factories.client(practice, first_name="Jordan", last_name="Avery")
        cu = factories.client_user(practice, client)
        today = clock.today(practice.tz)
        old = h.payer(practice, name="Providence Health Plan", payer_code="PHP1")
        h.policy(
            practice,
            client,
            old,
            member_id="PHP-5550",
            effective_date=today - dt.timedelta(days=400),
            end_date=today - dt.timedelta(days=30),
        )
        new = h.payer(practice, name="Regence BlueCross BlueShield of Oregon")
        policy = h.policy(practice, client, new, member_id="RGA918273645", effective_date=today)
        return practice, client, cu, policy, today


def test_client_sends_a_card_photo_from_a_phone(app, live_server, browser, screenshot):
    practice, client, cu, policy, today = _phone_world(app)
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    problems = watch(page)
    fit = []
    page.goto(live_server + "/login")
    page.get_by_label("E-mail").fill(cu.email)
    page.get_by_label("Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/portal/$"))
    home = page.locator("main")
    expect(home).to_contain_text(
        "Send a photo of your Regence BlueCross BlueShield of Oregon card.", use_inner_text=True
    )
    expect(home).not_to_contain_text("Providence", use_inner_text=True)  # ended: no card to send
    page.get_by_role("link", name="Send photo").first.click()
    page.wait_for_url(re.compile(r"/portal/insurance$"))
    cards = page.locator("main section.card")
    expect(cards.nth(0).locator("h2")).to_have_text(re.compile(r"^Regence"), use_inner_text=True)
    ended = "Ended " + _day(today - dt.timedelta(days=30))
    expect(cards.nth(1)).to_contain_text(ended, use_inner_text=True)
    screenshot(page, "ins-walk-10-phone-insurance")
    _fits(page, PHONE["width"], "portal insurance", fit)
    assert axe_violations(page) == []

    # Straight from the camera: 20 MB. The page says so and keeps the choices.
    page.get_by_label("Side").select_option("back")
    page.get_by_label("Card photo or PDF").set_input_files(
        files=[{"name": "IMG_2041.JPG", "mimeType": "image/jpeg", "buffer": BIG_PHOTO}]
    )
    page.get_by_role("button", name="Send card photo").click()
    error = page.locator("#card-file-error")
    expect(error).to_have_text(TOO_LARGE, use_inner_text=True)
    expect(page.get_by_label("Side")).to_have_value("back")
    error.scroll_into_view_if_needed()
    screenshot(page, "ins-walk-11-phone-too-large")
    _fits(page, PHONE["width"], "portal insurance, too large", fit)

    page.get_by_label("Insurance").select_option(str(policy.id))
    page.get_by_label("Side").select_option("front")
    page.get_by_label("Card photo or PDF").set_input_files(
        files=[
            {
                "name": "IMG_2042.JPG",
                "mimeType": "image/jpeg",
                "buffer": h.jpeg_bytes(size=(1600, 1000), exif=h.gps_exif()),
            }
        ]
    )
    page.get_by_role("button", name="Send card photo").click()
    page.wait_for_selector("text=Thank you: your card photo was received.")
    front = page.locator('img[alt="Card front"]').first
    assert loaded_width(front) == 1600
    card = CardImage.get(CardImage.policy == policy.id)
    assert (card.side, card.uploaded_by_id) == ("front", cu.id)
    views = AuditLog.select().where((AuditLog.action == "card.view") & (AuditLog.user_id == cu.id))
    assert views.count() >= 1  # the client's own look at the card is in the log too

    # A new card, not on file yet: it waits for the practice.
    page.get_by_label("Insurance").select_option("0")
    page.get_by_label("Card photo or PDF").set_input_files(
        files=[{"name": "new.png", "mimeType": "image/png", "buffer": h.png_bytes()}]
    )
    page.get_by_role("button", name="Send card photo").click()
    page.wait_for_selector("text=Received and waiting for the practice: 1 card photo.")
    screenshot(page, "ins-walk-12-phone-sent")
    _fits(page, PHONE["width"], "portal insurance, sent", fit)
    assert fit == []
    assert problems == []  # no script error, no 5xx
    context.close()
