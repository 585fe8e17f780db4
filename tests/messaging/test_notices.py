"""E-mail notices through the outbox: only that a message is waiting, with a link; never
the text, the subject or a name; each user chooses on or off; one per thread until read."""

import re

import pytest

from portal.models import AuditLog, OutboxMessage
from portal.models.messaging import MessageThread
from portal.services.messaging import notices
from portal.services.messaging import threads as msg
from tests.messaging import helpers as h

SECRET_SUBJECT = "Lump near my left shoulder blade"
SECRET_TEXT = "The numbness in my right hand came back after the last visit"


def _outbox(to=None):
    q = OutboxMessage.select().where(OutboxMessage.kind == "message").order_by(OutboxMessage.id)
    if to is not None:
        q = q.where(OutboxMessage.to_addr == to)
    return list(q)


def _clean(mail, *secrets):
    text = f"{mail.subject}\n{mail.body}"
    for secret in secrets:
        assert secret.lower() not in text.lower(), f"{secret!r} leaked into {mail.to_addr}'s e-mail"


def test_notices_hold_no_message_text_subject_or_name(ctx, world):
    t = h.thread(world.a, subject=SECRET_SUBJECT, body=SECRET_TEXT, to="therapist")
    (to_staff,) = _outbox()
    assert to_staff.to_addr == world.a.therapist.email
    reply = "Please keep the hand warm and call us if it spreads to the arm"
    msg.send_message(t, h.user(world.a.therapist), reply)
    (to_client,) = _outbox(world.a.cu1.email)
    names = [
        world.a.c1.first_name,
        world.a.c1.last_name,
        world.a.provider.first_name,
        world.a.c1.email.split("@")[0],
    ]
    for mail in (to_staff, to_client):
        _clean(mail, SECRET_SUBJECT, SECRET_TEXT, reply, "shoulder", "numbness", *names)
        assert "not in this e-mail" in mail.body
    assert re.search(rf"http://localhost/portal/messages/{t.id}\b", to_client.body)
    assert re.search(rf"http://localhost/provider/messages/{t.id}\b", to_staff.body)
    assert to_client.subject == f"New secure message from {world.a.practice.name}"


def test_the_links_in_notices_open_the_thread(app, ctx, world):
    from tests.conftest import login

    t = h.thread(world.a)
    msg.send_message(t, h.user(world.a.therapist), "Reply")
    link = re.search(r"http://localhost(/portal/messages/\d+)", _outbox(world.a.cu1.email)[0].body)
    c = app.test_client()
    login(c, world.a.cu1)
    r = c.get(link.group(1))
    assert r.status_code == 200 and "Reply" in r.get_data(as_text=True)


def test_a_client_can_turn_notices_off(ctx, world):
    client = h.user(world.a.cu1)
    assert notices.email_wanted(client.id)
    notices.set_email_notices(client, False)
    assert not notices.email_wanted(client.id)
    t = h.thread(world.a)
    msg.send_message(t, h.user(world.a.therapist), "Reply")
    assert _outbox(client.email) == []
    assert AuditLog.get(AuditLog.action == "message.notices").detail == "e-mail off"
    notices.set_email_notices(client, True)
    msg.send_message(t, h.user(world.a.therapist), "Reply 2")
    assert len(_outbox(client.email)) == 1


def test_one_notice_per_thread_until_the_recipient_reads_it(ctx, world):
    therapist = h.user(world.a.therapist)
    t = h.thread(world.a, body="one")
    msg.send_message(t, h.user(world.a.cu1), "two")
    msg.send_message(t, h.user(world.a.cu1), "three")
    assert len(_outbox(therapist.email)) == 1
    t = MessageThread.get_by_id(t.id)
    msg.mark_read(t, therapist, t.last_message_id)
    msg.send_message(t, h.user(world.a.cu1), "four")
    assert len(_outbox(therapist.email)) == 2


@pytest.mark.parametrize(
    ("to", "assigned", "expected"),
    [
        ("therapist", None, "therapist"),
        ("both", None, "therapist"),
        ("frontdesk", None, "frontdesk"),
        ("therapist", "owner", "owner"),
    ],
)
def test_who_is_told_of_a_clients_message(ctx, world, to, assigned, expected):
    t = h.thread(world.a, to=to)
    if assigned:
        msg.assign(t, h.user(world.a.owner), getattr(world.a, assigned).id)
        OutboxMessage.delete().execute()
        msg.send_message(t, h.user(world.a.cu1), "again")
    assert [m.to_addr for m in _outbox()] == [getattr(world.a, expected).email]


def test_clients_without_portal_access_get_no_notice(ctx, world):
    from portal.models import User

    User.update(password_hash=None).where(User.id == world.a.cu1.id).execute()
    t = h.thread(world.a, client=world.a.c1, sender=world.a.therapist)
    assert _outbox(world.a.cu1.email) == []
    assert MessageThread.get_by_id(t.id).last_staff_message_id > 0


def test_a_clients_message_reaches_someone_when_the_first_choice_cannot_read_it(ctx, world):
    """Assigned to someone who has left: the therapist in the thread is told; a therapist
    without a login: the front desk; a practice without a front desk: the owner."""
    from portal.models import User

    def told(t):
        OutboxMessage.delete().execute()
        msg.send_message(t, h.user(world.a.cu1), "Are you there?")
        return [m.to_addr for m in _outbox()]

    t = h.thread(world.a, to="therapist")
    msg.assign(t, h.user(world.a.owner), world.a.frontdesk.id)
    assert told(t) == [world.a.frontdesk.email]
    User.update(active=False).where(User.id == world.a.frontdesk.id).execute()
    assert told(t) == [world.a.therapist.email]
    User.update(password_hash=None).where(User.id == world.a.therapist.id).execute()
    assert told(t) == [world.a.owner.email]  # no front desk left either
    User.update(active=True).where(User.id == world.a.frontdesk.id).execute()
    assert told(t) == [world.a.frontdesk.email]
    desk_only = h.thread(world.a, to="frontdesk", subject="Receipt")
    User.update(active=False).where(User.id == world.a.frontdesk.id).execute()
    assert told(desk_only) == [world.a.owner.email]
