"""Secure messaging: threads between one client and the practice, their messages and
attachments, who read how far, quick-reply snippets, and each user's e-mail notice choice.

A message is never edited or deleted once sent; staff may hide one with a reason, and show
it again (the database's guards, migrations 0012 and 0029, refuse anything else). Attachments are
never changed or deleted; threads are never deleted.

Every table carries practice (and, where the rows are a client's, client) so that
`portal.access.scoped` limits them like every other PHI table.
"""

from peewee import (
    BooleanField,
    CharField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    TextField,
)

from portal.models.base import BaseModel, created_field
from portal.models.people import Client, User
from portal.models.practice import Practice, Provider

SENDER_CLIENT = "client"
SENDER_STAFF = "staff"
SUBJECT_MAX = 120
BODY_MAX = 5000


class MessageThread(BaseModel):
    """A conversation between one client and the practice: the client's therapist
    (`provider`) and/or the front desk are in it; owners see every thread.

    `link_kind`/`link_id` name what it is about (an appointment, an invoice, a chart
    note; claims later): a generic pair, resolved by portal.services.messaging.links.
    The last_* columns are kept by the service when a message is sent, so unread counts
    need no scan of the messages.
    """

    practice = ForeignKeyField(Practice, on_delete="RESTRICT")
    client = ForeignKeyField(Client, backref="message_threads", on_delete="RESTRICT")
    subject = CharField()
    provider = ForeignKeyField(Provider, null=True, on_delete="SET NULL")
    front_desk = BooleanField(default=True)
    link_kind = CharField(default="")
    link_id = IntegerField(null=True)
    started_by = ForeignKeyField(User, null=True, on_delete="SET NULL", backref="+")
    created_at = created_field()
    last_message_at = DateTimeField()
    last_message_id = IntegerField(default=0)
    last_client_message_id = IntegerField(default=0)
    last_staff_message_id = IntegerField(default=0)
    assigned_to = ForeignKeyField(User, null=True, on_delete="SET NULL", backref="+")
    done_at = DateTimeField(null=True)
    done_by = ForeignKeyField(User, null=True, on_delete="SET NULL", backref="+")

    class Meta:
        table_name = "message_thread"

    @property
    def is_done(self):
        return self.done_at is not None


class Message(BaseModel):
    """One message, as sent. `sender_name` is frozen at sending ("Maya Lindqvist, LMT",
    "Front desk", the client's name) so the thread reads the same later."""

    practice = ForeignKeyField(Practice, on_delete="RESTRICT")
    client = ForeignKeyField(Client, on_delete="RESTRICT", backref="+")
    thread = ForeignKeyField(MessageThread, backref="messages", on_delete="RESTRICT")
    sender = ForeignKeyField(User, on_delete="RESTRICT", backref="+")
    sender_role = CharField()  # client | staff
    sender_name = CharField(default="")
    body = TextField(default="")
    created_at = created_field()
    hidden_at = DateTimeField(null=True)
    hidden_by = ForeignKeyField(User, null=True, on_delete="RESTRICT", backref="+")
    hidden_reason = CharField(default="")
    # shown again after hiding (migration 0029): the hiding's columns stay as they were
    unhidden_at = DateTimeField(null=True)
    unhidden_by = ForeignKeyField(User, null=True, on_delete="RESTRICT", backref="+")

    @property
    def is_hidden(self):
        return self.hidden_at is not None and self.unhidden_at is None

    @property
    def was_hidden(self):
        """Hidden once and shown again: the thread says by whom, when and why."""
        return self.hidden_at is not None and self.unhidden_at is not None

    @property
    def from_client(self):
        return self.sender_role == SENDER_CLIENT


class MessageAttachment(BaseModel):
    """A photo (re-encoded, no metadata) or a checked PDF sent with a message; the file
    lives under instance/uploads/ (portal.services.uploads) and is served only through
    access-checked routes."""

    practice = ForeignKeyField(Practice, on_delete="RESTRICT")
    client = ForeignKeyField(Client, on_delete="RESTRICT", backref="+")
    message = ForeignKeyField(Message, backref="attachments", on_delete="RESTRICT")
    stored_name = CharField(unique=True)
    content_type = CharField()
    size_bytes = IntegerField()
    sha256 = CharField()
    width = IntegerField(null=True)
    height = IntegerField(null=True)
    created_at = created_field()

    class Meta:
        table_name = "message_attachment"

    @property
    def is_pdf(self):
        return self.content_type == "application/pdf"

    @property
    def label(self):
        kind = "PDF" if self.is_pdf else "Photo"
        return f"{kind}, {max(1, round(self.size_bytes / 1024))} KB"


class MessageRead(BaseModel):
    """How far one user has read one thread (the id of the newest message seen)."""

    practice = ForeignKeyField(Practice, on_delete="CASCADE")
    client = ForeignKeyField(Client, on_delete="CASCADE", backref="+")
    thread = ForeignKeyField(MessageThread, on_delete="CASCADE", backref="+")
    user = ForeignKeyField(User, on_delete="CASCADE", backref="+")
    last_read_message_id = IntegerField()
    read_at = DateTimeField()

    class Meta:
        table_name = "message_read"
        indexes = ((("thread", "user"), True),)


class MessageSnippet(BaseModel):
    """A saved quick reply the practice's staff insert into a message."""

    practice = ForeignKeyField(Practice, on_delete="CASCADE")
    title = CharField()
    body = TextField()
    created_by = ForeignKeyField(User, null=True, on_delete="SET NULL", backref="+")
    created_at = created_field()
    active = BooleanField(default=True)

    class Meta:
        table_name = "message_snippet"


class MessageNoticeSetting(BaseModel):
    """A user's choice of e-mail notices for new messages (on unless a row says off)."""

    practice = ForeignKeyField(Practice, on_delete="CASCADE")
    user = ForeignKeyField(User, unique=True, on_delete="CASCADE", backref="+")
    email_notices = BooleanField(default=True)
    updated_at = DateTimeField()

    class Meta:
        table_name = "message_notice_setting"
