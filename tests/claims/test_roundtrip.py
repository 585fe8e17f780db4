"""The clearinghouse round trip over a real SFTP server on 127.0.0.1 (issue 14, acceptance):
a batch sent on the task queue is uploaded once; a connection dropped in the middle is
retried into one file; a changed host key and wrong credentials stop with a clear
message; collecting a 999 accepted, a 999 rejected, a 277CA with one rejected and two
accepted claims, and an 835 moves each claim; collecting twice changes nothing. Every
999 and 277CA (and 835) is validated with pyx12 before it goes on the server."""

import datetime as dt

import asyncssh
import pytest

from portal import tasks
from portal.models import (
    Claim,
    ClaimBatch,
    ClaimEvent,
    ClaimPosting,
    ClaimProblem,
    ClearinghouseFile,
    Invoice,
    Remittance,
)
from portal.services import clearinghouse_transfer
from portal.services.claims import batches, sending
from portal.services.claims.sending import SendError
from portal.tasks import claims as claim_tasks
from portal.tasks.clearinghouse import fetch_clearinghouse_files
from portal.x12 import answer835, answers
from tests.claims import factories as cf
from tests.clearinghouse.conftest import conn, sftp_server  # noqa: F401  (fixtures)
from tests.x12.helpers import assert_valid

NOW = dt.datetime(2026, 12, 2, 10, 0)


@pytest.fixture
def a(conn, world):  # noqa: F811
    side = world.a
    cf.billing_ready(side.practice)
    cf.with_address(side.c1)
    cf.with_address(side.c2, sex="M")
    return side


def _batch(a, n=3):
    payer = cf.payer(a.practice, name="Blue Harbor Health", payer_code="BHH01")
    for i in range(n):
        cf.claim(a.practice, (a.c1, a.c2)[i % 2], a.provider, payer_obj=payer,
                 day=dt.date(2026, 11, 2 + i))  # fmt: skip
    (batch,) = batches.build(a.practice.id, user=a.frontdesk)
    return batch


def _send(batch, user=None):
    sending.queue(batch, user)
    tasks.enqueue(claim_tasks.send_batch, batch.id)
    return ClaimBatch.get_by_id(batch.id)


def _put(server, name, text):
    assert_valid(text)  # every answer the portal is fed passes pyx12 first
    server.put("outbound", name, text.encode("ascii"))


def test_send_uploads_the_file_once(a, sftp_server):  # noqa: F811
    batch = _batch(a)
    batch = _send(batch, a.frontdesk)
    assert (batch.status, batch.attempts, batch.last_error) == ("sent", 1, "")
    assert sftp_server.files("inbound") == ["837P-000000001.x12"]
    assert sftp_server.read("inbound", "837P-000000001.x12") == batches.file_bytes(batch)
    sent = ClaimEvent.select().where(ClaimEvent.action == "sent")
    assert sent.count() == 3
    assert "Uploaded to the clearinghouse in file 000000001 as 837P-000000001.x12" in sent[0].reason
    writes = sftp_server.counts["open_write"]
    with pytest.raises(SendError, match="sent, waiting for the 999 already"):
        sending.queue(batch)
    assert sending.attempt(batch.id).kind == "skipped"  # a duplicate task does nothing
    assert sftp_server.counts["open_write"] == writes


def test_a_dropped_connection_is_retried_into_one_file(app, a, sftp_server):  # noqa: F811
    batch = _batch(a)
    sftp_server.drop_after_writes = 0  # the server vanishes at the first write
    batch = _send(batch)
    assert (batch.status, batch.attempts) == ("queued", 1)
    assert "The connection was lost while uploading" in batch.last_error
    huey = app.extensions["huey"]
    (retry,) = huey.scheduled()  # Huey holds the retry, due in a minute
    assert retry.name.endswith("send_batch") and retry.args == (batch.id,)
    wait = (retry.eta - huey._get_timestamp()).total_seconds()
    assert 50 < wait <= 60
    huey.execute(retry, timestamp=retry.eta)  # as the consumer does, a minute later
    batch = ClaimBatch.get_by_id(batch.id)
    assert (batch.status, batch.attempts, batch.last_error) == ("sent", 2, "")
    assert sftp_server.files("inbound") == ["837P-000000001.x12"]  # no .part left, one file
    assert sftp_server.read("inbound", "837P-000000001.x12") == batches.file_bytes(batch)


