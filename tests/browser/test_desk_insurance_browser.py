"""An insurance day at the desk on a tablet (Chromium, 1024x768), with a new front-desk
user and a therapist, on data built by the factories (the claims issue's desk part):

(a) a verified $40 copay: check-in, the therapist signs the note, check-out shows the
    note's minutes and an estimated share of $40.00, the desk takes it, the claim exists;
(b) 20 % coinsurance with $50 of deductible left on a $100 allowed amount: the share shown
    is $60.00 (the deductible first, then 20 % of the $50 left: DOMAIN.md);
(c) no policy on an insurance-billed visit: check-in warns and says what to do;
(d) a payer requiring a referral whose referral has no visits left: check-in warns and
    says what to do.
Screenshots of each check-in and check-out page: test-artifacts/desk-ins-*.png."""

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from portal import clock
from portal.models import BenefitsVerification, Claim, Invoice, PayerFee, Payment, Referral
from portal.rules import slots as slot_rules
from portal.services.claims import desk as claims_desk
from tests import factories
from tests.a11y import small_targets
from tests.browser.helpers import login as _login
from tests.browser.helpers import watch as _watch
from tests.claims import factories as cf

pytestmark = pytest.mark.browser


def _no_overflow(page):
    """Nothing wider than the tablet's screen."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 1024, f"the page is {width}px wide"


def _verify(policy, **kw):
    today = dt.date.today()
    return BenefitsVerification.create(
        practice=policy.practice_id,
        client=policy.client_id,
        policy=policy,
        # this year's (one of an earlier year asks for a new verification)
        verified_on=max(today - dt.timedelta(days=10), dt.date(today.year, 1, 1)),
        **kw,
    )


def _world(app, now_local):
    """A practice, a therapist, a brand-new front-desk user and four of today's visits of
    an insurance-billed type, one per case."""
    with app.test_request_context():
        practice = cf.billable_practice(factories.practice(name="Harbor Massage"))
        provider = factories.provider(practice, first_name="Maya", last_name="Lindqvist")
        therapist = factories.user(practice, "therapist", provider=provider, name="Maya L")
        desk = factories.user(practice, "frontdesk", name="Noor New")
        today = now_local.date()

        def visit(first, last, hour):
            client = cf.billable_client(
                factories.client(practice, first_name=first, last_name=last, therapist=provider)
            )
            start = slot_rules.to_utc(dt.datetime.combine(today, dt.time(hour, 0)), practice.tz)
            appt = cf.visit(
                practice, client, provider, day=start.date(), hour=start.hour, status="booked"
            )
            return client, appt

        # (a) a verified $40 copay (deductible met)
        c_a, a = visit("Jordan", "Avery", 9)
        pol_a = cf.policy(
            practice, c_a, cf.payer(practice, name="Regence BlueShield", allow_97124_97140=True)
        )
        _verify(pol_a, copay_cents=4000, deductible_cents=50000, deductible_met_cents=50000)
        # (b) 20 % coinsurance, $50 of the deductible left, $100 allowed (4 units of $25)
        c_b, b = visit("Priya", "Natarajan", 10)
        aetna = cf.payer(practice, name="Aetna")
        PayerFee.update(fee_cents=2500).where(
            (PayerFee.payer == aetna.id) & (PayerFee.cpt_code == "97124")
        ).execute()
        pol_b = cf.policy(practice, c_b, aetna)
        _verify(pol_b, coinsurance_percent=20, deductible_cents=50000, deductible_met_cents=45000)
        # (c) no policy at all
        _c_c, c = visit("Marcus", "Bell", 11)
        # (d) the payer needs a referral; the one on file is used up
        c_d, d = visit("Elena", "Ruiz", 12)
        premera = cf.payer(practice, name="Premera Blue Cross", referral_required=True)
        pol_d = cf.policy(practice, c_d, premera)
        _verify(pol_d, copay_cents=2500)
        Referral.create(
            practice=practice,
            client=c_d,
            policy=pol_d,
            referring_name="Dr. Ana Whitfield",
            referring_npi="1790000008",
            referral_date=today - dt.timedelta(days=60),
            visits_allowed=2,
            visits_used_before=2,
        )
    return therapist, desk, (a, b, c, d)


def _check_in(page, base, appt, name, screenshot):
    page.goto(f"{base}/provider/appointments/{appt.id}/check-in")
    insurance = page.locator("section.card", has=page.get_by_role("heading", name="Insurance"))
    _no_overflow(page)
    assert small_targets(page) == []
    screenshot(page, name)
    return insurance


def _check_out(page, base, appt, name, screenshot):
    """The check-out page shows the signed note's minutes; Complete visit leads to the
    payment page, whose insurance card shows the estimated share."""
    page.goto(f"{base}/provider/appointments/{appt.id}/check-out")
    minutes = page.locator("table.minutes-table")
    assert minutes.count() == 1 and page.locator('input[name="minutes"]').count() == 0
    _no_overflow(page)
    assert small_targets(page) == []
    screenshot(page, name + "-minutes")
    page.get_by_role("button", name="Complete visit").click()
    page.wait_for_url(re.compile(rf"/billing/checkout/{appt.id}$"))
    _no_overflow(page)
    assert small_targets(page) == []
    screenshot(page, name + "-payment")
    return page.locator("#insurance-estimate")


def test_an_insurance_day_at_the_desk(app, live_server, page, screenshot, monkeypatch):
    from zoneinfo import ZoneInfo

    tz = ZoneInfo("America/Los_Angeles")
    today = slot_rules.to_local(dt.datetime.now(dt.UTC).replace(tzinfo=None), tz).date()
    now_local = dt.datetime.combine(today, dt.time(8, 30))
    monkeypatch.setattr(clock, "utcnow", lambda: slot_rules.to_utc(now_local, tz))
    therapist, desk, (a, b, c, d) = _world(app, now_local)
    problems = _watch(page)
    page.on("dialog", lambda dialog: dialog.accept())
    _login(page, live_server, desk.email)

    # (c) no policy on an insurance-billed visit: check-in warns, and says what to do
    card = _check_in(page, live_server, c, "desk-ins-c-check-in-no-policy", screenshot)
    expect(card.get_by_text(re.compile("no active insurance policy is on file"))).to_be_visible()
    expect(card.get_by_text("No insurance warnings")).to_have_count(0)
    expect(card.get_by_role("link", name=re.compile("insurance"))).to_be_visible()

    # (d) the referral is used up: check-in names it and what to do next
    card = _check_in(page, live_server, d, "desk-ins-d-check-in-referral-used-up", screenshot)
    expect(card).to_contain_text("referral", use_inner_text=True)
    expect(card).to_contain_text("used up (2 of 2 visits)", use_inner_text=True)
    expect(card).to_contain_text(re.compile(r"new referral"), use_inner_text=True)

    # (a) a verified $40 copay: checked in, no warning
    card = _check_in(page, live_server, a, "desk-ins-a-check-in-copay", screenshot)
    expect(card).to_contain_text("Regence BlueShield", use_inner_text=True)
    page.get_by_role("button", name="Check in").click()
    page.wait_for_url(re.compile(rf"/provider/appointments/{a.id}$"))

    # the therapist signs the note (45 + 15 minutes), then the desk checks out
    with app.test_request_context():
        cf.sign_note(therapist, a, {"97124": 45, "97140": 15}, ["M54.50", "M62.830"])
        cf.sign_note(therapist, b, {"97124": 60}, ["M54.50"])
    card = _check_out(page, live_server, a, "desk-ins-a-check-out", screenshot)
    expect(card.get_by_text(re.compile(r"Estimated client share: \$40\.00"))).to_be_visible()
    with app.app_context():
        [claim] = Claim.select().where(Claim.appointment == a.id)
        assert claim.status == "ready" and not claim.held
    expect(card.get_by_text(claim.patient_control_number)).to_be_visible()
    pay = page.locator("form.pay-form")
    expect(pay.get_by_text("How does the client pay $40.00?")).to_be_visible()
    pay.get_by_label("Cash", exact=True).check()
    pay.get_by_role("button", name="Take payment").click()
    page.wait_for_url(re.compile(rf"/billing/checkout/{a.id}$"))
    expect(page.get_by_text(re.compile(r"\$40\.00 paid \(Cash\)"))).to_be_visible()
    with app.app_context():
        inv = Invoice.get(
            (Invoice.appointment == a.id) & (Invoice.reason == claims_desk.SHARE_REASON)
        )
        assert inv.status == "paid" and inv.total_cents == 4000
        assert Payment.get(Payment.invoice == inv.id).amount_cents == 4000
    screenshot(page, "desk-ins-a-paid")

    # (b) coinsurance 20 % after $50 of deductible on $100 allowed: $50 + $10 = $60
    card = _check_out(page, live_server, b, "desk-ins-b-check-out", screenshot)
    expect(card.get_by_text(re.compile(r"Estimated client share: \$60\.00"))).to_be_visible()
    for part in ("$100.00", "Deductible $50.00", "coinsurance $10.00"):
        expect(card).to_contain_text(part, use_inner_text=True)
    with app.app_context():
        assert Claim.select().where(Claim.appointment == b.id).count() == 1
    assert problems == [], problems
