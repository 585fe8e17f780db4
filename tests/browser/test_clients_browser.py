"""Real browser: the front desk adds a client, a policy with both card images and a
verification (1024x768); a client on a phone fills and signs the intake form and uploads
a card photo. Screenshots: test-artifacts/."""

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from portal.models import BenefitsVerification, CardImage, Client, InsurancePolicy, IntakeSubmission
from tests import factories
from tests.browser.helpers import loaded_width
from tests.browser.helpers import login as _login
from tests.clients import helpers as h

pytestmark = pytest.mark.browser


def _watch(page):
    errors, failed = [], []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on(
        "response",
        lambda r: failed.append((r.request.method, r.url, r.status)) if r.status >= 400 else None,
    )
    return errors, failed


def test_front_desk_adds_client_policy_cards_and_verification(app, live_server, page, screenshot):
    with app.test_request_context():
        practice = factories.practice(name="Harbor Massage")
        maya = factories.provider(practice, first_name="Maya", last_name="Lindqvist")
        desk = factories.user(practice, "frontdesk", name="Sam Front")
        payer = h.payer(practice, name="Regence BlueCross", referral_required=True)
        for i in range(27):
            factories.client(practice, first_name=f"Other{i}", last_name="Someone")
    errors, failed = _watch(page)
    _login(page, live_server, desk.email)

    page.goto(live_server + "/provider/clients")
    # live search over HTMX (a POST: nothing typed lands in a URL)
    page.get_by_label("Search clients").fill("other11")
    expect(page.locator("#client-results tbody tr")).to_have_count(1)
    expect(page.locator("#client-results")).to_contain_text("Other11", use_inner_text=True)
    assert "other11" not in page.url
    # paging inside the live results (the button's page number rides along in the POST)
    page.get_by_label("Search clients").fill("someone")
    expect(page.locator("#client-results")).to_contain_text("27 clients found, page 1 of 2")
    page.get_by_role("button", name="Next").click()
    expect(page.locator("#client-results")).to_contain_text("page 2 of 2")
    expect(page.locator("#client-results tbody tr")).to_have_count(2)

    page.get_by_role("link", name="Add a client").click()
    page.get_by_label("Legal first name").fill("Jordan")
    page.get_by_label("Legal last name").fill("Avery")
    page.get_by_label("Preferred name").fill("Jo")
    page.get_by_label("Date of birth").fill("1986-04-12")
    page.get_by_label("Sex (as on the insurance card)").select_option("F")
    page.get_by_label("Phone", exact=True).fill("503-555-0199")
    page.get_by_label("E-mail").fill("jordan@example.com")
    page.get_by_label("Street address").fill("88 Alder Street")
    page.get_by_label("City").fill("Portland")
    page.get_by_label("State").fill("OR")
    page.get_by_label("ZIP code").fill("97204")
    page.get_by_label("Emergency contact").fill("Casey Avery")
    page.get_by_label("Relationship").fill("Sibling")
    page.get_by_label("Emergency phone").fill("503-555-0188")
    page.get_by_label("Assigned therapist").select_option(str(maya.id))
    page.get_by_role("button", name="Add client").click()
    page.wait_for_url(re.compile(r"/provider/clients/\d+$"))
    client = Client.get(Client.last_name == "Avery")

    page.get_by_role("link", name="Add a policy").click()
    page.get_by_label("Payer").select_option(str(payer.id))
    page.get_by_label("Member ID").fill("RGA918273645")
    page.get_by_label("Group number").fill("10045")
    page.get_by_label("Plan name").fill("Regence Preferred")
    page.get_by_label("Effective date").fill("2026-01-01")
    page.get_by_role("button", name="Add policy").click()
    page.wait_for_url(re.compile(r"/provider/policies/\d+$"))

    for side, data, name, mime in (
        (
            "front",
            h.jpeg_bytes(size=(856, 540), color=(30, 90, 160), exif=h.gps_exif()),
            "front.jpg",
            "image/jpeg",
        ),
        ("back", h.png_bytes(size=(856, 540), color=(230, 230, 220)), "back.png", "image/png"),
    ):
        page.get_by_label("Side").select_option(side)
        page.get_by_label("Card photo or PDF").set_input_files(
            files=[{"name": name, "mimeType": mime, "buffer": data}]
        )
        page.get_by_role("button", name="Upload card image").click()
        page.wait_for_selector(f"text=Card {side} saved.")
    assert loaded_width(page.locator('img[alt="Card front"]')) == 856
    assert loaded_width(page.locator('img[alt="Card back"]')) == 856

    page.get_by_role("link", name="Record a verification").first.click()
    page.get_by_label("Verified on").fill(f"{dt.date.today().year}-01-01")  # this year's
    page.get_by_label("Payer representative").fill("Dana M.")
    page.get_by_label("Call reference number").fill("RG-4471")
    page.get_by_label("Copay per visit").fill("40")
    page.get_by_label("Deductible", exact=True).fill("500")
    page.get_by_label("Deductible met so far").fill("500")
    page.get_by_label("Visits per year").fill("20")
    page.get_by_label("Visits already used this year").fill("8")
    page.get_by_label("Body regions covered").fill("Neck, back")
    expect(page.get_by_label("Referral required")).to_be_checked()  # from the payer's settings
    page.get_by_role("button", name="Save verification").click()
    page.wait_for_url(re.compile(rf"/provider/clients/{client.id}"))

    insurance = page.locator("#insurance")
    expect(insurance).to_contain_text(
        "Verified Jan 1: $40 copay, deductible $500 of $500 met, 12 of 20 visits left, "
        "referral needed",
        use_inner_text=True,
    )
    expect(page.locator(".alerts")).to_contain_text(
        "requires a referral; none is on file", use_inner_text=True
    )
    assert loaded_width(page.locator('#insurance img[alt="Card front"]')) > 0

    # the referral, its diagnosis picked from the ICD-10-CM search
    page.get_by_role("link", name="Add a referral").click()
    # The search input is in the page before htmx (a deferred script) binds it: typing
    # into it earlier sends nothing, so wait for the page's load (seen once under load).
    page.wait_for_load_state("load")
    page.get_by_label("Referring provider", exact=True).fill("Dr. Ana Whitfield, MD")
    page.get_by_label("Referring provider's NPI").fill("1234567893")
    page.get_by_label("Referral date").fill("2026-10-20")
    page.get_by_label("Visits allowed").fill("12")
    page.get_by_label("Find a code by words or code").fill("low back pain")
    page.locator('#referral-dx .suggest-pick[data-code="M54.50"]').click(timeout=15000)
    page.get_by_label("Find a code by words or code").fill("M62.830")
    page.locator('#referral-dx .suggest-pick[data-code="M62.830"]').click(timeout=15000)
    expect(page.get_by_label("Diagnosis codes (ICD-10-CM)")).to_have_value("M54.50, M62.830")
    page.get_by_role("button", name="Save referral").click()
    page.wait_for_url(re.compile(rf"/provider/clients/{client.id}"))
    expect(page.locator("#insurance")).to_contain_text("M54.50, M62.830", use_inner_text=True)
    expect(page.locator(".alerts")).to_have_count(0)  # the referral answers the payer's rule
    screenshot(page, "clients-client-page")

    policy = InsurancePolicy.get(InsurancePolicy.client == client.id)
    assert (policy.member_id, policy.payer_id) == ("RGA918273645", payer.id)
    assert CardImage.select().where(CardImage.policy == policy).count() == 2
    assert BenefitsVerification.get().copay_cents == 4000
    assert client.phone_digits == "5035550199" and client.therapist_id == maya.id
    assert not errors, errors
    assert not failed, failed


