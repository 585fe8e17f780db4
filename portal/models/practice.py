"""The practice (one install can hold more than one) and its providers."""

from zoneinfo import ZoneInfo

from peewee import BooleanField, CharField, ForeignKeyField

from portal.models.base import BaseModel, created_field


class Practice(BaseModel):
    name = CharField()
    address1 = CharField(default="")
    address2 = CharField(default="")
    city = CharField(default="")
    state = CharField(default="")
    postal_code = CharField(default="")
    phone = CharField(default="")
    email = CharField(default="")
    timezone = CharField(default="America/New_York")
    ein = CharField(default="")
    npi = CharField(default="")
    taxonomy = CharField(default="225700000X")
    logo_path = CharField(default="")
    require_staff_totp = BooleanField(default=False)
    therapists_see_all_clients = BooleanField(default=True)
    created_at = created_field()

    @property
    def tz(self):
        return ZoneInfo(self.timezone)


def provider_name(first_name, last_name, credentials):
    """A therapist's name as pages show it ("Ana Lee, LMT"), from the three columns (for
    rows read without a Provider instance)."""
    name = f"{first_name} {last_name}"
    return f"{name}, {credentials}" if credentials else name


class Provider(BaseModel):
    """A therapist who treats clients (and may bill under their own NPI)."""

    practice = ForeignKeyField(Practice, backref="providers", on_delete="RESTRICT")
    first_name = CharField()
    last_name = CharField()
    credentials = CharField(default="")  # e.g. LMT
    npi = CharField(default="")
    license_number = CharField(default="")
    license_state = CharField(default="")
    taxonomy = CharField(default="225700000X")
    email = CharField(default="")
    phone = CharField(default="")
    active = BooleanField(default=True)
    created_at = created_field()

    @property
    def display_name(self):
        return provider_name(self.first_name, self.last_name, self.credentials)
