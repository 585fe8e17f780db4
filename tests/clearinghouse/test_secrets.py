"""The clearinghouse password and private key are nowhere in clear text: not in a page, a
log line, the audit log, the CLI's output or a backup (`flask --app wsgi backup`), after
the owner set them up, tested the connection and the portal uploaded and fetched files.
And the sealing itself: the key file, values bound to their practice and column."""

import base64
import logging
import os
import sqlite3
import stat
import subprocess
import sys

import asyncssh
import pytest
from cryptography.hazmat.primitives import serialization

from portal import secretbox
from portal.db import IS_POSTGRES, database
from portal.models import ClearinghouseConnection
from portal.services import clearinghouse as ch
from portal.services import clearinghouse_sftp as sftp
from portal.services import clearinghouse_transfer as transfer
from tests.clearinghouse import samples
from tests.clearinghouse.conftest import settings
from tests.conftest import login
from tests.routes import rules

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
URL = "/provider/settings/clearinghouse"


def _needles(private_pem, password):
    """Every form a secret could leak in: the password, the PEM, each line of its body,
    the raw ed25519 seed in bytes, hex and base64."""
    key = serialization.load_ssh_private_key(private_pem.encode(), password=None)
    raw = key.private_bytes_raw()
    needles = {
        "password": password.encode(),
        "pem": private_pem.encode(),
        "seed": raw,
        "seed hex": raw.hex().encode(),
        "seed b64": base64.b64encode(raw).rstrip(b"="),
    }
    for i, line in enumerate(private_pem.splitlines()):
        if len(line) >= 20 and "PRIVATE KEY" not in line:
            needles[f"pem line {i}"] = line.encode()
    return needles


def _leaks(blob, needles):
    if isinstance(blob, str):
        blob = blob.encode()
    return [name for name, needle in needles.items() if needle in blob]


def test_the_secrets_are_nowhere_in_clear_text(app, client, world, sftp_server, caplog, tmp_path):
    caplog.set_level(logging.DEBUG)  # every logger, paramiko's and asyncssh's included
    app.config["CLEARINGHOUSE_TIMEOUT"] = 5
    login(client, world.a.owner)
    seen = []  # every response body and CLI output

    form = settings(sftp_server, password=sftp_server.password)
    seen.append(client.post(URL, data=form).get_data())
    seen.append(client.post(URL + "/key").get_data())
    with app.app_context():
        conn = ch.connection_for(world.a.practice.id)
        private_pem = ch.open_private_key(conn)
    sftp_server.authorized_keys.append(asyncssh.import_public_key(conn.public_key))
    for method in ("password", "key"):
        form["auth_method"] = method
        seen.append(client.post(URL, data=form, follow_redirects=True).get_data())
        seen.append(client.post(URL + "/test").get_data())
        seen.append(client.post(URL + "/test", headers={"HX-Request": "true"}).get_data())
    # A wrong password tried and refused: its error page too.
    bad = dict(form, auth_method="password", password=sftp_server.password + "-typo")
    seen.append(client.post(URL, data=bad, follow_redirects=True).get_data())
    seen.append(client.post(URL + "/test").get_data())
    seen.append(client.post(URL, data=dict(form, port="0")).get_data())  # refused form
    seen.append(client.post(URL, data=form, follow_redirects=True).get_data())

    sftp_server.put("outbound", "999_000000101.x12", samples.ack_999())
    with app.test_request_context():
        conn = ch.connection_for(world.a.practice.id)
        assert transfer.upload(conn, "837P-000000001.txt", b"ISA*batch~").outcome == "uploaded"
        assert [line.outcome for line in transfer.fetch(conn)] == ["stored"]
    runner = app.test_cli_runner()
    for args in (["clearinghouse", "test"], ["clearinghouse", "fetch"]):
        result = runner.invoke(args=args)
        assert result.exit_code == 0, result.output
        seen.append(result.output.encode())

    for rule, url in rules(app, "GET", "/provider"):
        if not rule.arguments:
            seen.append(client.get(url, follow_redirects=True).get_data())

    needles = _needles(private_pem, sftp_server.password)
    assert len(needles) >= 8
    assert b"Connected." in b"".join(seen)  # the pages really were the working ones
    for body in seen:
        assert not _leaks(body, needles)
    assert "Authentication (publickey) successful" in caplog.text  # paramiko's log was on
    assert not _leaks(caplog.text, needles)
    audit_rows = database.execute_sql("SELECT * FROM audit_log").fetchall()
    assert any("clearinghouse." in str(row) for row in audit_rows)
    assert not _leaks(repr(audit_rows), needles)

    # A backup, made as cron makes it (pg_dump on PostgreSQL, docs/deploy.md).
    database.close()
    data, output, sealed = _pg_dump(app) if IS_POSTGRES else _backup(app, tmp_path)
    assert all(v and v.startswith("v1.") for v in sealed)  # the secrets are there, sealed
    assert not _leaks(data, needles) and not _leaks(output, needles)
    # ... and the key that opens them is not in the backup: it stays in the instance folder.
    with open(secretbox.key_path(app.instance_path), "rb") as fh:
        key_b64 = fh.read().strip()
    assert key_b64 not in data and base64.urlsafe_b64decode(key_b64) not in data


