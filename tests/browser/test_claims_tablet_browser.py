"""The claims wing at the desk's tablet (1024x768), the demo practice in Chromium: the
claim page's cards sit flush (no hole under the "Claim" card beside the two stacked ones,
the same 16 px between every card), nothing is wider than the screen, and what a finger
taps is at least 44 px tall. Screenshots: test-artifacts/claims-tablet-*.png."""

import re

import pytest
from playwright.sync_api import expect

from portal import demo
from portal.models import Claim, Payer
from portal.rules import claim_status as cs
from tests.browser.helpers import login

pytestmark = pytest.mark.browser

# The boxes of the claim page's cards, top to bottom: [class/heading, top, bottom, left, right].
CARDS = """() => [...document.querySelectorAll('main .card')]
  .filter(e => e.offsetParent !== null)
  .map(e => { const r = e.getBoundingClientRect();
    return [e.querySelector('h2') ? e.querySelector('h2').textContent.trim() : e.className,
            r.top + scrollY, r.bottom + scrollY, r.left, r.right]; })"""

# Tappable things shorter than 44 px: [text, height].
SMALL_TARGETS = """() => [...document.querySelectorAll(
    'main button, main a.button, main summary, main select, main input:not([type=hidden]),'
    + ' main .tick-cell')]
  .filter(e => e.offsetParent !== null && !e.closest('.tick-cell, .choice, .field-check'))
  .map(e => [e.textContent.trim() || e.name || e.type, e.getBoundingClientRect().height])
  .filter(([, h]) => h < 43.5)"""

OVERFLOW = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"


def _login_desk(page, base):
    login(page, base, "frontdesk@demo.example", demo.DEMO_PASSWORDS["frontdesk@demo.example"])


def _gaps(cards):
    """The vertical gaps between cards that follow each other in one column."""
    gaps = []
    for (name, _top, bottom, left, right), (after, top, *_rest) in zip(
        cards, cards[1:], strict=False
    ):
        below = [c for c in cards if c[1] >= bottom - 1 and c[3] < right and c[4] > left]
        if below and below[0][0] == after:
            gaps.append((name, after, top - bottom))
    return gaps


def test_the_claim_page_at_the_tablet(app, live_server, page, screenshot):
    with app.test_request_context():
        demo.load()
        regence = Payer.get(Payer.name.startswith("Regence"))
        submitted = (
            Claim.select()
            .where((Claim.payer == regence.id) & (Claim.status == cs.SUBMITTED))
            .order_by(Claim.service_date)
            .first()
        )
        held = Claim.select().where(Claim.held).order_by(Claim.id).first()
    _login_desk(page, live_server)
    for name, claim in (("submitted", submitted), ("held", held)):
        page.goto(f"{live_server}/provider/claims/{claim.id}")
        screenshot(page, f"claims-tablet-claim-{name}")
        cards = page.evaluate(CARDS)
        by_name = {c[0]: c for c in cards}
        facts, people, providers = (
            by_name["Claim"],
            by_name["Patient and insurance"],
            by_name["Providers and documents"],
        )
        # two columns: the claim's facts beside the two stacked cards, as tall as both
        assert facts[4] < people[3] and people[3] == providers[3], cards
        assert abs(facts[1] - people[1]) <= 1 and abs(facts[2] - providers[2]) <= 1, cards
        gaps = _gaps(cards)
        assert len(gaps) >= 5 and all(15.5 <= g <= 17 for *_, g in gaps), gaps
        assert page.evaluate(OVERFLOW) <= 0
        assert page.evaluate(SMALL_TARGETS) == []


def _fits(page):
    assert page.evaluate(OVERFLOW) <= 0, page.url
    assert page.evaluate(SMALL_TARGETS) == [], page.url


def test_print_mail_and_fix_pages_at_the_tablet(app, live_server, page, screenshot):
    """A batch printed, its page's next step tapped (the front desk marks it as mailed), a
    payer's fee schedule reached from a claim, and the ways back."""
    with app.test_request_context():
        demo.load()
        regence = Payer.get(Payer.name.startswith("Regence"))
        held = Claim.select().where(Claim.held).order_by(Claim.id).first()
    _login_desk(page, live_server)
    page.goto(f"{live_server}/provider/claims/paper")
    _fits(page)
    row = page.get_by_role("row").filter(has_text=regence.name)
    row.get_by_role("button", name="Plain paper").click()
    page.wait_for_url(re.compile(r"/provider/jobs/\d+$"))
    button = page.get_by_role(
        "button", name=re.compile(r"Mark (this claim|these \d+ claims) as mailed")
    )
    button.wait_for()
    expect(page.locator(".mainnav .nav-link.active")).to_have_text("Claims")
    claims = page.get_by_text(re.compile(r"Show the \d+ claims?"))
    marker = claims.evaluate("e => getComputedStyle(e, '::before').content")
    assert marker == '"▸"'  # the list shows that it opens
    claims.click()
    expect(page.locator(".job-claims a").first).to_be_visible()
    screenshot(page, "claims-tablet-job")
    _fits(page)
    button.click()
    page.get_by_text(re.compile(r"marked as mailed: they are submitted now")).wait_for()
    _fits(page)
    # a payer's page opened from a claim: Cancel-free, its Remove buttons keep the way back
    page.goto(f"{live_server}/provider/payers/{regence.id}?back=/provider/claims/{held.id}")
    screenshot(page, "claims-tablet-payer")
    _fits(page)
    table = page.locator("#fees table").bounding_box()
    fee_form = page.locator("#fees form.fee-form").bounding_box()
    assert fee_form["y"] - (table["y"] + table["height"]) >= 12  # not glued to the table
    code = page.get_by_label("CPT code").bounding_box()
    button = page.get_by_role("button", name="Set fee").bounding_box()
    assert abs((code["y"] + code["height"]) - (button["y"] + button["height"])) <= 2
    page.get_by_role("button", name="Remove").first.click()
    page.get_by_text(re.compile(r"Fee for \d+ removed")).wait_for()
    assert page.url.endswith(f"?back=%2Fprovider%2Fclaims%2F{held.id}#fees")
    page.get_by_role("link", name=re.compile(r"Back to claim")).click()
    page.wait_for_url(re.compile(rf"/provider/claims/{held.id}#problems$"))


