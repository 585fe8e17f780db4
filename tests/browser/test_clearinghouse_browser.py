"""Real browser (Debian's Chromium at 1024x768): the owner sets up the clearinghouse
connection (a key pair registered with a real SFTP server on 127.0.0.1), tests it, then
meets a changed server key and accepts it; the front desk meets a refused login (the
owner fixes it) and a file the 999 refuses. Screenshots go to test-artifacts/."""

import datetime as dt
import re

import asyncssh
import pytest
from playwright.sync_api import expect

from portal.models import ClaimBatch, ClearinghouseConnection
from portal.services import clearinghouse as ch
from portal.services.claims import batches
from portal.x12 import answers
from tests.a11y import short_targets
from tests.browser.helpers import login as _login
from tests.browser.test_foundation_browser import TARGETS
from tests.claims import factories as cf
from tests.clearinghouse import samples
from tests.clearinghouse.conftest import settings, sftp_server  # noqa: F401 (the server fixture)
from tests.x12.helpers import assert_valid

pytestmark = pytest.mark.browser

# Radio buttons are tapped through their whole label (.choice, 44 px tall), as checkboxes are.
CH_TARGETS = TARGETS.replace(":not([type=checkbox])", ":not([type=checkbox]):not([type=radio])")
CH_TARGETS += ", .choice"


def _small_targets(page):
    return short_targets(page, CH_TARGETS)


def test_owner_sets_up_and_tests_the_clearinghouse(
    app,
    world,
    live_server,
    page,
    screenshot,
    sftp_server,  # noqa: F811
):
    app.config["CLEARINGHOUSE_TIMEOUT"] = 5
    errors, failed = [], []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on(
        "response",
        lambda r: failed.append((r.request.method, r.url, r.status)) if r.status >= 400 else None,
    )
    page.on("dialog", lambda d: d.accept())
    sftp_server.put("outbound", "999_000000101.x12", samples.ack_999())

    _login(page, live_server, world.a.owner.email)
    page.get_by_role("link", name="Settings", exact=True).click()
    page.get_by_role("link", name="Clearinghouse").click()
    page.wait_for_url(re.compile(r"/provider/settings/clearinghouse$"))
    expect(page.get_by_text("Not set up yet")).to_be_visible()

    # The key pair first: its public half is what the clearinghouse registers.
    page.get_by_role("button", name="Make a key pair").click()
    key = page.get_by_label("Public key (OpenSSH format)")
    expect(key).to_have_value(re.compile(r"^ssh-ed25519 "))
    public = key.input_value()
    sftp_server.authorized_keys.append(asyncssh.import_public_key(public))

    # A mistake is shown next to its field; nothing is saved.
    page.get_by_label("SFTP host").fill("sftp://127.0.0.1")
    page.get_by_label("Port", exact=True).fill(str(sftp_server.port))
    page.get_by_label("User name").fill(sftp_server.username)
    page.get_by_label("Sender id (ISA06)").fill("SUBMITTER01")
    page.get_by_label("Receiver name (loop 1000B)").fill("Test Clearinghouse")
    page.get_by_role("button", name="Save clearinghouse settings").click()
    expect(page.locator("#host-error")).to_contain_text("Enter the host name only")
    # (portal.js runs deferred: wait for it rather than read the focus before it has run;
    # not with wait_for_function's string, which polls through eval and the CSP refuses it)
    expect(page.locator("#host")).to_be_focused(timeout=15000)
    screenshot(page, "clearinghouse-settings-error")

    page.get_by_label("SFTP host").fill("127.0.0.1")
    page.get_by_label("A key pair the portal generates").check()
    page.get_by_role("button", name="Save clearinghouse settings").click()
    expect(page.get_by_text("Clearinghouse settings saved.")).to_be_visible()
    expect(page.get_by_text("Not pinned yet")).to_be_visible()

    page.get_by_role("button", name="Test the connection").click()
    result = page.locator("#test-result")
    result.get_by_text("Connected.").wait_for()
    expect(result).to_contain_text(sftp_server.fingerprint, use_inner_text=True)
    expect(result).to_contain_text("999_000000101.x12", use_inner_text=True)
    assert _small_targets(page) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= 1024
    screenshot(page, "clearinghouse-test-ok")
    conn = ClearinghouseConnection.get(ClearinghouseConnection.practice == world.a.practice.id)
    assert conn.host_key_fingerprint == sftp_server.fingerprint
    assert conn.receiver_name == "TEST CLEARINGHOUSE" and conn.auth_method == "key"

    # The server's key changes: the test says so, the page shows both keys, the owner accepts.
    old = sftp_server.fingerprint
    sftp_server.restart()
    page.get_by_role("button", name="Test the connection").click()
    result.get_by_text("The test failed.").wait_for()
    expect(result).to_contain_text("host key) has changed", use_inner_text=True)
    page.reload()
    alert = page.locator("#host-key-changed")
    expect(alert).to_contain_text(old, use_inner_text=True)
    expect(alert).to_contain_text(sftp_server.fingerprint, use_inner_text=True)
    screenshot(page, "clearinghouse-host-key-changed")
    page.get_by_role("button", name="Accept the new key").click()
    expect(page.get_by_text("transfers resume")).to_be_visible()
    page.get_by_role("button", name="Test the connection").click()
    result.get_by_text("Connected.").wait_for()
    assert errors == []
    # The one refused answer is the form with the bad host (400, shown next to the field).
    assert [(m, u.rsplit("/", 1)[-1], s) for m, u, s in failed] == [("POST", "clearinghouse", 400)]


