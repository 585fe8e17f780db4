"""Scheduling: appointment types, availability, rooms, booking policy, appointments.

Times are naive UTC. Weekly hours and exceptions are wall-clock minutes in the
practice's time zone (minutes after local midnight), so they follow DST.
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
from portal.rules import appointments as rules
from portal.rules.money import format_cents

# The statuses and their rules live in portal.rules.appointments (the transition table).
STATUS_BOOKED = rules.BOOKED
STATUS_CHECKED_IN = rules.CHECKED_IN
STATUS_COMPLETED = rules.COMPLETED
STATUS_CANCELLED = rules.CANCELLED
STATUS_LATE_CANCELLED = rules.LATE_CANCELLED
STATUS_NO_SHOW = rules.NO_SHOW
STATUSES = rules.STATUSES
CANCELLED_STATUSES = rules.CANCELLED_STATUSES
ACTIVE_STATUSES = rules.ACTIVE_STATUSES
STATUS_LABELS = rules.LABELS

EXCEPTION_OFF = "off"
EXCEPTION_EXTRA = "extra"


class AppointmentType(BaseModel):
    """A bookable service, e.g. "60-minute massage"."""

    client_visible = True

    practice = ForeignKeyField(Practice, backref="appointment_types", on_delete="RESTRICT")
    name = CharField()
    description = CharField(default="")
    duration_minutes = IntegerField()
    price_cents = IntegerField(default=0)
    color = CharField(default="#4a7c59")
    buffer_after_minutes = IntegerField(default=0)
    online_bookable = BooleanField(default=True)
    bill_insurance = BooleanField(default=False)
    active = BooleanField(default=True)
    created_at = created_field()

    @property
    def price_label(self):
        return format_cents(self.price_cents)


class AppointmentTypeCode(BaseModel):
    """Default CPT codes and minutes for a type (e.g. 97124 x 60 minutes)."""

    practice = ForeignKeyField(Practice, on_delete="RESTRICT")
    appointment_type = ForeignKeyField(
        AppointmentType, backref="default_codes", on_delete="CASCADE"
    )
    cpt_code = CharField()
    minutes = IntegerField()

    class Meta:
        indexes = ((("appointment_type", "cpt_code"), True),)


class AppointmentTypeProvider(BaseModel):
    """Which providers offer which type."""

    practice = ForeignKeyField(Practice, on_delete="RESTRICT")
    appointment_type = ForeignKeyField(AppointmentType, backref="offered_by", on_delete="CASCADE")
    provider = ForeignKeyField(Provider, backref="offers", on_delete="CASCADE")

    class Meta:
        indexes = ((("appointment_type", "provider"), True),)


class ProviderHours(BaseModel):
    """A weekly working range: weekday 0=Monday, minutes after local midnight."""

    practice = ForeignKeyField(Practice, on_delete="RESTRICT")
    provider = ForeignKeyField(Provider, backref="hours", on_delete="CASCADE")
    weekday = IntegerField()
    start_minute = IntegerField()
    end_minute = IntegerField()


class AvailabilityException(BaseModel):
    """A date off (whole day when start/end are null, else a range) or extra hours."""

    practice = ForeignKeyField(Practice, on_delete="RESTRICT")
    provider = ForeignKeyField(Provider, backref="exceptions", on_delete="CASCADE")
    on_date = DateField()
    kind = CharField(default=EXCEPTION_OFF)  # off | extra
    start_minute = IntegerField(null=True)
    end_minute = IntegerField(null=True)
    note = CharField(default="")


class Room(BaseModel):
    practice = ForeignKeyField(Practice, backref="rooms", on_delete="RESTRICT")
    name = CharField()
    active = BooleanField(default=True)
    created_at = created_field()


class BookingPolicy(BaseModel):
    """One row per practice; defaults apply when it is missing."""

    practice = ForeignKeyField(Practice, unique=True, on_delete="CASCADE")
    min_lead_minutes = IntegerField(default=120)
    max_days_ahead = IntegerField(default=60)
    cancellation_window_hours = IntegerField(default=24)
    late_cancel_fee_cents = IntegerField(default=0)
    no_show_fee_cents = IntegerField(default=0)
    slot_step_minutes = IntegerField(default=15)
    reminder_hours = IntegerField(default=24)
    online_booking_enabled = BooleanField(default=True)
    # migration 0018: check-in opens this long before the start (never before its day);
    # a no-show (and its fee) only once the grace period after the start has passed
    check_in_window_minutes = IntegerField(default=240)
    no_show_grace_minutes = IntegerField(default=15)


class Appointment(BaseModel):
    """One visit. `blocked_until` = ends_at + the type's buffer; overlaps are refused
    by the service (inside IMMEDIATE) and by triggers in the database."""

    practice = ForeignKeyField(Practice, backref="appointments", on_delete="RESTRICT")
    client = ForeignKeyField(Client, backref="appointments", on_delete="RESTRICT")
    provider = ForeignKeyField(Provider, backref="appointments", on_delete="RESTRICT")
    appointment_type = ForeignKeyField(
        AppointmentType, backref="appointments", on_delete="RESTRICT"
    )
    room = ForeignKeyField(Room, null=True, backref="appointments", on_delete="SET NULL")
    starts_at = DateTimeField()
    ends_at = DateTimeField()
    blocked_until = DateTimeField()
    status = CharField(default=STATUS_BOOKED)
    fee_due_cents = IntegerField(default=0)
    notes = TextField(default="")  # for staff only
    series_id = CharField(null=True)
    booked_online = BooleanField(default=False)
    booked_by = ForeignKeyField(User, null=True, on_delete="SET NULL")
    created_at = created_field()
    cancelled_at = DateTimeField(null=True)
    checked_in_at = DateTimeField(null=True)
    completed_at = DateTimeField(null=True)
    # why staff booked overlapping or back-to-back visits with two providers (0018)
    override_reason = CharField(default="")

    @property
    def status_label(self):
        return STATUS_LABELS.get(self.status, self.status)

    @property
    def is_active(self):
        return self.status in ACTIVE_STATUSES

    @property
    def duration_minutes(self):
        return int((self.ends_at - self.starts_at).total_seconds() // 60)


class AppointmentMinutes(BaseModel):
    """Minutes per CPT code, recorded at check-out (billing reads these)."""

    practice = ForeignKeyField(Practice, on_delete="RESTRICT")
    client = ForeignKeyField(Client, on_delete="RESTRICT")
    appointment = ForeignKeyField(Appointment, backref="minutes", on_delete="CASCADE")
    cpt_code = CharField()
    minutes = IntegerField()

    class Meta:
        indexes = ((("appointment", "cpt_code"), True),)


class CalendarFeedToken(BaseModel):
    """A provider's private .ics feed; only the token's hash is stored."""

    practice = ForeignKeyField(Practice, on_delete="RESTRICT")
    provider = ForeignKeyField(Provider, backref="feed_tokens", on_delete="CASCADE")
    token_hash = CharField(unique=True)
    created_at = created_field()
    revoked_at = DateTimeField(null=True)


SCHEDULING_MODELS = [
    AppointmentType,
    AppointmentTypeCode,
    AppointmentTypeProvider,
    ProviderHours,
    AvailabilityException,
    Room,
    BookingPolicy,
    Appointment,
    AppointmentMinutes,
    CalendarFeedToken,
]
