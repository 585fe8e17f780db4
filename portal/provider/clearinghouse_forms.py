"""The owner's clearinghouse form: the SFTP server, the login, the folders and the ids the
837P carries (ISA/GS envelope, loops 1000A and 1000B)."""

import re

from flask_wtf import FlaskForm
from wtforms import IntegerField, PasswordField, RadioField, SelectField, StringField
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)

from portal.formutil import choices

# ISA05/ISA07 qualifiers a clearinghouse enrollment asks for.
ISA_QUALIFIERS = [
    ("ZZ", "ZZ: mutually defined (most clearinghouses)"),
    ("01", "01: DUNS number"),
    ("14", "14: DUNS plus suffix"),
    ("20", "20: health industry number (HIN)"),
    ("27", "27: carrier id (Medicare)"),
    ("28", "28: fiscal intermediary id"),
    ("29", "29: Medicare provider id"),
    ("30", "30: federal tax id (EIN)"),
    ("33", "33: NAIC company code"),
]
# X12 ids: letters, digits, spaces and a little punctuation, never a separator (* ~ : ^ |).
X12_ID = r"^[A-Za-z0-9 .\-]*$"
X12_TEXT = r"^[A-Za-z0-9 .,&'()/\-]*$"
ID_MESSAGE = "Use letters, digits, spaces, dots or dashes only."


def host_check(form, field):
    value = (field.data or "").strip()
    if "://" in value or "/" in value:
        raise ValidationError(
            "Enter the host name only, like sftp.clearinghouse.com (no sftp:// and no folder)."
        )
    if not re.fullmatch(r"[A-Za-z0-9.\-]+|\[?[0-9A-Fa-f:]+\]?", value):
        raise ValidationError("A host name has letters, digits, dots and dashes only.")


def folder_check(form, field):
    value = (field.data or "").strip()
    if any(ord(c) < 32 for c in value) or ".." in value.split("/") or "\\" in value:
        raise ValidationError("Use a folder path like /inbound or outbound/era.")


def _id(label, max_len, description, min_len=1, pattern=X12_ID):
    return StringField(
        label,
        validators=[
            Optional(),
            Length(
                min=min_len,
                max=max_len,
                message=f"Use {min_len} to {max_len} characters."
                if min_len > 1
                else f"Use at most {max_len} characters.",
            ),
            Regexp(pattern, message=ID_MESSAGE),
        ],
        description=description,
    )


class ClearinghouseForm(FlaskForm):
    host = StringField(
        "SFTP host",
        validators=[DataRequired("Enter the SFTP host the clearinghouse gave you."), host_check],
        description="For example sftp.officeally.com.",
    )
    port = IntegerField(
        "Port",
        default=22,
        validators=[
            InputRequired("Enter the port (usually 22)."),
            NumberRange(1, 65535, "A port is a number from 1 to 65535."),
        ],
    )
    username = StringField(
        "User name",
        validators=[
            DataRequired("Enter the SFTP user name."),
            Length(max=100),
            Regexp(r"^\S+$", message="A user name has no spaces."),
        ],
    )
    auth_method = RadioField(
        "Log in with",
        choices=choices([("key", "A key pair the portal generates"), ("password", "A password")]),
        default="key",
    )
    password = PasswordField(
        "Password",
        validators=[Optional(), Length(max=200, message="Use at most 200 characters.")],
    )
    upload_dir = StringField(
        "Upload folder (claims go here)",
        validators=[Optional(), Length(max=200), folder_check],
        description="Leave it empty for the folder you land in after logging in.",
    )
    download_dir = StringField(
        "Download folder (acknowledgments and remittances come from here)",
        validators=[Optional(), Length(max=200), folder_check],
        description="Leave it empty for the folder you land in after logging in.",
    )
    isa_sender_qualifier = SelectField(
        "Sender id qualifier (ISA05)", choices=choices(ISA_QUALIFIERS), default="ZZ"
    )
    isa_sender_id = _id("Sender id (ISA06)", 15, "Your submitter id, as the clearinghouse gave it.")
    isa_receiver_qualifier = SelectField(
        "Receiver id qualifier (ISA07)", choices=choices(ISA_QUALIFIERS), default="ZZ"
    )
    isa_receiver_id = _id("Receiver id (ISA08)", 15, "The clearinghouse's id.")
    gs_sender_code = _id("Application sender code (GS02)", 15, "Usually your submitter id.", 2)
    gs_receiver_code = _id(
        "Application receiver code (GS03)", 15, "Usually the clearinghouse's id.", 2
    )
    submitter_id = _id("Submitter id (loop 1000A)", 80, "Your id on the 837P's submitter.", 2)
    receiver_name = _id(
        "Receiver name (loop 1000B)",
        60,
        "The clearinghouse's name, e.g. OFFICE ALLY.",
        pattern=X12_TEXT,
    )
    receiver_id = _id("Receiver id (loop 1000B)", 80, "The clearinghouse's id.", 2)
    usage_indicator = RadioField(
        "Files are sent as",
        choices=choices(
            [
                ("T", "Test (T): while the clearinghouse checks your first files"),
                ("P", "Production (P): claims for payment"),
            ]
        ),
        default="T",
    )

    def values(self):
        """The cleaned values, as services.clearinghouse.save_settings takes them."""
        out = {}
        for name in (
            "host",
            "username",
            "upload_dir",
            "download_dir",
            "receiver_name",
        ):
            out[name] = (getattr(self, name).data or "").strip()
        for name in (
            "isa_sender_id",
            "isa_receiver_id",
            "gs_sender_code",
            "gs_receiver_code",
            "submitter_id",
            "receiver_id",
        ):
            out[name] = (getattr(self, name).data or "").strip().upper()
        out["receiver_name"] = out["receiver_name"].upper()
        for name in ("auth_method", "isa_sender_qualifier", "isa_receiver_qualifier"):
            out[name] = getattr(self, name).data
        out["usage_indicator"] = self.usage_indicator.data
        out["port"] = int(self.port.data)
        return out


class AcceptHostKeyForm(FlaskForm):
    fingerprint = StringField(validators=[DataRequired()])
