"""A client's own choices: which e-mails they get and whether a superbill comes every
month. One row per client, written on change with its audit row."""

from portal import audit, clock
from portal.db import database
from portal.models import ClientPreference


def preferences(client_id):
    row = ClientPreference.get_or_none(ClientPreference.client == client_id)
    return row or ClientPreference(client=client_id, monthly_superbill=False, document_emails=True)


def save_preferences(client, *, monthly_superbill, document_emails, user=None):
    with database.atomic("IMMEDIATE"):
        row = ClientPreference.get_or_none(ClientPreference.client == client.id)
        if row is None:
            row = ClientPreference(practice=client.practice_id, client=client.id)
        changed = [
            name
            for name, value in (
                ("monthly_superbill", bool(monthly_superbill)),
                ("document_emails", bool(document_emails)),
            )
            if row.id is None or getattr(row, name) != value
        ]
        row.monthly_superbill = bool(monthly_superbill)
        row.document_emails = bool(document_emails)
        row.updated_at = clock.utcnow()
        row.save()
        audit.record("client.preferences", obj=client, detail=",".join(changed), user=user)
    return row
