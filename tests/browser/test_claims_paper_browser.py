"""Real browser (Debian's Chromium at 1024x768): the front desk prints chosen claims on red
forms as one PDF, downloads it from the job page and marks the claims as mailed; the owner
calibrates the offsets (a mistake shown next to its field). Tasks run in-process here; the
consumer's own test is tests/claims/test_paper_consumer.py. Screenshots go to test-artifacts/."""

import re

import pytest
from playwright.sync_api import expect

from portal.models import Claim, ClaimSettings, Job
from tests.a11y import small_targets
from tests.browser.test_clearinghouse_browser import _login, _small_targets
from tests.claims import factories as cf

pytestmark = pytest.mark.browser


def test_front_desk_prints_chosen_claims_and_owner_calibrates(
    app, world, live_server, page, screenshot
):
    with app.test_request_context():
        a = world.a
        claims = [cf.paper_claim(a.practice, (a.c1, a.c2)[n % 2], a.provider) for n in range(3)]
        pcns = [c.patient_control_number for c in claims]
    errors, failed = [], []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on(
        "response",
        lambda r: failed.append((r.request.method, r.url, r.status)) if r.status >= 400 else None,
    )

    _login(page, live_server, world.a.frontdesk.email)
    page.goto(live_server + "/provider/claims/paper")
    expect(page.get_by_role("heading", name="Paper claims (CMS-1500)")).to_be_visible()
    for pcn in pcns[:2]:
        page.get_by_label(f"Print claim {pcn}").check()
    page.get_by_text("Data only (red forms)").click()
    assert _small_targets(page) == []
    assert small_targets(page) == []  # the tick boxes too, each with its label (24 px alone)
    assert page.evaluate("document.documentElement.scrollWidth") <= 1024
    screenshot(page, "claims-paper")
    page.get_by_role("button", name="Make one PDF of the chosen claims").click()
    page.wait_for_url(re.compile(r"/provider/jobs/\d+$"))
    expect(page.locator("#job_progress")).to_contain_text("2 of 2")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the result").click()
    assert download.value.suggested_filename.endswith("-data-only.pdf")
    screenshot(page, "claims-paper-job")
    job = Job.select().order_by(Job.id.desc()).get()
    assert (job.status, job.total, job.kind) == ("done", 2, "cms1500_data")
    # the envelopes are in the post: the job page marks its claims as mailed
    assert _small_targets(page) == []
    page.get_by_role("button", name="Mark these 2 claims as mailed").click()
    expect(page.get_by_text("2 claims marked as mailed: they are submitted now.")).to_be_visible()
    expect(page.get_by_role("link", name="Paper claims")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 1024
    screenshot(page, "claims-paper-job-mailed")
    assert [Claim.get_by_id(c.id).status for c in claims] == ["submitted", "submitted", "ready"]

    page.goto(live_server + f"/provider/claims/{claims[2].id}/cms1500")
    with page.expect_download() as one:
        page.get_by_role("button", name="PDF on plain paper").click()
    assert one.value.suggested_filename == f"CMS1500-{pcns[2]}.pdf"
    page.reload()
    expect(page.get_by_role("link", name=f"CMS1500-{pcns[2]}.pdf")).to_be_visible()
    screenshot(page, "claims-paper-one-claim")

    page.get_by_role("button", name="Log out").click()
    _login(page, live_server, world.a.owner.email)
    page.get_by_role("link", name="Settings", exact=True).click()
    page.get_by_role("link", name="Claim printing").click()
    page.wait_for_url(re.compile(r"/provider/settings/claims/printing$"))
    page.get_by_label("Move right by (mm)").fill("two")
    page.get_by_label("Move down by (mm)").fill("-0.5")
    page.get_by_role("button", name="Save offsets").click()
    expect(page.locator("#right-error")).to_contain_text("Enter millimetres as a number")
    screenshot(page, "claim-printing-error")
    page.get_by_label("Move right by (mm)").fill("1.5")
    page.get_by_role("button", name="Save offsets").click()
    expect(page.get_by_text("Saved. Print the test page")).to_be_visible()
    expect(page.get_by_text("Now: right +1.5 mm, down -0.5 mm.")).to_be_visible()
    assert _small_targets(page) == []
    screenshot(page, "claim-printing")
    s = ClaimSettings.get(ClaimSettings.practice == world.a.practice.id)
    assert (s.print_offset_x_mm, s.print_offset_y_mm) == (1.5, -0.5)
    assert errors == []
    assert [(m, u.rsplit("/", 1)[-1], s) for m, u, s in failed] == [("POST", "printing", 400)]
