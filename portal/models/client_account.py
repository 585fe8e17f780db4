"""A client's own choices and agreements (migration 0019): which e-mails they want and
whether they get a superbill every month; the practice policies they agreed to, kept
word for word with when and from where."""

from peewee import BooleanField, CharField, DateTimeField, ForeignKeyField, TextField

from portal.models.base import BaseModel
from portal.models.people import Client
from portal.models.practice import Practice


class ClientPreference(BaseModel):
    practice = ForeignKeyField(Practice, on_delete="RESTRICT")
    client = ForeignKeyField(Client, unique=True, on_delete="RESTRICT")
    monthly_superbill = BooleanField(default=False)
    document_emails = BooleanField(default=True)
    updated_at = DateTimeField(null=True)


class ClientConsent(BaseModel):
    """Append-only: the exact text a client agreed to (e.g. at sign-up)."""

    practice = ForeignKeyField(Practice, on_delete="RESTRICT")
    client = ForeignKeyField(Client, backref="consents", on_delete="RESTRICT")
    kind = CharField(default="policies")
    text = TextField()
    text_sha256 = CharField()
    accepted_at = DateTimeField()
    ip = CharField(default="")


CLIENT_ACCOUNT_MODELS = [ClientPreference, ClientConsent]
