"""Settings → Clearinghouse: the owner's form (errors next to the field, nothing half
saved), the key pair, the connection test against a real SFTP server, the changed host
key and its acceptance, and who may see any of it."""

import html
import re

import asyncssh
import pytest

from portal.models import AuditLog, ClearinghouseConnection
from portal.services import clearinghouse as ch
from tests.clearinghouse.conftest import settings
from tests.conftest import login

URL = "/provider/settings/clearinghouse"


@pytest.fixture
def owner(app, client, world, sftp_server):
    app.config["CLEARINGHOUSE_TIMEOUT"] = 5
    login(client, world.a.owner)
    return client


def _form(server, **changes):
    data = settings(server, password=server.password)
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def _error(body, field_id):
    m = re.search(rf'<p class="error" id="{field_id}-error">([^<]*)</p>', body)
    return html.unescape(m.group(1)) if m else None


def _conn(world):
    return ClearinghouseConnection.get_or_none(
        ClearinghouseConnection.practice == world.a.practice.id
    )


def test_an_empty_page_says_what_to_do(owner):
    body = owner.get(URL).get_data(as_text=True)
    assert "Not set up yet" in body and 'value="inbound"' in body and 'value="outbound"' in body
    assert "Test the connection" not in body  # nothing saved to test yet
    assert "Make a key pair" in body
    assert "Nothing yet." in body and "every 15 minutes" in body
    assert "flask --app" not in body  # the owner runs no command: the queue fetches
    assert 'href="/provider/claims/worklist">Claims → Work list</a>' in body


def test_save_then_test_the_connection(owner, world, sftp_server):
    sftp_server.put("outbound", "999_000000101.x12", b"ISA")
    r = owner.post(URL, data=_form(sftp_server, isa_sender_id="sub01", receiver_name="test ch"))
    assert r.status_code == 302
    conn = _conn(world)
    assert conn.host == "127.0.0.1" and conn.port == sftp_server.port
    assert conn.isa_sender_id == "SUB01" and conn.receiver_name == "TEST CH"
    assert conn.has_password and sftp_server.password not in conn.password_enc
    row = AuditLog.get(AuditLog.action == "clearinghouse.settings")
    assert "password" in row.detail.split(",") and "host" in row.detail.split(",")
    page = owner.get(URL).get_data(as_text=True)
    assert "Clearinghouse settings saved." in page
    assert "A password is set and is never shown" in page
    assert "Not pinned yet" in page

    r = owner.post(URL + "/test")
    body = r.get_data(as_text=True)
    assert r.status_code == 200 and "Connected." in body
    assert sftp_server.fingerprint in body and "pinned now" in body
    assert "999_000000101.x12" in body and "Upload folder: inbound" in body
    # An HTMX click gets the result block alone.
    r = owner.post(URL + "/test", headers={"HX-Request": "true"})
    body = r.get_data(as_text=True)
    assert body.lstrip().startswith('<section class="card" id="connection"')
    assert "<html" not in body and "Last result" in body
    assert "Connected." in body and "pinned now" not in body
    page = owner.get(URL).get_data(as_text=True)
    assert "pinned " in page and sftp_server.fingerprint in page and "Connected " in page


def test_a_failed_test_says_why(owner, world, sftp_server):
    owner.post(URL, data=_form(sftp_server, password="wrong-password-123"))
    body = owner.post(URL + "/test").get_data(as_text=True)
    assert "The test failed." in body
    assert "refused the user “portal-practice” with this password" in html.unescape(body)
    page = html.unescape(owner.get(URL).get_data(as_text=True))
    assert "Failed " in page and "refused the user" in page


def test_testing_before_saving_is_refused(owner):
    r = owner.post(URL + "/test")
    assert r.status_code == 400
    assert "Save the connection settings first" in r.get_data(as_text=True)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("host", "", "Enter the SFTP host"),
        ("host", "sftp://sftp.example.com", "Enter the host name only"),
        ("host", "sftp example.com", "letters, digits, dots and dashes only"),
        ("port", "0", "A port is a number from 1 to 65535."),
        ("port", "70000", "A port is a number from 1 to 65535."),
        ("port", "twenty-two", "Not a valid integer value."),
        ("username", "", "Enter the SFTP user name."),
        ("username", "two words", "A user name has no spaces."),
        ("upload_dir", "../../etc", "Use a folder path like /inbound"),
        ("isa_sender_id", "SIXTEEN-CHARS-XX", "Use at most 15 characters."),
        ("isa_sender_id", "SUB*01", "Use letters, digits, spaces, dots or dashes only."),
        ("gs_sender_code", "X", "Use 2 to 15 characters."),
        ("receiver_id", "CH~1", "Use letters, digits, spaces, dots or dashes only."),
        ("isa_receiver_qualifier", "99", "Not a valid choice."),
        ("auth_method", "telepathy", "Not a valid choice."),
        ("usage_indicator", "X", "Not a valid choice."),
    ],
)
def test_bad_values_are_refused_next_to_the_field(owner, world, sftp_server, field, value, message):
    r = owner.post(URL, data=_form(sftp_server, **{field: value, "download_dir": "from-ch"}))
    assert r.status_code == 400
    body = r.get_data(as_text=True)
    error = _error(body, field)
    assert error and message in error, body
    assert _conn(world) is None  # nothing half-saved
    assert sftp_server.password not in body  # what was typed is not sent back


