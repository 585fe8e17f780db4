"""Uploads (exactly once, whatever drops) and the collect step (each file kept once, typed
by content, handed to the claims code once), against a real SFTP server on 127.0.0.1."""

import hashlib
import os

import pytest
from peewee import IntegrityError

from portal.db import data_version
from portal.models import AuditLog, ClearinghouseDownload, ClearinghouseFile, ClearinghouseUpload
from portal.services import clearinghouse as ch
from portal.services import clearinghouse_sftp as sftp
from portal.services import clearinghouse_transfer as transfer
from portal.services import events
from tests.clearinghouse import samples

BATCH = b"ISA*00*" + os.urandom(3000).hex().encode() + b"~IEA*1*000000001~"  # ~6 KB
BIG_BATCH = b"ISA*00*" + os.urandom(150_000).hex().encode() + b"~"  # ~300 KB: many writes


def _journal(conn, name):
    return transfer.upload_state(conn.practice_id, name)


# --- upload ----------------------------------------------------------------------------------


def test_upload_lands_under_its_final_name_only(conn, sftp_server):
    r = transfer.upload(conn, "837P-000000001.txt", BATCH)
    assert r.outcome == "uploaded" and r.remote_path == "inbound/837P-000000001.txt"
    assert r.sha256 == hashlib.sha256(BATCH).hexdigest()
    assert sftp_server.files("inbound") == ["837P-000000001.txt"]  # no .part left
    assert sftp_server.read("inbound", "837P-000000001.txt") == BATCH
    row = _journal(conn, "837P-000000001.txt")
    assert row.stage == "done" and row.attempts == 1 and row.done_at and row.busy_until is None
    assert sftp_server.counts["rename"] == 1

    # Asked again (a task retried after its worker died, a double click): nothing is sent,
    # no connection is even made.
    connections = sftp_server.counts["connection"]
    again = transfer.upload(conn, "837P-000000001.txt", BATCH)
    assert again.outcome == "done_before" and again.remote_path == r.remote_path
    assert sftp_server.counts["connection"] == connections
    assert sftp_server.counts["open_write"] == 1


def test_a_connection_dropped_mid_upload_is_retried_into_one_file(conn, sftp_server):
    sftp_server.drop_after_writes = 2  # the server vanishes after two write requests
    with pytest.raises(sftp.TransportError) as e:
        transfer.upload(conn, "837P-000000002.txt", BIG_BATCH)
    assert e.value.code == sftp.DROPPED and e.value.retryable
    assert "safe to try again" in e.value.message
    assert sftp_server.counts["dropped"] == 1
    # What the drop left: a partial temporary file, never the final name.
    assert sftp_server.files("inbound") == ["837P-000000002.txt.part"]
    assert len(sftp_server.read("inbound", "837P-000000002.txt.part")) < len(BIG_BATCH)
    row = _journal(conn, "837P-000000002.txt")
    assert row.stage == "writing" and row.busy_until is None and "lost" in row.last_error

    r = transfer.upload(conn, "837P-000000002.txt", BIG_BATCH)  # the retry
    assert r.outcome == "uploaded"
    assert sftp_server.files("inbound") == ["837P-000000002.txt"]
    assert sftp_server.read("inbound", "837P-000000002.txt") == BIG_BATCH
    assert _journal(conn, "837P-000000002.txt").attempts == 2


def test_an_upload_that_landed_but_whose_reply_was_lost_is_not_sent_again(conn, sftp_server):
    sftp_server.drop_after_rename = True  # the rename happens, its reply never comes
    with pytest.raises(sftp.TransportError) as e:
        transfer.upload(conn, "837P-000000003.txt", BATCH)
    assert e.value.code == sftp.DROPPED
    assert sftp_server.files("inbound") == ["837P-000000003.txt"]
    assert _journal(conn, "837P-000000003.txt").stage == "renaming"

    r = transfer.upload(conn, "837P-000000003.txt", BATCH)
    assert r.outcome == "found" and "earlier try had landed" in r.note
    assert sftp_server.counts["open_write"] == 1  # written once, in the first try only
    assert sftp_server.files("inbound") == ["837P-000000003.txt"]
    row = _journal(conn, "837P-000000003.txt")
    assert row.stage == "done" and row.attempts == 2


