"""The SFTP transport against a real server on 127.0.0.1 (tests/clearinghouse/conftest.py)."""

from portal.services import clearinghouse_sftp as sftp


def test_first_connection_pins_the_host_key_and_lists_both_folders(conn, sftp_server):
    sftp_server.put("outbound", "ack.999", b"ISA")
    r = sftp.test_connection(conn)
    assert r.pinned_now and r.fingerprint == sftp_server.fingerprint
    assert r.download_names == ["ack.999"] and r.upload_names == []