def test_the_desk_meets_a_refused_login_then_a_refused_file(
    app,
    world,
    live_server,
    page,
    screenshot,
    sftp_server,  # noqa: F811
):
    """The clearinghouse changed the password: the desk's send stops, saying the owner
    fixes it, and the work list leads with the failing connection; the owner saves the new
    password and tests it; the desk sends again (once); the 999 refuses the file over the
    billing provider's NPI: the file's page says its claims wait on the work list, and each
    claim points to the practice settings, not to its own edit page."""
    a = world.a
    app.config["CLEARINGHOUSE_TIMEOUT"] = 5
    errors, failed = [], []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("response", lambda r: failed.append((r.url, r.status)) if r.status >= 400 else None)
    with app.test_request_context():
        ch.save_settings(a.practice.id, settings(sftp_server), password=sftp_server.password)
        cf.billing_ready(a.practice)
        cf.with_address(a.c1)
        cf.with_address(a.c2, sex="M")
        payer = cf.payer(a.practice, name="Blue Harbor Health", payer_code="BHH01")
        for n in range(3):
            cf.claim(a.practice, (a.c1, a.c2)[n % 2], a.provider, payer_obj=payer,
                     day=dt.date(2026, 11, 2 + n))  # fmt: skip
    sftp_server.password = "Changed-By-The-Clearinghouse-42"

    _login(page, live_server, a.frontdesk.email)
    page.goto(live_server + "/provider/claims/batches/new")
    page.get_by_role("button", name=re.compile(r"^Build the 837P file")).click()
    page.get_by_role("button", name="Send to the clearinghouse").click()
    status = page.locator("#batch_status")
    status.get_by_text("The owner sees to this under Settings → Clearinghouse").wait_for()
    assert sftp_server.files("inbound") == []
    page.get_by_role("link", name="Work list").click()
    first = page.locator(".work-group").first
    expect(first).to_contain_text("The portal cannot reach the clearinghouse", use_inner_text=True)
    expect(page.locator("#work-not_sent")).to_contain_text("Files not sent", use_inner_text=True)
    assert _small_targets(page) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= 1024
    screenshot(page, "clearinghouse-desk-connection-failing")
    page.get_by_role("button", name="Log out").click()

    _login(page, live_server, a.owner.email)
    page.goto(live_server + "/provider/settings/clearinghouse")
    page.get_by_label("Password", exact=True).fill(sftp_server.password)
    page.get_by_role("button", name="Save clearinghouse settings").click()
    page.get_by_role("button", name="Test the connection").click()
    page.locator("#test-result").get_by_text("Connected.").wait_for()
    page.get_by_role("button", name="Log out").click()

    _login(page, live_server, a.frontdesk.email)
    page.goto(live_server + "/provider/claims/worklist")
    expect(page.locator("#work-connection")).to_have_count(0)
    page.locator("#work-not_sent").get_by_role("link", name="Open the file").click()
    page.get_by_role("button", name="Send again").click()
    status.get_by_text("Sent, waiting for the 999").wait_for()
    batch = ClaimBatch.get()
    assert sftp_server.files("inbound") == [batch.remote_name]

    text = batches.file_bytes(batch).decode("ascii")
    npi = answers.SegmentProblem(
        "NM1", answers.locate(text, "NM1", "85"), "2010AA", "8", "9", "67", "7", "1558598797"
    )
    ack = answers.answer_999(text, control_number=501, created=dt.datetime(2026, 12, 2),
                             problems=[npi])  # fmt: skip
    assert_valid(ack)
    sftp_server.put("outbound", "ack-501.999", ack.encode("ascii"))
    page.goto(live_server + "/provider/claims/worklist")
    page.get_by_role("button", name="Check the clearinghouse now").click()
    page.get_by_text("Checking the clearinghouse").wait_for()
    page.goto(f"{live_server}/provider/claims/batches/{batch.id}")
    status.get_by_text(
        "The clearinghouse refused this file, so this file is not sent again"
    ).wait_for()
    expect(status).to_contain_text("the billing provider's name or ID", use_inner_text=True)
    assert _small_targets(page) == []
    screenshot(page, "clearinghouse-desk-file-refused")
    page.get_by_role("link", name="Open the work list").click()
    group = page.locator("#work-rejected")
    expect(group.locator(".work-item")).to_have_count(3)
    group.get_by_role("link", name="Open the claim").first.click()
    page.get_by_text("The owner fixes it on the practice settings.").wait_for()
    # The action, not the fix:
    expect(page.get_by_role("link", name="Edit the claim")).to_have_count(1)
    assert page.evaluate("document.documentElement.scrollWidth") <= 1024
    assert errors == [] and failed == []
