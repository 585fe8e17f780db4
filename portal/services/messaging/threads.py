"""Writing messages: start a thread, send, hide, assign, mark done or open again, and mark
read. Each write is one IMMEDIATE transaction with its audit rows and its e-mail notices
(queued in the outbox inside the transaction, sent by portal.mail after the commit).

Messages are never edited or deleted: nothing here changes a message's text, and the
database refuses it too (migration 0012). Hiding keeps the text and says who hid it, when
and why.
"""

import datetime as dt

from portal import audit, clock
from portal.db import database
from portal.models import ROLE_FRONTDESK, STAFF_ROLES, Client, Provider, User
from portal.models.messaging import (
    BODY_MAX,
    SENDER_CLIENT,
    SENDER_STAFF,
    SUBJECT_MAX,
    Message,
    MessageAttachment,
    MessageRead,
    MessageThread,
)
from portal.services import uploads
from portal.services.messaging import notices

TO_THERAPIST = "therapist"
TO_FRONT_DESK = "frontdesk"
TO_BOTH = "both"
RECIPIENTS = (TO_THERAPIST, TO_FRONT_DESK, TO_BOTH)
# A client typing fast sends a few messages a minute; more than this in an hour is a
# script or a stuck button, and every message may notify staff.
CLIENT_MESSAGES_PER_HOUR = 30
REASON_MIN, REASON_MAX = 3, 200


class MessagingError(ValueError):
    """A refused message or change; `field` names the form field the text belongs to."""

    def __init__(self, message, field=None, status=400):
        super().__init__(message)
        self.field = field
        self.status = status


# --- checks ------------------------------------------------------------------------------


def clean_subject(subject):
    subject = " ".join((subject or "").split())
    if not subject:
        raise MessagingError("Give the conversation a subject.", field="subject")
    if len(subject) > SUBJECT_MAX:
        raise MessagingError(f"Keep the subject under {SUBJECT_MAX} characters.", field="subject")
    return subject


def clean_body(body, has_file):
    body = (body or "").replace("\r\n", "\n").strip()
    if not body and not has_file:
        raise MessagingError("Write a message, or add a photo or PDF.", field="body")
    if len(body) > BODY_MAX:
        raise MessagingError(
            f"That message is {len(body):,} characters; the limit is {BODY_MAX:,}. "
            "Split it in two.",
            field="body",
        )
    return body


def participants(client, to):
    """(provider_id, front_desk) of a new thread: who the client (or staff) addressed.
    A client without an assigned therapist writes to the front desk."""
    if to not in RECIPIENTS:
        raise MessagingError("Choose who the message is for.", field="to")
    provider_id = client.therapist_id if to in (TO_THERAPIST, TO_BOTH) else None
    front_desk = to in (TO_FRONT_DESK, TO_BOTH) or provider_id is None
    return provider_id, front_desk


def sender_name(user):
    """How the sender is shown in the thread, frozen with the message."""
    if user.is_client:
        return Client.get_by_id(user.client_id).display_name
    if user.provider_id:
        return Provider.get_by_id(user.provider_id).display_name
    if user.role == ROLE_FRONTDESK:
        return f"{user.name} (front desk)" if user.name else "Front desk"
    return user.name or "The practice"


def _check_rate(user, now):
    if not user.is_client:
        return
    sent = (
        Message.select()
        .where((Message.sender == user.id) & (Message.created_at > now - dt.timedelta(hours=1)))
        .count()
    )
    if sent >= CLIENT_MESSAGES_PER_HOUR:
        raise MessagingError(
            "You have sent many messages in the last hour. Please wait a little, "
            "or call the practice if it is urgent.",
            field="body",
            status=429,
        )


def _store(data):
    """Check and store an attachment before the transaction (uploads.UploadError if
    refused: nothing is written then)."""
    return uploads.store(data) if data else None


# --- writes --------------------------------------------------------------------------------


def start_thread(client, user, subject, body, to, link=None, data=None):
    """A new thread for `client` with its first message from `user`; `link` is
    (LinkKind, object) or None; `data` the bytes of an attachment or None."""
    subject = clean_subject(subject)
    body = clean_body(body, bool(data))
    provider_id, front_desk = participants(client, to)
    info = _store(data)
    try:
        with database.atomic("IMMEDIATE"):
            now = clock.utcnow()
            _check_rate(user, now)
            thread = MessageThread.create(
                practice=client.practice_id,
                client=client.id,
                subject=subject,
                provider=provider_id,
                front_desk=front_desk,
                link_kind=link[0].name if link else "",
                link_id=link[1].id if link else None,
                started_by=user.id,
                created_at=now,
                last_message_at=now,
            )
            audit.record(
                "message.thread_create",
                obj=thread,
                user=user,
                detail=f"link {thread.link_kind} {thread.link_id}" if link else "",
            )
            _add_message(thread, user, body, info, now)
    except Exception:
        if info:
            uploads.remove(info["stored_name"])
        raise
    return thread


def send_message(thread, user, body, data=None):
    """Add a message from `user` to `thread` (already access-checked by the caller)."""
    body = clean_body(body, bool(data))
    info = _store(data)
    try:
        with database.atomic("IMMEDIATE"):
            now = clock.utcnow()
            _check_rate(user, now)
            message = _add_message(MessageThread.get_by_id(thread.id), user, body, info, now)
    except Exception:
        if info:
            uploads.remove(info["stored_name"])
        raise
    return message


