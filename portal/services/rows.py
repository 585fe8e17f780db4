"""Rows as tuples or model instances, for the pages read on every visit (the client home,
the client page).

`tuples(key, build, values)` runs the select `build(**values)` and gives its rows as
tuples of Python values, each column converted as peewee converts it. With the speed-ups
on (portal/speedups.py, `built_once`) the select is turned into SQL once per `key` and
then run with the request's values: turning a query into SQL costs peewee more than
SQLite takes to run these small indexed reads. `key` names the query; `build` must give
the same SQL shape for any values (the values are compared, never computed with).
"""

from peewee import Field

from portal import speedups
from portal.db import database, models_from_row

_COLUMNS = {}  # key -> the converter of each selected column (None: taken as it comes)


def tuples(key, build, values):
    if not speedups.enabled():
        return list(build(**values).tuples())
    sql, params = speedups.built_once(key, build, values)
    convert = _COLUMNS.get(key)
    if convert is None:
        columns = build(**values).selected_columns
        convert = _COLUMNS[key] = [
            c.python_value if isinstance(c, Field) else None for c in columns
        ]
    return [
        tuple(v if f is None or v is None else f(v) for f, v in zip(convert, row, strict=True))
        for row in database.execute_sql(sql, params)
    ]


def instances(key, build, values, model, joined=()):
    """Instances of `model` from the select `build(**values)` returns, as `tuples` reads
    them. The select lists columns of `model` only, or every field of `model` and then
    every field of each model of `joined` ((Model, attribute name) pairs), whose instance
    is set on the row's under that name (policy.payer)."""
    if not speedups.enabled():
        return list(build(**values))
    sql, params = speedups.built_once(key, build, values)
    if not joined:
        return list(model.raw(sql, *params))
    out = []
    for row in database.execute_sql(sql, params):
        obj, *others = models_from_row(row, model, *(m for m, _ in joined))
        for (_, attr), other in zip(joined, others, strict=True):
            setattr(obj, attr, other)
        out.append(obj)
    return out
