"""The messaging service on the real SQLite file: threads, messages never edited or deleted,
hiding once with a reason, attachments by the upload rules, unread counts, the export."""

import hashlib
import io

import pikepdf
import pytest
from peewee import IntegrityError
from PIL import Image

from portal.models import AuditLog
from portal.models.messaging import Message, MessageAttachment, MessageThread
from portal.services import uploads
from portal.services.messaging import export, live, queries
from portal.services.messaging import threads as msg
from tests.messaging import helpers as h


def test_a_thread_starts_with_its_first_message_and_who_is_in_it(ctx, world):
    t = h.thread(world.a, to="therapist", subject="  Back   pain  ", body="It hurts\r\nhere")
    t = MessageThread.get_by_id(t.id)
    assert t.subject == "Back pain"
    assert t.provider_id == world.a.provider.id and not t.front_desk
    assert t.client_id == world.a.c1.id and t.practice_id == world.a.practice.id
    (m,) = Message.select().where(Message.thread == t.id)
    assert m.body == "It hurts\nhere" and m.sender_role == "client"
    assert m.sender_name == world.a.c1.display_name
    assert t.last_message_id == t.last_client_message_id == m.id and t.last_staff_message_id == 0
    actions = [a.action for a in AuditLog.select().order_by(AuditLog.id)]
    assert actions[-2:] == ["message.thread_create", "message.send"]
    # Front desk only, and both.
    t2 = h.thread(world.a, to="frontdesk")
    assert MessageThread.get_by_id(t2.id).provider_id is None
    t3 = h.thread(world.a, to="both")
    t3 = MessageThread.get_by_id(t3.id)
    assert t3.provider_id == world.a.provider.id and t3.front_desk


def test_a_client_without_a_therapist_writes_to_the_front_desk(ctx, world):
    world.a.c1.therapist = None
    world.a.c1.save()
    t = MessageThread.get_by_id(h.thread(world.a, to="therapist").id)
    assert t.provider_id is None and t.front_desk


@pytest.mark.parametrize(
    ("subject", "body", "to", "field"),
    [
        ("", "text", "therapist", "subject"),
        ("x" * 121, "text", "therapist", "subject"),
        ("Subject", "   ", "therapist", "body"),
        ("Subject", "x" * 5001, "therapist", "body"),
        ("Subject", "text", "everyone", "to"),
    ],
)
def test_bad_input_is_refused_with_the_field_and_nothing_written(
    ctx, world, subject, body, to, field
):
    with pytest.raises(msg.MessagingError) as e:
        h.thread(world.a, subject=subject, body=body, to=to)
    assert e.value.field == field
    assert MessageThread.select().count() == 0 and Message.select().count() == 0


def test_replies_keep_unread_counts_per_user(ctx, world):
    client, therapist, desk = (
        h.user(world.a.cu1),
        h.user(world.a.therapist),
        h.user(world.a.frontdesk),
    )
    t = h.thread(world.a)
    assert live.unread_count(therapist) == 1 and live.unread_count(desk) == 1
    assert live.unread_count(client) == 0
    msg.send_message(t, therapist, "Thanks, try heat tonight.")
    # Replying marks the thread read up to the reply, for the one who replied only.
    assert live.unread_count(therapist) == 0 and live.unread_count(desk) == 1
    assert live.unread_count(client) == 1
    assert live.unread_count(h.user(world.a.cu2)) == 0
    assert live.unread_count(h.user(world.b.owner)) == 0  # another practice
    t = MessageThread.get_by_id(t.id)
    msg.mark_read(t, client, t.last_message_id)
    assert live.unread_count(client) == 0
    # Marking again, or backwards, writes nothing.
    assert msg.mark_read(t, client, t.last_message_id, known=t.last_message_id) is False
    msg.mark_read(t, client, 1)
    assert msg.read_upto(t.id, client.id) == t.last_message_id


def test_done_threads_leave_the_staff_count_and_a_client_message_opens_them(ctx, world):
    therapist = h.user(world.a.therapist)
    t = h.thread(world.a)
    msg.set_done(t, therapist, True)
    assert live.unread_count(therapist) == 0
    assert queries.inbox(therapist).total == 0
    assert queries.inbox(therapist, status="done").total == 1
    msg.send_message(t, h.user(world.a.cu1), "One more question")
    t = MessageThread.get_by_id(t.id)
    assert t.done_at is None and t.done_by_id is None
    assert live.unread_count(therapist) == 1
    # A staff message does not reopen a done thread.
    msg.set_done(t, therapist, True)
    msg.send_message(t, therapist, "Answered by phone.")
    assert MessageThread.get_by_id(t.id).done_at is not None
    assert [a.action for a in AuditLog.select().where(AuditLog.action.startswith("message.done"))]