def _add_message(thread, user, body, info, now):
    role = SENDER_CLIENT if user.is_client else SENDER_STAFF
    message = Message.create(
        practice=thread.practice_id,
        client=thread.client_id,
        thread=thread.id,
        sender=user.id,
        sender_role=role,
        sender_name=sender_name(user),
        body=body,
        created_at=now,
    )
    if info:
        attachment = MessageAttachment.create(
            practice=thread.practice_id,
            client=thread.client_id,
            message=message.id,
            created_at=now,
            **info,
        )
        audit.record(
            "message.attachment_upload", obj=attachment, user=user, detail=info["content_type"]
        )
    changes = {
        MessageThread.last_message_at: now,
        MessageThread.last_message_id: message.id,
    }
    if role == SENDER_CLIENT:
        # The client is waiting for an answer: a thread marked done opens again.
        changes[MessageThread.last_client_message_id] = message.id
        changes[MessageThread.done_at] = None
        changes[MessageThread.done_by] = None
    else:
        changes[MessageThread.last_staff_message_id] = message.id
    MessageThread.update(changes).where(MessageThread.id == thread.id).execute()
    mark_read(thread, user, message.id)
    audit.record("message.send", obj=message, user=user, detail=role)
    notices.notify(thread, message)
    return message


def hide_message(message, user, reason):
    """Hide a message from the thread (staff only). The text stays in the database; the
    reason stays with the message (the thread shows staff who hid it, when and why) and
    goes to the audit log (the form asks for no health details). A message shown again
    may be hidden again: the new hiding replaces the old on the message."""
    reason = " ".join((reason or "").split())
    if len(reason) < REASON_MIN:
        raise MessagingError("Say why the message is hidden.", field="reason")
    if len(reason) > REASON_MAX:
        raise MessagingError(f"Keep the reason under {REASON_MAX} characters.", field="reason")
    with database.atomic("IMMEDIATE"):
        changed = (
            Message.update(
                hidden_at=clock.utcnow(),
                hidden_by=user.id,
                hidden_reason=reason,
                unhidden_at=None,
                unhidden_by=None,
            )
            .where(
                (Message.id == message.id)
                & (Message.hidden_at.is_null() | Message.unhidden_at.is_null(False))
            )
            .execute()
        )
        if not changed:
            raise MessagingError("This message is already hidden.", field="reason", status=409)
        audit.record("message.hide", obj=message, user=user, detail=f"reason: {reason}")


def unhide_message(message, user):
    """Show a hidden message again (staff only): the client sees its text and files again.
    Who hid it, when and why stay on the message, beside who showed it again and when."""
    with database.atomic("IMMEDIATE"):
        changed = (
            Message.update(unhidden_at=clock.utcnow(), unhidden_by=user.id)
            .where(
                (Message.id == message.id)
                & Message.hidden_at.is_null(False)
                & Message.unhidden_at.is_null()
            )
            .execute()
        )
        if not changed:
            raise MessagingError("This message is not hidden.", status=409)
        audit.record("message.unhide", obj=message, user=user)


def staff_members(practice_id):
    """Active staff who can be assigned a thread, by name."""
    return list(
        User.select()
        .where(
            (User.practice == practice_id) & User.role.in_(STAFF_ROLES) & (User.active == True)  # noqa: E712
        )
        .order_by(User.name, User.id)
    )


def assign(thread, user, assignee_id):
    """Give the thread to one staff member (None: to nobody)."""
    if assignee_id:
        ids = {u.id for u in staff_members(thread.practice_id)}
        if assignee_id not in ids:
            raise MessagingError("Choose someone on the practice's staff.", field="assigned_to")
    with database.atomic("IMMEDIATE"):
        MessageThread.update(assigned_to=assignee_id or None).where(
            MessageThread.id == thread.id
        ).execute()
        audit.record(
            "message.assign",
            obj=thread,
            user=user,
            detail=f"to user {assignee_id}" if assignee_id else "unassigned",
        )


def set_done(thread, user, done):
    """Mark the thread done (answered, nothing to do) or open it again."""
    with database.atomic("IMMEDIATE"):
        MessageThread.update(
            done_at=clock.utcnow() if done else None, done_by=user.id if done else None
        ).where(MessageThread.id == thread.id).execute()
        audit.record("message.done" if done else "message.reopen", obj=thread, user=user)


def read_upto(thread_id, user_id):
    row = (
        MessageRead.select(MessageRead.last_read_message_id)
        .where((MessageRead.thread == thread_id) & (MessageRead.user == user_id))
        .first()
    )
    return row.last_read_message_id if row else 0


def mark_read(thread, user, upto, known=None):
    """Remember that `user` has seen `thread` up to message `upto`. Writes only when that
    moves the marker on (`known`: the marker as the caller read it), so a reload or a
    poll that shows nothing new writes nothing."""
    if upto <= 0 or (known is not None and upto <= known):
        return False
    now = clock.utcnow()
    (
        MessageRead.insert(
            practice=thread.practice_id,
            client=thread.client_id,
            thread=thread.id,
            user=user.id,
            last_read_message_id=upto,
            read_at=now,
        )
        .on_conflict(
            conflict_target=[MessageRead.thread, MessageRead.user],
            update={MessageRead.last_read_message_id: upto, MessageRead.read_at: now},
            where=(MessageRead.last_read_message_id < upto),
        )
        .execute()
    )
    return True