def test_a_file_the_clearinghouse_took_before_the_retry_is_not_sent_again(conn, sftp_server):
    sftp_server.drop_after_rename = sftp_server.take_after_rename = True
    with pytest.raises(sftp.TransportError):
        transfer.upload(conn, "837P-000000004.txt", BATCH)
    assert sftp_server.files("inbound") == []  # picked up at once, as clearinghouses do
    r = transfer.upload(conn, "837P-000000004.txt", BATCH)
    assert r.outcome == "found" and "had taken the file" in r.note
    assert sftp_server.counts["open_write"] == 1 and sftp_server.files("inbound") == []


def test_a_name_is_one_file_only(conn, sftp_server):
    transfer.upload(conn, "837P-000000005.txt", BATCH)
    with pytest.raises(sftp.TransportError) as e:
        transfer.upload(conn, "837P-000000005.txt", BATCH + b"changed")
    assert e.value.code == sftp.CONFLICT
    # Someone else's file under the name: never replaced.
    sftp_server.put("inbound", "837P-000000006.txt", b"not ours")
    with pytest.raises(sftp.TransportError) as e:
        transfer.upload(conn, "837P-000000006.txt", BATCH)
    assert e.value.code == sftp.CONFLICT and "never replaces" in e.value.message
    assert sftp_server.read("inbound", "837P-000000006.txt") == b"not ours"


@pytest.mark.parametrize(
    "name", ["", "../837P.txt", "sub/837P.txt", ".hidden", "batch.txt.part", "a b.txt", "x" * 101]
)
def test_bad_names_are_refused_before_connecting(conn, sftp_server, name):
    with pytest.raises(sftp.TransportError) as e:
        transfer.upload(conn, name, BATCH)
    assert e.value.code == sftp.BAD_NAME
    assert sftp_server.counts["connection"] == 0
    assert ClearinghouseUpload.select().count() == 0


def test_one_upload_of_a_name_at_a_time(conn, sftp_server):
    transfer._claim(conn, "837P-000000007.txt", hashlib.sha256(BATCH).hexdigest(), len(BATCH))
    with pytest.raises(sftp.TransportError) as e:
        transfer.upload(conn, "837P-000000007.txt", BATCH)
    assert e.value.code == sftp.BUSY
    assert sftp_server.counts["connection"] == 0


def test_a_missing_upload_folder_is_named(conn, sftp_server):
    os.rmdir(sftp_server.path("inbound"))
    with pytest.raises(sftp.TransportError) as e:
        transfer.upload(conn, "837P-000000008.txt", BATCH)
    assert e.value.code == sftp.FOLDER
    assert "upload folder “inbound” does not exist" in e.value.message
    assert _journal(conn, "837P-000000008.txt").stage == "writing"


# --- collect ---------------------------------------------------------------------------------


def _put_the_days_files(server):
    server.put("outbound", "999_000000101.x12", samples.ack_999(), mtime=1_790_000_000)
    server.put("outbound", "277CA_000000102.x12", samples.ack_277(), mtime=1_790_000_100)
    server.put("outbound", "ERA_000000103.835", samples.era_835(), mtime=1_790_000_200)
    server.put("outbound", "README.txt", b"Welcome to your mailbox.", mtime=1_790_000_300)
    # the same 999 again under another name (clearinghouses do re-send)
    server.put("outbound", "999_copy.x12", samples.ack_999(), mtime=1_790_000_400)
    os.mkdir(server.path("outbound", "archive"))


