"""Long work done by the task queue (a batch of claim PDFs, a practice export): its
progress, which pages poll, and its result (migration 0011)."""

from peewee import CharField, DateTimeField, ForeignKeyField, IntegerField, TextField

from portal.models.base import BaseModel, created_field
from portal.models.billing import StoredDocument
from portal.models.people import User
from portal.models.practice import Practice

JOB_QUEUED = "queued"
JOB_RUNNING = "running"
JOB_DONE = "done"
JOB_FAILED = "failed"
JOB_STATUS_LABELS = {
    JOB_QUEUED: "Waiting to start",
    JOB_RUNNING: "Working",
    JOB_DONE: "Done",
    JOB_FAILED: "Failed",
}


class Job(BaseModel):
    practice = ForeignKeyField(Practice, backref="jobs", on_delete="CASCADE")
    created_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
    kind = CharField()  # e.g. "claim_pdfs", "practice_export"
    title = CharField(default="")  # shown to staff, never PHI
    status = CharField(default=JOB_QUEUED)
    total = IntegerField(default=0)
    done = IntegerField(default=0)
    message = TextField(default="")  # what failed, in words (no PHI)
    document = ForeignKeyField(StoredDocument, null=True, on_delete="RESTRICT")
    created_at = created_field()
    started_at = DateTimeField(null=True)
    finished_at = DateTimeField(null=True)

    @property
    def status_label(self):
        return JOB_STATUS_LABELS.get(self.status, self.status)

    @property
    def finished(self):
        return self.status in (JOB_DONE, JOB_FAILED)

    @property
    def percent(self):
        if self.status == JOB_DONE:
            return 100
        if not self.total:
            return 0
        return min(100, self.done * 100 // self.total)
