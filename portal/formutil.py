"""Small helpers shared by forms: the one CSRF-only form, and choices (WTForms 3.3 wants
SelectChoice, not tuples)."""

from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms.fields.choices import SelectChoice


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
