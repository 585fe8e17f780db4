"""A client's messages for their data export (the export itself is another issue's: it
calls `client_messages` and writes what it returns into the archive).

Everything the client and the practice wrote to each other, in order, with attachments
(their bytes when asked). A hidden message is listed (who sent it, when, that it was
hidden and when) without its text or files: staff hide a message when it should not
have been sent (often another person's details), and an export must not send it again.
"""

from portal import audit
from portal.models.messaging import Message, MessageAttachment, MessageThread
from portal.services import uploads
from portal.services.messaging.links import KINDS


def _attachment(a, n, include_files):
    out = {
        "filename": f"message-{a.message_id}-{n}.{uploads.EXTENSIONS[a.content_type]}",
        "content_type": a.content_type,
        "size_bytes": a.size_bytes,
        "sha256": a.sha256,
    }
    if include_files:
        out["data"] = uploads.load(a.stored_name)
    return out


def client_messages(client_id, include_files=False, user=None):
    """[{subject, started_at, about, messages: [{from, sender_role, sent_at, text, hidden,
    hidden_at, attachments: [...]}]}], oldest thread first. Audited as message.export."""
    threads = list(
        MessageThread.select().where(MessageThread.client == client_id).order_by(MessageThread.id)
    )
    ids = [t.id for t in threads]
    by_thread = {t.id: [] for t in threads}
    files = {}
    if ids:
        rows = list(Message.select().where(Message.thread.in_(ids)).order_by(Message.id))
        for m in rows:
            by_thread[m.thread_id].append(m)
        for a in (
            MessageAttachment.select()
            .where(MessageAttachment.client == client_id)
            .order_by(MessageAttachment.id)
        ):
            files.setdefault(a.message_id, []).append(a)
    out = []
    for t in threads:
        kind = KINDS.get(t.link_kind)
        out.append(
            {
                "subject": t.subject,
                "started_at": t.created_at,
                # What the client may know it was about (never a chart note link).
                "about": kind.noun if kind is not None and kind.client_sees else "",
                "messages": [
                    _message(m, files.get(m.id, []), include_files) for m in by_thread[t.id]
                ],
            }
        )
    if threads:
        practice_id = threads[0].practice_id
        audit.record(
            "message.export",
            client=client_id,
            user=user,
            practice_id=practice_id,
            detail=f"{len(threads)} threads",
        )
    return out


def _message(m, files, include_files):
    hidden = m.is_hidden
    return {
        "from": m.sender_name,
        "sender_role": m.sender_role,
        "sent_at": m.created_at,
        "text": None if hidden else m.body,
        "hidden": hidden,
        "hidden_at": m.hidden_at if hidden else None,  # (one shown again is not hidden)
        "attachments": []
        if hidden
        else [_attachment(a, n, include_files) for n, a in enumerate(files, start=1)],
    }
