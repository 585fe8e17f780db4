"""Connecting to the clearinghouse over SFTP, against a real server on 127.0.0.1
(tests/clearinghouse/conftest.py): the host key pinned on first use and a changed one
refused, wrong credentials, unreachable or silent servers, missing folders, key login."""

import os
import socket
import threading

import asyncssh
import pytest

from portal import secretbox
from portal.models import AuditLog, ClearinghouseConnection
from portal.services import clearinghouse as ch
from portal.services import clearinghouse_sftp as sftp
from portal.services import clearinghouse_transfer as transfer
from tests.clearinghouse.conftest import settings


def _refresh(conn):
    return ClearinghouseConnection.get_by_id(conn.id)


def _actions(practice_id):
    return [
        (a.action, a.detail)
        for a in AuditLog.select().where(AuditLog.practice_id == practice_id).order_by(AuditLog.id)
    ]


def test_first_connection_pins_the_host_key_and_lists_both_folders(conn, sftp_server):
    sftp_server.put("outbound", "ack.999", b"ISA")
    sftp_server.put("outbound", "era.835", b"ISA")
    os.mkdir(sftp_server.path("inbound", "archive"))
    r = sftp.check_connection(conn)
    assert r.pinned_now and r.fingerprint == sftp_server.fingerprint
    assert r.fingerprint.startswith("SHA256:") and not r.fingerprint.endswith("=")
    assert r.download_names == ["ack.999", "era.835"] and r.download_count == 2
    assert r.upload_names == ["archive/"] and r.upload_dir == "inbound"
    fresh = _refresh(conn)
    assert fresh.host_key_fingerprint == sftp_server.fingerprint
    assert fresh.host_key.startswith("ssh-ed25519 ") and fresh.host_key_pinned_at
    assert fresh.last_ok_at and not fresh.offered_host_key
    acts = _actions(conn.practice_id)
    assert ("clearinghouse.host_key_pin", sftp_server.fingerprint) in acts
    assert acts[-1] == ("clearinghouse.test", "ok")

    again = sftp.check_connection(fresh)
    assert not again.pinned_now and again.fingerprint == sftp_server.fingerprint
    pins = [a for a in _actions(conn.practice_id) if a[0] == "clearinghouse.host_key_pin"]
    assert len(pins) == 1


def test_a_changed_host_key_stops_every_transfer_until_the_owner_accepts_it(conn, sftp_server):
    sftp.check_connection(conn)
    old = sftp_server.fingerprint
    sftp_server.restart()  # same host and port, another key: a new server, or an impostor
    new = sftp_server.fingerprint
    assert new != old
    logins_before = sftp_server.counts["auth_attempt"]
    conn = _refresh(conn)
    with pytest.raises(sftp.TransportError) as e:
        sftp.check_connection(conn)
    assert e.value.code == sftp.HOST_KEY_CHANGED and not e.value.retryable
    assert old in e.value.message and new in e.value.message
    assert "All transfers are stopped" in e.value.message
    assert "accept the new key under Settings → Clearinghouse" in e.value.message
    # Refused before the login: the password never went to the unknown server.
    assert sftp_server.counts["auth_attempt"] == logins_before
    fresh = _refresh(conn)
    assert fresh.host_key_fingerprint == old and fresh.offered_host_key_fingerprint == new
    assert fresh.last_error_code == "host_key_changed"
    # Kept in whole sentences (the settings page showed "... whether they changed").
    assert fresh.last_error.endswith("it is now " + new + ". All transfers are stopped.")

    # Uploads and fetches are refused too, without even connecting.
    connections = sftp_server.counts["connection"]
    with pytest.raises(sftp.TransportError) as e:
        transfer.upload(fresh, "batch-1.837", b"ISA*batch")
    assert e.value.code == sftp.HOST_KEY_CHANGED
    with pytest.raises(sftp.TransportError) as e:
        transfer.fetch(fresh)
    assert e.value.code == sftp.HOST_KEY_CHANGED
    assert sftp_server.counts["connection"] == connections
    assert sftp_server.files("inbound") == []
    changed = [a for a in _actions(conn.practice_id) if a[0] == "clearinghouse.host_key_changed"]
    assert changed == [("clearinghouse.host_key_changed", f"{old} -> {new}")]  # once

    # The owner accepts the key they were shown (not another one).
    with pytest.raises(ch.ClearinghouseError):
        ch.accept_host_key(conn.practice_id, old)
    ch.accept_host_key(conn.practice_id, new)
    fresh = _refresh(conn)
    assert fresh.host_key_fingerprint == new and not fresh.host_key_changed
    assert ("clearinghouse.host_key_accept", f"{old} -> {new}") in _actions(conn.practice_id)
    assert transfer.upload(fresh, "batch-1.837", b"ISA*batch").outcome == "uploaded"
    with pytest.raises(ch.ClearinghouseError):
        ch.accept_host_key(conn.practice_id, new)  # nothing waits any more


def test_changing_the_host_or_port_forgets_the_pinned_key(conn, sftp_server):
    sftp.check_connection(conn)
    other = settings(sftp_server, port=sftp_server.port + 1)
    fresh, changed = ch.save_settings(conn.practice_id, other)
    assert "host_key_forgotten" in changed and "port" in changed
    assert fresh.host_key == "" and fresh.host_key_fingerprint == ""
    fresh, changed = ch.save_settings(conn.practice_id, settings(sftp_server))
    r = sftp.check_connection(fresh)
    assert r.pinned_now