def test_the_key_file_is_private_and_made_once(app, tmp_path):
    instance = str(tmp_path / "inst")
    token = secretbox.seal(instance, "s3cret", "ctx")
    path = secretbox.key_path(instance)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    first = open(path, "rb").read()
    secretbox.seal(instance, "other", "ctx")
    assert open(path, "rb").read() == first
    assert secretbox.open_sealed(instance, token, "ctx") == b"s3cret"
    assert os.listdir(str(tmp_path / "inst")) == [secretbox.KEY_FILE]  # no leftovers


def test_a_sealed_value_opens_only_where_it_was_put(app, world, sftp_server):
    with app.test_request_context():
        ch.save_settings(world.a.practice.id, settings(sftp_server), password="password-of-a")
        ch.save_settings(world.b.practice.id, settings(sftp_server), password="password-of-b")
        a = ch.connection_for(world.a.practice.id)
        b = ch.connection_for(world.b.practice.id)
        assert ch.open_password(a) == "password-of-a"
        # Copied into practice b's row (a write to the database alone): it does not open.
        ClearinghouseConnection.update(password_enc=a.password_enc).where(
            ClearinghouseConnection.id == b.id
        ).execute()
        b = ch.connection_for(world.b.practice.id)
        with pytest.raises(secretbox.SecretUnavailable):
            ch.open_password(b)
        with pytest.raises(sftp.TransportError) as e:
            sftp.check_connection(b)
        assert e.value.code == sftp.SECRET and "was the key file replaced?" in e.value.message
        # A damaged value neither.
        for broken in ("v1.!!!", "v1." + base64.urlsafe_b64encode(b"short").decode(), "plain"):
            with pytest.raises(secretbox.SecretUnavailable):
                secretbox.open_sealed(app.instance_path, broken, "ctx")


def _backup(app, tmp_path):
    """`flask backup` as cron runs it: the file's bytes, the command's output, the sealed
    secrets read back from the copy."""
    dest = tmp_path / "backups"
    env = dict(
        os.environ,
        PORTAL_INSTANCE_PATH=app.instance_path,
        PORTAL_DATABASE=app.config["DATABASE"],
        PORTAL_SECRET_KEY="backup-test",
    )
    out = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "backup", str(dest)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        timeout=120,
        check=True,
    )
    assert b"Backup written and checked" in out.stdout
    (backup,) = list(dest.iterdir())
    con = sqlite3.connect(backup)
    try:
        sealed = con.execute(
            "SELECT password_enc, private_key_enc FROM clearinghouse_connection"
        ).fetchone()
    finally:
        con.close()
    return backup.read_bytes(), out.stdout + out.stderr, sealed


def _pg_dump(app):
    """pg_dump of the database, as docs/deploy.md has cron run it."""
    out = subprocess.run(
        ["pg_dump", "--format=custom", "--compress=0", "--dbname", app.config["DATABASE_URL"]],
        capture_output=True,
        timeout=120,
        check=True,
    )
    sealed = database.execute_sql(
        "SELECT password_enc, private_key_enc FROM clearinghouse_connection"
    ).fetchone()
    return out.stdout, out.stderr, sealed
