"""Forms of messaging, for staff and clients alike. The service checks the content again
(portal.services.messaging.threads) and its errors land next to the field they name.

A message's length is the service's check alone: a Length validator would give its box a
maxlength, and a browser cuts a longer paste there without a word (the end of a client's
letter lost); the service says how long it is and the box keeps all of it."""

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from portal.models.messaging import SUBJECT_MAX

FILE_HELP = "A JPEG or PNG photo, or a PDF, up to 10 MB. Photos are sent without their location."


class ReplyForm(FlaskForm):
    body = TextAreaField("Message", validators=[Optional()])
    file = FileField("Photo or PDF (optional)", description=FILE_HELP)


class NewThreadForm(FlaskForm):
    subject = StringField(
        "Subject",
        validators=[DataRequired("Give the conversation a subject."), Length(max=SUBJECT_MAX)],
    )
    to = SelectField("To")
    body = TextAreaField("Message", validators=[Optional()])
    file = FileField("Photo or PDF (optional)", description=FILE_HELP)


class HideForm(FlaskForm):
    reason = StringField(
        "Why hide it?",
        description="Kept in the audit log: say why (sent to the wrong person, a card number), "
        "not any health details.",
        validators=[DataRequired("Say why the message is hidden."), Length(min=3, max=200)],
    )


class AssignForm(FlaskForm):
    assigned_to = SelectField("Assigned to", coerce=int)


class SnippetForm(FlaskForm):
    title = StringField(
        "Name", validators=[DataRequired("Give the quick reply a short name."), Length(max=80)]
    )
    body = TextAreaField(
        "Text", validators=[DataRequired("Write the text of the quick reply."), Length(max=2000)]
    )


class NoticesForm(FlaskForm):
    email_notices = BooleanField("E-mail me when a new message is waiting")