def test_collect_keeps_each_file_once_typed_by_content(conn, sftp_server):
    _put_the_days_files(sftp_server)
    new = transfer.list_new(conn)
    assert [f.name for f in new] == [
        "999_000000101.x12",
        "277CA_000000102.x12",
        "ERA_000000103.835",
        "README.txt",
        "999_copy.x12",
    ]  # oldest first, folders left out
    lines = transfer.fetch(conn)
    got = {line.name: (line.outcome, line.kind, line.status) for line in lines}
    assert got == {
        "999_000000101.x12": ("stored", "999", "new"),
        "277CA_000000102.x12": ("stored", "277", "new"),
        "ERA_000000103.835": ("stored", "835", "new"),
        "README.txt": ("stored", "unknown", "error"),
        "999_copy.x12": ("duplicate", "999", "new"),
    }
    files = {f.remote_name: f for f in ClearinghouseFile.select()}
    assert set(files) == {
        "999_000000101.x12",
        "277CA_000000102.x12",
        "ERA_000000103.835",
        "README.txt",
    }
    for name, f in files.items():
        data = sftp_server.read("outbound", name)
        assert bytes(f.data) == data and f.sha256 == hashlib.sha256(data).hexdigest()
        assert f.size_bytes == len(data) and f.practice_id == conn.practice_id
    assert "does not begin with an ISA segment" in files["README.txt"].error
    assert ClearinghouseDownload.select().count() == 5  # every remote file seen once
    receives = AuditLog.select().where(AuditLog.action == "clearinghouse.file_receive")
    assert sorted(a.detail for a in receives) == ["277", "835", "999", "unknown"]

    # The second run finds nothing new, reads nothing and writes nothing.
    reads, version = sftp_server.counts["open_read"], data_version()
    assert transfer.list_new(conn) == []
    assert transfer.fetch(conn) == []
    assert sftp_server.counts["open_read"] == reads
    assert ClearinghouseFile.select().count() == 4
    assert ClearinghouseDownload.select().count() == 5
    assert data_version() - version == 2  # the connection's "last ok" time, once per run


def test_a_remote_file_rewritten_under_the_same_name_is_fetched_again(conn, sftp_server):
    sftp_server.put("outbound", "daily.999", samples.ack_999(101), mtime=1_790_000_000)
    assert [line.outcome for line in transfer.fetch(conn)] == ["stored"]
    sftp_server.put("outbound", "daily.999", samples.ack_999(202), mtime=1_790_086_400)
    lines = transfer.fetch(conn)
    assert [(line.name, line.outcome) for line in lines] == [("daily.999", "stored")]
    assert ClearinghouseFile.select().count() == 2


def test_a_file_still_being_written_is_left_for_the_next_run(conn, sftp_server, monkeypatch):
    sftp_server.put("outbound", "big.835", samples.era_835())
    real_read = sftp.Session.read
    monkeypatch.setattr(sftp.Session, "read", lambda self, path: real_read(self, path)[:-5])
    lines = transfer.fetch(conn)
    assert lines[0].outcome == "skipped" and "changed while it was read" in lines[0].message
    assert ClearinghouseFile.select().count() == 0
    monkeypatch.undo()
    assert [line.outcome for line in transfer.fetch(conn)] == ["stored"]


def test_each_new_file_is_handed_to_the_claims_code_once(conn, sftp_server):
    """The seam: services/events.clearinghouse_file_received. A receiver that handles a
    kind returns True; one that raises marks the file as an error with its message."""
    seen = []

    def claims(file):
        seen.append((file.kind, file.remote_name))
        if file.kind == "835":
            raise ValueError("the 835 balances to 150.00, its claims to 140.00")
        return file.kind == "999"

    _put_the_days_files(sftp_server)
    with events.clearinghouse_file_received.connected_to(claims):
        lines = transfer.fetch(conn)
        status = {line.name: line.status for line in lines}
        assert status["999_000000101.x12"] == "processed"
        assert status["ERA_000000103.835"] == "error"
        assert status["277CA_000000102.x12"] == "new"  # no receiver for 277s yet
        assert sorted(seen) == [
            ("277", "277CA_000000102.x12"),
            ("835", "ERA_000000103.835"),
            ("999", "999_000000101.x12"),
        ]  # the unreadable README is never offered
        era = ClearinghouseFile.get(ClearinghouseFile.kind == "835")
        assert era.status == "error" and "balances to 150.00" in era.error

        seen.clear()
        transfer.fetch(conn)
        ch.process_pending(conn.practice_id)
        assert seen == [("277", "277CA_000000102.x12"), ("277", "277CA_000000102.x12")]
    assert ClearinghouseFile.get(ClearinghouseFile.kind == "999").status == "processed"


def test_received_files_never_change(conn, sftp_server):
    sftp_server.put("outbound", "a.999", samples.ack_999())
    transfer.fetch(conn)
    f = ClearinghouseFile.get()
    with pytest.raises(IntegrityError):
        ClearinghouseFile.update(data=b"other").where(ClearinghouseFile.id == f.id).execute()
    with pytest.raises(IntegrityError):
        ClearinghouseFile.delete().where(ClearinghouseFile.id == f.id).execute()
