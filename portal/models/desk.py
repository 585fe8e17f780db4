"""The desk (migration 0018): merges of duplicate clients and tips taken at check-out."""

from peewee import CharField, DateTimeField, ForeignKeyField, IntegerField, TextField

from portal.models.base import BaseModel, created_field
from portal.models.people import Client, User
from portal.models.practice import Practice, Provider
from portal.models.scheduling import Appointment


class ClientMerge(BaseModel):
    """A duplicate client record merged into another (append-only). The duplicate stays,
    archived, with the records that cannot move; both are read as one person."""

    practice = ForeignKeyField(Practice, on_delete="RESTRICT")
    from_client = ForeignKeyField(Client, unique=True, on_delete="RESTRICT")
    into_client = ForeignKeyField(Client, backref="merged_from", on_delete="RESTRICT")
    merged_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
    merged_at = DateTimeField()
    moved = TextField(default="")  # what moved, as "table: count" (no PHI)


class Tip(BaseModel):
    """A tip at check-out: for the provider's pay, never revenue on an invoice."""

    practice = ForeignKeyField(Practice, on_delete="RESTRICT")
    client = ForeignKeyField(Client, on_delete="RESTRICT")
    appointment = ForeignKeyField(Appointment, null=True, backref="tips", on_delete="SET NULL")
    provider = ForeignKeyField(Provider, backref="tips", on_delete="RESTRICT")
    method = CharField()
    amount_cents = IntegerField()
    reference = CharField(default="")
    stripe_payment_intent_id = CharField(null=True, unique=True)
    created_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
    created_at = created_field()


DESK_MODELS = [ClientMerge, Tip]