def test_the_database_refuses_editing_or_deleting_a_message(ctx, world):
    t = h.thread(world.a)
    m = Message.get(Message.thread == t.id)
    from portal.db import database, q

    with pytest.raises(IntegrityError, match="never edited"):
        Message.update(body="changed").where(Message.id == m.id).execute()
    with pytest.raises(IntegrityError, match="never deleted"):
        Message.delete().where(Message.id == m.id).execute()
    with pytest.raises(IntegrityError, match="never deleted"):
        MessageThread.delete().where(MessageThread.id == t.id).execute()
    # Hiding needs the three hidden_* columns together.
    with pytest.raises(IntegrityError):
        database.execute_sql(q("UPDATE message SET hidden_reason = 'x' WHERE id = ?"), [m.id])
    assert Message.get_by_id(m.id).body == "Hello"


def test_a_hidden_message_is_shown_again_keeping_who_hid_it_when_and_why(ctx, world):
    desk, owner = h.user(world.a.frontdesk), h.user(world.a.owner)
    t = h.thread(world.a, body="My card is 4242 4242 4242 4242")
    m = Message.get(Message.thread == t.id)
    with pytest.raises(msg.MessagingError) as e:
        msg.unhide_message(m, owner)  # never hidden
    assert e.value.status == 409
    msg.hide_message(m, desk, "Looked like a card number")
    msg.unhide_message(Message.get_by_id(m.id), owner)
    m = Message.get_by_id(m.id)
    assert not m.is_hidden and m.was_hidden
    # who hid it, when and why stay with the message, beside who showed it again and when
    assert m.hidden_by_id == desk.id and m.hidden_reason == "Looked like a card number"
    assert m.hidden_at is not None and m.unhidden_by_id == owner.id and m.unhidden_at
    row = AuditLog.get(AuditLog.action == "message.unhide")
    assert row.object_id == m.id and row.user_id == owner.id and row.client_id == world.a.c1.id
    assert [x.body for x in queries.messages(t, h.user(world.a.cu1))] == [m.body]
    (exported,) = export.client_messages(world.a.c1.id)[0]["messages"]
    assert exported["text"] == m.body and not exported["hidden"] and exported["hidden_at"] is None
    with pytest.raises(msg.MessagingError) as e:
        msg.unhide_message(m, owner)  # already shown
    assert e.value.status == 409
    # Hidden again, with a new reason: the latest hiding is the one shown.
    msg.hide_message(m, owner, "It was a card number after all")
    m = Message.get_by_id(m.id)
    assert m.is_hidden and not m.was_hidden and m.unhidden_at is None
    assert m.hidden_reason == "It was a card number after all" and m.hidden_by_id == owner.id


def test_the_database_lets_a_message_be_shown_again_but_never_edited(ctx, world):
    from portal.db import database, q

    t = h.thread(world.a)
    m = Message.get(Message.thread == t.id)
    # A message never hidden cannot be "shown again".
    with pytest.raises(IntegrityError, match="never edited"):
        database.execute_sql(
            q(
                "UPDATE message SET unhidden_at = created_at, unhidden_by_id = sender_id "
                "WHERE id = ?"
            ),
            [m.id],
        )
    msg.hide_message(m, h.user(world.a.frontdesk), "Wrong client")
    for sql in (
        "UPDATE message SET hidden_reason = 'changed' WHERE id = ?",  # the reason stays
        "UPDATE message SET hidden_at = NULL, hidden_by_id = NULL, hidden_reason = '' "
        "WHERE id = ?",  # shown again only by saying who and when, the hiding kept
        "UPDATE message SET unhidden_at = created_at WHERE id = ?",  # who, too
    ):
        with pytest.raises(IntegrityError):
            with database.atomic():
                database.execute_sql(q(sql), [m.id])
    msg.unhide_message(Message.get_by_id(m.id), h.user(world.a.owner))
    for sql in (
        "UPDATE message SET body = 'changed' WHERE id = ?",
        "UPDATE message SET hidden_reason = 'changed' WHERE id = ?",  # hidden again, or kept
        "UPDATE message SET unhidden_by_id = hidden_by_id WHERE id = ?",
    ):
        with pytest.raises(IntegrityError, match="never edited"):
            with database.atomic():
                database.execute_sql(q(sql), [m.id])
    assert Message.get_by_id(m.id).hidden_reason == "Wrong client"


