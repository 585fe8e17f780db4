"""What the front desk meets of the clearinghouse round trip when it goes wrong: a
connection that fails (the collect and the periodic fetch too, not only a send), a send
refused for a reason only the owner can fix, a file the 999 rejected, a file that was
never sent. Plain test-client pages; the SFTP server itself is tests/clearinghouse's."""

import datetime as dt
import html

import pytest

from portal import clock
from portal.models import ClaimBatch, ClearinghouseConnection, ClearinghouseUpload
from portal.services import clearinghouse_sftp as sftp
from portal.services.claims import batches, sending
from tests.claims import factories as cf
from tests.conftest import login


@pytest.fixture
def desk(app, client, world):
    with app.test_request_context():
        cf.sendable(world.a)
    login(client, world.a.frontdesk)
    return client


def _body(r):
    return r.get_data(as_text=True)


def _connected(practice, **values):
    """The practice's connection set up (a host, a user and a stored password)."""
    ClearinghouseConnection.update(
        host="sftp.example.com", username="portal", auth_method="password",
        password_enc=b"sealed", **values,
    ).where(ClearinghouseConnection.practice == practice.id).execute()  # fmt: skip


def test_a_failing_connection_heads_the_work_list(app, desk, world):
    """The periodic fetch and "Check the clearinghouse now" fail out of sight: the desk
    learns it from the work list, with the owner's page to fix it."""
    _connected(world.a.practice)
    assert "cannot reach the clearinghouse" not in _body(desk.get("/provider/claims/worklist"))
    _connected(
        world.a.practice,
        last_error_code="auth",
        last_error="The clearinghouse's server refused the user “portal” with this password.",
        last_error_at=dt.datetime(2026, 12, 2, 17, 5),
    )
    page = _body(desk.get("/provider/claims/worklist"))
    assert "The portal cannot reach the clearinghouse" in page
    assert "refused the user “portal” with this password." in page
    assert "no acknowledgment or payment is collected" in page
    assert "Settings → Clearinghouse" in page and "Nothing needs you" not in page
    first = page.index('class="card work-group"')
    assert page.index('id="work-connection"') < first + 60  # the first group: it stops the rest
    assert "#connection" not in page  # the settings page is the owner's
    desk.post("/logout")
    login(desk, world.a.owner)
    page = _body(desk.get("/provider/claims/worklist"))
    assert 'href="/provider/settings/clearinghouse#connection">Clearinghouse settings</a>' in page
    # A file-only trouble (a name used before) is that file's, not the connection's.
    _connected(world.a.practice, last_error_code="conflict", last_error="Another file ...")
    assert "cannot reach the clearinghouse" not in _body(desk.get("/provider/claims/worklist"))
    # Practice b's desk sees nothing of practice a's connection.
    _connected(world.a.practice, last_error_code="timeout", last_error="No answer.")
    desk.post("/logout")
    login(desk, world.b.frontdesk)
    assert "cannot reach the clearinghouse" not in _body(desk.get("/provider/claims/worklist"))


@pytest.mark.parametrize(
    "code, message, ends",
    [
        (sftp.AUTH, "The clearinghouse's server refused the user “portal” with this password. "
         "Check the user name and the password.",
         "the password. The owner sees to this under Settings → Clearinghouse; then press "
         "Send again."),
        (sftp.FOLDER, "The upload folder “in” does not exist on the clearinghouse's server. "
         "Check the folder names under Settings → Clearinghouse.",
         "Settings → Clearinghouse. The owner sees to this; then press Send again."),
        (sftp.UNREACHABLE, "sftp.example.com:22 refused the connection.",
         "sftp.example.com:22 refused the connection."),  # it passes: no owner needed
    ],
)  # fmt: skip
def test_a_send_stopped_for_the_owner_says_so_to_the_desk(code, message, ends):
    """The desk reads the batch's error; "check the password" is the owner's to do."""
    said = sending.words(sftp.TransportError(code, message))
    assert said.endswith(ends) and len(said) <= 255


def test_a_long_send_error_keeps_its_owner_sentence():
    long = "The server said no. " + "It gave reasons at length. " * 12
    said = sending.words(sftp.TransportError(sftp.PERMISSION, long))
    assert len(said) <= 255 and said.endswith("; then press Send again.")
    assert said.startswith("The server said no.") and "length. The owner" in said


def _built(world, n=2):
    a = world.a
    payer = cf.payer(a.practice, name="Blue Harbor Health", payer_code="BHH01")
    for i in range(n):
        cf.claim(a.practice, (a.c1, a.c2)[i % 2], a.provider, payer_obj=payer,
                 day=dt.date(2026, 11, 2 + i))  # fmt: skip
    (batch,) = batches.build(a.practice.id)
    return batch


def _set(batch, **values):
    ClaimBatch.update(**values).where(ClaimBatch.id == batch.id).execute()