def test_retries_stop_after_the_last_try(a, conn, sftp_server):  # noqa: F811
    batch = _batch(a)
    sftp_server._close()  # nobody answers at all
    sending.queue(batch)
    kinds = [sending.attempt(batch.id) for _ in range(sending.MAX_ATTEMPTS)]
    assert [k.kind for k in kinds] == ["retry"] * (sending.MAX_ATTEMPTS - 1) + ["failed"]
    assert [k.delay for k in kinds[:-1]] == [60, 300, 900, 3600, 10800]
    batch = ClaimBatch.get_by_id(batch.id)
    assert batch.status == "failed" and "tried 6 times; press Send to try again" in batch.last_error
    sftp_server.start(port=sftp_server.port)  # the server is back: Send again works
    assert _send(batch).status == "sent"


def test_a_changed_host_key_stops_the_upload(a, conn, sftp_server):  # noqa: F811
    first = _send(_batch(a, 1))
    assert first.status == "sent"  # the server's key is pinned now
    sftp_server.restart(host_key=asyncssh.generate_private_key("ssh-ed25519"))
    batch = _send(_batch(a, 1))
    assert batch.status == "failed" and batch.attempts == 1  # not retried: the owner decides
    assert "server's key changed" in batch.last_error
    assert sftp_server.files("inbound") == ["837P-000000001.x12"]
    with pytest.raises(SendError, match="server key changed"):
        sending.queue(batch)


def test_wrong_credentials_say_so(a, conn, sftp_server):  # noqa: F811
    sftp_server.password = "not-the-one-saved"
    batch = _send(_batch(a, 1))
    assert batch.status == "failed" and batch.attempts == 1
    assert "refused the user “portal-practice” with this password" in batch.last_error
    assert sftp_server.files("inbound") == []


def _state():
    return {
        "claims": sorted(
            (c.patient_control_number, c.status, c.paid_cents) for c in Claim.select()
        ),
        "events": ClaimEvent.select().count(),
        "problems": ClaimProblem.select().count(),
        "postings": ClaimPosting.select().count(),
        "invoices": Invoice.select().count(),
        "remittances": Remittance.select().count(),
        "files": sorted((f.remote_name, f.status) for f in ClearinghouseFile.select()),
        "batches": sorted((b.id, b.status, b.ack_status) for b in ClaimBatch.select()),
    }