def test_hiding_keeps_the_text_once_with_a_reason_in_the_audit_log(ctx, world):
    desk = h.user(world.a.frontdesk)
    t = h.thread(world.a, body="My card is 4242 4242 4242 4242")
    m = Message.get(Message.thread == t.id)
    with pytest.raises(msg.MessagingError) as e:
        msg.hide_message(m, desk, " ")
    assert e.value.field == "reason"
    msg.hide_message(m, desk, "Card number sent by mistake")
    m = Message.get_by_id(m.id)
    assert m.is_hidden and m.hidden_by_id == desk.id and m.body.startswith("My card")
    row = AuditLog.get(AuditLog.action == "message.hide")
    assert row.detail == "reason: Card number sent by mistake" and row.object_id == m.id
    assert row.client_id == world.a.c1.id
    with pytest.raises(msg.MessagingError) as e:
        msg.hide_message(m, desk, "Again")
    assert e.value.status == 409
    from portal.db import database, q

    with pytest.raises(IntegrityError, match="never edited"):
        database.execute_sql(q("UPDATE message SET hidden_reason = 'other' WHERE id = ?"), [m.id])


def test_a_photo_is_stored_re_encoded_without_exif_or_gps(app, ctx, world):
    data = h.photo(3000, 2000)
    assert b"PhoneCam" in data
    t = h.thread(world.a, body="", data=data)
    m = Message.get(Message.thread == t.id)
    a = MessageAttachment.get(MessageAttachment.message == m.id)
    assert a.content_type == "image/jpeg" and a.client_id == world.a.c1.id
    stored = h.read_back(a.stored_name)
    assert b"PhoneCam" not in stored and hashlib.sha256(stored).hexdigest() == a.sha256
    im = Image.open(io.BytesIO(stored))
    assert not im.getexif() and max(im.size) == uploads.MAX_SIDE
    assert (a.width, a.height) == im.size
    assert AuditLog.select().where(AuditLog.action == "message.attachment_upload").count() == 1
    with pytest.raises(IntegrityError, match="never changes"):
        MessageAttachment.update(size_bytes=1).where(MessageAttachment.id == a.id).execute()
    with pytest.raises(IntegrityError, match="never deleted"):
        MessageAttachment.delete().execute()


def test_a_pdf_is_accepted_as_checked(ctx, world):
    """Kept as the upload check's rewrite (qpdf's, with only the objects it checked)."""
    t = h.thread(world.a, body="My referral", data=h.PDF_OK)
    a = MessageAttachment.get()
    stored = h.read_back(a.stored_name)
    assert a.is_pdf and stored.startswith(b"%PDF-")
    with pikepdf.open(io.BytesIO(stored)) as pdf:
        assert len(pdf.pages) == 1
    assert Message.get(Message.thread == t.id).body == "My referral"


@pytest.mark.parametrize(
    "data",
    [h.SVG, h.HTML, h.GIF_HTML, h.PDF_HTML],
    ids=["svg", "html", "gif-html-polyglot", "pdf-html-polyglot"],
)
def test_svg_html_and_polyglots_are_refused_and_nothing_is_written(app, ctx, world, data):
    t = h.thread(world.a)
    before = Message.select().count()
    with pytest.raises(uploads.UploadError):
        msg.send_message(t, h.user(world.a.cu1), "see attached", data=data)
    with pytest.raises(uploads.UploadError):
        h.thread(world.a, data=data)
    assert Message.select().count() == before and MessageAttachment.select().count() == 0
    assert h.stored_files(app) == []


def test_a_jpeg_carrying_html_is_stored_without_it(ctx, world):
    """A JPEG/HTML polyglot decodes as a photo: re-encoding drops its comment, so what is
    stored and served is a plain JPEG."""
    data = h.jpeg_with_markup()
    assert h.MARKUP in data
    h.thread(world.a, body="", data=data)
    stored = h.read_back(MessageAttachment.get().stored_name)
    assert h.MARKUP not in stored and stored.startswith(b"\xff\xd8\xff")