def test_a_file_the_999_rejected_says_what_becomes_of_its_claims(app, desk, world):
    with app.test_request_context():
        batch = _built(world)
    _set(batch, status="rejected", ack_status="R", sent_at=dt.datetime(2026, 12, 2, 17),
         attempts=1, ack_detail="Rejected (R).")  # fmt: skip
    page = _body(desk.get(f"/provider/claims/batches/{batch.id}"))
    assert "Its claims are rejected and wait on the work list" in page
    assert "this file is not sent again" in page
    assert 'href="/provider/claims/worklist#work-rejected"' in page
    assert "<dt>Tries</dt>" not in page  # sent: how many tries it took is no news
    _set(batch, status="accepted", ack_status="A", ack_detail="Accepted (A).")
    page = _body(desk.get(f"/provider/claims/batches/{batch.id}"))
    assert "Its claims are rejected" not in page
    assert "Each claim's answer from the payer (277CA), then its payment (835)" in page


def test_a_file_stopped_for_the_owner_promises_no_more_tries(app, desk, world):
    _connected(world.a.practice)
    with app.test_request_context():
        batch = _built(world)
    _set(batch, status="failed", attempts=1, last_error="Refused. The owner sees to this.")
    page = _body(desk.get(f"/provider/claims/batches/{batch.id}"))
    assert "<dt>Tries</dt><dd>1</dd>" in page  # not "1 of 6": no try comes by itself
    assert "Send again" in page and "part=status" not in page  # no polling


def test_a_file_waiting_for_its_next_try_says_when_and_can_be_tried_now(
    app, desk, world, monkeypatch
):
    """A file waits hours between tries; a send the portal lost (a restart in the middle)
    stays "Sending": both can be sent now, never twice (the upload journal)."""
    _connected(world.a.practice)
    with app.test_request_context():
        batch = _built(world)
    _set(batch, status="queued", attempts=2, last_error="No answer from sftp.example.com:22.")
    page = _body(desk.get(f"/provider/claims/batches/{batch.id}"))
    assert "it is tried again 5 minutes after the last try" in page
    assert 'hx-trigger="every 30s"' in page and "part=status" in page  # not every 2 s
    assert "Try again now" in page and "<dt>Tries</dt><dd>2 of 6</dd>" in page
    queued = []
    monkeypatch.setattr("portal.tasks.enqueue", lambda func, *args: queued.append(args))
    r = desk.post(f"/provider/claims/batches/{batch.id}/send")
    assert r.status_code == 302 and queued == [(batch.id,)]
    assert ClaimBatch.get_by_id(batch.id).status == "queued"
    _set(batch, status="sending", attempts=1, last_error="")  # its try never came back
    page = _body(desk.get(f"/provider/claims/batches/{batch.id}"))
    assert "Try again now" in page
    assert desk.post(f"/provider/claims/batches/{batch.id}/send").status_code == 302
    assert len(queued) == 2
    # While an upload holds the file's name, it is refused (it is being sent right now).
    ClearinghouseUpload.create(
        practice=world.a.practice, remote_name=batch.remote_name, sha256="0" * 64,
        size_bytes=1, busy_until=clock.utcnow()
        + dt.timedelta(minutes=5),
    )  # fmt: skip
    _set(batch, status="sending")
    page = _body(desk.get(f"/provider/claims/batches/{batch.id}"))
    assert "Try again now" not in page and 'hx-trigger="every 2s"' in page
    r = desk.post(f"/provider/claims/batches/{batch.id}/send", follow_redirects=True)
    assert "being sent right now" in _body(r) and len(queued) == 2


def test_a_claim_in_a_file_not_sent_does_not_say_sent(app, desk, world):
    """Built into a file, a claim is "submitted"; while the file has not gone, its page
    names the file and says so, instead of a "Sent" date."""
    with app.test_request_context():
        batch = _built(world, n=1)
    (claim,) = batches.claims_of(batch)
    _set(batch, status="failed", last_error="The owner sees to this.")
    page = _body(desk.get(f"/provider/claims/{claim.id}"))
    assert f'<a href="/provider/claims/batches/{batch.id}">000000001</a>' in page
    assert "Not sent" in page and "<dt>Sent</dt>" not in page
    assert "<dt>Put in the file</dt>" in page
    _set(batch, status="sent", sent_at=dt.datetime(2026, 12, 2, 17))
    page = _body(desk.get(f"/provider/claims/{claim.id}"))
    assert "<dt>Sent</dt>" in page and "Sent, waiting for the 999" in page
    # The therapist reads the claim, not the desk's file page.
    desk.post("/logout")
    login(desk, world.a.therapist)
    page = _body(desk.get(f"/provider/claims/{claim.id}"))
    assert f"/provider/claims/batches/{batch.id}" not in page and "000000001" in page


def test_the_work_list_tells_sending_dates_in_the_practices_zone(app, desk, world):
    """Sent at 5 pm in Los Angeles is the next day in UTC: the work list said Jan 06."""
    a = world.a
    evening = dt.datetime(2026, 1, 6, 1, 0)  # UTC: Jan 05, 5 pm in Los Angeles
    with app.test_request_context():
        cf.claim(a.practice, a.c1, a.provider, status="submitted", submitted_at=evening)
        cf.claim(
            a.practice,
            a.c2,
            a.provider,
            status="draft",
            submitted_at=evening,
            payer_claim_number="PAYER-1",
        )  # fmt: skip (billed, edited back)
    page = html.unescape(_body(desk.get("/provider/claims/worklist")))
    assert "Sent on Jan 05, 2026" in page and "Jan 06" not in page
    assert "First sent Jan 05, 2026, the payer's number PAYER-1" in page