def test_wrong_password_is_a_clear_message(conn, sftp_server):
    ch.save_settings(conn.practice_id, settings(sftp_server), password="not-the-password-1")
    with pytest.raises(sftp.TransportError) as e:
        sftp.check_connection(_refresh(conn))
    assert e.value.code == sftp.AUTH and not e.value.retryable  # the owner must fix it
    assert "refused the user “portal-practice” with this password" in e.value.message
    assert "Check the user name and the password" in e.value.message
    fresh = _refresh(conn)
    assert fresh.last_error_code == "auth" and "refused the user" in fresh.last_error
    assert _actions(conn.practice_id)[-1] == ("clearinghouse.test", "auth")

    ch.save_settings(
        conn.practice_id,
        settings(sftp_server, username="someone-else"),
        password=sftp_server.password,
    )
    with pytest.raises(sftp.TransportError) as e:
        sftp.check_connection(_refresh(conn))
    assert e.value.code == sftp.AUTH and "someone-else" in e.value.message


def test_login_with_the_generated_key(conn, sftp_server):
    public = ch.generate_key(conn.practice_id)
    assert public.startswith("ssh-ed25519 ") and public.endswith(
        f"massage-portal-practice-{conn.practice_id}"
    )
    ch.save_settings(conn.practice_id, settings(sftp_server, auth_method="key"))
    fresh = _refresh(conn)
    # Not registered with the clearinghouse yet: refused, and the message says what to do.
    with pytest.raises(sftp.TransportError) as e:
        sftp.check_connection(fresh)
    assert e.value.code == sftp.AUTH
    assert "public key shown under Settings → Clearinghouse is registered" in e.value.message
    sftp_server.authorized_keys.append(asyncssh.import_public_key(public))
    r = sftp.check_connection(fresh)
    assert r.download_names == [] and r.fingerprint == sftp_server.fingerprint
    # The key fingerprint in the audit row is the one ssh-keygen would show.
    fp = asyncssh.import_public_key(public).get_fingerprint("sha256")
    assert ("clearinghouse.key_generate", fp) in _actions(conn.practice_id)
    assert ch.public_key_fingerprint(public) == fp

    # A new pair replaces the old one, which stops working.
    ch.generate_key(conn.practice_id)
    with pytest.raises(sftp.TransportError) as e:
        sftp.check_connection(_refresh(conn))
    assert e.value.code == sftp.AUTH


def test_a_server_that_takes_no_passwords_says_so(conn, sftp_server):
    sftp_server.password = None  # keys only
    with pytest.raises(sftp.TransportError) as e:
        sftp.check_connection(conn)
    assert e.value.code == sftp.AUTH
    assert "does not take a password for this user (it takes: publickey)" in e.value.message


def test_nothing_listening_is_unreachable(conn, sftp_server):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    ch.save_settings(conn.practice_id, settings(sftp_server, port=port))
    with pytest.raises(sftp.TransportError) as e:
        sftp.check_connection(_refresh(conn))
    assert e.value.code == sftp.UNREACHABLE and e.value.retryable  # may be back later
    assert f"127.0.0.1:{port} refused the connection" in e.value.message


def test_an_unknown_host_name_is_unreachable(conn, sftp_server):
    ch.save_settings(conn.practice_id, settings(sftp_server, host="sftp.no-such-place.invalid"))
    with pytest.raises(sftp.TransportError) as e:
        sftp.check_connection(_refresh(conn))
    assert e.value.code == sftp.UNREACHABLE
    assert "“sftp.no-such-place.invalid” was not found" in e.value.message


def test_a_silent_server_times_out(conn, sftp_server):
    """Something accepts the connection and never speaks (not an SFTP port)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(5)
    held = []
    stop = threading.Event()

    def accept():
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except TimeoutError:
                continue

    t = threading.Thread(target=accept, daemon=True)
    t.start()
    try:
        ch.save_settings(conn.practice_id, settings(sftp_server, port=listener.getsockname()[1]))
        with pytest.raises(sftp.TransportError) as e:
            sftp.check_connection(_refresh(conn), timeout=1)
        assert e.value.code == sftp.TIMEOUT
        assert "did not answer as an SFTP server within 1 seconds" in e.value.message
    finally:
        stop.set()
        t.join(5)
        for s in held:
            s.close()
        listener.close()


def test_a_missing_folder_is_named(conn, sftp_server):
    ch.save_settings(conn.practice_id, settings(sftp_server, download_dir="from-clearinghouse"))
    with pytest.raises(sftp.TransportError) as e:
        sftp.check_connection(_refresh(conn))
    assert e.value.code == sftp.FOLDER
    assert "download folder “from-clearinghouse” does not exist" in e.value.message


def test_not_configured_and_lost_secrets(app, conn, sftp_server):
    bare, _ = ch.save_settings(conn.practice_id, settings(sftp_server, auth_method="key"))
    with pytest.raises(sftp.TransportError) as e:
        sftp.check_connection(bare)  # key login chosen, no key generated
    assert e.value.code == sftp.NOT_CONFIGURED
    ch.save_settings(conn.practice_id, settings(sftp_server))
    # The key file is gone (a restore without the instance folder): say what to do.
    os.remove(secretbox.key_path(app.instance_path))
    secretbox.forget_keys()
    with pytest.raises(sftp.TransportError) as e:
        sftp.check_connection(_refresh(conn))
    assert e.value.code == sftp.SECRET
    assert "The stored password cannot be read" in e.value.message
    assert "enter the password again" in e.value.message


def test_the_last_error_is_kept_in_whole_sentences(conn):
    ch.record_outcome(conn, sftp.AUTH, "Short and whole.")
    assert _refresh(conn).last_error == "Short and whole."
    ch.record_outcome(conn, sftp.AUTH, "First sentence. " + "x" * 300)
    assert _refresh(conn).last_error == "First sentence."
    ch.record_outcome(conn, sftp.AUTH, "y" * 300)  # no sentence to keep: cut, and said so
    assert _refresh(conn).last_error == "y" * 254 + "…"
