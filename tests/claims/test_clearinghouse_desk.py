"""What the front desk meets of the clearinghouse round trip when it goes wrong: a
connection that fails (the collect and the periodic fetch too, not only a send), a send
refused for a reason only the owner can fix, a file the 999 rejected, a file that was
never sent. Plain test-client pages; the SFTP server itself is tests/clearinghouse's."""

import datetime as dt

import pytest

from portal.models import ClearinghouseConnection
from portal.services import clearinghouse_sftp as sftp
from portal.services.claims import sending
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