def test_collect_999s_a_277ca_and_an_835(a, conn, sftp_server):  # noqa: F811
    good = _send(_batch(a, 3))
    text = batches.file_bytes(good).decode("ascii")
    bad = _send(_batch(a, 1))
    bad_text = batches.file_bytes(bad).decode("ascii")
    pcns = [c.patient_control_number for c in batches.claims_of(good)]

    _put(sftp_server, "ack1.999", answers.answer_999(text, control_number=501, created=NOW))
    problem = answers.SegmentProblem(
        "NM1", answers.locate(bad_text, "NM1", "85"), "2010AA", "8", "9", "67", "7", "1558598797"
    )
    _put(
        sftp_server,
        "ack2.999",
        answers.answer_999(bad_text, control_number=502, created=NOW, problems=[problem]),
    )
    rejection = answers.ClaimRejection("A7", "21", "DN", "REFERRING PROVIDER NPI NOT VALID")
    _put(sftp_server, "claims.277",
         answers.answer_277ca(text, control_number=601, created=NOW,
                              rejections={pcns[1]: rejection}))  # fmt: skip
    pay = {
        pcns[0]: answer835.ClaimPay((answer835.line_paid(9000, 7000),
                                     answer835.line_paid(3500, 3000, copay=2000))),
        pcns[2]: answer835.ClaimPay((answer835.line_denied(9000, "50"),
                                     answer835.line_denied(3500, "50"))),
    }  # fmt: skip
    _put(sftp_server, "era.835", answer835.answer_835(
        text, pay, control_number=701, created=NOW, trace_number="EFT777",
        payer_name="BLUE HARBOR HEALTH", payer_tax_id="131234567",
        payment_date=dt.date(2026, 12, 5)))  # fmt: skip

    assert fetch_clearinghouse_files() == 4

    files = {f.remote_name: f for f in ClearinghouseFile.select()}
    assert {n: (f.kind, f.status, f.error) for n, f in files.items()} == {
        "ack1.999": ("999", "processed", ""),
        "ack2.999": ("999", "processed", ""),
        "claims.277": ("277", "processed", ""),
        "era.835": ("835", "processed", ""),
    }
    good, bad = ClaimBatch.get_by_id(good.id), ClaimBatch.get_by_id(bad.id)
    assert (good.status, good.ack_status) == ("accepted", "A")
    assert (bad.status, bad.ack_status) == ("rejected", "R")
    assert "Segment NM1 (the billing provider's name or ID) at position" in bad.ack_detail
    assert "invalid code value “1558598797”" in bad.ack_detail
    (bad_claim,) = batches.claims_of(bad)
    assert bad_claim.status == "rejected"
    assert ClaimProblem.get(ClaimProblem.claim == bad_claim.id).source == "999"

    first, second, third = (Claim.get(Claim.patient_control_number == p) for p in pcns)
    assert (first.status, first.paid_cents, first.patient_resp_cents) == (
        "partially_paid",
        8000,
        2000,
    )
    assert first.payer_claim_number  # REF*1K from the 277CA, then CLP07
    assert second.status == "rejected"
    p = ClaimProblem.get(ClaimProblem.claim == second.id)
    assert p.source == "277ca" and "REFERRING PROVIDER NPI NOT VALID" in p.message
    assert (
        "Rejected for invalid information: missing or invalid information (referring "
        "provider) (A7:21:DN)" in p.message
    )
    assert (third.status, third.balance_cents) == ("denied", 12500)
    (inv,) = Invoice.select().where(Invoice.reason == "insurance")
    assert inv.client_id == first.client_id and inv.total_cents == 2000

    # Collecting again: nothing new is read, nothing changes.
    before = _state()
    reads = sftp_server.counts["open_read"]
    assert fetch_clearinghouse_files() == 0
    assert clearinghouse_transfer.fetch(conn) == []
    assert _state() == before and sftp_server.counts["open_read"] == reads


def test_unknown_and_malformed_files_are_kept_and_listed(a, conn, sftp_server):  # noqa: F811
    good = _send(_batch(a, 1))
    text = batches.file_bytes(good).decode("ascii")
    sftp_server.put("outbound", "hello.txt", b"Welcome to your mailbox")
    cut = answers.answer_999(text, control_number=503, created=NOW)[:-40]
    sftp_server.put("outbound", "cut.999", cut.encode())
    other = answers.answer_999(
        text.replace("*1*X*005010X222A1", "*77*X*005010X222A1").replace("GE*1*1", "GE*1*77"),
        control_number=504,
        created=NOW,
    )
    _put(sftp_server, "other.999", other)  # answers a file number the practice never sent
    fetch_clearinghouse_files()
    files = {f.remote_name: f for f in ClearinghouseFile.select()}
    assert files["hello.txt"].status == "error" and "ISA" in files["hello.txt"].error
    assert (
        files["cut.999"].status == "error" and "Not a readable X12 file" in files["cut.999"].error
    )
    assert files["other.999"].status == "error"
    assert (
        "file number 77 (GS06), which is none of the practice's 837P files"
        in files["other.999"].error
    )
    assert ClaimBatch.get_by_id(good.id).status == "sent"  # nothing applied from them
