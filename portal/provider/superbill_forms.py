"""The superbill form both sides use (the client in the portal, staff on the client's
record): a date range, then the paid visits in it to tick. Dates come from the query
string (GET, to list the visits) and the form (POST, to issue); visit ids are bounded."""

import datetime as dt

from flask import request
from flask_wtf import FlaskForm
from wtforms import DateField, StringField
from wtforms.validators import DataRequired, Length

from portal.inputs import bounded_int
from portal.services import superbills


class RangeForm(FlaskForm):
    start = DateField("First day", validators=[DataRequired("Choose the first day.")])
    end = DateField("Last day", validators=[DataRequired("Choose the last day.")])


class CorrectionForm(FlaskForm):
    reason = StringField(
        "What is corrected",
        validators=[DataRequired("Say what the correction is for."), Length(max=200)],
        description="The client sees this on their documents page (no health details).",
    )


def _date(value):
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def default_range(today):
    """The month before, or this month so far when it is the first days of a month."""
    return superbills.month_before(today)


def range_from(source, today):
    """(start, end, form) from a query string or form; the default range when empty. A
    range refused has its message on the form's field it is about (form.refused)."""
    start, end = _date(source.get("start")), _date(source.get("end"))
    if not source.get("start") and not source.get("end"):
        start, end = default_range(today)
    form = RangeForm(formdata=None, start=start, end=end)
    form.refused = False
    try:
        superbills.check_range(start, end)
    except superbills.SuperbillError as exc:
        form[exc.field].errors = [str(exc)]
        form.refused = True
    return start, end, form


def chosen_visits():
    """The ticked visit ids of a POST (bounded; nonsense dropped)."""
    ids = []
    for raw in request.form.getlist("visit")[: superbills.MAX_VISITS + 1]:
        value = bounded_int(raw)
        if value is not None:
            ids.append(value)
    return ids
