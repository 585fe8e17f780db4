"""Reads for the pages opened all day (lists, the client home and page, the note page): a
select's rows as tuples or model instances, with its SQL built once.

With the speed-ups on (portal/speedups.py, `built_once`) a select is turned into SQL once
per `key` and then run with the request's values: turning a query into SQL costs peewee
more than SQLite takes to run these small indexed reads. `key` names everything the
query's shape depends on; `build(**values)` must give the same SQL shape for any values
(the values are compared, never computed with). A key of None means a shape not worth
keeping: built each time. With the speed-ups off, each read is peewee's ordinary one.
"""

from peewee import CharField, Field, ForeignKeyField, IntegerField, TextField

from portal import speedups
from portal.access import scope_key, scoped
from portal.db import database, models_from_row

_CONVERTERS = {}  # key -> the converter of each selected column (None: taken as it comes)


def rows(key, build, values=None):
    """The rows of `build(**values)` as tuples of Python values, each column converted as
    peewee converts it."""
    values = values or {}
    if key is None or not speedups.enabled():
        return list(build(**values).tuples())
    sql, params = speedups.built_once(key, build, values)
    convert = _CONVERTERS.get(key)
    if convert is None:
        columns = build(**values).selected_columns
        convert = _CONVERTERS[key] = [_converter(c) for c in columns]
    return [
        tuple(v if f is None or v is None else f(v) for f, v in zip(convert, row, strict=True))
        for row in database.execute_sql(sql, params)
    ]


# Columns both drivers already give as the field's Python type (integers, text): read as
# they come. Dates, datetimes and flags (SQLite's 0/1) go through their field.
_AS_THEY_COME = (IntegerField, CharField, TextField)


def _converter(column):
    if not isinstance(column, Field):
        return None
    field = column.rel_field if isinstance(column, ForeignKeyField) else column
    return None if isinstance(field, _AS_THEY_COME) else column.python_value


def scoped_rows(key, model, user, build, values=None):
    """The rows of `build(scoped(model, user), **values)` as tuples (kept per key and user
    scope)."""
    return rows((key, *scope_key(user)), lambda **v: build(scoped(model, user=user), **v), values)


def objects(key, model, build, values):
    """The `model` instances of the select build(**values) returns; columns of joined
    tables land on each instance as plain attributes, both ways (peewee's `Model.raw` with
    the speed-ups on, `.objects()` off)."""
    if not speedups.enabled():
        return list(build(**values).objects())
    sql, params = speedups.built_once(key, build, values)
    return list(model.raw(sql, *params))


def instances(key, build, values, model, joined=()):
    """Instances of `model` from the select `build(**values)` returns. The select lists
    columns of `model` only, or every field of `model` and then every field of each model
    of `joined` ((Model, attribute name) pairs), whose instance is set on the row's under
    that name (policy.payer; None where a LEFT OUTER join found no row)."""
    if not speedups.enabled():
        return list(build(**values))
    sql, params = speedups.built_once(key, build, values)
    if not joined:
        return list(model.raw(sql, *params))
    out = []
    for row in database.execute_sql(sql, params):
        obj, *others = models_from_row(row, model, *(m for m, _ in joined))
        for (_, attr), other in zip(joined, others, strict=True):
            setattr(obj, attr, None if other.get_id() is None else other)  # an outer join's none
        out.append(obj)
    return out