def test_client_on_a_phone_signs_intake_and_uploads_a_card(app, live_server, browser, screenshot):
    with app.test_request_context():
        practice = factories.practice(name="Harbor Massage")
        person = factories.client(practice, first_name="Jordan", last_name="Avery")
        cu = factories.client_user(practice, person)
        form = h.intake_form(practice)
        h.policy(practice, person, h.payer(practice, name="Regence BlueCross"))
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    try:
        errors, failed = _watch(page)
        _login(page, live_server, cu.email, landing=r"/portal/")
        page.goto(live_server + "/portal/intake")
        page.get_by_role("link", name="Fill in and sign").click()
        page.get_by_label("Reason for visit").fill("Low back pain after moving house")
        page.get_by_role("group", name="Blood clots?").get_by_role("radio", name="Yes").check()
        page.get_by_label("If yes, details").fill("DVT in 2024, treated")
        page.get_by_label("Pressure").select_option("Firm")
        # try to sign without consenting: refused, answers kept
        page.get_by_label("Type your full name to sign").fill("Jordan Avery")
        page.get_by_role("button", name="Sign and send").tap()
        page.wait_for_selector("text=Check this box to continue.")
        expect(page.get_by_label("Reason for visit")).to_have_value(re.compile(r"^Low back pain"))
        assert failed and failed[-1][2] == 400  # the refused attempt answered 400
        errors.clear()
        failed.clear()
        page.get_by_label("I consent").check()
        screenshot(page, "clients-phone-intake")
        page.get_by_role("button", name="Sign and send").tap()
        page.wait_for_url(re.compile(r"/portal/intake$"))
        expect(page.locator(".flashes")).to_contain_text("is signed", use_inner_text=True)

        page.goto(live_server + "/portal/insurance")
        page.get_by_label("Side").select_option("front")
        page.get_by_label("Card photo or PDF").set_input_files(
            files=[
                {
                    "name": "IMG_2041.JPG",
                    "mimeType": "image/jpeg",
                    "buffer": h.jpeg_bytes(size=(1200, 760), exif=h.gps_exif()),
                }
            ]
        )
        page.get_by_role("button", name="Send card photo").tap()
        page.wait_for_selector("text=your card photo was received")
        assert loaded_width(page.locator('img[alt="Card front"]')) == 1200
        screenshot(page, "clients-phone-insurance")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        assert not errors, errors
        assert not failed, failed
    finally:
        context.close()
    sub = IntakeSubmission.get()
    assert (sub.client_id, sub.signature_name, sub.via) == (person.id, "Jordan Avery", "portal")
    assert sub.flags == ["Contraindication: blood clots (DVT in 2024, treated)"]
    assert sub.signed_ip == "127.0.0.1"
    card = CardImage.get()
    assert card.client_id == person.id and card.uploaded_by_id == cu.id
    assert form.id == sub.form_id
