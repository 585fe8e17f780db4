"""What a client takes away (migration 0019): superbills in versions and the visits each
lists, receipts of visits paid from a package, letters of medical necessity, and the
owner's whole-practice export file.

Issued rows never change (triggers): a superbill's correction is a new row that replaces
the version before it, and the old one stays downloadable beside it.
"""

from peewee import (
    CharField,
    DateField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    TextField,
)

from portal import clock
from portal.models.base import BaseModel, created_field
from portal.models.billing import StoredDocument
from portal.models.jobs import Job
from portal.models.people import Client, User
from portal.models.practice import Practice, Provider
from portal.models.scheduling import Appointment

SUPERBILL_SOURCES = ("staff", "client", "monthly")


class Superbill(BaseModel):
    practice = ForeignKeyField(Practice, on_delete="RESTRICT")
    client = ForeignKeyField(Client, backref="superbills", on_delete="RESTRICT")
    number = CharField()  # SB-000012, shared by every version of one superbill
    version = IntegerField(default=1)
    replaces = ForeignKeyField("self", null=True, unique=True, on_delete="RESTRICT")
    period_start = DateField()
    period_end = DateField()
    total_fee_cents = IntegerField()
    total_paid_cents = IntegerField()
    visit_count = IntegerField()
    source = CharField(default="staff")
    correction_reason = CharField(default="")
    document = ForeignKeyField(StoredDocument, on_delete="RESTRICT")
    issued_by = ForeignKeyField(User, null=True, on_delete="RESTRICT")
    issued_at = created_field()

    @property
    def label(self):
        return self.number if self.version == 1 else f"{self.number} (version {self.version})"


class SuperbillVisit(BaseModel):
    practice = ForeignKeyField(Practice, on_delete="RESTRICT")
    client = ForeignKeyField(Client, on_delete="RESTRICT")
    superbill = ForeignKeyField(Superbill, backref="visits", on_delete="RESTRICT")
    appointment = ForeignKeyField(Appointment, on_delete="RESTRICT")


class VisitReceipt(BaseModel):
    """The receipt of a visit paid from a package credit (no invoice, no payment taken)."""

    practice = ForeignKeyField(Practice, on_delete="RESTRICT")
    client = ForeignKeyField(Client, on_delete="RESTRICT")
    appointment = ForeignKeyField(Appointment, unique=True, on_delete="RESTRICT")
    document = ForeignKeyField(StoredDocument, on_delete="RESTRICT")
    per_visit_cents = IntegerField()
    created_at = created_field()


LETTER_DRAFT = "draft"
LETTER_SIGNED = "signed"


class MedicalLetter(BaseModel):
    """A letter of medical necessity for the client's HSA/FSA plan; signed, it is a
    stored PDF that never changes and is valid from start_date to end_date."""

    practice = ForeignKeyField(Practice, on_delete="RESTRICT")
    client = ForeignKeyField(Client, backref="medical_letters", on_delete="RESTRICT")
    provider = ForeignKeyField(Provider, on_delete="RESTRICT")
    status = CharField(default=LETTER_DRAFT)
    diagnoses = CharField(default="")  # ICD-10-CM codes, comma-separated, primary first
    referring_name = CharField(default="")
    referring_npi = CharField(default="")
    treatment_plan = TextField(default="")
    frequency = CharField(default="")
    duration = CharField(default="")
    expected_outcome = TextField(default="")
    start_date = DateField()
    end_date = DateField()
    signature_name = CharField(default="")
    signed_at = DateTimeField(null=True)
    signed_by = ForeignKeyField(User, null=True, on_delete="RESTRICT")
    document = ForeignKeyField(StoredDocument, null=True, on_delete="RESTRICT")
    replaces = ForeignKeyField("self", null=True, on_delete="RESTRICT")
    created_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
    created_at = created_field()
    updated_at = DateTimeField(null=True)

    @property
    def codes(self):
        return [c for c in (self.diagnoses or "").split(",") if c]

    @property
    def is_signed(self):
        return self.status == LETTER_SIGNED

    def expired(self, today):
        return self.end_date < today


EXPORT_BUILDING = "building"
EXPORT_READY = "ready"
EXPORT_FAILED = "failed"
EXPORT_DELETED = "deleted"


class DataExport(BaseModel):
    """The owner's whole-practice ZIP: a file in the instance folder (never in the
    database), kept until expires_at, then deleted by the task queue."""

    practice = ForeignKeyField(Practice, on_delete="RESTRICT")
    kind = CharField(default="practice")
    job = ForeignKeyField(Job, null=True, unique=True, on_delete="SET NULL")
    created_by = ForeignKeyField(User, on_delete="RESTRICT")
    status = CharField(default=EXPORT_BUILDING)
    path = CharField(default="")  # a file name inside the exports folder
    filename = CharField(default="")
    sha256 = CharField(default="")
    size_bytes = IntegerField(default=0)
    created_at = created_field()
    expires_at = DateTimeField()
    downloaded_at = DateTimeField(null=True)
    deleted_at = DateTimeField(null=True)

    @property
    def available(self):
        return self.status == EXPORT_READY and self.expires_at > clock.utcnow()


DOCUMENT_MODELS = [Superbill, SuperbillVisit, VisitReceipt, MedicalLetter, DataExport]
