"""What the front desk meets of the clearinghouse round trip when it goes wrong: a
connection that fails (the collect and the periodic fetch too, not only a send), a send
refused for a reason only the owner can fix, a file the 999 rejected, a file that was
never sent. Plain test-client pages; the SFTP server itself is tests/clearinghouse's."""

import datetime as dt

import pytest

from portal.models import ClearinghouseConnection
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
