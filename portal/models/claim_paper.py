"""Paper claims (migration 0017): the CMS-1500 PDFs issued per claim, and the claims of a
batch of PDFs a Job builds (portal/services/claims/cms1500_batch.py)."""

from peewee import CharField, ForeignKeyField, IntegerField

from portal.models.base import BaseModel, created_field
from portal.models.billing import StoredDocument
from portal.models.claims import Claim
from portal.models.jobs import Job
from portal.models.people import User
from portal.models.practice import Practice

MODE_FULL = "full"  # the whole red form drawn, for plain paper
MODE_DATA = "data"  # the values only, for pre-printed red forms (calibrated offsets)
MODES = (MODE_FULL, MODE_DATA)
MODE_LABELS = {MODE_FULL: "Full form (plain paper)", MODE_DATA: "Data only (red forms)"}


class ClaimDocument(BaseModel):
    """A CMS-1500 PDF issued for a claim. `fingerprint` hashes everything printed, so an
    unchanged claim printed again gets this same document (the link never changes)."""

    practice = ForeignKeyField(Practice, on_delete="RESTRICT")
    claim = ForeignKeyField(Claim, backref="paper_documents", on_delete="RESTRICT")
    document = ForeignKeyField(StoredDocument, unique=True, on_delete="RESTRICT")
    mode = CharField()
    fingerprint = CharField()
    created_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
    created_at = created_field()


class ClaimPrintItem(BaseModel):
    """One claim of a batch Job, in print order; `document` once its PDF is made."""

    practice = ForeignKeyField(Practice, on_delete="RESTRICT")
    job = ForeignKeyField(Job, backref="print_items", on_delete="CASCADE")
    position = IntegerField()
    claim = ForeignKeyField(Claim, on_delete="RESTRICT")
    document = ForeignKeyField(StoredDocument, null=True, on_delete="RESTRICT")


CLAIM_PAPER_MODELS = [ClaimDocument, ClaimPrintItem]
