"""Real browser (Debian's Chromium at 1024x768), issue 10's acceptance up to the batch:
a therapist completes a visit and signs its chart note; the claim is made and held by a
validation problem (the payer needs a referral, none is on file); the front desk opens
it from the claims list, follows the problem's link, adds the referral, checks the claim
again and it is ready. Screenshots of the claim page and the aging table:
test-artifacts/claims-*.png."""

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from portal import clock
from portal.models import Claim, Referral
from portal.rules import claim_status as cs
from portal.rules import slots as slot_rules
from tests import factories
from tests.browser.helpers import login as _login
from tests.browser.helpers import watch
from tests.claims import factories as cf

pytestmark = pytest.mark.browser


def _logout(page):
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(re.compile(r"/login"))


def _world(app):
    """A practice whose payer needs a referral; yesterday's visit, checked in; older claims
    of two payers waiting for money (for the aging table)."""
    with app.test_request_context():
        practice = cf.billable_practice(factories.practice(name="Harbor Massage"))
        provider = factories.provider(practice, first_name="Maya", last_name="Lindqvist")
        therapist = factories.user(practice, "therapist", provider=provider, name="Maya L")
        desk = factories.user(practice, "frontdesk", name="Sam Front")
        client = cf.billable_client(
            factories.client(practice, first_name="Jordan", last_name="Avery", therapist=provider)
        )
        regence = cf.payer(
            practice, name="Regence BlueShield", referral_required=True, allow_97124_97140=True
        )
        policy = cf.policy(practice, client, regence, member_id="RGA918273645")
        today = slot_rules.to_local(clock.utcnow(), practice.tz).date()
        start = slot_rules.to_utc(
            dt.datetime.combine(today - dt.timedelta(days=1), dt.time(10, 0)), practice.tz
        )
        appt = cf.visit(practice, client, provider, day=start.date(), hour=start.hour,
                        status="checked_in")  # fmt: skip
        other = factories.client(practice, first_name="Priya", last_name="Natarajan")
        aetna = cf.payer(practice, name="Aetna")
        for days, payer, status in (
            (12, regence, "submitted"),
            (40, aetna, "accepted"),
            (75, regence, "submitted"),
            (120, aetna, "denied"),
            (20, aetna, "submitted"),
        ):
            cf.claim(
                practice,
                other,
                provider,
                status=status,
                payer_obj=payer,
                appointment=False,
                day=today - dt.timedelta(days=days),
            )
    return therapist, desk, client, policy, appt


