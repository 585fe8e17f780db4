"""Small helpers shared by forms: the one CSRF-only form, choices (WTForms 3.3 wants
SelectChoice, not tuples), one accessible field, and a list of tick boxes for a choice of
several (CheckboxesField, rendered by render_checkboxes)."""

from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import SelectMultipleField, ValidationError
from wtforms.fields.choices import SelectChoice
from wtforms.widgets import CheckboxInput


class CsrfForm(FlaskForm):
    """Nothing but the CSRF token: for a button that posts (check in, remove, turn off, a
    new link) and for pages whose other fields are read by hand."""


def choices(pairs):
    """[(value, label), ...] -> [SelectChoice, ...]."""
    return [SelectChoice(value, label) for value, label in pairs]


def render_field(f, class_="", autocomplete=None, inputmode=None, placeholder=None):
    """One accessible form field (templates/_macros/forms.html `field`): its label, the
    input, its help and its errors, tied by aria-describedby; built here rather than in the
    macro because a page can hold dozens of fields."""
    err_id = f.id + "-error"
    help_id = f.id + "-help"
    described = ([help_id] if f.description else []) + ([err_id] if f.errors else [])
    attrs = {}
    if described:
        attrs["aria-describedby"] = " ".join(described)
    if f.errors:
        attrs["aria-invalid"] = "true"
    for name, value in (
        ("autocomplete", autocomplete),
        ("inputmode", inputmode),
        ("placeholder", placeholder),
    ):
        if value:
            attrs[name] = value
    if f.flags.required:
        attrs["required"] = True
    check = f.type == "BooleanField"
    classes = "field " + str(class_) + (" has-error" if f.errors else "")
    classes += " field-check" if check else ""
    parts = [Markup('<div class="%s">') % classes]
    if check:
        parts += [f(**attrs), Markup(" "), f.label()]
    else:
        parts += [f.label(), Markup("\n"), f(**attrs)]
    if f.description:
        parts.append(Markup('<p class="help" id="%s">%s</p>') % (help_id, f.description))
    if f.errors:
        errors = " ".join(str(e) for e in f.errors)
        parts.append(Markup('<p class="error" id="%s">%s</p>') % (err_id, errors))
    parts.append(Markup("</div>"))
    return Markup("\n").join(parts)


class CheckboxesField(SelectMultipleField):
    """A choice of several, as tick boxes (easier to tap than a <select multiple>): the
    same form field (every ticked value under the field's name). `invalid`: what to say
    when a value is not among the choices (one no longer offered, or another practice's)."""

    option_widget = CheckboxInput()

    def __init__(self, label=None, validators=None, invalid="Tick from the list.", **kw):
        super().__init__(label, validators, **kw)
        self.invalid = invalid

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError as e:  # a value that cannot be coerced: not one of the boxes
            self.data = []
            raise ValueError(self.invalid) from e

    def pre_validate(self, form):
        offered = {c.value for c in self.choices}
        if any(value not in offered for value in self.data or []):
            raise ValidationError(self.invalid)


def render_checkboxes(f, class_=""):
    """A CheckboxesField as a fieldset: its label as the legend, its help and its message
    (tied by aria-describedby) above the boxes, each box in a label a finger can hit."""
    err_id, help_id = f.id + "-error", f.id + "-help"
    described = ([help_id] if f.description else []) + ([err_id] if f.errors else [])
    classes = " ".join(["field", "checkboxes", str(class_)] + (["has-error"] if f.errors else []))
    attrs = Markup(' aria-describedby="%s"') % " ".join(described) if described else ""
    parts = [Markup('<fieldset class="%s" id="%s"%s>') % (classes.strip(), f.id, attrs)]
    parts.append(Markup("<legend>%s</legend>") % f.label.text)
    if f.description:
        parts.append(Markup('<p class="help" id="%s">%s</p>') % (help_id, f.description))
    if f.errors:
        errors = " ".join(str(e) for e in f.errors)
        parts.append(Markup('<p class="error" id="%s">%s</p>') % (err_id, errors))
    parts.append(Markup('<div class="check-options">'))
    for option in f:
        box = option(**({"aria-invalid": "true"} if f.errors else {}))
        parts.append(Markup('<label class="check-option">%s %s</label>') % (box, option.label.text))
    parts.append(Markup("</div></fieldset>"))
    return Markup("\n").join(parts)
