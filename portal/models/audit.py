"""The append-only audit log: who saw or changed which PHI, when. No PHI values in a row."""

from peewee import CharField, DateTimeField, IntegerField

from portal.models.base import BaseModel


class AuditLog(BaseModel):
    at = DateTimeField()
    practice_id = IntegerField(null=True)
    user_id = IntegerField(null=True)
    action = CharField()  # e.g. login, login.failed, client.view, access.denied
    object_type = CharField(default="")
    object_id = IntegerField(null=True)
    client_id = IntegerField(null=True)
    ip = CharField(default="")
    detail = CharField(default="")  # never PHI: field names, reasons, counts
