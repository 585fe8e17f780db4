"""Real browser (Debian's Chromium at 1024x768), issue 14's round trip against the demo's
pretend clearinghouse (scripts/demo_clearinghouse.py, its own process on a free port):
the owner sets up the connection and tests it; the front desk builds and sends a batch;
after a collect the rejected claim shows on the work list with its reason; the desk fixes
it (the client's date of birth), checks it again, sends it again, and it ends paid.
Screenshots go to test-artifacts/."""

import datetime as dt
import os
import re
import subprocess
import time

import pytest
from playwright.sync_api import expect

from portal.demo import claims_money
from portal.models import Claim, ClaimBatch, InsurancePolicy
from tests.browser.helpers import login as _login
from tests.browser.test_clearinghouse_browser import _small_targets
from tests.claims import factories as cf
from tests.claims.test_money_demo import demo_sftp, free_port  # noqa: F401 (fixture)
from tests.claims.test_remittances import FIXTURES
from tests.conftest import PASSWORD
from tests.x12.helpers import assert_valid

pytestmark = pytest.mark.browser


def _logout(page):
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(re.compile(r"/login"))


def _two_claims(app, world):
    """Two visits of practice a checked out and signed: their claims are ready, one payer."""
    a = world.a
    with app.test_request_context():
        first, pol1 = cf.insured_visit(a, client=a.c1)
        second, pol2 = cf.insured_visit(a, client=a.c2, day=dt.date(2026, 11, 3))
        cf.billing_ready(a.practice)  # the ZIP+4 an 837P needs
        InsurancePolicy.update(payer=pol1.payer_id).where(InsurancePolicy.id == pol2.id).execute()
        Claim.update(payer=pol1.payer_id).where(Claim.appointment == second.id).execute()
        claims = [Claim.get(Claim.appointment == v.id) for v in (first, second)]
    assert [c.status for c in claims] == ["ready", "ready"]
    return claims


def _wait_for_answer(root, batch, timeout=20):
    name = f"ERA_{batch.interchange_control_number:09d}.835"
    deadline = time.monotonic() + timeout
    while not os.path.exists(root / "outbound" / name):
        assert time.monotonic() < deadline, "the demo clearinghouse did not answer"
        time.sleep(0.2)
    time.sleep(0.5)
    for f in os.listdir(root / "outbound"):  # what the portal is about to read passes pyx12
        assert_valid((root / "outbound" / f).read_text())


def _build_and_send(page, base):
    page.goto(base + "/provider/claims/batches")
    page.get_by_role("link", name=re.compile(r"^New 837P file")).click()
    page.get_by_role("button", name=re.compile(r"^Build the 837P file")).click()
    page.get_by_text("837P file built with").wait_for()
    page.get_by_role("button", name="Send to the clearinghouse").click()
    page.locator("#batch_status").get_by_text("Sent, waiting for the 999").wait_for()
    return ClaimBatch.select().order_by(ClaimBatch.id.desc()).first()


def _collect(page, base):
    page.goto(base + "/provider/claims/worklist")
    page.get_by_role("button", name="Check the clearinghouse now").click()
    page.get_by_text("Checking the clearinghouse").wait_for()
    page.reload()


