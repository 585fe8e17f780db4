"""The schedule's forms. Buttons that only post (check in, remove, toggle, a new calendar
link) use the shared `portal.formutil.CsrfForm`."""

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from portal.formutil import choices

COLORS = [
    ("#4a7c59", "Sage"),
    ("#2f6f8f", "Lake"),
    ("#8a5a9e", "Plum"),
    ("#b5651d", "Clay"),
    ("#a83f5b", "Rose"),
    ("#5b6770", "Slate"),
    ("#c49a00", "Ochre"),
    ("#3d7f7a", "Teal"),
]
EXCEPTION_KINDS = [("off", "Time off"), ("extra", "Extra hours")]
SLOT_STEPS = [
    (5, "5 minutes"),
    (10, "10 minutes"),
    (15, "15 minutes"),
    (30, "30 minutes"),
    (60, "hour"),
]
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


class AppointmentForm(FlaskForm):
    # chosen with the client finder (radio choices); checked through portal.access
    client_id = IntegerField("Client", validators=[InputRequired("Choose a client.")])
    appointment_type_id = SelectField(
        "Type", coerce=int, validators=[InputRequired("Choose a type.")]
    )
    provider_id = SelectField("Provider", coerce=int, validators=[InputRequired()])
    room_id = SelectField("Room", coerce=int, validators=[Optional()])
    date = DateField("Date", validators=[DataRequired("Choose a date.")])
    time = TimeField("Start time", validators=[DataRequired("Choose a start time.")])
    length = IntegerField(
        "Length (minutes)",
        validators=[Optional(), NumberRange(5, 720, "Between 5 and 720 minutes.")],
        description="Leave empty for the type's usual length.",
    )
    notes = TextAreaField("Notes for staff", validators=[Optional(), Length(max=2000)])
    repeat_weeks = IntegerField(
        "Repeat every N weeks",
        validators=[Optional(), NumberRange(1, 12, "Between 1 and 12 weeks.")],
        description="Leave empty for a single appointment.",
    )
    repeat_count = IntegerField(
        "How many times in all",
        validators=[Optional(), NumberRange(2, 52, "Between 2 and 52 appointments.")],
    )
    confirm_series = StringField("confirm", validators=[Optional()])
    override_reason = StringField(
        "Reason to book anyway",
        validators=[Optional(), Length(max=255)],
        description="Kept with the appointment, e.g. “massage then physio, as planned”.",
    )


class MoveForm(FlaskForm):
    provider_id = SelectField("Provider", coerce=int, validators=[InputRequired()])
    room_id = SelectField("Room", coerce=int, validators=[Optional()])
    date = DateField("Date", validators=[DataRequired("Choose a date.")])
    time = TimeField("Start time", validators=[DataRequired("Choose a start time.")])
    length = IntegerField(
        "Length (minutes)",
        validators=[InputRequired("Enter the length."), NumberRange(5, 720, "5 to 720 minutes.")],
    )
    notes = TextAreaField("Notes for staff", validators=[Optional(), Length(max=2000)])
    override_reason = StringField(
        "Reason to book anyway",
        validators=[Optional(), Length(max=255)],
        description="Kept with the appointment.",
    )


class CancelForm(FlaskForm):
    waive_fee = BooleanField("Waive the late-cancellation fee")


class NoShowForm(FlaskForm):
    waive_fee = BooleanField("Waive the no-show fee")


class TypeForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired("Name the type."), Length(max=120)])
    description = StringField("Short description", validators=[Optional(), Length(max=255)])
    duration_minutes = IntegerField(
        "Length (minutes)", validators=[InputRequired(), NumberRange(5, 720)]
    )
    price = StringField("Price ($)", validators=[DataRequired("Enter a price, or 0.")])
    color = SelectField("Colour", validators=[DataRequired()], choices=choices(COLORS))
    buffer_after_minutes = IntegerField(
        "Buffer after (minutes)",
        default=0,
        validators=[InputRequired(), NumberRange(0, 240)],
    )
    online_bookable = BooleanField("Clients can book it online", default=True)
    bill_insurance = BooleanField("Bill to insurance by default")
    active = BooleanField("Active", default=True)
    provider_ids = SelectMultipleField("Offered by", coerce=int, validators=[Optional()])
    codes = TextAreaField(
        "Default CPT codes and minutes",
        validators=[Optional(), Length(max=500)],
        description="One per line, e.g. 97124 60",
    )

    # the type's own columns, as the service stores them
    FIELDS = (
        "duration_minutes",
        "buffer_after_minutes",
        "online_bookable",
        "bill_insurance",
        "active",
        "color",
    )


class ExceptionForm(FlaskForm):
    on_date = DateField("Date", validators=[DataRequired("Choose a date.")])
    kind = SelectField("Kind", validators=[DataRequired()], choices=choices(EXCEPTION_KINDS))
    start = TimeField("From", validators=[Optional()])
    end = TimeField("Until", validators=[Optional()])
    note = StringField("Note (private)", validators=[Optional(), Length(max=120)])


class RoomForm(FlaskForm):
    name = StringField("Room name", validators=[DataRequired("Name the room."), Length(max=80)])


class PolicyForm(FlaskForm):
    min_lead_minutes = IntegerField(
        "Minimum notice for online booking (minutes)",
        validators=[InputRequired(), NumberRange(0, 60 * 24 * 14)],
    )
    max_days_ahead = IntegerField(
        "Furthest day ahead clients can book (days)",
        validators=[InputRequired(), NumberRange(1, 730)],
    )
    cancellation_window_hours = IntegerField(
        "Cancellation window (hours before the visit)",
        validators=[InputRequired(), NumberRange(0, 24 * 14)],
    )
    late_cancel_fee = StringField("Late-cancellation fee ($)", validators=[DataRequired()])
    no_show_fee = StringField("No-show fee ($)", validators=[DataRequired()])
    slot_step_minutes = SelectField(
        "Offer start times every",
        coerce=int,
        validators=[InputRequired()],
        choices=choices(SLOT_STEPS),
    )
    reminder_hours = IntegerField(
        "Send reminders this many hours ahead", validators=[InputRequired(), NumberRange(1, 168)]
    )
    online_booking_enabled = BooleanField("Clients can book online")
    check_in_window_minutes = IntegerField(
        "Check-in opens this many minutes before a visit",
        default=240,
        validators=[InputRequired(), NumberRange(0, 24 * 60)],
        description="Always on the visit's own day.",
    )
    no_show_grace_minutes = IntegerField(
        "A no-show can be marked this many minutes after the start",
        default=15,
        validators=[InputRequired(), NumberRange(0, 240)],
    )

    FIELDS = (
        "min_lead_minutes",
        "max_days_ahead",
        "cancellation_window_hours",
        "slot_step_minutes",
        "reminder_hours",
        "online_booking_enabled",
        "check_in_window_minutes",
        "no_show_grace_minutes",
    )
