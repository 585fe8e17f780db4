"""A claim being corrected at the desk's tablet (1024x768, Chromium): the claims list says
"Being corrected" and when it was sent beside its status, the aging table shows its line
apart ("Being corrected, sent earlier") whose cells open the list filtered so, and nothing
is wider than the screen. Screenshots: test-artifacts/claims-correcting-*.png."""

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from portal import clock
from portal.models import ClaimEvent, ClaimLine
from portal.services.claims import life
from tests.browser.helpers import login, watch
from tests.claims import factories as cf

pytestmark = pytest.mark.browser

OVERFLOW = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"


def test_a_claim_being_corrected_at_the_tablet(app, world, live_server, page, screenshot):
    a = world.a
    today = clock.today(a.practice.tz)
    sent = clock.utcnow() - dt.timedelta(days=20)
    with app.test_request_context():
        payer = cf.payer(a.practice, name="Regence BlueShield of Oregon")
        pol = cf.policy(a.practice, a.c1, payer)
        claims = []
        for days, status in ((40, "submitted"), (10, "submitted")):
            c = cf.claim(a.practice, a.c1, a.provider, policy_obj=pol, status=status,
                         appointment=False, day=today - dt.timedelta(days=days),
                         submitted_at=sent, lines=(("97124", 45, 3, 12500),))  # fmt: skip
            ClaimEvent.create(practice=a.practice, claim=c, action="status",
                              from_status="ready", to_status="submitted",
                              created_at=sent)  # fmt: skip
            claims.append(c)
        line = ClaimLine.get(ClaimLine.claim == claims[0].id)
        life.edit_line(claims[0], line.id, units=3, modifiers="", pointers="A",
                       charge_cents=12000)  # fmt: skip
    problems = watch(page)
    login(page, live_server, a.frontdesk.email)

    def row_of(claim):
        return page.locator(
            "tr", has=page.locator(f"code:text-is('{claim.patient_control_number}')")
        )

    def line(label):
        return page.locator("tr", has=page.get_by_role("rowheader", name=label))

    page.goto(f"{live_server}/provider/claims")
    expect(row_of(claims[0])).to_contain_text("Being corrected")
    expect(row_of(claims[0])).to_contain_text(
        f"sent {clock.local_date(sent, a.practice.tz):%b %d, %Y}"
    )
    expect(row_of(claims[1])).not_to_contain_text("Being corrected")
    assert page.evaluate(OVERFLOW) <= 0
    screenshot(page, "claims-correcting-list")

    page.goto(f"{live_server}/provider/claims/aging")
    expect(line("Being corrected, sent earlier")).to_contain_text("$120.00")
    expect(line("Total owed")).to_contain_text("$245.00")
    link = line("Being corrected, sent earlier").locator("a").first
    assert link.bounding_box()["height"] >= 44
    assert page.evaluate(OVERFLOW) <= 0
    screenshot(page, "claims-correcting-aging")
    link.click()
    page.wait_for_url(re.compile(r"status=correcting"))
    expect(page.locator("#claim-list")).to_contain_text(claims[0].patient_control_number)
    expect(page.locator("#claim-list")).not_to_contain_text(claims[1].patient_control_number)
    assert problems == []