def test_send_collect_fix_resend_paid(app, world, live_server, page, screenshot, demo_sftp):  # noqa: F811
    app.config["CLEARINGHOUSE_TIMEOUT"] = 5
    errors, failed = [], []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("response", lambda r: failed.append((r.url, r.status)) if r.status >= 400 else None)
    page.on("dialog", lambda d: d.accept())
    first, second = _two_claims(app, world)
    port = int(os.environ["PORTAL_DEMO_SFTP_PORT"])

    # The owner sets up the connection and tests it.
    _login(page, live_server, world.a.owner.email)
    page.goto(live_server + "/provider/settings/clearinghouse")
    page.get_by_label("SFTP host").fill("127.0.0.1")
    page.get_by_label("Port", exact=True).fill(str(port))
    page.get_by_label("User name").fill(claims_money.DEMO_SFTP_USER)
    page.get_by_label("A password").check()
    page.get_by_label("Password", exact=True).fill(claims_money.DEMO_SFTP_PASSWORD)
    for label, value in (("Sender id (ISA06)", "RIVERSIDE01"), ("Receiver id (ISA08)", "DEMOCLEAR"),
                         ("Submitter id (loop 1000A)", "RIVERSIDE01"),
                         ("Receiver name (loop 1000B)", "Demo Clearinghouse"),
                         ("Receiver id (loop 1000B)", "DEMOCLEAR")):  # fmt: skip
        page.get_by_label(label).fill(value)
    page.get_by_role("button", name="Save clearinghouse settings").click()
    page.get_by_text("Clearinghouse settings saved.").wait_for()
    page.get_by_role("button", name="Test the connection").click()
    page.locator("#test-result").get_by_text("Connected.").wait_for()
    _logout(page)

    # The front desk sends a batch of the two ready claims.
    _login(page, live_server, world.a.frontdesk.email)
    batch = _build_and_send(page, live_server)
    assert batch.claim_count == 2 and sorted(os.listdir(demo_sftp / "inbound")) == [
        batch.remote_name
    ]
    assert _small_targets(page) == []
    screenshot(page, "claims-batch-sent")
    _wait_for_answer(demo_sftp, batch)

    # A collect: the 277CA rejected the first claim; it is on the work list with its reason.
    _collect(page, live_server)
    group = page.locator("#work-rejected")
    group.get_by_text("PATIENT DATE OF BIRTH DOES NOT MATCH THE PAYER'S RECORD").wait_for()
    expect(group).to_contain_text(first.patient_control_number, use_inner_text=True)
    expect(group).not_to_contain_text(second.patient_control_number, use_inner_text=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 1024
    assert _small_targets(page) == []
    screenshot(page, "claims-worklist-rejected")
    assert Claim.get_by_id(second.id).status == "paid"

    # Fixed: the client's date of birth, then the claim checked again (ready).
    page.goto(f"{live_server}/provider/clients/{first.client_id}/edit")
    page.get_by_label("Date of birth").fill("1979-12-31")
    page.get_by_role("button", name=re.compile("Save")).first.click()
    page.goto(live_server + "/provider/claims/worklist")
    group.get_by_role("link", name="Open the claim").click()
    page.get_by_role("button", name="Check again and mark ready").click()
    page.wait_for_load_state()
    assert Claim.get_by_id(first.id).status == "ready"

    # Sent again, answered, collected: paid.
    again = _build_and_send(page, live_server)
    assert again.claim_count == 1 and again.interchange_control_number == 2
    _wait_for_answer(demo_sftp, again)
    _collect(page, live_server)
    expect(page.get_by_text("Nothing needs you")).to_be_visible()
    page.goto(f"{live_server}/provider/claims/{first.id}")
    page.locator("#payments").wait_for()  # the payments section, loaded by HTMX
    expect(page.locator("h1")).to_contain_text("Paid")
    assert Claim.get_by_id(first.id).status == "paid"
    assert _small_targets(page) == []  # the posting form loaded into the claim page too
    screenshot(page, "claims-claim-paid")
    assert errors == [] and failed == []


def test_an_835_imported_at_the_desk_bills_the_client(app, world, live_server, page, screenshot):
    """Issue 10: an 835 is imported; the client's invoice for the copay appears in their
    portal (the deductible and copay the payer put under PR)."""
    a = world.a
    with app.test_request_context():
        payer = cf.payer(a.practice, name="Blue Harbor Health", payer_code="BHH01")
        for pcn, lines, day in (
            ("CLM0000101", (("97124", 60, 4, 12000),), dt.date(2026, 11, 2)),
            ("CLM0000102", (("97124", 45, 3, 9000), ("97140", 30, 2, 7000)),
             dt.date(2026, 11, 2)),
            ("CLM0000103", (("97124", 45, 3, 10000),), dt.date(2026, 11, 4)),
        ):  # fmt: skip
            cf.claim(a.practice, a.c1, a.provider, payer_obj=payer, status="submitted",
                     patient_control_number=pcn, lines=lines, day=day)  # fmt: skip
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    _login(page, live_server, a.frontdesk.email)
    page.goto(live_server + "/provider/claims/remittances")
    page.get_by_label("835 file").set_input_files(str(FIXTURES / "835_paid_partial_denied.txt"))
    page.get_by_role("button", name="Import and post").click()
    page.get_by_text("Posted 3 claims; 1 client invoice for their share.").wait_for()
    assert _small_targets(page) == []
    screenshot(page, "claims-835-imported")
    page.goto(live_server + "/provider/claims/worklist")
    page.locator("#work-denied").get_by_text("CLM0000103").wait_for()
    _logout(page)

    page.goto(live_server + "/login")
    page.get_by_label("E-mail").fill(a.cu1.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(live_server + "/portal/invoices")
    card = page.locator(".invoice-card").first
    card.get_by_text("$65.00").wait_for()
    screenshot(page, "claims-client-invoice")
    with page.expect_download() as download:
        card.get_by_role("link", name="Invoice PDF").click()
    text = subprocess.run(
        ["pdftotext", "-layout", download.value.path(), "-"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    words = " ".join(text.split())
    # The description column wraps where the names' widths say: read it word by word.
    assert "Deductible: visit of" in words and "$40.00 $40.00" in words
    assert "Copay: visit of" in words and "$25.00 $25.00" in words
    assert words.count("Blue") == 2 and "Total $65.00" in words
    assert errors == []