def test_a_failed_write_removes_the_stored_file(app, ctx, world, monkeypatch):
    t = h.thread(world.a)

    def boom(*a, **kw):
        raise RuntimeError("disk full")

    monkeypatch.setattr(msg.notices, "notify", boom)
    with pytest.raises(RuntimeError):
        msg.send_message(t, h.user(world.a.therapist), "with photo", data=h.photo())
    assert h.stored_files(app) == [] and MessageAttachment.select().count() == 0
    assert Message.select().count() == 1


def test_clients_are_limited_per_hour(ctx, world, monkeypatch):
    monkeypatch.setattr(msg, "CLIENT_MESSAGES_PER_HOUR", 3)
    t = h.thread(world.a)
    client = h.user(world.a.cu1)
    msg.send_message(t, client, "2")
    msg.send_message(t, client, "3")
    with pytest.raises(msg.MessagingError) as e:
        msg.send_message(t, client, "4")
    assert e.value.status == 429
    msg.send_message(t, h.user(world.a.therapist), "staff are not limited")


def test_assignment_only_to_the_practices_active_staff(ctx, world):
    owner = h.user(world.a.owner)
    t = h.thread(world.a)
    msg.assign(t, owner, world.a.frontdesk.id)
    assert MessageThread.get_by_id(t.id).assigned_to_id == world.a.frontdesk.id
    for bad in (world.b.frontdesk.id, world.a.cu1.id, 999_999):
        with pytest.raises(msg.MessagingError):
            msg.assign(t, owner, bad)
    msg.assign(t, owner, None)
    assert MessageThread.get_by_id(t.id).assigned_to_id is None
    assert AuditLog.select().where(AuditLog.action == "message.assign").count() == 2


def test_inbox_filters(ctx, world):
    therapist, desk = h.user(world.a.therapist), h.user(world.a.frontdesk)
    t1 = h.thread(world.a, subject="First")
    t2 = h.thread(world.a, client=world.a.c2, subject="Second")
    msg.assign(t1, desk, therapist.id)
    assert [t.subject for t in queries.inbox(desk).threads] == ["Second", "First"]
    assert [t.subject for t in queries.inbox(desk, assigned="me").threads] == []
    assert [t.subject for t in queries.inbox(desk, assigned=str(therapist.id)).threads] == ["First"]
    assert [t.subject for t in queries.inbox(desk, assigned="none").threads] == ["Second"]
    msg.mark_read(t2, desk, MessageThread.get_by_id(t2.id).last_message_id)
    rows = queries.inbox(desk, unread=True).threads
    assert [t.subject for t in rows] == ["First"] and rows[0].unread
    assert rows[0].assignee.id == therapist.id


def test_export_returns_every_thread_and_message_without_hidden_text(ctx, world):
    client = h.user(world.a.cu1)
    t = h.thread(world.a, subject="Referral", body="Here it is", data=h.photo())
    reply = msg.send_message(t, h.user(world.a.therapist), "Got it, thanks.")
    slip = msg.send_message(t, h.user(world.a.frontdesk), "Other client's address: 1 Elm St")
    msg.hide_message(slip, h.user(world.a.frontdesk), "Sent to the wrong client")
    h.thread(world.a, client=world.a.c2, body="Not mine")
    out = export.client_messages(world.a.c1.id, include_files=True)
    assert len(out) == 1 and out[0]["subject"] == "Referral"
    first, second, third = out[0]["messages"]
    assert first["text"] == "Here it is" and first["from"] == world.a.c1.display_name
    (photo,) = first["attachments"]
    assert photo["content_type"] == "image/jpeg" and photo["data"].startswith(b"\xff\xd8")
    assert hashlib.sha256(photo["data"]).hexdigest() == photo["sha256"]
    assert photo["filename"].endswith(".jpg")
    assert second["text"] == reply.body and second["sender_role"] == "staff"
    assert third["hidden"] and third["text"] is None and third["attachments"] == []
    assert "Elm" not in repr(out)
    row = AuditLog.select().where(AuditLog.action == "message.export").get()
    assert row.client_id == world.a.c1.id and row.practice_id == world.a.practice.id
    assert client.client_id == world.a.c1.id
    # Without files: metadata only.
    assert "data" not in export.client_messages(world.a.c1.id)[0]["messages"][0]["attachments"][0]
    assert export.client_messages(world.b.c1.id) == []
