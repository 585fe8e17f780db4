"""The demo's claims money: the example 835 the owner imports from the claims pages, and
the pretend clearinghouse `make demo` starts (scripts/demo_clearinghouse.py, run here as
its own process on a free port): a batch of the demo's ready claims is sent, answered with
a 999, a 277CA rejecting one claim and an 835 paying the other, collected; the rejected
claim is fixed, sent again and paid."""

import os
import socket
import subprocess
import sys
import time

import pytest

from portal import demo
from portal.demo import claims_money, fake_clearinghouse
from portal.models import (
    Claim,
    ClaimBatch,
    ClaimProblem,
    ClearinghouseConnection,
    Invoice,
    Payer,
    Remittance,
)
from portal.rules import claim_status
from portal.services.claims import batches, life, sending
from portal.tasks import claims as claim_tasks
from portal.x12.read837 import read_837
from tests.claims import factories as cf
from tests.conftest import login
from tests.x12.helpers import assert_valid

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_example_835_is_imported_from_the_payments_page(app, client):
    with app.test_request_context():
        demo.load()
    login(client, "owner@demo.example", password=demo.DEMO_PASSWORDS["owner@demo.example"])
    page = client.get("/provider/claims/remittances").get_data(as_text=True)
    assert "Import the example 835" in page
    r = client.post("/provider/claims/remittances/example")
    assert r.status_code == 302
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "Posted 2 claims; 1 client invoice for their share; 1 payment matched no claim" in page
    (remit,) = Remittance.select()
    assert remit.source == "demo" and remit.trace_number == claims_money.EXAMPLE_TRACE
    regence = Payer.get(Payer.payer_code == "00851")
    statuses = sorted(
        c.status for c in Claim.select().where((Claim.payer == regence) & (Claim.paid_cents > 0))
    )
    assert statuses == ["paid", "partially_paid"]
    (inv,) = Invoice.select().where(Invoice.reason == "insurance")
    assert inv.client.first_name == "Jordan" and inv.total_cents > 0
    page = client.get("/provider/claims/remittances").get_data(as_text=True)
    assert "Import the example 835" not in page  # done: the button goes
    r = client.post("/provider/claims/remittances/example", follow_redirects=True)
    assert "This file was imported on" in r.get_data(as_text=True)
    assert Remittance.select().count() == 1


def test_the_pretend_clearinghouse_answers_a_file(tmp_path, ctx, world):
    a = cf.sendable(world.a)
    payer = cf.payer(a.practice)
    for _ in range(3):
        cf.claim(a.practice, a.c1, a.provider, payer_obj=payer)
    (batch,) = batches.build(a.practice.id)
    root = tmp_path / "ch"
    (root / "inbound").mkdir(parents=True)
    (root / "inbound" / batch.remote_name).write_bytes(batches.file_bytes(batch))
    (root / "inbound" / "notes.txt").write_text("not a claim file")
    done = fake_clearinghouse.answer_folder(str(root))
    assert done[0] == (
        "837P-000000001.x12",
        ["999_000000001.x12", "277CA_000000001.x12", "ERA_000000001.835"],
    )
    assert done[1] == ("notes.txt", [])
    for name in done[0][1]:
        assert_valid((root / "outbound" / name).read_text())
    pcns = [c.patient_control_number for c in read_837(batches.file_bytes(batch).decode()).claims]
    assert (root / "rejected.txt").read_text().split() == [pcns[0]]
    assert fake_clearinghouse.answer_folder(str(root)) == []  # each file answered once


@pytest.fixture
def demo_sftp(tmp_path, monkeypatch):
    port = free_port()
    monkeypatch.setenv("PORTAL_DEMO_SFTP_PORT", str(port))
    root = tmp_path / "demo-clearinghouse"
    proc = subprocess.Popen(
        [sys.executable, os.path.join(ROOT, "scripts", "demo_clearinghouse.py"),
         "--port", str(port), "--root", str(root)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT,
    )  # fmt: skip
    line = proc.stdout.readline()
    assert f"Demo clearinghouse on sftp://127.0.0.1:{port}" in line, line
    yield root
    proc.terminate()
    proc.wait(10)


def _answered(root, batch, timeout=20):
    """Wait until the demo clearinghouse has answered the batch's file: it lists the file in
    answered.txt once every answer is written (each under a temporary name, then renamed)."""
    done = root / "answered.txt"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if done.exists() and f"{batch.remote_name}\n" in done.read_text():
            return
        time.sleep(0.1)
    raise AssertionError("the demo clearinghouse did not answer")


def test_a_claim_goes_from_ready_to_paid_through_the_demo_clearinghouse(app, demo_sftp):
    with app.test_request_context():
        ctx = demo.load()
        conn = ctx["demo_clearinghouse"]
        assert (conn.host, conn.port, conn.username) == ("127.0.0.1", int(
            os.environ["PORTAL_DEMO_SFTP_PORT"]), claims_money.DEMO_SFTP_USER)  # fmt: skip
        regence = Payer.get(Payer.payer_code == "00851")
        ready = list(Claim.select().where((Claim.payer == regence) & (Claim.status == "ready")))
        assert len(ready) == 2
        (batch,) = batches.build(ctx["practice"].id, payer_id=regence.id)
        sending.queue(batch)
        claim_tasks.send_batch(batch.id)
        assert ClaimBatch.get_by_id(batch.id).status == "sent"
        _answered(demo_sftp, batch)
        claim_tasks.collect_now(ctx["practice"].id)
        batch = ClaimBatch.get_by_id(batch.id)
        assert batch.status == "accepted"
        first, second = (Claim.get_by_id(c.id) for c in batches.claims_of(batch))
        assert first.status == "rejected" and second.status == "paid"
        problem = ClaimProblem.get(
            (ClaimProblem.claim == first.id) & (ClaimProblem.source == "277ca")
        )
        assert "PATIENT DATE OF BIRTH DOES NOT MATCH" in problem.message

        # The desk fixes it (edit: back to draft), checks it (ready) and sends it again.
        life.set_place_of_service(first, first.place_of_service, user=ctx["frontdesk"])
        life.recheck(Claim.get_by_id(first.id), user=ctx["frontdesk"])
        assert Claim.get_by_id(first.id).status == claim_status.READY
        (again,) = batches.build(ctx["practice"].id, payer_id=regence.id)
        sending.queue(again)
        claim_tasks.send_batch(again.id)
        _answered(demo_sftp, again)
        claim_tasks.collect_now(ctx["practice"].id)
        assert Claim.get_by_id(first.id).status == "paid"
        assert ClearinghouseConnection.get().last_error_code == ""