# Links outside running text (a table cell, a list item, a card's line of their own) shorter
# than 44 px: [text, height]. Links in help text and lead paragraphs are running text.
SMALL_LINKS = """() => [...document.querySelectorAll('main a')]
  .filter(e => e.offsetParent !== null && !e.closest('.help, .lead, .empty, .error, .crumbs'))
  .map(e => [e.textContent.trim(), e.getBoundingClientRect().height])
  .filter(([, h]) => h < 43.5)"""

# Fields whose text is cut: an input's value wider than its box, a select's chosen option
# wider than the room beside its arrow: [name, text].
CUT_FIELDS = """() => {
  const ctx = document.createElement('canvas').getContext('2d');
  return [...document.querySelectorAll('main input[type=text], main select')]
    .filter(e => e.offsetParent !== null)
    .filter(e => {
      if (e.tagName === 'INPUT') return e.scrollWidth > e.clientWidth + 1;
      const s = getComputedStyle(e), text = e.options[e.selectedIndex]?.text || '';
      ctx.font = s.font;
      const room = e.clientWidth - parseFloat(s.paddingLeft) - parseFloat(s.paddingRight) - 20;
      return ctx.measureText(text).width > room;
    })
    .map(e => [e.name, e.value]); }"""

# Every <summary> shows whether it opens (a marker before it), but a summary drawn as a button.
NO_MARKER = """() => [...document.querySelectorAll('main summary:not(.button)')]
  .filter(e => e.offsetParent !== null)
  .filter(e => !['"▸"', '"▾"'].includes(getComputedStyle(e, '::before').content))
  .map(e => e.textContent.trim())"""


def _walk(page, base, pages, screenshot):
    for name, path in pages:
        page.goto(base + path)
        screenshot(page, f"claims-tablet-walk-{name}")
        assert page.evaluate(OVERFLOW) <= 0, name
        assert page.evaluate(SMALL_TARGETS) == [], name
        assert page.evaluate(SMALL_LINKS) == [], name
        assert page.evaluate(CUT_FIELDS) == [], name
        assert page.evaluate(NO_MARKER) == [], name


def test_the_claims_wing_and_the_reports_at_the_tablet(app, live_server, page, screenshot):
    """The front desk's claims pages (with the demo's example 835 imported) and the owner's
    reports, settings and payer form: nothing wider than the screen, what a finger taps at
    least 44 px tall (the claim links of the paper page and the check-out card too), no field
    cutting its text (a long payer name), every disclosure showing that it opens."""
    with app.test_request_context():
        demo.load()
        regence = Payer.get(Payer.name.startswith("Regence"))
        held = Claim.select().where(Claim.held).order_by(Claim.id).first()
        submitted = Claim.select().where(Claim.status == cs.SUBMITTED).order_by(Claim.id).first()
    _login_desk(page, live_server)
    page.goto(f"{live_server}/provider/claims/remittances")
    page.get_by_role("button", name="Import the example 835").click()
    page.get_by_role("heading", name=re.compile(r"^Payment ")).wait_for()
    remittance = page.url.removeprefix(live_server)
    desk = [
        ("claims", "/provider/claims"),
        ("aging", "/provider/claims/aging"),
        ("worklist", "/provider/claims/worklist"),
        ("remittances", "/provider/claims/remittances"),
        ("remittance", remittance),
        ("claim-payments", f"/provider/claims/{submitted.id}/payments"),
        ("paper", "/provider/claims/paper"),
        ("checkout", f"/provider/billing/checkout/{held.appointment_id}"),
        ("claim", f"/provider/claims/{held.id}"),
        ("batch-new", "/provider/claims/batches/new"),
    ]
    _walk(page, live_server, desk, screenshot)
    page.goto(f"{live_server}/provider/claims/paper")
    link = page.locator(".paper-claims tbody a").first.bounding_box()
    assert link["height"] >= 44
    page.goto(f"{live_server}/provider/billing/checkout/{held.appointment_id}")
    link = page.locator("#insurance-estimate a").first.bounding_box()
    assert link["height"] >= 44
    # the ready claims sent in 837P files: the files' list and one file
    page.goto(f"{live_server}/provider/claims/batches/new")
    page.get_by_role("button", name=re.compile(r"Build the 837P file")).click()
    page.wait_for_url(re.compile(r"/provider/claims/batches(/\d+)?$"))
    page.goto(f"{live_server}/provider/claims/batches")
    batch = page.locator("main table a").first.get_attribute("href")
    _walk(
        page, live_server, [("batches", "/provider/claims/batches"), ("batch", batch)], screenshot
    )
    page.context.clear_cookies()
    page.goto(live_server + "/login")
    page.get_by_label("E-mail").fill("owner@demo.example")
    page.get_by_label("Password").fill(demo.DEMO_PASSWORDS["owner@demo.example"])
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/provider/$"))
    owner = [
        ("reports", "/provider/reports"),
        ("claim-settings", "/provider/settings/claims"),
        ("payer", f"/provider/payers/{regence.id}"),
    ]
    _walk(page, live_server, owner, screenshot)
