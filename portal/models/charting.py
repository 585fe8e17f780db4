"""Charting: ICD-10 favourites, note templates, the practice's CPT codes, SOAP chart notes
with minutes per code, diagnoses, body regions and addenda.

A signed note is locked: the service refuses changes first, and SQLite triggers
(migrations/0004_charting.py) refuse any UPDATE of its content, any DELETE, and any
change to its minutes, diagnoses or regions. Addenda are append-only.
"""

from peewee import (
    BooleanField,
    CharField,
    DateField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    TextField,
)

from portal.models.base import BaseModel, created_field
from portal.models.people import Client, User
from portal.models.practice import Practice, Provider
from portal.models.scheduling import Appointment
from portal.rules.charting import lines

NOTE_DRAFT = "draft"
NOTE_SIGNED = "signed"
NOTE_STATUSES = (NOTE_DRAFT, NOTE_SIGNED)


class Icd10Favourite(BaseModel):
    """A code the practice uses often; offered first when adding diagnoses."""

    practice = ForeignKeyField(Practice, backref="icd10_favourites", on_delete="CASCADE")
    code = CharField()  # written form, M54.50
    description = CharField(default="")
    created_at = created_field()

    class Meta:
        table_name = "icd10_favourite"
        indexes = ((("practice", "code"), True),)


class NoteTemplate(BaseModel):
    """The owner's starting text for a SOAP note and its list of techniques to tick."""

    practice = ForeignKeyField(Practice, backref="note_templates", on_delete="CASCADE")
    name = CharField()
    subjective = TextField(default="")
    objective = TextField(default="")
    assessment = TextField(default="")
    plan = TextField(default="")
    techniques = TextField(default="")  # one technique per line
    is_default = BooleanField(default=False)
    active = BooleanField(default=True)
    created_at = created_field()
    updated_at = DateTimeField(null=True)

    @property
    def technique_list(self):
        return lines(self.techniques)


class PracticeCptCode(BaseModel):
    """A CPT/HCPCS code the practice records minutes for, beyond (or hiding) the defaults
    97124 and 97140: a row with a default's code and active = False hides it."""

    practice = ForeignKeyField(Practice, backref="cpt_codes", on_delete="CASCADE")
    code = CharField()
    description = CharField(default="")
    active = BooleanField(default=True)
    created_at = created_field()

    class Meta:
        table_name = "practice_cpt_code"
        indexes = ((("practice", "code"), True),)


class ChartNote(BaseModel):
    """One SOAP note for one visit. PHI: every view and change is audited."""

    practice = ForeignKeyField(Practice, backref="chart_notes", on_delete="RESTRICT")
    client = ForeignKeyField(Client, backref="chart_notes", on_delete="RESTRICT")
    provider = ForeignKeyField(Provider, backref="chart_notes", on_delete="RESTRICT")
    appointment = ForeignKeyField(
        Appointment, null=True, backref="chart_notes", on_delete="SET NULL"
    )
    template = ForeignKeyField(NoteTemplate, null=True, on_delete="SET NULL")
    visit_date = DateField()
    status = CharField(default=NOTE_DRAFT)
    subjective = TextField(default="")
    objective = TextField(default="")
    assessment = TextField(default="")
    plan = TextField(default="")
    pain_before = IntegerField(null=True)
    pain_after = IntegerField(null=True)
    techniques = TextField(default="")  # one per line
    created_by = ForeignKeyField(User, null=True, on_delete="SET NULL", backref="+")
    created_at = created_field()
    updated_at = DateTimeField(null=True)
    signed_at = DateTimeField(null=True)
    signed_by = ForeignKeyField(User, null=True, on_delete="RESTRICT", backref="+")
    signature = CharField(default="")  # "Maya Lindqvist, LMT" as signed

    @property
    def is_signed(self):
        return self.status == NOTE_SIGNED

    @property
    def technique_list(self):
        return lines(self.techniques)


class NoteMinutes(BaseModel):
    """Treatment minutes per CPT code in one note (1-240)."""

    practice = ForeignKeyField(Practice, on_delete="RESTRICT")
    client = ForeignKeyField(Client, on_delete="RESTRICT")
    note = ForeignKeyField(ChartNote, backref="minutes", on_delete="CASCADE")
    cpt_code = CharField()
    minutes = IntegerField()

    class Meta:
        table_name = "note_minutes"
        indexes = ((("note", "cpt_code"), True),)


class NoteDiagnosis(BaseModel):
    """An ICD-10-CM code of a note, in pointer order (1 = A, primary)."""

    practice = ForeignKeyField(Practice, on_delete="RESTRICT")
    client = ForeignKeyField(Client, on_delete="RESTRICT")
    note = ForeignKeyField(ChartNote, backref="diagnoses", on_delete="CASCADE")
    position = IntegerField()
    code = CharField()
    description = CharField(default="")

    class Meta:
        table_name = "note_diagnosis"
        indexes = ((("note", "code"), True), (("note", "position"), True))


class NoteBodyRegion(BaseModel):
    """A body region treated (ids in portal/rules/charting.py REGIONS)."""

    practice = ForeignKeyField(Practice, on_delete="RESTRICT")
    client = ForeignKeyField(Client, on_delete="RESTRICT")
    note = ForeignKeyField(ChartNote, backref="regions", on_delete="CASCADE")
    region = CharField()

    class Meta:
        table_name = "note_body_region"
        indexes = ((("note", "region"), True),)


class NoteAddendum(BaseModel):
    """Text appended to a signed note, with its author and time. Append-only."""

    practice = ForeignKeyField(Practice, on_delete="RESTRICT")
    client = ForeignKeyField(Client, on_delete="RESTRICT")
    note = ForeignKeyField(ChartNote, backref="addenda", on_delete="RESTRICT")
    author = ForeignKeyField(User, on_delete="RESTRICT", backref="+")
    author_name = CharField(default="")
    body = TextField()
    created_at = created_field()

    class Meta:
        table_name = "note_addendum"


CHARTING_MODELS = [
    Icd10Favourite,
    NoteTemplate,
    PracticeCptCode,
    ChartNote,
    NoteMinutes,
    NoteDiagnosis,
    NoteBodyRegion,
    NoteAddendum,
]
