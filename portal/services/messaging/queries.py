"""Reading messages: the staff inbox, a client's threads, one thread's messages.

Every query goes through portal.access.scoped: staff see their practice's threads (a
therapist only their own clients' when the practice says so), a client only their own.
"Unread" is per user: for staff, a thread whose newest client message is past their read
marker; for a client, one whose newest staff message is.
"""

from dataclasses import dataclass

from peewee import JOIN, fn

from portal import access
from portal.models import Client, User
from portal.models.messaging import Message, MessageAttachment, MessageRead, MessageThread

PAGE_SIZE = 50
MAX_ID = 2**63 - 1  # SQLite's INTEGER: a larger number from a URL matches no row


def row_id(value):
    """An id from a URL, form or query string as an int, or None when it cannot be one
    (not a number, zero or less, too large for SQLite)."""
    try:
        value = int(value)
    except (TypeError, ValueError):
        return None
    return value if 0 < value <= MAX_ID else None


STATUS_OPEN, STATUS_DONE, STATUS_ALL = "open", "done", "all"
STATUSES = (STATUS_OPEN, STATUS_DONE, STATUS_ALL)


def _with_read_marker(query, user):
    marker = MessageRead.alias("r")
    return query.join(
        marker,
        JOIN.LEFT_OUTER,
        on=((marker.thread == MessageThread.id) & (marker.user == user.id)),
        attr="marker",
    ), marker


def _unread_column(user):
    return (
        MessageThread.last_client_message_id
        if not user.is_client
        else MessageThread.last_staff_message_id
    )


@dataclass
class Page:
    threads: list
    total: int
    page: int
    pages: int


def inbox(user, assigned="", unread=False, status=STATUS_OPEN, page=1):
    """The staff inbox: threads of the practice (scoped), newest activity first.

    assigned: "" anyone, "me", "none" (nobody), or a user id as text.
    """
    assignee = User.alias("assignee")
    query = MessageThread.select(
        MessageThread,
        Client.id,
        Client.first_name,
        Client.last_name,
        Client.preferred_name,
        assignee.id,
        assignee.name,
        assignee.email,
    ).join(Client, on=(MessageThread.client == Client.id))
    query = query.switch(MessageThread).join(
        assignee,
        JOIN.LEFT_OUTER,
        on=(MessageThread.assigned_to == assignee.id),
        attr="assignee",
    )
    query = query.switch(MessageThread)
    query, marker = _with_read_marker(query, user)
    query = query.select_extend(marker.last_read_message_id)
    query = access.scoped(MessageThread, user=user, query=query)
    if status == STATUS_OPEN:
        query = query.where(MessageThread.done_at.is_null())
    elif status == STATUS_DONE:
        query = query.where(MessageThread.done_at.is_null(False))
    if assigned == "me":
        query = query.where(MessageThread.assigned_to == user.id)
    elif assigned == "none":
        query = query.where(MessageThread.assigned_to.is_null())
    elif row_id(assigned) is not None:
        query = query.where(MessageThread.assigned_to == row_id(assigned))
    if unread:
        query = query.where(_unread_column(user) > fn.COALESCE(marker.last_read_message_id, 0))
    total = query.count()
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(1, page), pages)
    rows = list(
        query.order_by(MessageThread.last_message_at.desc(), MessageThread.id.desc()).paginate(
            page, PAGE_SIZE
        )
    )
    for t in rows:
        _decorate(t, user)
    return Page(rows, total, page, pages)


def _decorate(thread, user):
    marker = getattr(thread, "marker", None)
    upto = (marker.last_read_message_id if marker is not None else 0) or 0
    thread.unread = getattr(thread, _unread_column(user).name) > upto


def client_threads(user, client_id=None):
    """A client's threads, newest first: the client's own (client users), or one client's
    as staff see them (the client page's Messages section)."""
    query = MessageThread.select(MessageThread)
    query, marker = _with_read_marker(query, user)
    query = query.select_extend(marker.last_read_message_id)
    query = access.scoped(MessageThread, user=user, query=query)
    if client_id is not None:
        query = query.where(MessageThread.client == client_id)
    rows = list(query.order_by(MessageThread.last_message_at.desc(), MessageThread.id.desc()))
    for t in rows:
        _decorate(t, user)
    return rows


def messages(thread, user):
    """The thread's messages, oldest first, each with `.files` (its attachments, one query
    for all). A client does not get the files of a hidden message."""
    rows = list(Message.select().where(Message.thread == thread.id).order_by(Message.id))
    files = {}
    if rows:
        for a in (
            MessageAttachment.select()
            .where(MessageAttachment.message.in_([m.id for m in rows]))
            .order_by(MessageAttachment.id)
        ):
            files.setdefault(a.message_id, []).append(a)
    for m in rows:
        m.files = [] if (m.is_hidden and user.is_client) else files.get(m.id, [])
    return rows


@dataclass
class Attachment:
    """An attachment with the message it belongs to, as its viewer may open it."""

    file: MessageAttachment
    message: Message


def attachment_for(user, attachment_id):
    """The attachment if `user` may open it, else None (the view answers 404). Scoped like
    every client row; a client never opens the files of a hidden message."""
    attachment_id = row_id(attachment_id)
    if attachment_id is None:
        return None
    found = (
        access.scoped(MessageAttachment, user=user)
        .where(MessageAttachment.id == attachment_id)
        .first()
    )
    if found is None:
        return None
    message = Message.get_by_id(found.message_id)
    if user.is_client and message.is_hidden:
        return None
    return Attachment(found, message)
