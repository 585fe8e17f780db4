"""E-mail notices of new messages: they say only that a message is waiting, with a link.

Never the text, the subject, a name or anything else about the client: e-mail is not a
safe channel for health information. Each user chooses notices on or off (on unless they
said off).

Who is told:
- a message from staff: the client's portal users;
- a message from the client: the staff member the thread is assigned to; when nobody is,
  the therapist in the thread (their users), else the front desk; the next of these (then
  the owner) when none of them can log in (left the practice, never accepted an invitation).
One notice per recipient and thread until they have read it: the outbox dedupe key holds
the recipient's read marker, so a second message before they looked sends nothing more.
"""

from flask import current_app, has_app_context

from portal import audit, clock, mail
from portal.db import database
from portal.models import ROLE_CLIENT, ROLE_FRONTDESK, ROLE_OWNER, Practice, User
from portal.models.messaging import SENDER_CLIENT, MessageNoticeSetting, MessageRead

CLIENT_PATH = "/portal/messages/{id}"
STAFF_PATH = "/provider/messages/{id}"


def email_wanted(user_id):
    row = MessageNoticeSetting.get_or_none(MessageNoticeSetting.user == user_id)
    return True if row is None else bool(row.email_notices)


def set_email_notices(user, on):
    with database.atomic("IMMEDIATE"):
        now = clock.utcnow()
        (
            MessageNoticeSetting.insert(
                practice=user.practice_id, user=user.id, email_notices=bool(on), updated_at=now
            )
            .on_conflict(
                conflict_target=[MessageNoticeSetting.user],
                update={
                    MessageNoticeSetting.email_notices: bool(on),
                    MessageNoticeSetting.updated_at: now,
                },
            )
            .execute()
        )
        audit.record("message.notices", user=user, detail="e-mail on" if on else "e-mail off")


def _active(query):
    return query.where((User.active == True) & User.password_hash.is_null(False))  # noqa: E712


def recipients(thread, message):
    """Users to tell about `message` (before their own choice is applied)."""
    if message.sender_role != SENDER_CLIENT:
        return list(
            _active(
                User.select().where((User.client == thread.client_id) & (User.role == ROLE_CLIENT))
            )
        )
    # The first of these with someone who can log in: an assignee who has left, a therapist
    # who never accepted the invitation or a practice without front desk staff must not
    # leave a client's message untold.
    staff = User.select().where(User.practice == thread.practice_id)
    choices = (
        staff.where(User.id == thread.assigned_to_id) if thread.assigned_to_id else None,
        staff.where(User.provider == thread.provider_id) if thread.provider_id else None,
        staff.where(User.role == ROLE_FRONTDESK),
        staff.where(User.role == ROLE_OWNER),
    )
    for query in choices:
        found = list(_active(query)) if query is not None else []
        if found:
            return [u for u in found if u.id != message.sender_id]
    return []


def _base_url():
    return current_app.config["BASE_URL"].rstrip("/") if has_app_context() else ""


def body_for(user, practice, thread_id):
    path = (CLIENT_PATH if user.is_client else STAFF_PATH).format(id=thread_id)
    who = (
        f"{practice.name} has sent you a secure message"
        if user.is_client
        else "A client has sent a secure message"
    )
    off = (
        "You can turn these e-mails off in the portal under Messages, Notices."
        if user.is_client
        else "You can turn these e-mails off under Messages, Notices."
    )
    return (
        f"Hello,\n\n{who}. For privacy it is not in this e-mail.\n\n"
        f"Read it in the portal (you may be asked to log in):\n{_base_url()}{path}\n\n{off}\n"
    )


def notify(thread, message):
    """Queue the notices for a message just sent (inside its transaction)."""
    practice = Practice.get_by_id(thread.practice_id)
    for user in recipients(thread, message):
        if not email_wanted(user.id):
            continue
        seen = (
            MessageRead.select(MessageRead.last_read_message_id)
            .where((MessageRead.thread == thread.id) & (MessageRead.user == user.id))
            .scalar()
        ) or 0
        mail.queue(
            user.email,
            f"New secure message from {practice.name}" if user.is_client else "New secure message",
            body_for(user, practice, thread.id),
            practice=practice.id,
            kind="message",
            dedupe_key=f"message:{thread.id}:{user.id}:{seen}",
        )
