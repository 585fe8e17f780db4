"""Quick replies: texts the practice's staff save once and insert into a message
("Thanks, see you on your next visit", directions, the cancellation policy)."""

from portal import audit, clock
from portal.db import database
from portal.models.messaging import MessageSnippet
from portal.services.messaging.threads import MessagingError

TITLE_MAX, BODY_MAX = 80, 2000


def active(practice_id):
    return list(
        MessageSnippet.select()
        .where((MessageSnippet.practice == practice_id) & (MessageSnippet.active == True))  # noqa: E712
        .order_by(MessageSnippet.title, MessageSnippet.id)
    )


def add(user, title, body):
    title = " ".join((title or "").split())
    body = (body or "").replace("\r\n", "\n").strip()
    if not title:
        raise MessagingError("Give the quick reply a short name.", field="title")
    if len(title) > TITLE_MAX:
        raise MessagingError(f"Keep the name under {TITLE_MAX} characters.", field="title")
    if not body:
        raise MessagingError("Write the text of the quick reply.", field="body")
    if len(body) > BODY_MAX:
        raise MessagingError(f"Keep the text under {BODY_MAX:,} characters.", field="body")
    with database.atomic("IMMEDIATE"):
        snippet = MessageSnippet.create(
            practice=user.practice_id,
            title=title,
            body=body,
            created_by=user.id,
            created_at=clock.utcnow(),
        )
        audit.record("message.snippet_create", obj=snippet, user=user)
    return snippet


def remove(snippet, user):
    """Quick replies are the practice's wording, not messages: removing one only stops
    offering it (sent messages keep their text)."""
    with database.atomic("IMMEDIATE"):
        MessageSnippet.update(active=False).where(MessageSnippet.id == snippet.id).execute()
        audit.record("message.snippet_remove", obj=snippet, user=user)