def test_visit_to_held_claim_to_ready(app, live_server, page, screenshot):
    therapist, desk, client, policy, appt = _world(app)
    problems = watch(page, worst=400)

    # The therapist writes and signs the visit's chart note (an insurance visit is
    # checked out once its note is signed) ...
    _login(page, live_server, therapist.email)
    page.goto(f"{live_server}/provider/clients/{client.id}/notes/new?appointment={appt.id}")
    page.get_by_label("Subjective").fill("Low back ache after lifting boxes at work.")
    page.get_by_label("Objective").fill("Hypertonic lumbar erectors, tender left QL.")
    page.get_by_label("Assessment").fill("Tension reduced; forward bend improved.")
    page.get_by_label("Plan").fill("Weekly for 3 weeks.")
    page.get_by_label("Pain before treatment (0-10)").select_option("6")
    page.get_by_label("Pain after treatment (0-10)").select_option("3")
    page.locator("#region-low-back").check()
    page.get_by_label("97124").fill("45")
    page.get_by_label("97140").fill("15")
    search = page.get_by_label("Add a diagnosis")
    search.fill("low back")
    page.locator('#dx-suggestions .suggest-pick[data-code="M54.50"]').click()
    search.fill("muscle spasm back")
    page.locator('#dx-suggestions .suggest-pick[data-code="M62.830"]').click()
    page.once("dialog", lambda d: d.accept())
    page.get_by_role("button", name="Save and sign").click()

    # ... and goes straight on to check-out, which shows the note's minutes: completing
    # the visit makes its claim.
    page.wait_for_url(re.compile(rf"/provider/appointments/{appt.id}/check-out$"))
    minutes = page.locator("table.minutes-table")
    expect(minutes.get_by_role("row", name=re.compile(r"97124\s+45"))).to_be_visible()
    expect(minutes.get_by_role("row", name=re.compile(r"97140\s+15"))).to_be_visible()
    page.get_by_role("button", name="Complete visit").click()
    page.wait_for_url(re.compile(rf"/billing/checkout/{appt.id}$"))
    with app.app_context():
        claim = Claim.get(Claim.appointment == appt.id)
        assert claim.status == cs.DRAFT and claim.held
    _logout(page)

    # The front desk finds the held claim in the list and opens it.
    _login(page, live_server, desk.email)
    page.get_by_role("link", name="Claims", exact=True).click()
    page.wait_for_url(re.compile(r"/provider/claims$"))
    row = page.locator("tr", has=page.get_by_role("link", name="Jordan Avery"))
    assert row.get_by_text("Held").is_visible() and row.get_by_text("Draft").is_visible()
    row.get_by_role("link", name="Jordan Avery").click()
    page.wait_for_url(re.compile(rf"/provider/claims/{claim.id}$"))
    alert = page.get_by_role("alert")
    expect(alert.get_by_text("1 problem holds this claim")).to_be_visible()
    expect(alert.get_by_text("requires a physician's referral")).to_be_visible()
    expect(page.get_by_role("cell", name="97140")).to_be_visible()
    expect(page.get_by_text("59", exact=True)).to_be_visible()  # the payer takes the pair with 59
    screenshot(page, "claims-claim-held")

    # It says where the problem is fixed: the client's referrals.
    page.get_by_role("link", name="Fix it on the client's referrals").click()
    # The link carries the way back to the claim (its page's path, no PHI).
    page.wait_for_url(
        re.compile(
            rf"/provider/clients/{client.id}/referrals/new\?back=%2Fprovider%2Fclaims%2F{claim.id}$"
        )
    )
    assert page.get_by_role(
        "link", name=f"Back to claim {claim.patient_control_number}"
    ).is_visible()
    screenshot(page, "claims-fix-referral-with-way-back")
    page.get_by_label("Referring provider", exact=True).fill("Dr. Ana Whitfield, MD")
    page.get_by_label("Referring provider's NPI").fill("1790000008")
    page.get_by_label("Diagnosis codes (ICD-10-CM)").fill("M54.50, M62.830")
    page.get_by_label("Referral date").fill(
        (appt.starts_at.date() - dt.timedelta(days=20)).isoformat()
    )
    page.get_by_label("Visits allowed").fill("8")
    page.get_by_role("button", name=re.compile("Save")).click()
    # Saved, the desk lands back on the claim, checked again: it is ready.
    page.wait_for_url(re.compile(rf"/provider/claims/{claim.id}$"))
    with app.app_context():
        assert Referral.select().where(Referral.client == client.id).count() == 1
    pcn = claim.patient_control_number
    expect(page.get_by_text(f"Claim {pcn} checked again: nothing holds it.")).to_be_visible()
    expect(page.get_by_role("alert")).to_have_count(0)
    expect(page.locator("h1 .badge", has_text="Ready")).to_be_visible()
    expect(page.get_by_text("Dr. Ana Whitfield, MD")).to_be_visible()  # box 17 now
    with app.app_context():
        claim = Claim.get_by_id(claim.id)
        assert claim.status == cs.READY and not claim.held and claim.referral_id
    screenshot(page, "claims-claim-ready")

    # The aging table on the claims list (loaded by HTMX under the list).
    page.get_by_role("link", name="← Claims").click()
    page.wait_for_url(re.compile(r"/provider/claims$"))
    aging = page.locator("#aging table")
    aging.wait_for()
    regence = aging.locator("tr", has_text="Regence BlueShield")
    assert regence.get_by_role("link", name="$125.00").count() == 2  # 0-30 and 61-90
    expect(aging.locator("tfoot").get_by_text("$625.00")).to_be_visible()
    aging.scroll_into_view_if_needed()
    screenshot(page, "claims-aging")
    # a bucket opens the list of what that payer owes in that age
    aetna = aging.locator("tr", has_text="Aetna")
    aetna.get_by_role("link", name="$125.00").nth(1).click()
    page.wait_for_url(re.compile(r"/provider/claims\?status=owed&payer=\d+&age=31-60$"))
    expect(page.locator("a.row-link")).to_have_count(1)
    assert not problems, problems