def test_a_password_login_needs_a_password(app, owner, world, sftp_server):
    r = owner.post(URL, data=_form(sftp_server, password=""))
    assert r.status_code == 400
    assert "none is stored yet" in _error(r.get_data(as_text=True), "password")
    assert owner.post(URL, data=_form(sftp_server)).status_code == 302
    # Saved once, it is kept when the field is left empty.
    assert owner.post(URL, data=_form(sftp_server, password="", port="2222")).status_code == 302
    conn = _conn(world)
    assert conn.port == 2222
    with app.app_context():
        assert ch.open_password(conn) == sftp_server.password


def test_the_key_pair_is_made_shown_and_used(owner, world, sftp_server):
    owner.post(URL, data=_form(sftp_server, auth_method="key", password=""))
    r = owner.post(URL + "/key")
    assert r.status_code == 302 and r.headers["Location"].endswith("#key")
    body = owner.get(URL).get_data(as_text=True)
    conn = _conn(world)
    assert html.escape(conn.public_key) in body and "Make a new key pair" in body
    assert ch.public_key_fingerprint(conn.public_key) in body
    assert "PRIVATE KEY" not in body
    sftp_server.authorized_keys.append(asyncssh.import_public_key(conn.public_key))
    assert "Connected." in owner.post(URL + "/test").get_data(as_text=True)


def test_a_changed_server_key_is_shown_and_accepted_by_the_owner(owner, world, sftp_server):
    owner.post(URL, data=_form(sftp_server))
    owner.post(URL + "/test")
    old = sftp_server.fingerprint
    sftp_server.restart()
    body = html.unescape(owner.post(URL + "/test").get_data(as_text=True))
    assert "The clearinghouse server's identity (its host key) has changed" in body
    page = owner.get(URL).get_data(as_text=True)
    assert "transfers are stopped" in page and old in page and sftp_server.fingerprint in page
    assert 'id="host-key-changed"' in page

    # A stale page (the key changed again since) accepts nothing.
    r = owner.post(URL + "/host-key", data={"fingerprint": "SHA256:not-the-one-shown"})
    assert r.status_code == 302
    assert "yet another key" in owner.get(URL).get_data(as_text=True)
    assert _conn(world).host_key_fingerprint == old

    r = owner.post(URL + "/host-key", data={"fingerprint": sftp_server.fingerprint})
    assert r.status_code == 302
    page = owner.get(URL).get_data(as_text=True)
    assert "transfers resume" in page and 'id="host-key-changed"' not in page
    assert "Files not sent" in page  # stopped meanwhile: where they wait to be sent again
    assert _conn(world).host_key_fingerprint == sftp_server.fingerprint
    # The changed key was the failure: the desk's work list stops saying so.
    assert _conn(world).last_error_code == ""
    assert "Connected." in owner.post(URL + "/test").get_data(as_text=True)
    row = AuditLog.get(AuditLog.action == "clearinghouse.host_key_accept")
    assert row.user_id == world.a.owner.id and row.detail == f"{old} -> {sftp_server.fingerprint}"


def test_changing_the_server_forgets_its_key_and_says_so(owner, world, sftp_server):
    owner.post(URL, data=_form(sftp_server))
    owner.post(URL + "/test")
    data = _form(sftp_server, host="localhost", password="")
    r = owner.post(URL, data=data, follow_redirects=True)
    assert "pinned again on the next connection" in r.get_data(as_text=True)
    assert _conn(world).host_key == ""


def test_only_the_owner_of_the_practice(app, client, world, sftp_server):
    with app.test_request_context():
        ch.save_settings(world.a.practice.id, settings(sftp_server), password="pw-of-a-123456")
    # The other practice's owner sees their own (empty) settings, never practice a's.
    login(client, world.b.owner)
    body = client.get(URL).get_data(as_text=True)
    assert "Not set up yet" in body and str(sftp_server.port) not in body
    client.post(URL + "/key")
    assert _conn(world).public_key == ""  # b's key went to b's row
    client.post("/logout")
    for who in (world.a.therapist, world.a.frontdesk, world.a.cu1):
        login(client, who)
        assert client.get(URL).status_code == 404
        for path in ("", "/key", "/test", "/host-key"):
            assert client.post(URL + path, data=_form(sftp_server)).status_code == 404
        client.post("/logout")
    assert client.get(URL).status_code == 302  # logged out: to the login page
    assert client.post(URL + "/test").status_code in (302, 400)
    assert _conn(world).host == "127.0.0.1" and _conn(world).public_key == ""
