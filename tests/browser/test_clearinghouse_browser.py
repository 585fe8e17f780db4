"""Real browser (Debian's Chromium at 1024x768): the owner sets up the clearinghouse
connection (a key pair registered with a real SFTP server on 127.0.0.1), tests it, then
meets a changed server key and accepts it. Screenshots go to test-artifacts/."""

import re

import asyncssh
import pytest

from portal.models import ClearinghouseConnection
from tests.browser.test_foundation_browser import TARGETS
from tests.clearinghouse import samples
from tests.clearinghouse.conftest import sftp_server  # noqa: F401 (the server fixture)
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

# Radio buttons are tapped through their whole label (.choice, 44 px tall), as checkboxes are.
CH_TARGETS = TARGETS.replace(":not([type=checkbox])", ":not([type=checkbox]):not([type=radio])")
CH_TARGETS += ", .choice"


def _small_targets(page):
    return page.evaluate(
        """(sel) => Array.from(document.querySelectorAll(sel))
            .filter(el => el.offsetParent !== null)
            .map(el => [el.tagName + '.' + el.className + ' ' + (el.textContent || el.name || '')
                        .trim().slice(0, 30), el.getBoundingClientRect().height])
            .filter(([_, h]) => h < 44)""",
        CH_TARGETS,
    )


def _login(page, base, email):
    page.goto(base + "/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/provider/$"))


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
    assert page.get_by_text("Not set up yet").is_visible()

    # The key pair first: its public half is what the clearinghouse registers.
    page.get_by_role("button", name="Make a key pair").click()
    public = page.get_by_label("Public key (OpenSSH format)").input_value()
    assert public.startswith("ssh-ed25519 ")
    sftp_server.authorized_keys.append(asyncssh.import_public_key(public))

    # A mistake is shown next to its field; nothing is saved.
    page.get_by_label("SFTP host").fill("sftp://127.0.0.1")
    page.get_by_label("Port", exact=True).fill(str(sftp_server.port))
    page.get_by_label("User name").fill(sftp_server.username)
    page.get_by_label("Sender id (ISA06)").fill("SUBMITTER01")
    page.get_by_label("Receiver name (loop 1000B)").fill("Test Clearinghouse")
    page.get_by_role("button", name="Save clearinghouse settings").click()
    assert "Enter the host name only" in page.locator("#host-error").inner_text()
    # (portal.js runs deferred: wait for it rather than read the focus before it has run)
    page.wait_for_function(
        "document.activeElement && document.activeElement.id === 'host'", timeout=15000
    )
    screenshot(page, "clearinghouse-settings-error")

    page.get_by_label("SFTP host").fill("127.0.0.1")
    page.get_by_label("A key pair the portal generates").check()
    page.get_by_role("button", name="Save clearinghouse settings").click()
    assert page.get_by_text("Clearinghouse settings saved.").is_visible()
    assert page.get_by_text("Not pinned yet").is_visible()

    page.get_by_role("button", name="Test the connection").click()
    result = page.locator("#test-result")
    result.get_by_text("Connected.").wait_for()
    assert sftp_server.fingerprint in result.inner_text()
    assert "999_000000101.x12" in result.inner_text()
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
    assert "host key) has changed" in result.inner_text()
    page.reload()
    alert = page.locator("#host-key-changed")
    assert old in alert.inner_text() and sftp_server.fingerprint in alert.inner_text()
    screenshot(page, "clearinghouse-host-key-changed")
    page.get_by_role("button", name="Accept the new key").click()
    assert page.get_by_text("transfers resume").is_visible()
    page.get_by_role("button", name="Test the connection").click()
    result.get_by_text("Connected.").wait_for()
    assert errors == []
    # The one refused answer is the form with the bad host (400, shown next to the field).
    assert [(m, u.rsplit("/", 1)[-1], s) for m, u, s in failed] == [("POST", "clearinghouse", 400)]
