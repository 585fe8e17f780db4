"""The clearinghouse: a practice's SFTP connection, the upload journal, the files received
and the remote files seen (migration 0013)."""

from peewee import (
    BlobField,
    CharField,
    DateTimeField,
    ForeignKeyField,
    IntegerField,
    TextField,
)

from portal.models.base import BaseModel, created_field, utcnow
from portal.models.practice import Practice

AUTH_KEY = "key"
AUTH_PASSWORD = "password"
AUTH_METHODS = (AUTH_KEY, AUTH_PASSWORD)

# What a received file is, found from its content (ST01; "ta1" for an interchange
# acknowledgment, migration 0024); "unknown" when it is not an X12 interchange the portal
# reads.
FILE_KINDS = ("999", "277", "835", "ta1", "unknown")
FILE_NEW, FILE_PROCESSED, FILE_ERROR = "new", "processed", "error"

# Stages of an upload: the bytes are being written under a temporary name; the temporary
# file is complete and the rename to the final name was asked for; the final file is there.
STAGE_WRITING, STAGE_RENAMING, STAGE_DONE = "writing", "renaming", "done"


class ClearinghouseConnection(BaseModel):
    """One per practice. The submitter and receiver ids are what the 837P writer puts in
    ISA05-08, GS02-03, loop 1000A (NM109) and loop 1000B (NM103, NM109)."""

    practice = ForeignKeyField(Practice, unique=True, on_delete="CASCADE")
    host = CharField(default="")
    port = IntegerField(default=22)
    username = CharField(default="")
    auth_method = CharField(default=AUTH_KEY)
    password_enc = TextField(null=True)  # sealed by portal.secretbox, never shown
    private_key_enc = TextField(null=True)  # sealed OpenSSH PEM, never shown
    public_key = TextField(default="")  # "ssh-ed25519 AAAA... comment": for the owner to register
    key_created_at = DateTimeField(null=True)
    upload_dir = CharField(default="")
    download_dir = CharField(default="")
    host_key = TextField(default="")  # pinned: "ssh-ed25519 AAAA..."
    host_key_fingerprint = CharField(default="")  # SHA256:... as OpenSSH shows it
    host_key_pinned_at = DateTimeField(null=True)
    offered_host_key = TextField(default="")  # a different key the server offered since
    offered_host_key_fingerprint = CharField(default="")
    offered_host_key_at = DateTimeField(null=True)
    isa_sender_qualifier = CharField(default="ZZ")  # ISA05
    isa_sender_id = CharField(default="")  # ISA06
    isa_receiver_qualifier = CharField(default="ZZ")  # ISA07
    isa_receiver_id = CharField(default="")  # ISA08
    gs_sender_code = CharField(default="")  # GS02
    gs_receiver_code = CharField(default="")  # GS03
    submitter_id = CharField(default="")  # loop 1000A NM109
    receiver_name = CharField(default="")  # loop 1000B NM103
    receiver_id = CharField(default="")  # loop 1000B NM109
    usage_indicator = CharField(default="T")  # ISA15: T test, P production
    last_ok_at = DateTimeField(null=True)
    last_error_code = CharField(default="")
    last_error = CharField(default="")
    last_error_at = DateTimeField(null=True)
    created_at = created_field()
    updated_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "clearinghouse_connection"

    @property
    def has_password(self):
        return bool(self.password_enc)

    @property
    def has_key(self):
        return bool(self.private_key_enc)

    @property
    def host_key_changed(self):
        """A different host key was offered than the one pinned: transfers are stopped."""
        return bool(self.offered_host_key_fingerprint)

    @property
    def is_configured(self):
        secret = self.has_key if self.auth_method == AUTH_KEY else self.has_password
        return bool(self.host and self.username and secret)


class ClearinghouseUpload(BaseModel):
    """The journal of one remote file name: a second upload of the same name finds it here
    (or the file on the server) and stops, so a batch is never sent twice."""

    practice = ForeignKeyField(Practice, on_delete="RESTRICT")
    remote_name = CharField()
    sha256 = CharField()
    size_bytes = IntegerField()
    stage = CharField(default=STAGE_WRITING)
    attempts = IntegerField(default=0)
    busy_until = DateTimeField(null=True)
    remote_path = CharField(default="")
    note = CharField(default="")
    last_error = CharField(default="")
    created_at = created_field()
    done_at = DateTimeField(null=True)

    class Meta:
        table_name = "clearinghouse_upload"


class ClearinghouseFile(BaseModel):
    """A file received from the clearinghouse, kept once per practice and content."""

    practice = ForeignKeyField(Practice, on_delete="RESTRICT")
    sha256 = CharField()
    size_bytes = IntegerField()
    data = BlobField()
    remote_name = CharField()
    kind = CharField()
    status = CharField(default=FILE_NEW)
    error = TextField(default="")
    received_at = DateTimeField(default=utcnow)
    processed_at = DateTimeField(null=True)

    class Meta:
        table_name = "clearinghouse_file"


class ClearinghouseDownload(BaseModel):
    """A remote file (path, size, modification time) fetched once; a later listing of the
    same file is skipped, a changed one fetched again (its content may repeat a kept file)."""

    practice = ForeignKeyField(Practice, on_delete="RESTRICT")
    remote_path = CharField()
    remote_size = IntegerField()
    remote_mtime = IntegerField(default=0)
    file = ForeignKeyField(ClearinghouseFile, on_delete="RESTRICT")
    downloaded_at = DateTimeField(default=utcnow)

    class Meta:
        table_name = "clearinghouse_download"
