"""Issue 9, defects 4 and 6: the owner cannot take over an account through a re-invite or
the outbox, and a probe from another practice reaches the audit log of the practice that
owns the object (without telling it anything about the prober's practice)."""

import re

import pytest

from portal import auth
from portal.models import AuditLog, OutboxMessage, User
from tests import factories
from tests.charting.helpers import make_note
from tests.conftest import login

LINK = re.compile(r"/account/set-password/[A-Za-z0-9_\-]{20,}")


# --- 4: re-invites and the outbox ---------------------------------------------------------


@pytest.mark.parametrize("who, status", [("cu1", 404), ("therapist", 409), ("frontdesk", 409)])
def test_owner_cannot_reinvite_anyone_who_has_a_password(client, world, who, status):
    target = getattr(world.a, who)
    login(client, world.a.owner)
    r = client.post(f"/provider/settings/staff/{target.id}/invite")
    assert r.status_code == status
    if status == 409:
        assert "Forgot your password?" in r.get_data(as_text=True)
    assert OutboxMessage.select().count() == 0
    assert not auth.UserToken.select().where(auth.UserToken.user == target.id).exists()


def test_owner_reinvites_staff_who_never_set_a_password(app, client, world):
    with app.test_request_context():
        pending = factories.user(world.a.practice, "frontdesk", password_hash=None)
    assert User.get_by_id(pending.id).password_hash is None
    login(client, world.a.owner)
    r = client.post(f"/provider/settings/staff/{pending.id}/invite")
    assert r.status_code == 302
    msg = OutboxMessage.get()
    assert msg.to_addr == pending.email and msg.kind == "invite"
    assert LINK.search(msg.body)  # the e-mail itself carries the link ...
    page = client.get("/provider/settings/outbox").get_data(as_text=True)
    assert pending.email in page and "Your invitation" in page  # ... the owner sees it went
    assert not LINK.search(page), "the outbox shows someone else's one-time link"


def test_outbox_never_shows_a_reset_link(app, client, world):
    with app.test_request_context():
        auth.send_reset(world.a.cu1)
        auth.send_reset(world.a.therapist)
    login(client, world.a.owner)
    page = client.get("/provider/settings/outbox").get_data(as_text=True)
    assert world.a.cu1.email in page and "Reset your" in page
    assert not LINK.search(page)


def test_client_page_invite_still_refuses_a_client_with_a_password(client, world):
    login(client, world.a.owner)
    r = client.post(f"/provider/clients/{world.a.c1.id}/portal-invite")
    assert r.status_code == 302
    assert OutboxMessage.select().count() == 0


# --- 6: a cross-practice probe in the owner's audit log -----------------------------------


def test_foreign_probe_reaches_the_owning_practice_log(app, client, world):
    with app.test_request_context():
        note = make_note(world.a.therapist, world.a.c1, world.a.provider.id)
    login(client, world.b.owner)
    r = client.get(f"/provider/notes/{note.id}")
    assert r.status_code == 404
    rows = list(AuditLog.select().where(AuditLog.action == "access.denied").order_by(AuditLog.id))
    own = [r for r in rows if r.practice_id == world.b.practice.id]
    victim = [r for r in rows if r.practice_id == world.a.practice.id]
    assert len(own) == 1 and own[0].user_id == world.b.owner.id
    assert len(victim) == 1, "practice a never learns that its note was probed"
    row = victim[0]
    assert (row.object_type, row.object_id, row.client_id) == ("chartnote", note.id, world.a.c1.id)
    # Nothing about practice b beyond the attempt: no user, no address, no practice name.
    assert row.user_id is None and row.ip == ""
    assert world.b.practice.name not in row.detail and world.b.owner.email not in row.detail
    assert "another practice" in row.detail
    # The two rows share a reference, so the operator can match them.
    ref = re.search(r"ref ([0-9a-f]{8,})", row.detail).group(1)
    assert ref in own[0].detail
    # The owner of practice a sees it in the audit log page.
    client.post("/logout")
    login(client, world.a.owner)
    page = client.get("/provider/settings/audit?action=access.denied").get_data(as_text=True)
    assert "another practice" in page


def test_probe_of_a_missing_id_writes_only_the_probers_row(client, world):
    login(client, world.b.owner)
    assert client.get("/provider/notes/987654").status_code == 404
    rows = list(AuditLog.select().where(AuditLog.action == "access.denied"))
    assert [r.practice_id for r in rows] == [world.b.practice.id]


def test_same_practice_denial_is_one_row(client, world):
    """A front desk user opening a note of their own practice: one row, in that practice."""
    login(client, world.a.frontdesk)
    client.get("/provider/notes/1")
    rows = list(AuditLog.select().where(AuditLog.action == "access.denied"))
    assert len(rows) == 1 and rows[0].practice_id == world.a.practice.id
