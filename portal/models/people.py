"""People: clients, users (staff and clients), their sessions and one-time tokens."""

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
from portal.models.practice import Practice, Provider

ROLE_OWNER = "owner"
ROLE_THERAPIST = "therapist"
ROLE_FRONTDESK = "frontdesk"
ROLE_CLIENT = "client"
STAFF_ROLES = (ROLE_OWNER, ROLE_THERAPIST, ROLE_FRONTDESK)
ROLES = STAFF_ROLES + (ROLE_CLIENT,)
# Who may see clinical content (chart notes, intake answers and flags): never the front desk.
CLINICAL_ROLES = (ROLE_OWNER, ROLE_THERAPIST)
# Who runs the front desk's money and insurance pages (payments, payers).
DESK_ROLES = (ROLE_OWNER, ROLE_FRONTDESK)
OWNER_ROLES = (ROLE_OWNER,)
ROLE_LABELS = {
    ROLE_OWNER: "Owner",
    ROLE_THERAPIST: "Therapist",
    ROLE_FRONTDESK: "Front desk",
    ROLE_CLIENT: "Client",
}


class Client(BaseModel):
    """A client (patient) of the practice. PHI: every view and change is audited."""

    practice = ForeignKeyField(Practice, backref="clients", on_delete="RESTRICT")
    first_name = CharField()
    last_name = CharField()
    preferred_name = CharField(default="")
    date_of_birth = DateField(null=True)
    email = CharField(default="")
    phone = CharField(default="")
    therapist = ForeignKeyField(Provider, null=True, backref="clients", on_delete="SET NULL")
    active = BooleanField(default=True)
    created_at = created_field()
    # Issue 3a (migration 0002): demographics for claims and the client page.
    sex = CharField(default="")  # '' unknown, F, M, U (as on the insurance card)
    address1 = CharField(default="")
    address2 = CharField(default="")
    city = CharField(default="")
    state = CharField(default="")
    postal_code = CharField(default="")
    phone_digits = CharField(default="")  # phone without punctuation, for search
    emergency_name = CharField(default="")
    emergency_phone = CharField(default="")
    emergency_relationship = CharField(default="")
    archived_at = DateTimeField(null=True)
    updated_at = DateTimeField(null=True)

    @property
    def display_name(self):
        first = self.preferred_name or self.first_name
        return f"{first} {self.last_name}"

    @property
    def legal_name(self):
        return f"{self.first_name} {self.last_name}"


class User(BaseModel):
    practice = ForeignKeyField(Practice, backref="users", on_delete="RESTRICT")
    # Stored lower-case. Unique in a practice, and among users with a password (an address
    # logs in to one account); an invitation not accepted yet may share its address with a
    # user of another practice (migration 0030): portal.sessions.account_for picks.
    email = CharField(index=True)
    name = CharField(default="")
    role = CharField()
    password_hash = CharField(null=True)  # null until an invitation is accepted
    active = BooleanField(default=True)
    provider = ForeignKeyField(Provider, null=True, backref="users", on_delete="SET NULL")
    client = ForeignKeyField(Client, null=True, backref="users", on_delete="SET NULL")
    totp_secret = CharField(null=True)
    totp_enabled = BooleanField(default=False)
    # The new app's secret while the user moves two-step login to a new phone (migration
    # 0036, portal/two_step.py): it replaces totp_secret once a code from it is entered.
    totp_new_secret = CharField(null=True)
    totp_last_step = IntegerField(default=0)
    password_changed_at = DateTimeField(null=True)
    last_login_at = DateTimeField(null=True)
    created_at = created_field()
    # A self sign-up until its e-mail link is used (migration 0019): sees nothing yet.
    email_unverified = BooleanField(default=False)

    # flask-login: the id in the cookie session is the server-side session token,
    # so a revoked session stops working at once.
    _session_token = None
    current_session = None
    is_anonymous = False

    @property
    def is_authenticated(self):
        return True

    @property
    def is_active(self):
        return self.active

    def get_id(self):
        return self._session_token

    @property
    def is_staff(self):
        return self.role in STAFF_ROLES

    @property
    def is_owner(self):
        return self.role == ROLE_OWNER

    @property
    def is_client(self):
        return self.role == ROLE_CLIENT

    @property
    def is_clinical(self):
        return self.role in CLINICAL_ROLES

    @property
    def is_desk(self):
        """The owner or the front desk: who bills, posts payments and works claims."""
        return self.role in DESK_ROLES

    @property
    def role_label(self):
        return ROLE_LABELS.get(self.role, self.role)


class UserSession(BaseModel):
    """A server-side login session; revoking the row logs that browser out."""

    user = ForeignKeyField(User, backref="sessions", on_delete="CASCADE")
    token_hash = CharField(unique=True)
    created_at = created_field()
    last_seen_at = DateTimeField()
    revoked_at = DateTimeField(null=True)
    revoked_reason = CharField(default="")
    ip = CharField(default="")
    user_agent = CharField(default="")


class UserToken(BaseModel):
    """A one-time link (invitation or password reset); only its hash is stored."""

    user = ForeignKeyField(User, backref="tokens", on_delete="CASCADE")
    purpose = CharField()  # invite | reset
    token_hash = CharField(unique=True)
    created_at = created_field()
    expires_at = DateTimeField()
    used_at = DateTimeField(null=True)
    next_path = CharField(default="")  # where the link leads once used (a local path)


class RecoveryCode(BaseModel):
    """A one-time code that stands in for the authenticator app's (a lost phone). Only a
    salt and sha256(salt + code) are kept: portal/services/recovery_codes.py."""

    user = ForeignKeyField(User, backref="recovery_codes", on_delete="CASCADE")
    salt = CharField()
    code_hash = CharField()
    created_at = created_field()
    used_at = DateTimeField(null=True)


class LoginAttempt(BaseModel):
    """Throttling: recent failures per account (hash of the e-mail), per address, and per
    device cookie (hash of its nonce; '' when the browser had none for the account)."""

    account_key = CharField(index=True)
    ip = CharField(index=True)
    at = DateTimeField()
    success = BooleanField(default=False)
    device = CharField(default="")


class OutboxMessage(BaseModel):
    """Every e-mail the portal sends; without SMTP it stays here for the owner to read."""

    practice = ForeignKeyField(Practice, null=True, backref="outbox", on_delete="CASCADE")
    to_addr = CharField()
    subject = CharField()
    body = TextField()
    kind = CharField(default="")
    dedupe_key = CharField(null=True, unique=True)
    attachment_name = CharField(default="")
    attachment_type = CharField(default="")
    attachment = TextField(default="")  # text attachments only (e.g. an .ics file)
    created_at = created_field()
    sent_at = DateTimeField(null=True)
    error = CharField(default="")
