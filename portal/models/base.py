"""The base model: every table is bound to the one deferred database."""

from peewee import DateTimeField, Model

from portal import clock
from portal.db import database


def utcnow():
    return clock.utcnow()


class BaseModel(Model):
    class Meta:
        database = database
        legacy_table_names = False


def created_field():
    return DateTimeField(default=utcnow)
