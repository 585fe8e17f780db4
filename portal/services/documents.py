"""Issued documents: stored once with their SHA-256 (never changed: triggers), and told
to the client by an e-mail that links to the portal and holds nothing else (no amounts,
services, dates or diagnoses: the document stays behind the login)."""

from flask import current_app

from portal import audit, mail, pdf
from portal.models import ClientPreference, StoredDocument
from portal.models.people import Client
from portal.models.practice import Practice


class DocumentError(ValueError):
    """A refused document action, with a message for the user."""


def store(practice_id, client_id, kind, title, filename, data, user=None):
    doc = StoredDocument.create(
        practice=practice_id,
        client=client_id,
        kind=kind,
        title=title,
        filename=filename,
        content_type="application/pdf",
        data=data,
        sha256=pdf.sha256(data),
        size_bytes=len(data),
        created_by=user.id if user is not None else None,
    )
    audit.record("document.issue", obj=doc, client=client_id, detail=kind, user=user)
    return doc


def wants_document_emails(client_id):
    row = ClientPreference.get_or_none(ClientPreference.client == client_id)
    return row.document_emails if row is not None else True


def send_link(doc, user=None, automatic=False):
    """E-mail the document's client that it is waiting in the portal (a link, no PHI).

    A staff member's "E-mail it" always sends; an automatic notice (the monthly
    superbill) only when the client keeps document e-mails on. Returns the outbox row or
    None when nothing was sent."""
    client = Client.get_by_id(doc.client_id)
    if not client.email:
        raise DocumentError("This client has no e-mail address on file.")
    if automatic and not wants_document_emails(client.id):
        return None
    practice = Practice.get_by_id(doc.practice_id)
    base = current_app.config["BASE_URL"].rstrip("/")
    msg = mail.queue(
        client.email,
        f"A new document from {practice.name}",
        f"Hello,\n\n{practice.name} has put a new document in your client portal. "
        f"Log in to download it:\n\n{base}/portal/documents\n\n"
        "For your privacy this e-mail does not say what it holds.\n",
        practice=practice.id,
        kind="document",
    )
    audit.record("document.send", obj=doc, client=client.id, user=user, detail=doc.kind)
    return msg
