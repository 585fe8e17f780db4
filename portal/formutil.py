"""Small helpers shared by forms: the one CSRF-only form, and choices (WTForms 3.3 wants
SelectChoice, not tuples)."""

from flask_wtf import FlaskForm
from wtforms.fields.choices import SelectChoice


class CsrfForm(FlaskForm):
    """Nothing but the CSRF token: for a button that posts (check in, remove, turn off, a
    new link) and for pages whose other fields are read by hand."""


def choices(pairs):
    """[(value, label), ...] -> [SelectChoice, ...]."""
    return [SelectChoice(value, label) for value, label in pairs]
