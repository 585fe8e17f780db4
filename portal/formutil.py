"""Small helpers shared by forms (WTForms 3.3 wants SelectChoice, not tuples)."""

from wtforms.fields.choices import SelectChoice


def choices(pairs):
    """[(value, label), ...] -> [SelectChoice, ...]."""
    return [SelectChoice(value, label) for value, label in pairs]
