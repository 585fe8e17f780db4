"""Intake: forms the practice edits, and the immutable signed submissions (migration 0002)."""

import json

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
from portal.models.practice import Practice

FORM_KINDS = [
    ("health_history", "Health history"),
    ("consent", "Consent"),
    ("other", "Other"),
]
FIELD_TYPES = [
    ("text", "Short text"),
    ("long_text", "Long text"),
    ("choice", "Choice (one of a list)"),
    ("checkbox", "Checkbox"),
    ("date", "Date"),
    ("yes_no", "Yes / no with details"),
]


class IntakeForm(BaseModel):
    """A health-history or consent form template; clients may list the active ones."""

    client_visible = True

    practice = ForeignKeyField(Practice, backref="intake_forms", on_delete="RESTRICT")
    title = CharField()
    kind = CharField(default="health_history")
    description = TextField(default="")
    active = BooleanField(default=True)
    position = IntegerField(default=0)
    created_at = created_field()
    updated_at = DateTimeField(null=True)

    @property
    def kind_label(self):
        return dict(FORM_KINDS).get(self.kind, self.kind)

    def active_fields(self):
        return (
            IntakeField.select()
            .where((IntakeField.form == self) & IntakeField.active)
            .order_by(IntakeField.position, IntakeField.id)
        )


class IntakeField(BaseModel):
    client_visible = True

    practice = ForeignKeyField(Practice, on_delete="RESTRICT")
    form = ForeignKeyField(IntakeForm, backref="fields", on_delete="CASCADE")
    position = IntegerField(default=0)
    label = CharField()
    field_type = CharField()
    choices = TextField(default="")  # one choice per line
    help_text = CharField(default="")
    required = BooleanField(default=False)
    flag = BooleanField(default=False)  # raises a flag when answered yes / checked
    flag_label = CharField(default="")  # e.g. "Contraindication: blood clots"
    active = BooleanField(default=True)
    created_at = created_field()

    @property
    def choice_list(self):
        return [c.strip() for c in (self.choices or "").splitlines() if c.strip()]

    @property
    def type_label(self):
        return dict(FIELD_TYPES).get(self.field_type, self.field_type)


class IntakeSubmission(BaseModel):
    """A signed form: a frozen copy of the questions and answers. Never updated
    (a database trigger refuses UPDATE); a new version is a new submission."""

    practice = ForeignKeyField(Practice, on_delete="RESTRICT")
    client = ForeignKeyField(Client, backref="intake_submissions", on_delete="RESTRICT")
    form = ForeignKeyField(IntakeForm, null=True, on_delete="SET NULL")
    form_title = CharField()
    form_kind = CharField(default="health_history")
    answers_json = TextField()
    flags_json = TextField(default="[]")
    signature_name = CharField()
    signed_at = DateTimeField()
    signed_ip = CharField(default="")
    user_agent = CharField(default="")
    via = CharField(default="portal")  # portal | tablet
    submitted_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
    content_sha256 = CharField()

    @property
    def answers(self):
        return json.loads(self.answers_json or "[]")

    @property
    def flags(self):
        return json.loads(self.flags_json or "[]")
